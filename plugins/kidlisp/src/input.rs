//! The kidlisp job's input, its JSON Schema, and the checks the schema cannot express (the
//! host's limits, and how fields combine).

use std::collections::BTreeMap;

use kiln_sdk::host::{FrameLimits, JobLimits};
use kiln_sdk::media::VideoFormat;
use kiln_sdk::{Error, ImageFormat};
use schemars::JsonSchema;
use serde::Deserialize;

/// Evaluation steps a frame may take when the input does not say: aesthetic.computer's own
/// `maxSteps`, so a piece that finishes its frames there finishes them here.
pub const DEFAULT_MAX_STEPS: u64 = 100_000;
/// The most steps per frame an input may ask for (`maxSteps`). A frame at this budget takes
/// well under a second; the plugin's CPU budget (`plugins.cpu_ms`) bounds the whole job.
pub const MAX_STEPS_CAP: u64 = 10_000_000;
/// Frames per second of a recording when the input does not say; also what `stepMs` follows.
pub const DEFAULT_FPS: f64 = 60.0;
/// The lowest frame rate: one frame per 100 s. The encoders refuse longer frame durations.
pub const MIN_FPS: f64 = 0.01;
/// The highest frame rate the host's encoders take.
pub const MAX_FPS: f64 = 120.0;

/// The most frames a recording runs per recorded frame (`input.every`).
pub const MAX_EVERY: u32 = 60;
/// Width and height when the input does not say, in art pixels.
pub const DEFAULT_SIDE: u32 = 128;

