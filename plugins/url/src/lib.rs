//! The `url` job type: captures a page of the operator's site — a piece of aesthetic.computer
//! such as `prompt` — the way the oven's grabber did (shared/OVEN.md §2.4), on Kiln's virtual
//! clock.
//!
//! The page is `{pieces.base_url}/{piece}?density=D&tv=true&nolabel=true&nogap=true`. It runs on
//! the job's own origin, and the host fetches what the page asks for from the site (the plugin's
//! `network` grant, `["site"]` by default, plus any origins the operator grants it); every other
//! request is refused and logged. The plugin waits for a `<canvas>` (bounded: `timeout`
//! without one), then for `window.acPieceReady` (bounded: after it the capture goes on, as the
//! oven's did), lets the piece run the settle time, and captures the viewport — a still per
//! format, or a recording of `frames` frames at `fps` on the virtual clock into the host's
//! encoders, with `poster.png` and `recording.json`.

mod input;
mod page;

use input::{Capture, UrlInput, image_extension, video_extension};
use kiln_sdk::browser::RecordSource;
use kiln_sdk::prelude::*;

struct Url;

impl Plugin for Url {
    type Input = UrlInput;
    const NAME: &'static str = "url";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str = "Captures a page of the operator's site (a piece) as a PNG, JPEG or WebP still or an MP4, WebM, WebP or GIF recording";
    const CAPABILITIES: &'static [Capability] =
        &[Capability::Browser, Capability::Media, Capability::Storage];

    fn run(_job: &JobContext, input: UrlInput) -> Result<Vec<Artifact>, Error> {
        let plan = input.plan(&host::limits(), &host::recording_limits())?;
        let page = page::open(&plan, input.seed)?;
        host::progress(0.3, "ready");
        let mut artifacts = Vec::new();
        match &plan.capture {
            Capture::Still(formats) => {
                for format in formats {
                    let image = page.capture(&CaptureOptions {
                        source: CaptureSource::Viewport,
                        format: *format,
                        quality: input.quality,
                    })?;
                    let name = format!("image.{}", image_extension(*format));
                    artifacts.push(storage::put(&name, &image.to_blob())?);
                }
            }
            Capture::Recording {
                frames,
                fps,
                scale,
                formats,
            } => {
                let recorded = page.record(&RecordOptions {
                    frames: *frames,
                    fps: *fps,
                    source: RecordSource::Viewport,
                    encode: EncodeOptions {
                        formats: formats.clone(),
                        quality: input.quality,
                        scale: *scale,
                    },
                    poster_frame: None,
                })?;
                host::progress(0.9, "encoded");
                for format in formats {
                    let name = format!("video.{}", video_extension(*format));
                    artifacts.push(storage::put(&name, &recorded.video(*format)?)?);
                }
                let poster = recorded.poster(ImageFormat::Png, None)?;
                artifacts.push(storage::put("poster.png", &poster.to_blob())?);
                artifacts.push(report(&input.piece, &recorded)?);
            }
        }
        host::progress(1.0, "stored");
        Ok(artifacts)
    }
}

/// `recording.json`: what was recorded and whether every frame was the same (`frozen`). `dud`
/// (one flat colour, shared/OVEN.md §3.2) is `null`: it needs the frames' pixels, which a
/// browser recording does not hand the plugin.
fn report(piece: &str, frames: &Frames) -> Result<Artifact, Error> {
    let report = serde_json::json!({
        "piece": piece,
        "frames": frames.count(),
        "fps": frames.fps(),
        "width": frames.width(),
        "height": frames.height(),
        "frozen": frames.all_identical() && frames.count() > 1,
        "dud": null,
    });
    let bytes = serde_json::to_vec_pretty(&report).expect("JSON serializes");
    storage::put("recording.json", &Blob::new(&bytes, "application/json"))
}

kiln_sdk::export_plugin!(Url);
