//! The `notepat-og` job type: notepat.com's Open Graph card (1200×630 PNG) as the oven drew it
//! from SVG (shared/OVEN.md §6): a diagonal gradient, scan lines, a decorative waveform, two
//! octaves of note pads and the wordmark. It takes no input and gives the same bytes every time.

mod card;

use kiln_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

/// No fields: the card is always the same.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotepatOgInput {}

struct NotepatOg;

impl Plugin for NotepatOg {
    type Input = NotepatOgInput;
    const NAME: &'static str = "notepat-og";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str = "notepat.com's social card (1200×630 PNG): gradient, scan lines, waveform, the 2×7 pad grid and wordmark, no browser";
    const CAPABILITIES: &'static [Capability] = &[Capability::Media, Capability::Storage];

    fn run(_job: &JobContext, _input: NotepatOgInput) -> Result<Vec<Artifact>, Error> {
        let rgba = card::draw().to_rgba();
        let png = pixels::encode_image(
            rgba.width(),
            rgba.height(),
            rgba.data(),
            ImageFormat::Png,
            None,
            1,
        )?;
        Ok(vec![storage::put("card.png", &png.to_blob())?])
    }
}

kiln_sdk::export_plugin!(NotepatOg);
