//! The `p5` job type: renders a global-mode p5.js sketch to one PNG, JPEG or WebP still.
//!
//! The page is built from `page.html` and `harness.js`: p5 from the host's library URL, the
//! harness (seeds, frame counting, readiness), then the sketch as its own file so error lines are
//! the sketch's own.

mod input;
mod page;
mod version;

use input::{Format, P5Input};
use kiln_sdk::browser::Library;
use kiln_sdk::prelude::*;

struct P5;

impl Plugin for P5 {
    type Input = P5Input;
    const NAME: &'static str = "p5";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str =
        "Renders a p5.js sketch (1.x or 2.x, global mode) to a PNG, JPEG or WebP still";
    const CAPABILITIES: &'static [Capability] =
        &[Capability::Browser, Capability::Media, Capability::Storage];

    fn run(_job: &JobContext, input: P5Input) -> Result<Vec<Artifact>, Error> {
        input.check_against(&host::limits())?;
        let library = version::pick(&input)?;
        let first = render(&input, &library);
        let Err(error) = &first else {
            return first;
        };
        // A sketch that names no version and throws under the guessed line may have been
        // written for the other one: it gets one try there, on a fresh page.
        let Some(other) = version::other_after(&input, &library, error) else {
            return first;
        };
        host::log(
            LogLevel::Warn,
            &format!(
                "the sketch failed under p5 {} ({}); it names no p5Version, so trying p5 {} once",
                library.version, error.message, other.version
            ),
        );
        match render(&input, &other) {
            Ok(artifacts) => {
                host::log(
                    LogLevel::Info,
                    &format!(
                        "p5 {} rendered the sketch; give \"p5Version\": \"{}\" to pick it at once",
                        other.version,
                        &other.version[..1]
                    ),
                );
                Ok(artifacts)
            }
            Err(second) => {
                host::log(
                    LogLevel::Warn,
                    &format!("p5 {} failed too: {}", other.version, second.message),
                );
                first
            }
        }
    }
}

/// Renders the sketch with one p5 library into the stored still.
fn render(input: &P5Input, library: &Library) -> Result<Vec<Artifact>, Error> {
    host::log(
        LogLevel::Info,
        &format!("rendering with p5 {}", library.version),
    );
    let page = page::open(input, library)?;
    host::progress(0.3, "loaded");
    page::wait_until_drawn(&page, input)?;
    host::progress(0.7, "drawn");

    let image = page::capture(&page, input, input.format.image_format())?;
    let name = format!("image.{}", input.format.extension());
    let artifact = storage::put(&name, &image.to_blob())?;
    host::progress(1.0, "stored");
    Ok(vec![artifact])
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

kiln_sdk::export_plugin!(P5);
