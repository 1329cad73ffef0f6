//! `poster-card`: an example Kiln plugin written with `kiln-sdk` alone.
//!
//! It renders a title, an optional subtitle and an optional horizontal bar chart into a PNG, JPEG
//! or WebP card (1200×630 by default, the usual social-preview size). The page is plain HTML and
//! CSS with system fonts; its own script fits the text and then sets a flag the plugin waits for.

mod input;
mod page;

use input::{Format, PosterInput};
use kiln_sdk::prelude::*;

struct PosterCard;

impl Plugin for PosterCard {
    type Input = PosterInput;
    const NAME: &'static str = "poster-card";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str =
        "Renders a title card with an optional bar chart to a PNG, JPEG or WebP image";
    const CAPABILITIES: &'static [Capability] =
        &[Capability::Browser, Capability::Media, Capability::Storage];

    fn run(_job: &JobContext, input: PosterInput) -> Result<Vec<Artifact>, Error> {
        input.check(&host::limits())?;

        let page = page::open(&input)?;
        host::progress(0.3, "loaded");
        page::wait_until_ready(&page)?;
        host::progress(0.6, "laid out");

        let image = page::capture(&page, input.format.image_format())?;
        let name = format!("card.{}", input.format.extension());
        let artifact = storage::put(&name, &image.to_blob())?;
        host::progress(1.0, "stored");
        Ok(vec![artifact])
    }
}

impl Format {
    fn image_format(self) -> ImageFormat {
        match self {
            Format::Png => ImageFormat::Png,
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Webp => ImageFormat::Webp,
        }
    }
}

kiln_sdk::export_plugin!(PosterCard);
