//! The `kidlisp` job type: runs a KidLisp piece (aesthetic.computer's drawing language) in the
//! `kidlisp` crate's software rasteriser — no browser — and hands the frames to the host's
//! encoders through `kiln:render/pixels` (contract 1.3.0, through the SDK).
//!
//! A still is frame `frame` (frames 0 to `frame` are run, as the piece's state builds up), stored
//! as `image.<ext>` per format. A recording is `frames` frames into the encoders, stored as
//! `video.<ext>` per format, `poster.png` and `recording.json` (frames, fps, size, whether every
//! frame was identical, whether it is a flat-colour "dud" as the old oven judged, the seed).
//! Everything is deterministic: the same input gives the same bytes.
//!
//! The piece is `source` (its KidLisp, with `sources` for its `$code` embeds), or `code`: the
//! host then fetches its source and its embeds' (`kiln:render/sources@1.3.0`, the `sources`
//! capability; a host that does not grant it answers `denied`).
//!
//! The input is checked before anything runs: the source and every embed source must parse (the
//! error has the line and column), stamps must be PNGs within bounds, and sizes must fit the
//! host's caps. While running, a frame that exhausts its step budget fails the job as
//! `piece-failed` naming the frame, and a `$code` or `#code` the piece asks for but the input
//! does not carry fails it as `invalid-input` naming the code. The interpreter's log (unknown
//! words, refused calls) goes to the job's log.

mod assets;
mod input;

use input::{KidlispInput, MAX_STEPS_CAP, Output, Plan, image_extension, video_extension};
use kiln_sdk::prelude::*;

/// Interpreter log lines copied to the job's log; a piece that logs an unknown word every frame
/// would otherwise send thousands. The host keeps fewer than this per job anyway (docs/api.md).
const MAX_FORWARDED_LOG_LINES: usize = 200;

struct Kidlisp;

impl Plugin for Kidlisp {
    type Input = KidlispInput;
    const NAME: &'static str = "kidlisp";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str = "Renders KidLisp pieces in a software rasteriser (no browser) to PNG, JPEG or WebP stills and MP4, WebM, WebP or GIF recordings";
    // Frames go to the host's encoders through `pixels`, which needs `media`; no browser.
    // `sources` fetches a piece given by `code`; without the grant only such jobs fail.
    const CAPABILITIES: &'static [Capability] =
        &[Capability::Media, Capability::Storage, Capability::Sources];

    fn run(_job: &JobContext, input: KidlispInput) -> Result<Vec<Artifact>, Error> {
        let plan = input.plan(&host::limits(), &host::recording_limits())?;
        let chosen = assets::piece(&input)?;
        let mut piece = Piece::new(&input, &plan, &chosen.program, chosen.embeds)?;
        let artifacts = match &plan.output {
            Output::Still { frame, formats } => still(&mut piece, &input, *frame, formats),
            Output::Recording { .. } => record(&mut piece, &input, &plan, chosen.code.as_deref()),
        };
        piece.finish_log();
        let artifacts = artifacts?;
        host::progress(1.0, "stored");
        Ok(artifacts)
    }
}

/// A piece being run frame by frame: its log forwarded, its missing inputs refused by name.
struct Piece {
    renderer: kidlisp::Renderer,
    events: Vec<Vec<kidlisp::Event>>,
    frames_run: u32,
    max_steps: u64,
    forwarded: usize,
    withheld: usize,
}

impl Piece {
    fn new(
        input: &KidlispInput,
        plan: &Plan,
        program: &kidlisp::Program,
        embeds: std::collections::HashMap<String, String>,
    ) -> Result<Self, Error> {
        let options = kidlisp::Options {
            seed: input.seed,
            epoch_ms: input.epoch_ms,
            step_ms: plan.step_ms,
            max_steps_per_frame: plan.max_steps,
            embeds,
            stamps: assets::stamps(&input.stamps, read_stored)?,
            ..kidlisp::Options::default()
        };
        let frames_run = plan.frames_run();
        // Said up front so that, should the canvases outgrow the plugin's memory, the job's log
        // shows what each one cost.
        let canvas_mib = f64::from(input.width) * f64::from(input.height) * 4.0 / 1048576.0;
        host::log(
            LogLevel::Info,
            &format!(
                "running {frames_run} frame(s) of a {}×{} piece, seed {}; each canvas (the \
                 display, the background, every bake layer and embed) takes {canvas_mib:.1} MiB",
                input.width, input.height, input.seed
            ),
        );
        let renderer = kidlisp::Renderer::new(
            program,
            input.width as usize,
            input.height as usize,
            options,
        )
        .map_err(|e| Error::invalid_input(format!("input.width, input.height: {e}")))?;
        Ok(Self {
            renderer,
            events: input.events_by_frame(frames_run),
            frames_run,
            max_steps: plan.max_steps,
            forwarded: 0,
            withheld: 0,
        })
    }

