//! The js job's input, its JSON Schema, and the checks the schema cannot express.

use kiln_sdk::Error;
use kiln_sdk::host::JobLimits;
use schemars::JsonSchema;
use serde::Deserialize;

/// A web page (HTML, CSS and JavaScript, as in a pen) to render.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
// The fields the host checks against its limits when the job is submitted (docs/plugins.md).
#[schemars(extend("x-kiln-limits" = {"page": {"width": "width", "height": "height"}}))]
pub struct JsInput {
    /// The page's HTML: a fragment (placed in `<body>`) or a whole document (it contains `<html`
    /// or `<body`), into which the CSS and JavaScript are injected.
    #[serde(default)]
    pub html: String,
    /// The page's CSS, loaded as a stylesheet in the head.
    #[serde(default)]
    pub css: String,
    /// The page's JavaScript, a classic script run at the end of `<body>`.
    #[serde(default)]
    pub javascript: String,
    /// Viewport width in CSS pixels; the PNG is this wide.
    #[schemars(range(min = 1, max = 8192))]
    pub width: u32,
    /// Viewport height in CSS pixels; the PNG is this high.
    #[schemars(range(min = 1, max = 8192))]
    pub height: u32,
    /// What to produce: the rendered page as `image.png`, the page as one self-contained
    /// `index.html`, or both.
    pub output_type: OutputType,
    /// Fixes `Math.random`, so the same seed gives the same image (the HTML file carries the same
    /// seeded generator).
    pub seed: Option<u64>,
}

/// Which artifacts a job produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OutputType {
    /// `image.png`, the viewport once the page is ready.
    Png,
    /// `index.html`, the page with its CSS and JavaScript inlined.
    Html,
    /// Both `image.png` and `index.html`.
    Both,
}

impl OutputType {
    pub fn png(self) -> bool {
        matches!(self, OutputType::Png | OutputType::Both)
    }

    pub fn html(self) -> bool {
        matches!(self, OutputType::Html | OutputType::Both)
    }
}

impl JsInput {
    /// The page's parts, for building its document.
    pub fn parts(&self) -> kiln_js_document::Parts<'_> {
        kiln_js_document::Parts {
            html: &self.html,
            css: &self.css,
            javascript: &self.javascript,
            seed: self.seed,
        }
    }

    /// Checks what the schema cannot: some content, and the limits the host is configured with.
    pub fn check_against(&self, limits: &JobLimits) -> Result<(), Error> {
        if self.html.is_empty() && self.css.is_empty() && self.javascript.is_empty() {
            return Err(Error::invalid_input(
                "input.html, input.css and input.javascript are all empty: give at least one",
            ));
        }
        kiln_sdk::size::check_page_size(self.width, self.height, None, limits)
    }
}
