//! The `js` job type: renders a page made of HTML, CSS and JavaScript (as in a pen) to a PNG of
//! the viewport, a self-contained `index.html`, or both.
//!
//! In the page Kiln renders, the CSS and JavaScript are their own files (`/style.css`,
//! `/piece.js`), so page errors name `/piece.js` and its lines. The HTML artifact inlines them,
//! with the same seeded `Math.random` as the host's page shim, so it renders the same thing
//! offline.

mod input;
mod page;

use input::JsInput;
use kiln_sdk::prelude::*;

struct Js;

impl Plugin for Js {
    type Input = JsInput;
    const NAME: &'static str = "js";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str =
        "Renders an HTML, CSS and JavaScript page to a PNG, a self-contained HTML file, or both";
    const CAPABILITIES: &'static [Capability] =
        &[Capability::Browser, Capability::Media, Capability::Storage];

    fn run(_job: &JobContext, input: JsInput) -> Result<Vec<Artifact>, Error> {
        input.check_against(&host::limits())?;
        let mut artifacts = Vec::new();
        if input.output_type.png() {
            let page = page::open(&input)?;
            host::progress(0.3, "loaded");
            page::wait_until_ready(&page)?;
            host::progress(0.6, "ready");
            let image = page::capture(&page)?;
            artifacts.push(storage::put("image.png", &image.to_blob())?);
            host::progress(0.8, "captured");
        }
        if input.output_type.html() {
            let html = kiln_js_document::build(&input.parts(), kiln_js_document::Mode::Inline);
            let blob = Blob::new(html.as_bytes(), "text/html; charset=utf-8");
            artifacts.push(storage::put("index.html", &blob)?);
        }
        host::progress(1.0, "stored");
        Ok(artifacts)
    }
}

kiln_sdk::export_plugin!(Js);
