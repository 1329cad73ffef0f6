//! Builds the sketch's page, waits for the frames to be drawn, and picks where to read pixels.

use crate::input::P5Input;
use kiln_sdk::browser::{self, CaptureSource, Library, Page, PageOptions};
use kiln_sdk::{Error, host, template};

const PAGE_HTML: &str = include_str!("page.html");
const HARNESS_JS: &str = include_str!("harness.js");

/// Opens a page with p5, the harness and the sketch loaded.
pub fn open(input: &P5Input, p5: &Library) -> Result<Page, Error> {
    let page = browser::open(PageOptions {
        width: input.width,
        height: input.height,
        scale: input.pixel_density,
        seed: input.seed,
    })?;
    let seed = input.seed.map(|s| s.to_string()).unwrap_or_default();
    let html = template::fill(
        PAGE_HTML,
        &[
            ("p5_src", &template::html_escape(&p5.url)),
            ("frames", &input.frames.to_string()),
            ("seed", &seed),
        ],
    );
    page.serve(
        "/kiln-p5-harness.js",
        "text/javascript",
        HARNESS_JS.as_bytes(),
    )?;
    page.serve("/sketch.js", "text/javascript", input.code.as_bytes())?;
    page.serve("/index.html", "text/html", html.as_bytes())?;
    page.navigate("/index.html")?;
    Ok(page)
}

/// Waits until the harness says the requested frames are drawn (or the sketch stopped looping).
pub fn wait_until_drawn(page: &Page, input: &P5Input) -> Result<(), Error> {
    page.wait_until(
        "window.__kilnP5 && window.__kilnP5.done === true",
        host::limits().timeout_ms,
    )
    .map_err(|err| match err.kind {
        kiln_sdk::ErrorKind::Timeout => Error::timeout(format!(
            "the sketch did not finish {} frame(s) in time: {} (does setup or draw loop \
                 forever, or await something that never resolves?)",
            input.frames, err.message
        )),
        _ => err,
    })
}

/// Reads the sketch's main canvas when it has exactly the requested size (fast, exact pixels);
/// otherwise the viewport, which always has the requested size.
pub fn capture_source(page: &Page, input: &P5Input) -> Result<CaptureSource, Error> {
    let size = page.evaluate(
        "(() => { const c = document.querySelector('canvas[data-kiln-main]'); \
           return c ? [c.width, c.height] : null })()",
    )?;
    let want_w = (f64::from(input.width) * f64::from(input.pixel_density)).round() as u64;
    let want_h = (f64::from(input.height) * f64::from(input.pixel_density)).round() as u64;
    let matches = serde_json::from_str::<Option<[u64; 2]>>(&size)
        .ok()
        .flatten()
        .is_some_and(|[w, h]| w == want_w && h == want_h);
    Ok(if matches {
        CaptureSource::Canvas("canvas[data-kiln-main]".to_string())
    } else {
        CaptureSource::Viewport
    })
}
