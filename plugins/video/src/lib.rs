//! The `video` job type: records a p5 sketch or an HTML piece on Kiln's virtual clock into MP4,
//! WebM, animated WebP and GIF (frame `i` is the piece at exactly `i / fps` seconds, however
//! long it takes to paint), and bakes tapes of existing frames with a soundtrack into an MP4.
//!
//! Artifacts: `video.<ext>` per format, `poster.png|jpg` when asked, `still.png` instead of the
//! videos when the piece is frozen and `stillIfFrozen` is set, and `recording.json` saying what
//! was made (frames, fps, size, whether every frame was identical).

mod input;
mod page;
mod tape;

use input::{Plan, PosterFormat, Recording, VideoInput};
use kiln_sdk::browser::RecordOptions;
use kiln_sdk::media::{Blob, EncodeOptions, Frames};
use kiln_sdk::prelude::*;
use kiln_sdk::recording::{self, RecordingOptions};

struct Video;

impl Plugin for Video {
    type Input = VideoInput;
    const NAME: &'static str = "video";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str = "Records p5 sketches and HTML pieces into MP4, WebM, WebP and GIF on a virtual clock; bakes frame tapes with audio into MP4";
    const CAPABILITIES: &'static [Capability] =
        &[Capability::Browser, Capability::Media, Capability::Storage];

    fn run(_job: &JobContext, input: VideoInput) -> Result<Vec<Artifact>, Error> {
        match input.plan(&host::limits(), &host::recording_limits())? {
            Plan::Record(recording) => record(&input, &recording),
            Plan::Bake(tape) => {
                host::progress(0.1, "baking");
                let frames = tape::bake(tape, input.quality, input.scale.unwrap_or(1), input.fps)?;
                let mut artifacts =
                    vec![storage::put("video.mp4", &frames.video(VideoFormat::Mp4)?)?];
                let thumbnail = frames.poster(ImageFormat::Png, None)?;
                artifacts.push(storage::put("thumbnail.png", &thumbnail.to_blob())?);
                artifacts.push(report(&frames, false, None)?);
                host::progress(1.0, "stored");
                Ok(artifacts)
            }
        }
    }
}

fn record(input: &VideoInput, recording: &Recording) -> Result<Vec<Artifact>, Error> {
    let page = page::open(input, recording)?;
    host::progress(0.1, "loaded");
    let source = page::source(&page, input, recording)?;
    // Through `recording` (1.4.0) for the host's flat-colour verdict; every frame kept, and a
    // page error fails the recording, as `page.record` does.
    let recorded = recording::record(
        &page,
        &RecordingOptions {
            base: RecordOptions {
                frames: recording.frames,
                fps: recording.fps,
                source,
                encode: EncodeOptions {
                    formats: recording.formats.iter().map(|f| f.video_format()).collect(),
                    quality: input.quality,
                    scale: recording.scale,
                },
                poster_frame: input.poster_frame,
            },
            playback_fps: None,
            drop_blank_frames: false,
            tolerate_page_errors: false,
        },
    )?;
    drop(page);
    let frames = recorded.frames;
    let dud = recorded.flat_colour;
    if let Some(colour) = &dud {
        host::log(
            LogLevel::Warn,
            &format!("the recording is essentially one flat colour, {colour} (a dud)"),
        );
    }
    host::progress(0.9, "encoded");

    let frozen = frames.all_identical() && frames.count() > 1;
    let mut artifacts = Vec::new();
    if frozen {
        host::log(
            LogLevel::Warn,
            &format!(
                "every one of the {} frames is identical: the piece does not move",
                frames.count()
            ),
        );
    }
    let still = frozen && input.still_if_frozen;
    if still {
        let image = frames.poster(ImageFormat::Png, None)?;
        artifacts.push(storage::put("still.png", &image.to_blob())?);
    } else {
        for format in &recording.formats {
            let blob = frames.video(format.video_format())?;
            artifacts.push(storage::put(
                &format!("video.{}", format.extension()),
                &blob,
            )?);
        }
    }
    if let Some(poster) = input.poster {
        let (format, name) = match poster {
            PosterFormat::Png => (ImageFormat::Png, "poster.png"),
            PosterFormat::Jpeg => (ImageFormat::Jpeg, "poster.jpg"),
        };
        let image = frames.poster(format, input.quality)?;
        artifacts.push(storage::put(name, &image.to_blob())?);
    }
    artifacts.push(report(&frames, still, Some(dud))?);
    host::progress(1.0, "stored");
    Ok(artifacts)
}

/// `recording.json`: what was made, so a client can tell a frozen piece or a dud (one flat
/// colour, the host's verdict by the oven's rule) without decoding it. A tape has no dud
/// verdict (`dud: null`): its frames were not recorded here.
fn report(
    frames: &Frames,
    returned_still: bool,
    dud: Option<Option<String>>,
) -> Result<Artifact, Error> {
    let report = serde_json::json!({
        "frames": frames.count(),
        "fps": frames.fps(),
        "width": frames.width(),
        "height": frames.height(),
        "durationS": f64::from(frames.count()) / frames.fps(),
        "frozen": frames.all_identical() && frames.count() > 1,
        "returnedStill": returned_still,
        "audioSeconds": frames.audio_seconds(),
        "dud": dud.as_ref().map(|colour| colour.is_some()),
        "dudColor": dud.flatten(),
    });
    let bytes = serde_json::to_vec_pretty(&report).expect("JSON serializes");
    storage::put("recording.json", &Blob::new(&bytes, "application/json"))
}

kiln_sdk::export_plugin!(Video);