/// A KidLisp piece to render: a still of one frame, or a recording of many.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
// The fields the host checks against its limits when the job is submitted (docs/plugins.md).
// `density` is the encoders' nearest-neighbour scale, so it multiplies both sides.
#[schemars(extend("x-kiln-limits" = {
    "page": {"width": "width", "height": "height", "density": "density"},
    "recording": {"frames": "frames", "fps": "fps", "defaultFps": 60, "scale": "density"}
}))]
// The piece itself, by source, by code or picked from the top pieces: refused at submission
// unless exactly one is given (the plugin checks again, with its own message, for a host that
// did not validate).
#[schemars(extend("oneOf" = [{"required": ["source"]}, {"required": ["code"]}, {"required": ["top"]}]))]
pub struct KidlispInput {
    /// The piece's KidLisp source, e.g. `(wipe navy) (ink yellow) (circle w/2 h/2 20)`. Give
    /// this or `code`.
    pub source: Option<String>,
    /// The piece by its code (`$cow` or `cow`) instead of `source`: the host fetches its source,
    /// and the sources of every piece it embeds, from its piece store (aesthetic.computer's by
    /// default), through the `sources` capability.
    #[schemars(length(min = 1, max = 65))]
    pub code: Option<String>,
    /// The piece picked from the host's top-pieces listing, as the oven picks its daily
    /// backdrop (shared/OVEN.md §7): the `limit` most-played pieces (of `handle`, when given),
    /// and of those the index `dayOfYear(date) mod min(count, rotate)`. Then as `code`.
    pub top: Option<TopPick>,
    /// Sources of the pieces it embeds, keyed by code with its `$`: `{"$roz": "(wipe red) …"}`.
    /// With `source`, every `$code` the piece runs must be here; with `code`, the host fetches
    /// them, and an entry here takes the place of the fetched one.
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
    /// Images for its `#code` stamps and `paste`, keyed by code with its `#`: each a PNG file,
    /// base64-encoded (a `data:image/png;base64,` prefix is allowed), or `{"key": …}` naming a
    /// PNG already in the store (an earlier job's artifact, or under a prefix the operator
    /// granted this plugin with `plugins.per_plugin.kidlisp.read_prefixes`). Every `#code` the
    /// piece draws must be here.
    #[serde(default)]
    pub stamps: BTreeMap<String, StampImage>,
    /// Width in art pixels, the piece's `width` (default 128).
    #[serde(default = "default_side")]
    #[schemars(range(min = 1, max = 4096))]
    pub width: u32,
    /// Height in art pixels, the piece's `height` (default 128).
    #[serde(default = "default_side")]
    #[schemars(range(min = 1, max = 4096))]
    pub height: u32,
    /// Output pixels per art pixel: the image or video is `width·density × height·density`,
    /// upscaled with nearest-neighbour sampling (default 1).
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 16))]
    pub density: u32,
    /// Seeds `random`, `?`, `wiggle`, `choose` and default inks: the same seed gives the same
    /// pixels (default 0).
    #[serde(default)]
    pub seed: u32,
    /// The clock time of frame 0 in milliseconds since 1970 (default 0): timers such as `1s`
    /// fire on whole multiples of the clock, and `(clock)` reads it.
    #[serde(default)]
    #[schemars(range(min = -8.64e15, max = 8.64e15))]
    pub epoch_ms: f64,
    /// Milliseconds of the piece's clock between frames (default `1000 / fps`, so a recording
    /// plays at the piece's own speed; 1000/60 for a still without `fps`).
    #[schemars(range(min = 0, max = 86_400_000))]
    pub step_ms: Option<f64>,
    /// Pointer events, each delivered before the sim and paint of its frame (as aesthetic.computer's
    /// conformance fixtures carry them).
    #[serde(default)]
    #[schemars(length(max = 10000))]
    pub events: Vec<EventInput>,
    /// For a still: the frame (from 0) to capture; frames 0 to `frame` are run (default 0).
    #[schemars(range(min = 0))]
    pub frame: Option<u32>,
    /// For a recording: how many frames (frame 0 onwards). Without it the job is a still.
    #[schemars(range(min = 1))]
    pub frames: Option<u32>,
    /// Frames per second of a recording's videos, 0.01–120 (default 60).
    #[schemars(range(min = 0.01, max = 120))]
    pub fps: Option<f64>,
    /// For a recording: the frame (from 0) `poster.png` shows (default 0).
    pub poster_frame: Option<u32>,
    /// For a recording: frames the piece runs per recorded frame, 1–60 (default 1). With 8 and
    /// `stepMs` 1000/60, a piece running at 60 fps is sampled 7.5 times a second, as the oven's
    /// grab captured it. Without `stepMs` the clock still plays back in real time: each frame
    /// run is `1000 / (fps × every)` ms.
    #[schemars(range(min = 1, max = 60))]
    pub every: Option<u32>,
    /// Encodings, one artifact each. A still: `png` (default), `jpeg`, `webp`. A recording: `mp4`
    /// (default), `webm`, `webp` (animated), `gif`.
    #[serde(default)]
    pub formats: Vec<Format>,
    /// Quality 1–100 of the lossy encodings (default per format).
    #[schemars(range(min = 1, max = 100))]
    pub quality: Option<u8>,
    /// Leave out frames that are blank as the old oven judged them (shared/OVEN.md §3.3: reduced
    /// to 32×32, all transparent, or every visible pixel black), as its grabs did: a recording
    /// keeps the others (`recording.json` counts the dropped), and one whose every frame is blank
    /// fails; a still whose frame is blank fails (default false: every frame is kept).
    #[serde(default)]
    pub drop_blank_frames: bool,
    /// Evaluation steps allowed per frame, 1 to 10,000,000 (default 100,000, aesthetic.computer's
    /// own). A frame that needs more (an endless `repeat`) fails the job naming the frame.
    #[schemars(range(min = 1, max = 10_000_000))]
    pub max_steps: Option<u64>,
}

/// A pointer event delivered before frame `frame` is drawn.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// The frame (from 0) it is delivered before.
    pub frame: u32,
    /// `touch` (pointer down: runs `tap`), `draw` (moved while down: runs `draw`) or `lift`
    /// (pointer up: runs `lift`).
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// Pointer x in art pixels.
    pub x: f64,
    /// Pointer y in art pixels.
    pub y: f64,
    /// Movement since the last event, x (`draw` only; default 0).
    #[serde(default)]
    pub dx: f64,
    /// Movement since the last event, y (`draw` only; default 0).
    #[serde(default)]
    pub dy: f64,
}

/// What a pointer event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The pointer went down.
    Touch,
    /// The pointer moved while down.
    Draw,
    /// The pointer came up.
    Lift,
}

/// An encoding of the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// PNG still.
    Png,
    /// JPEG still.
    Jpeg,
    /// WebP: a still, or an animated WebP for a recording.
    Webp,
    /// H.264 MP4 recording.
    Mp4,
    /// VP9 WebM recording.
    Webm,
    /// GIF recording.
    Gif,
}

fn default_side() -> u32 {
    DEFAULT_SIDE
}

