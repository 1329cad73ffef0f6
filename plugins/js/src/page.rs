//! Renders the page in the host's Chromium: serves it, waits until it is ready, captures it.

use crate::input::JsInput;
use kiln_js_document::{Mode, SCRIPT_PATH, STYLE_PATH};
use kiln_sdk::browser::{self, CaptureOptions, CaptureSource, Page, PageOptions};
use kiln_sdk::media::Image;
use kiln_sdk::{Error, ErrorKind, ImageFormat, host};

/// Opens a page with the job's document, CSS and JavaScript, and navigates to it (the load event
/// has fired when this returns).
pub fn open(input: &JsInput) -> Result<Page, Error> {
    let page = browser::open(PageOptions {
        width: input.width,
        height: input.height,
        scale: 1.0,
        seed: input.seed,
    })?;
    if !input.css.is_empty() {
        page.serve(STYLE_PATH, "text/css; charset=utf-8", input.css.as_bytes())?;
    }
    if !input.javascript.is_empty() {
        page.serve(
            SCRIPT_PATH,
            "text/javascript; charset=utf-8",
            input.javascript.as_bytes(),
        )?;
    }
    let html = kiln_js_document::build(&input.parts(), Mode::Served);
    page.serve("/index.html", "text/html; charset=utf-8", html.as_bytes())?;
    page.navigate("/index.html")?;
    Ok(page)
}

/// Waits until the page is ready to capture: loaded (an error thrown while loading fails the job
/// with the page's own message), then, if the page set `window.kilnReady = false` before load,
/// until it sets it to `true`, then two animation frames so the last change is painted.
pub fn wait_until_ready(page: &Page) -> Result<(), Error> {
    let timeout_ms = host::limits().timeout_ms;
    page.wait_until("document.readyState === 'complete'", timeout_ms)
        .map_err(|err| awaiting(err, "the page did not finish loading"))?;
    if page.evaluate("window.kilnReady === false")? == "true" {
        page.wait_until("window.kilnReady === true", timeout_ms)
            .map_err(|err| {
                awaiting(
                    err,
                    "the page set window.kilnReady = false before load and never set it to true \
                     (set it to true once the piece is drawn)",
                )
            })?;
    }
    page.evaluate(
        "(window.__kilnSettled = false, requestAnimationFrame(() => \
         requestAnimationFrame(() => { window.__kilnSettled = true; })), true)",
    )?;
    page.wait_until("window.__kilnSettled === true", timeout_ms)
        .map_err(|err| {
            awaiting(
                err,
                "the page did not paint two animation frames once ready",
            )
        })
}

/// Says what the page did not do when a wait timed out; other errors (the page threw) pass
/// unchanged.
fn awaiting(err: Error, what: &str) -> Error {
    match err.kind {
        ErrorKind::Timeout => Error::timeout(format!("{what}: {}", err.message)),
        _ => err,
    }
}

/// The viewport as a PNG, `width` × `height` pixels.
pub fn capture(page: &Page) -> Result<Image, Error> {
    page.capture(&CaptureOptions {
        source: CaptureSource::Viewport,
        format: ImageFormat::Png,
        quality: None,
    })
}
