//! Builds the sketch's page, waits for the frames to be drawn, and picks where to read pixels.

use crate::input::P5Input;
use kiln_sdk::browser::{self, CaptureOptions, CaptureSource, Library, Page, PageOptions};
use kiln_sdk::media::Image;
use kiln_sdk::{Error, ErrorKind, ImageFormat, host, template};

const PAGE_HTML: &str = include_str!("page.html");
const HARNESS_JS: &str = include_str!("harness.js");

/// How the host's capture says no element matches the selector.
const NO_CANVAS: &str = "no element matches";

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
            // Inline, not a file of its own: one request less for the host to answer per job.
            ("harness", HARNESS_JS),
        ],
    );
    page.serve("/sketch.js", "text/javascript", input.code.as_bytes())?;
    page.serve("/index.html", "text/html", html.as_bytes())?;
    page.navigate("/index.html")?;
    require_something_to_run(&page)?;
    Ok(page)
}

/// In global mode p5 starts only when the sketch defines `setup` or `draw`: without either it
/// never runs, and waiting for its frames would only end at the job's timeout. (A sketch that threw
/// before defining them — a syntax error, say — is left to fail with what it threw: the harness
/// counts the throw in the page at once, while the host's report of it may still be on its way.)
fn require_something_to_run(page: &Page) -> Result<(), Error> {
    if !page.errors().is_empty() {
        return Ok(());
    }
    let runs = page.evaluate(
        "typeof window.setup === 'function' || typeof window.draw === 'function' \
         || (window.__kilnP5 || {}).scriptErrors > 0",
    )?;
    if runs == "false" {
        return Err(Error::invalid_input(
            "the sketch defines neither setup() nor draw(), so p5 has nothing to run: global-mode \
             sketches need `function setup() { ... }` or `function draw() { ... }` at top level",
        ));
    }
    Ok(())
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
/// otherwise the viewport, which always has the requested size. The canvas is tried first and its
/// size checked on the result, which saves a round trip to the page in the common case.
pub fn capture(page: &Page, input: &P5Input, format: ImageFormat) -> Result<Image, Error> {
    let want_w = (f64::from(input.width) * f64::from(input.pixel_density)).round() as u32;
    let want_h = (f64::from(input.height) * f64::from(input.pixel_density)).round() as u32;
    let options = |source| CaptureOptions {
        source,
        format,
        quality: input.quality,
    };
    match page.capture(&options(CaptureSource::Canvas(
        "canvas[data-kiln-main]".to_string(),
    ))) {
        Ok(image) if image.width() == want_w && image.height() == want_h => return Ok(image),
        Ok(_) => {}
        // No main canvas (the sketch called noCanvas, or drew into the DOM): use the viewport. A
        // canvas that cannot be read (over the pixel cap, its context lost) fails the job: the
        // viewport would show it blank.
        Err(err) if err.kind == ErrorKind::PieceFailed && err.message.contains(NO_CANVAS) => {}
        Err(err) => return Err(err),
    }
    page.capture(&options(CaptureSource::Viewport))
}