fn one() -> u32 {
    1
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Webp => "webp",
            Format::Mp4 => "mp4",
            Format::Webm => "webm",
            Format::Gif => "gif",
        }
    }

    fn still(self) -> Option<ImageFormat> {
        match self {
            Format::Png => Some(ImageFormat::Png),
            Format::Jpeg => Some(ImageFormat::Jpeg),
            Format::Webp => Some(ImageFormat::Webp),
            _ => None,
        }
    }

    fn video(self) -> Option<VideoFormat> {
        match self {
            Format::Mp4 => Some(VideoFormat::Mp4),
            Format::Webm => Some(VideoFormat::Webm),
            Format::Webp => Some(VideoFormat::Webp),
            Format::Gif => Some(VideoFormat::Gif),
            _ => None,
        }
    }
}

/// The file extension of a still's artifact, `image.<ext>`.
pub fn image_extension(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "png",
        ImageFormat::Jpeg => "jpg",
        ImageFormat::Webp => "webp",
    }
}

/// The file extension of a recording's artifact, `video.<ext>`.
pub fn video_extension(format: VideoFormat) -> &'static str {
    match format {
        VideoFormat::Mp4 => "mp4",
        VideoFormat::Webm => "webm",
        VideoFormat::Webp => "webp",
        VideoFormat::Gif => "gif",
    }
}

/// What the job makes, with every default applied and every limit checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Frames 0 to `frame` are run; the last is encoded once per format.
    Still {
        /// The frame captured.
        frame: u32,
        /// One `image.<ext>` each.
        formats: Vec<ImageFormat>,
    },
    /// `frames` frames into the encoders.
    Recording {
        /// How many frames.
        frames: u32,
        /// Frames per second of the videos.
        fps: f64,
        /// One `video.<ext>` each.
        formats: Vec<VideoFormat>,
        /// The frame `poster.png` shows.
        poster_frame: u32,
    },
}

impl Output {
    /// How many frames are run.
    pub fn frames_run(&self) -> u32 {
        match self {
            Output::Still { frame, .. } => frame + 1,
            Output::Recording { frames, .. } => *frames,
        }
    }
}

impl Plan {
    /// How many frames the piece runs: a recording runs `every` per recorded frame.
    pub fn frames_run(&self) -> u32 {
        self.output.frames_run() * self.every
    }
}

/// The run, decided from the input: what to make and the clock the piece runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// What to make.
    pub output: Output,
    /// Milliseconds between frames.
    pub step_ms: f64,
    /// Evaluation steps allowed per frame.
    pub max_steps: u64,
    /// Frames run per recorded frame (1 for a still).
    pub every: u32,
}