    /// Runs the next frame and answers its RGBA pixels.
    fn next_frame(&mut self) -> Result<&[u8], Error> {
        let index = self.renderer.next_frame();
        let events = self
            .events
            .get(index as usize)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let stopped = self.renderer.render_frame(events).err();
        self.forward_log();
        if let Some(stop) = stopped {
            return Err(self.stopped(&stop));
        }
        if let Some(missing) = self.renderer.missing().first() {
            return Err(missing_input(missing));
        }
        Ok(self.renderer.pixels())
    }

    /// The error for a frame the interpreter stopped (its step budget or nesting ran out).
    fn stopped(&self, stop: &kidlisp::RuntimeError) -> Error {
        let frame = stop.frame;
        let of = self.frames_run;
        let advice = if stop.message.contains("depth") {
            "evaluations nest at most 128 deep, so a recursion that never ends stops there; give \
             the recursion a way out"
                .to_string()
        } else {
            format!(
                "each frame may take input.maxSteps evaluation steps ({}; at most {MAX_STEPS_CAP}), \
                 so a repeat or loop that never ends stops there; do less per frame or raise \
                 input.maxSteps",
                self.max_steps
            )
        };
        Error::piece_failed(format!(
            "the piece was stopped in frame {frame} (from 0, of {of} to run): {}: {advice}",
            stop.message
        ))
    }

    fn forward_log(&mut self) {
        for line in self.renderer.take_log() {
            if self.forwarded < MAX_FORWARDED_LOG_LINES {
                host::log(LogLevel::Warn, &format!("kidlisp: {line}"));
                self.forwarded += 1;
            } else {
                self.withheld += 1;
            }
        }
    }

    /// Says how many interpreter lines were not copied to the job's log.
    fn finish_log(&self) {
        if self.withheld > 0 {
            host::log(
                LogLevel::Info,
                &format!(
                    "kidlisp: {} more interpreter log line(s) not shown (the first \
                     {MAX_FORWARDED_LOG_LINES} are)",
                    self.withheld
                ),
            );
        }
    }

    fn width(&self) -> u32 {
        self.renderer.width() as u32
    }

    fn height(&self) -> u32 {
        self.renderer.height() as u32
    }
}

/// The error for an embed or stamp the piece asked for but the input did not carry.
fn missing_input(missing: &kidlisp::Missing) -> Error {
    match missing {
        kidlisp::Missing::Source { code, frame } => Error::invalid_input(format!(
            "input.sources: the piece runs {code} (first in frame {frame}) but input.sources has \
             no source for it; add \"{code}\": \"<its KidLisp source>\""
        )),
        kidlisp::Missing::Image { key, frame } => Error::invalid_input(format!(
            "input.stamps: the piece draws {key} (first in frame {frame}) but input.stamps has no \
             image for it; add \"{key}\": \"<a PNG in base64>\""
        )),
    }
}

/// Reports progress about every 5% of the frames.
fn progress(index: u32, total: u32, share: f32) {
    let every = (total / 20).max(1);
    if index.is_multiple_of(every) {
        host::progress(share * index as f32 / total as f32, "rendering");
    }
}

/// Runs frames 0 to `frame` and stores the last as `image.<ext>` per format.
fn still(
    piece: &mut Piece,
    input: &KidlispInput,
    frame: u32,
    formats: &[ImageFormat],
) -> Result<Vec<Artifact>, Error> {
    for index in 0..frame {
        progress(index, frame + 1, 0.8);
        piece.next_frame()?;
    }
    let (width, height) = (piece.width(), piece.height());
    let rgba = piece.next_frame()?;
    if input.drop_blank_frames && kiln_frame_checks::is_blank(rgba, width as usize, height as usize)
    {
        return Err(Error::piece_failed(format!(
            "failed to capture frame {frame}: it is blank (all black or transparent, shared/OVEN.md \
             §3.3), and input.dropBlankFrames leaves blank frames out"
        )));
    }
    let mut artifacts = Vec::new();
    for &format in formats {
        let image =
            pixels::encode_image(width, height, rgba, format, input.quality, input.density)?;
        let name = format!("image.{}", image_extension(format));
        artifacts.push(storage::put(&name, &image.to_blob())?);
    }
    Ok(artifacts)
}

