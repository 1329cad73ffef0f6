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
//! encoders (played at `playbackFps`, blank frames left out and page errors tolerated when
//! asked, as the oven's grabs did), with `poster.png` and `recording.json`, whose `dud` is the
//! host's flat-colour verdict (`kiln:render/recording@1.4.0`).

mod input;
mod page;

use input::{Capture, UrlInput, image_extension, video_extension};
use kiln_sdk::browser::RecordSource;
use kiln_sdk::prelude::*;
use kiln_sdk::recording::{self, Recorded, RecordingOptions};

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
                playback_fps,
                scale,
                formats,
                drop_blank_frames,
                tolerate_page_errors,
            } => {
                let recorded = recording::record(
                    &page,
                    &RecordingOptions {
                        base: RecordOptions {
                            frames: *frames,
                            fps: *fps,
                            source: RecordSource::Viewport,
                            encode: EncodeOptions {
                                formats: formats.clone(),
                                quality: input.quality,
                                scale: *scale,
                            },
                            poster_frame: None,
                        },
                        playback_fps: *playback_fps,
                        drop_blank_frames: *drop_blank_frames,
                        tolerate_page_errors: *tolerate_page_errors,
                    },
                )?;
                host::progress(0.9, "encoded");
                if recorded.page_errors > 0 {
                    let first = page.errors().into_iter().next();
                    host::log(
                        LogLevel::Warn,
                        &format!(
                            "the page threw {} errors during the recording, tolerated{}",
                            recorded.page_errors,
                            first
                                .map(|e| format!(" (the first: {})", e.message))
                                .unwrap_or_default()
                        ),
                    );
                }
                let frames = &recorded.frames;
                for format in formats {
                    let name = format!("video.{}", video_extension(*format));
                    artifacts.push(storage::put(&name, &frames.video(*format)?)?);
                }
                let poster = frames.poster(ImageFormat::Png, None)?;
                artifacts.push(storage::put("poster.png", &poster.to_blob())?);
                artifacts.push(report(&input.piece, &recorded)?);
            }
        }
        host::progress(1.0, "stored");
        Ok(artifacts)
    }
}

/// `recording.json`: what was recorded, whether every kept frame was the same (`frozen`), and
/// whether the frames are one flat colour (`dud`, `dudColor`: the host's verdict by the oven's
/// rule, shared/OVEN.md §3.2), with the blank frames left out and the page errors tolerated.
fn report(piece: &str, recorded: &Recorded) -> Result<Artifact, Error> {
    let frames = &recorded.frames;
    let report = serde_json::json!({
        "piece": piece,
        "frames": frames.count(),
        "fps": frames.fps(),
        "width": frames.width(),
        "height": frames.height(),
        "frozen": frames.all_identical() && frames.count() > 1,
        "dud": recorded.flat_colour.is_some(),
        "dudColor": recorded.flat_colour,
        "blankFramesDropped": recorded.blank_frames,
        "pageErrors": recorded.page_errors,
    });
    let bytes = serde_json::to_vec_pretty(&report).expect("JSON serializes");
    storage::put("recording.json", &Blob::new(&bytes, "application/json"))
}

kiln_sdk::export_plugin!(Url);