impl KidlispInput {
    /// Checks the fields against each other and against the host's limits, naming the field at
    /// fault, and decides what to make.
    pub fn plan(&self, limits: &JobLimits, frame_limits: &FrameLimits) -> Result<Plan, Error> {
        let density = self.density;
        kiln_sdk::size::check_page_size(
            self.width,
            self.height,
            Some(("density", density as f32)),
            limits,
        )?;
        for (field, side) in [("width", self.width), ("height", self.height)] {
            let scaled = u64::from(side) * u64::from(density);
            if scaled > u64::from(limits.max_dimension) {
                return Err(Error::invalid_input(format!(
                    "input.{field} × input.density = {side} × {density} = {scaled} pixels, over \
                     this host's largest dimension, {} pixels (jobs.max_dimension): lower \
                     {field} or density",
                    limits.max_dimension
                )));
            }
        }
        let fps = self.fps.unwrap_or(DEFAULT_FPS);
        if !(fps.is_finite() && (MIN_FPS..=MAX_FPS).contains(&fps)) {
            return Err(Error::invalid_input(format!(
                "input.fps: {fps} is outside {MIN_FPS}..={MAX_FPS}"
            )));
        }
        let every = self.every.unwrap_or(1);
        if !(1..=MAX_EVERY).contains(&every) {
            return Err(Error::invalid_input(format!(
                "input.every: {every} is outside 1..={MAX_EVERY}"
            )));
        }
        if every > 1 && self.frames.is_none() {
            return Err(Error::invalid_input(
                "input.every: only a recording (input.frames) runs several frames per recorded \
                 frame; a still runs frames 0 to input.frame",
            ));
        }
        let step_ms = self.step_ms.unwrap_or(1000.0 / (fps * f64::from(every)));
        if !(step_ms.is_finite() && step_ms >= 0.0) {
            return Err(Error::invalid_input(format!(
                "input.stepMs: {step_ms} is not a number of milliseconds of at least 0"
            )));
        }
        if !self.epoch_ms.is_finite() {
            return Err(Error::invalid_input("input.epochMs: not a finite number"));
        }
        let max_steps = self.max_steps.unwrap_or(DEFAULT_MAX_STEPS);
        if !(1..=MAX_STEPS_CAP).contains(&max_steps) {
            return Err(Error::invalid_input(format!(
                "input.maxSteps: {max_steps} is outside 1..={MAX_STEPS_CAP}"
            )));
        }
        if let Some(quality) = self.quality
            && !(1..=100).contains(&quality)
        {
            return Err(Error::invalid_input(format!(
                "input.quality: {quality} is outside 1..=100"
            )));
        }
        let output = match self.frames {
            None => self.still()?,
            Some(frames) => self.recording(frames, fps, frame_limits)?,
        };
        let max_frames = frame_limits.max_frames;
        if let Output::Still { frame, .. } = output
            && frame >= max_frames
        {
            return Err(Error::invalid_input(format!(
                "input.frame: {frame} means running {} frames, over this host's cap of \
                 {max_frames} frames (jobs.max_frames)",
                u64::from(frame) + 1
            )));
        }
        let last = output.frames_run() * every - 1;
        if let Some((index, event)) = self.events.iter().enumerate().find(|(_, e)| e.frame > last) {
            return Err(Error::invalid_input(format!(
                "input.events[{index}].frame: {} is after the last frame run, {last} (frames \
                 count from 0)",
                event.frame
            )));
        }
        Ok(Plan {
            output,
            step_ms,
            max_steps,
            every,
        })
    }

    fn still(&self) -> Result<Output, Error> {
        if self.poster_frame.is_some() {
            return Err(Error::invalid_input(
                "input.posterFrame: only a recording has a poster; give frames for a recording, \
                 or frame for the still",
            ));
        }
        let mut formats = Vec::new();
        for format in &self.formats {
            let Some(still) = format.still() else {
                return Err(Error::invalid_input(format!(
                    "input.formats: {} is a recording format, but without frames the job is a \
                     still (png, jpeg or webp); give frames to record",
                    format.name()
                )));
            };
            if !formats.contains(&still) {
                formats.push(still);
            }
        }
        if formats.is_empty() {
            formats.push(ImageFormat::Png);
        }
        Ok(Output::Still {
            frame: self.frame.unwrap_or(0),
            formats,
        })
    }

    fn recording(
        &self,
        frames: u32,
        fps: f64,
        frame_limits: &FrameLimits,
    ) -> Result<Output, Error> {
        if self.frame.is_some() {
            return Err(Error::invalid_input(
                "input.frame: a still's frame cannot go with frames (a recording); give one, \
                 and posterFrame to pick a recording's poster",
            ));
        }
        if frames == 0 || frames > frame_limits.max_frames {
            return Err(Error::invalid_input(format!(
                "input.frames: {frames} is outside 1..={}, this host's cap (jobs.max_frames)",
                frame_limits.max_frames
            )));
        }
        let density = u64::from(self.density);
        let total = u64::from(frames)
            .saturating_mul(u64::from(self.width) * u64::from(self.height))
            .saturating_mul(density * density);
        if total > frame_limits.max_frame_pixels {
            return Err(Error::invalid_input(format!(
                "input.frames × input.width × input.height × input.density² = {frames} × {} × \
                 {} × {}² = {total} pixels, over this host's budget of {} \
                 (jobs.max_frame_pixels): record fewer or smaller frames",
                self.width, self.height, self.density, frame_limits.max_frame_pixels
            )));
        }
        let poster_frame = self.poster_frame.unwrap_or(0);
        if poster_frame >= frames {
            return Err(Error::invalid_input(format!(
                "input.posterFrame: {poster_frame} is not one of the {frames} frames (they count \
                 from 0)"
            )));
        }
        let mut formats = Vec::new();
        for format in &self.formats {
            let Some(video) = format.video() else {
                return Err(Error::invalid_input(format!(
                    "input.formats: {} is a still format, but with frames the job is a recording \
                     (mp4, webm, webp or gif)",
                    format.name()
                )));
            };
            if !formats.contains(&video) {
                formats.push(video);
            }
        }
        if formats.is_empty() {
            formats.push(VideoFormat::Mp4);
        }
        Ok(Output::Recording {
            frames,
            fps,
            formats,
            poster_frame,
        })
    }