/// Streams the plan's recording into the encoders and stores the videos, the poster and
/// `recording.json`. Each recorded frame is the last of `plan.every` frames run. `code` is the
/// piece's `$code` when it came from the piece store; `recording.json` names it.
fn record(
    piece: &mut Piece,
    input: &KidlispInput,
    plan: &Plan,
    code: Option<&str>,
) -> Result<Vec<Artifact>, Error> {
    let Output::Recording {
        frames,
        fps,
        ref formats,
        poster_frame,
    } = plan.output
    else {
        unreachable!("record is called for a recording plan");
    };
    let every = plan.every;
    let (width, height) = (piece.width(), piece.height());
    let encoder = FrameEncoder::start(&EncoderOptions {
        width,
        height,
        fps,
        encode: EncodeOptions {
            formats: formats.to_vec(),
            quality: input.quality,
            scale: input.density,
        },
        poster_frame: Some(poster_frame),
    })?;
    let mut dud = kiln_frame_checks::DudCheck::new(frames);
    let mut blank = 0;
    for index in 0..frames {
        progress(index, frames, 0.9);
        // The frames between two recorded ones run and are not kept (`input.every`).
        for _ in 1..every {
            piece.next_frame()?;
        }
        let rgba = piece.next_frame()?;
        if input.drop_blank_frames
            && kiln_frame_checks::is_blank(rgba, width as usize, height as usize)
        {
            blank += 1;
            continue;
        }
        dud.observe(index, rgba, width as usize, height as usize);
        encoder.push(rgba)?;
    }
    if blank == frames {
        return Err(Error::piece_failed(format!(
            "no frames captured: all {frames} frames are blank (all black or transparent, \
             shared/OVEN.md §3.3), and input.dropBlankFrames leaves blank frames out"
        )));
    }
    if blank > 0 {
        host::log(
            LogLevel::Info,
            &format!("{blank} blank frame(s) of {frames} left out (input.dropBlankFrames)"),
        );
    }
    let made = FrameEncoder::finish(encoder)?;
    host::progress(0.95, "encoded");

    let mut artifacts = Vec::new();
    for &format in formats {
        let name = format!("video.{}", video_extension(format));
        artifacts.push(storage::put(&name, &made.video(format)?)?);
    }
    let poster = made.poster(ImageFormat::Png, None)?;
    artifacts.push(storage::put("poster.png", &poster.to_blob())?);

    // The oven calls a single frame never frozen (OVEN.md §3.1).
    let frozen = made.all_identical() && made.count() > 1;
    if frozen {
        host::log(
            LogLevel::Warn,
            &format!(
                "every one of the {} frames is identical: the piece does not move",
                made.count()
            ),
        );
    }
    let dud_colour = dud.verdict();
    if let Some(colour) = &dud_colour {
        host::log(
            LogLevel::Warn,
            &format!("the recording is essentially one flat colour, {colour} (a dud)"),
        );
    }
    let mut report = serde_json::json!({
        "frames": made.count(),
        "fps": made.fps(),
        "width": made.width(),
        "height": made.height(),
        "density": input.density,
        "frozen": frozen,
        "dud": dud_colour.is_some(),
        "dudColor": dud_colour,
        "blankFramesDropped": blank,
        "seed": input.seed,
    });
    if let Some(code) = code {
        report["code"] = code.into();
    }
    let bytes = serde_json::to_vec_pretty(&report).expect("JSON serializes");
    artifacts.push(storage::put(
        "recording.json",
        &Blob::new(&bytes, "application/json"),
    )?);
    Ok(artifacts)
}

kiln_sdk::export_plugin!(Kidlisp);

/// The bytes of the stored object at `key` (the host checks the job may read it and bounds its
/// size by `jobs.max_read_bytes`).
fn read_stored(key: &str) -> Result<Vec<u8>, Error> {
    let blob = storage::get(key)?;
    Ok(blob.read(0, blob.size()))
}
