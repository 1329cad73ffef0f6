//! The p5 job's input, its JSON Schema, and the checks the schema cannot express.

use kiln_sdk::Error;
use kiln_sdk::host::JobLimits;
use schemars::JsonSchema;
use serde::Deserialize;

/// A p5.js sketch to render.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
// The fields the host checks against its limits when the job is submitted (docs/plugins.md).
#[schemars(extend("x-kiln-limits" = {
    "page": {"width": "width", "height": "height", "density": "pixelDensity"}
}))]
pub struct P5Input {
    /// The sketch, in global mode as written in the p5 editor (`function setup() { … }`).
    pub code: String,
    /// Canvas width in CSS pixels.
    #[schemars(range(min = 1, max = 8192))]
    pub width: u32,
    /// Canvas height in CSS pixels.
    #[schemars(range(min = 1, max = 8192))]
    pub height: u32,
    /// Fixes `randomSeed`, `noiseSeed` and `Math.random`, so the same seed gives the same image.
    pub seed: Option<u64>,
    /// How many frames `draw` runs before the capture.
    #[serde(default = "one_frame")]
    #[schemars(range(min = 1, max = 600))]
    pub frames: u32,
    /// The image format of the result.
    #[serde(default)]
    pub format: Format,
    /// JPEG and WebP quality, 1–100 (default 90).
    #[schemars(range(min = 1, max = 100))]
    pub quality: Option<u8>,
    /// Device pixels per CSS pixel; the image is `width*pixelDensity` by `height*pixelDensity`.
    #[serde(default = "unit_density")]
    #[schemars(range(min = 0.25, max = 4.0))]
    pub pixel_density: f32,
    /// Which p5 line to load. Without it the plugin picks by what the sketch uses.
    pub p5_version: Option<kiln_sdk::p5::Version>,
}

/// Output image format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Png,
    Jpeg,
    Webp,
}

fn one_frame() -> u32 {
    1
}

fn unit_density() -> f32 {
    1.0
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpg",
            Format::Webp => "webp",
        }
    }
}

impl P5Input {
    /// Checks the limits the host is configured with (the schema holds only fixed bounds).
    pub fn check_against(&self, limits: &JobLimits) -> Result<(), Error> {
        kiln_sdk::size::check_page_size(
            self.width,
            self.height,
            Some(("pixelDensity", self.pixel_density)),
            limits,
        )
    }
}