    /// The events for each frame run, in input order within a frame.
    pub fn events_by_frame(&self, frames: u32) -> Vec<Vec<kidlisp::Event>> {
        let mut by_frame = vec![Vec::new(); frames as usize];
        for event in &self.events {
            if let Some(slot) = by_frame.get_mut(event.frame as usize) {
                slot.push(match event.kind {
                    EventKind::Touch => kidlisp::Event::Touch {
                        x: event.x,
                        y: event.y,
                    },
                    EventKind::Draw => kidlisp::Event::Draw {
                        x: event.x,
                        y: event.y,
                        dx: event.dx,
                        dy: event.dy,
                    },
                    EventKind::Lift => kidlisp::Event::Lift {
                        x: event.x,
                        y: event.y,
                    },
                });
            }
        }
        by_frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIMITS: JobLimits = JobLimits {
        max_dimension: 8192,
        max_pixels: 16_777_216,
        timeout_ms: 30_000,
    };
    const FRAMES: FrameLimits = FrameLimits {
        max_frames: 3600,
        max_frame_pixels: 2_000_000_000,
    };

    fn input(json: serde_json::Value) -> KidlispInput {
        serde_json::from_value(json).unwrap()
    }

    fn plan(json: serde_json::Value) -> Plan {
        input(json).plan(&LIMITS, &FRAMES).unwrap()
    }

    fn refusal(json: serde_json::Value) -> String {
        match input(json).plan(&LIMITS, &FRAMES) {
            Ok(plan) => panic!("accepted: {plan:?}"),
            Err(err) => err.message,
        }
    }

    #[test]
    fn the_schema_bounds_match_the_librarys() {
        assert_eq!(kidlisp::MAX_SIDE, 4096);
        let schema = serde_json::to_value(schemars::schema_for!(KidlispInput)).unwrap();
        assert_eq!(schema["properties"]["width"]["maximum"], 4096);
        assert_eq!(
            schema["properties"]["maxSteps"]["maximum"],
            json!(MAX_STEPS_CAP)
        );
        assert_eq!(schema["x-kiln-limits"]["page"]["density"], "density");
        assert_eq!(schema["additionalProperties"], false);
    }

    #[test]
    fn defaults_make_a_png_still_of_frame_0_on_a_60_fps_clock() {
        let input = input(json!({"source": "(wipe red)"}));
        assert_eq!((input.width, input.height, input.density), (128, 128, 1));
        let plan = input.plan(&LIMITS, &FRAMES).unwrap();
        assert_eq!(
            plan.output,
            Output::Still {
                frame: 0,
                formats: vec![ImageFormat::Png]
            }
        );
        assert_eq!(plan.step_ms, 1000.0 / 60.0);
        assert_eq!(plan.max_steps, DEFAULT_MAX_STEPS);
    }

    #[test]
    fn a_recording_steps_its_clock_by_its_frame_rate_unless_told() {
        let plan = plan(json!({"source": "x", "frames": 10, "fps": 25, "formats": ["gif", "gif"]}));
        assert_eq!(plan.step_ms, 40.0);
        assert_eq!(
            plan.output,
            Output::Recording {
                frames: 10,
                fps: 25.0,
                formats: vec![VideoFormat::Gif],
                poster_frame: 0
            }
        );
        let plan = self::plan(json!({"source": "x", "frames": 10, "fps": 25, "stepMs": 100}));
        assert_eq!(plan.step_ms, 100.0);
    }

    #[test]
    fn every_runs_frames_between_recorded_ones_on_a_real_time_clock() {
        let plan = self::plan(json!({"source": "x", "frames": 10, "fps": 15, "every": 8}));
        assert_eq!((plan.every, plan.frames_run()), (8, 80));
        assert_eq!(plan.step_ms, 1000.0 / 120.0);
        let plan = self::plan(
            json!({"source": "x", "frames": 10, "fps": 15, "every": 8, "stepMs": 1000.0 / 60.0}),
        );
        assert_eq!(plan.step_ms, 1000.0 / 60.0);
        assert_eq!(
            self::plan(json!({"source": "x", "frame": 3})).frames_run(),
            4
        );
    }

    #[test]
    fn each_bad_combination_names_its_field() {
        let cases = [
            (json!({"frames": 3601}), "input.frames: 3601"),
            (json!({"frame": 3600}), "input.frame: 3600"),
            (json!({"frame": 2, "frames": 5}), "input.frame:"),
            (json!({"posterFrame": 1}), "input.posterFrame:"),
            (json!({"every": 2}), "input.every: only a recording"),
            (json!({"frames": 5, "every": 61}), "input.every: 61"),
            (
                json!({"frames": 5, "posterFrame": 5}),
                "input.posterFrame: 5",
            ),
            (json!({"formats": ["gif"]}), "input.formats: gif"),
            (
                json!({"frames": 2, "formats": ["png"]}),
                "input.formats: png",
            ),
            (
                json!({"width": 2048, "height": 2048, "density": 3}),
                "input.width × input.height × input.density²",
            ),
            (
                json!({"width": 4096, "height": 1, "density": 3}),
                "input.width × input.density",
            ),
            (json!({"fps": 0.001}), "input.fps"),
            (json!({"maxSteps": 0}), "input.maxSteps"),
            (json!({"quality": 0}), "input.quality"),
            (
                json!({"frames": 3000, "width": 1000, "height": 1000}),
                "jobs.max_frame_pixels",
            ),
            (
                json!({"frames": 3, "events": [{"frame": 2, "type": "touch", "x": 1, "y": 1}, {"frame": 3, "type": "lift", "x": 1, "y": 1}]}),
                "input.events[1].frame: 3",
            ),
        ];
        for (fields, expected) in cases {
            let mut json = json!({"source": "(wipe red)"});
            for (key, value) in fields.as_object().unwrap() {
                json[key] = value.clone();
            }
            let message = refusal(json.clone());
            assert!(
                message.starts_with(expected) || message.contains(expected),
                "{json}: {message}"
            );
        }
    }

    #[test]
    fn events_are_grouped_by_frame_in_order() {
        let input = input(json!({"source": "x", "frames": 3, "events": [
            {"frame": 1, "type": "touch", "x": 12, "y": 12},
            {"frame": 2, "type": "draw", "x": 35, "y": 28, "dx": 23, "dy": 16},
            {"frame": 1, "type": "lift", "x": 3, "y": 4},
        ]}));
        let by_frame = input.events_by_frame(3);
        assert!(by_frame[0].is_empty());
        assert_eq!(
            by_frame[1],
            [
                kidlisp::Event::Touch { x: 12.0, y: 12.0 },
                kidlisp::Event::Lift { x: 3.0, y: 4.0 }
            ]
        );
        assert_eq!(
            by_frame[2],
            [kidlisp::Event::Draw {
                x: 35.0,
                y: 28.0,
                dx: 23.0,
                dy: 16.0
            }]
        );
    }
}

/// How `input.top` picks the day's piece.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopPick {
    /// Only this owner's pieces, e.g. `@jeffrey` (the `@` may be left out).
    #[schemars(regex(pattern = r"^@?[A-Za-z0-9_.-]{1,64}$"))]
    pub handle: Option<String>,
    /// How many of the most-played pieces the listing is asked for (default 50, as the oven's
    /// backdrop; at most the host's `sources.max_listing`).
    #[serde(default = "TopPick::default_limit")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u32,
    /// The rotation: the day's piece is among the first `rotate` (default 10).
    #[serde(default = "TopPick::default_rotate")]
    #[schemars(range(min = 1, max = 100))]
    pub rotate: u32,
    /// The day, `YYYY-MM-DD` (UTC); today's when absent.
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub date: Option<String>,
}

impl TopPick {
    fn default_limit() -> u32 {
        50
    }

    fn default_rotate() -> u32 {
        10
    }

    /// The index of the day's piece among `count` listed pieces.
    pub fn index(&self, day_of_year: u32, count: usize) -> usize {
        day_of_year as usize % count.clamp(1, self.rotate.max(1) as usize)
    }
}

/// Where a stamp's PNG comes from.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum StampImage {
    /// The PNG file, base64-encoded.
    Inline(String),
    /// A PNG in the store.
    Stored {
        /// Its full storage key, e.g. `<job-id>/image.png`.
        key: String,
    },
}
