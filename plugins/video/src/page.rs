//! Opens the piece on the virtual clock: a p5 sketch with the recording harness, or an HTML piece.

use crate::input::{Kind, Recording, VideoInput};
use kiln_sdk::browser::{self, Page, PageOptions, RecordSource};
use kiln_sdk::{Error, ErrorKind, host, template};

const P5_HTML: &str = include_str!("p5.html");
const PIECE_HTML: &str = include_str!("piece.html");
const HARNESS_JS: &str = include_str!("harness.js");

/// Opens a page on the virtual clock with the piece loaded and ready for frame 0.
pub fn open(input: &VideoInput, recording: &Recording) -> Result<Page, Error> {
    let page = browser::open(PageOptions {
        width: recording.width,
        height: recording.height,
        scale: 1.0,
        seed: input.seed,
    })?;
    page.use_virtual_time()?;
    match recording.kind {
        Kind::P5 => {
            let p5 = kiln_sdk::p5::library_for(recording.source, input.p5_version)?;
            host::log(
                host::LogLevel::Info,
                &format!("recording with p5 {}", p5.version),
            );
            let seed = input.seed.map(|s| s.to_string()).unwrap_or_default();
            let html = template::fill(
                P5_HTML,
                &[
                    ("p5_src", &template::html_escape(&p5.url)),
                    ("fps", &recording.fps.to_string()),
                    ("seed", &seed),
                ],
            );
            page.serve(
                "/kiln-video-harness.js",
                "text/javascript",
                HARNESS_JS.as_bytes(),
            )?;
            page.serve("/sketch.js", "text/javascript", recording.source.as_bytes())?;
            page.serve("/index.html", "text/html", html.as_bytes())?;
            page.navigate("/index.html")?;
            page.wait_until(
                "window.__kilnVideo && window.__kilnVideo.ready === true",
                host::limits().timeout_ms,
            )
            .map_err(|err| match err.kind {
                ErrorKind::Timeout => Error::timeout(format!(
                    "the sketch's setup did not finish: {} (does setup loop forever, or await \
                     something that never resolves? Timers and animation frames do not run \
                     before recording starts)",
                    err.message
                )),
                _ => err,
            })?;
        }
        Kind::Html => {
            let html = if is_document(recording.source) {
                recording.source.to_string()
            } else {
                template::fill(PIECE_HTML, &[("body", recording.source)])
            };
            page.serve("/index.html", "text/html", html.as_bytes())?;
            page.navigate("/index.html")?;
            let errors = page.errors();
            if let Some(error) = errors.first() {
                return Err(Error::piece_failed(format!(
                    "the page threw while loading: {}",
                    error.message
                )));
            }
        }
    }
    Ok(page)
}

/// Where frames are read from: the element the input names; else a p5 sketch's main canvas
/// when it has exactly the recording's size (read back inside the page, no compositing);
/// otherwise the viewport.
pub fn source(
    page: &Page,
    input: &VideoInput,
    recording: &Recording,
) -> Result<RecordSource, Error> {
    if let Some(selector) = &input.selector {
        return Ok(RecordSource::Element(selector.clone()));
    }
    if recording.kind == Kind::Html {
        return Ok(RecordSource::Viewport);
    }
    let size = page.evaluate(
        "(() => { const c = document.querySelector('canvas[data-kiln-main]'); \
           return c ? [c.width, c.height] : null; })()",
    )?;
    let matches = serde_json::from_str::<Option<[u32; 2]>>(&size)
        .ok()
        .flatten()
        .is_some_and(|[w, h]| w == recording.width && h == recording.height);
    Ok(if matches {
        RecordSource::Canvas("canvas[data-kiln-main]".to_string())
    } else {
        RecordSource::Viewport
    })
}

fn is_document(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    lower.contains("<html") || lower.contains("<body")
}
