//! The video job's input, its JSON Schema, and the checks the schema cannot express.

use kiln_sdk::Error;
use kiln_sdk::host::{FrameLimits, JobLimits};
use kiln_sdk::media::VideoFormat;
use schemars::JsonSchema;
use serde::Deserialize;

/// The lowest frame rate recorded: one frame per 100 s. Below it the encoders fail (MP4 and WebP
/// refuse frame durations that long), so the input is refused first.
pub const MIN_FPS: f64 = 0.01;

/// A piece to record into videos, or a tape of existing frames to bake.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
// The fields the host checks against its limits when the job is submitted (docs/plugins.md).
#[schemars(extend("x-kiln-limits" = {
    "page": {"width": "width", "height": "height"},
    "recording": {"frames": "frames", "durationS": "durationS", "fps": "fps",
                  "defaultFps": 30, "scale": "scale"}
}))]
pub struct VideoInput {
    /// A p5.js sketch in global mode (with `kind: "p5"`, the default when `code` is given).
    pub code: Option<String>,
    /// An HTML piece: a whole document or a fragment for the body (with `kind: "html"`, the
    /// default when `html` is given).
    pub html: Option<String>,
    /// What `code` or `html` is.
    pub kind: Option<Kind>,
    /// Record only the box of the element this CSS selector matches (measured at the start)
    /// instead of the whole canvas or viewport.
    pub selector: Option<String>,
    /// Width in CSS pixels (recordings).
    #[schemars(range(min = 1, max = 8192))]
    pub width: Option<u32>,
    /// Height in CSS pixels (recordings).
    #[schemars(range(min = 1, max = 8192))]
    pub height: Option<u32>,
    /// Frames per second, 0.01 to 120 (default 30). Frame `i` shows the piece at `i / fps`
    /// seconds.
    #[schemars(range(min = 0.01, max = 120.0))]
    pub fps: Option<f64>,
    /// Length in seconds; the recording has `round(durationS × fps)` frames.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub duration_s: Option<f64>,
    /// Number of frames (instead of `durationS`).
    #[schemars(range(min = 1))]
    pub frames: Option<u32>,
    /// Encodings to produce, one artifact each (default `["mp4"]`; tapes always bake MP4).
    #[serde(default)]
    pub formats: Vec<Format>,
    /// Fixes `Math.random` (and p5's `random` and `noise`), so the same seed gives the same frames.
    pub seed: Option<u64>,
    /// Integer upscale with nearest-neighbour sampling, for pixel art (default 1).
    #[schemars(range(min = 1, max = 16))]
    pub scale: Option<u32>,
    /// Quality 1–100 of the lossy encodings (default per format).
    #[schemars(range(min = 1, max = 100))]
    pub quality: Option<u8>,
    /// Also store a still of one frame as `poster.png` or `poster.jpg`.
    pub poster: Option<PosterFormat>,
    /// Which frame (from 0) the poster shows (default the first).
    pub poster_frame: Option<u32>,
    /// When every frame is identical (the piece does not move), store only `still.png` instead
    /// of the videos. Either way `recording.json` says whether it was frozen.
    #[serde(default)]
    pub still_if_frozen: bool,
    /// Existing frames to bake into an MP4 instead of recording a piece.
    pub tape: Option<TapeInput>,
    /// Which p5 line a sketch gets (`"1"` or `"2"`); without it, the one its code needs.
    pub p5_version: Option<kiln_sdk::p5::Version>,
}

/// What the recorded code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    P5,
    Html,
}

/// An encoding of the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Mp4,
    Webm,
    Webp,
    Gif,
}

/// The poster's image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PosterFormat {
    Png,
    Jpeg,
}

/// A tape: frames from a ZIP or from stored objects, optional timings and soundtrack.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TapeInput {
    /// A ZIP of frames (and optionally `timing.json` and a `.wav`), base64-encoded.
    pub zip_base64: Option<String>,
    /// The storage key of such a ZIP, e.g. one an earlier job stored.
    pub zip_key: Option<String>,
    /// Storage keys of the frames, in order.
    pub frame_keys: Option<Vec<String>>,
    /// Per-frame durations in milliseconds (overrides a ZIP's `timing.json`).
    pub durations_ms: Option<Vec<u32>>,
    /// The storage key of a PCM WAV soundtrack (overrides a ZIP's `.wav`).
    pub soundtrack_key: Option<String>,
}

/// What to do, decided from the input.
pub enum Plan<'a> {
    Record(Recording<'a>),
    Bake(&'a TapeInput),
}

/// A recording, with every default applied.
pub struct Recording<'a> {
    pub kind: Kind,
    pub source: &'a str,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub frames: u32,
    pub formats: Vec<Format>,
    pub scale: u32,
}

impl Format {
    pub fn video_format(self) -> VideoFormat {
        match self {
            Format::Mp4 => VideoFormat::Mp4,
            Format::Webm => VideoFormat::Webm,
            Format::Webp => VideoFormat::Webp,
            Format::Gif => VideoFormat::Gif,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Mp4 => "mp4",
            Format::Webm => "webm",
            Format::Webp => "webp",
            Format::Gif => "gif",
        }
    }
}

impl VideoInput {
    /// Decides between recording and baking and checks the input against the host's limits,
    /// naming the field at fault.
    pub fn plan(&self, limits: &JobLimits, frame_limits: &FrameLimits) -> Result<Plan<'_>, Error> {
        if let Some(tape) = &self.tape {
            if self.code.is_some() || self.html.is_some() {
                return Err(Error::invalid_input(
                    "input.tape: give either a tape to bake or code/html to record, not both",
                ));
            }
            let sources = [
                tape.zip_base64.is_some(),
                tape.zip_key.is_some(),
                tape.frame_keys.is_some(),
            ];
            if sources.iter().filter(|s| **s).count() != 1 {
                return Err(Error::invalid_input(
                    "input.tape: give exactly one of zipBase64, zipKey or frameKeys",
                ));
            }
            if self.formats.iter().any(|f| *f != Format::Mp4) {
                return Err(Error::invalid_input(
                    "input.formats: a tape bakes to mp4 only",
                ));
            }
            return Ok(Plan::Bake(tape));
        }
        let (source, default_kind) = match (&self.code, &self.html) {
            (Some(code), None) => (code.as_str(), Kind::P5),
            (None, Some(html)) => (html.as_str(), Kind::Html),
            (Some(_), Some(_)) => {
                return Err(Error::invalid_input(
                    "input: give either code (a p5 sketch) or html, not both",
                ));
            }
            (None, None) => {
                return Err(Error::invalid_input(
                    "input: give code (a p5 sketch), html, or a tape to bake",
                ));
            }
        };
        let kind = self.kind.unwrap_or(default_kind);
        let width = required(self.width, "width")?;
        let height = required(self.height, "height")?;
        kiln_sdk::size::check_page_size(width, height, None, limits)?;
        let fps = self.fps.unwrap_or(30.0);
        if !(fps.is_finite() && (MIN_FPS..=120.0).contains(&fps)) {
            return Err(Error::invalid_input(format!(
                "input.fps: {fps} is outside {MIN_FPS}..=120; give a frame rate of at least \
                 {MIN_FPS} (one frame per 100 s) and at most 120"
            )));
        }
        let frames = match (self.frames, self.duration_s) {
            (Some(frames), None) => frames,
            (None, Some(seconds)) => {
                if !(seconds.is_finite() && seconds > 0.0) {
                    return Err(Error::invalid_input(format!(
                        "input.durationS: {seconds} is not a positive number of seconds"
                    )));
                }
                let frames = (seconds * fps).round();
                if frames > f64::from(frame_limits.max_frames) {
                    return Err(Error::invalid_input(format!(
                        "input.durationS: {seconds} s at {fps} fps is {frames} frames, over this \
                         host's cap of {} frames",
                        frame_limits.max_frames
                    )));
                }
                (frames as u32).max(1)
            }
            (Some(_), Some(_)) => {
                return Err(Error::invalid_input(
                    "input.frames: give either frames or durationS, not both",
                ));
            }
            (None, None) => {
                return Err(Error::invalid_input(
                    "input.frames: give frames or durationS",
                ));
            }
        };
        if frames == 0 || frames > frame_limits.max_frames {
            return Err(Error::invalid_input(format!(
                "input.frames: {frames} is outside 1..={}, this host's cap",
                frame_limits.max_frames
            )));
        }
        let scale = self.scale.unwrap_or(1);
        let pixels = f64::from(width) * f64::from(height) * f64::from(scale * scale);
        let total = pixels * f64::from(frames);
        if total > frame_limits.max_frame_pixels as f64 {
            return Err(Error::invalid_input(format!(
                "input.frames × input.width × input.height × input.scale² = {frames} × {width} × \
                 {height} × {scale}² = {total:.0} pixels, over this host's budget of {}: record \
                 fewer or smaller frames",
                frame_limits.max_frame_pixels
            )));
        }
        if let Some(poster) = self.poster_frame
            && poster >= frames
        {
            return Err(Error::invalid_input(format!(
                "input.posterFrame: {poster} is not one of the {frames} frames (they count from 0)"
            )));
        }
        let mut formats = if self.formats.is_empty() {
            vec![Format::Mp4]
        } else {
            self.formats.clone()
        };
        let mut seen = Vec::new();
        formats.retain(|f| {
            let new = !seen.contains(f);
            seen.push(*f);
            new
        });
        Ok(Plan::Record(Recording {
            kind,
            source,
            width,
            height,
            fps,
            frames,
            formats,
            scale,
        }))
    }
}

fn required(value: Option<u32>, field: &str) -> Result<u32, Error> {
    value.ok_or_else(|| {
        Error::invalid_input(format!("input.{field}: missing; recordings need a {field}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: JobLimits = JobLimits {
        max_dimension: 4096,
        max_pixels: 16_777_216,
        timeout_ms: 30_000,
    };
    const FRAMES: FrameLimits = FrameLimits {
        max_frames: 3600,
        max_frame_pixels: 2_000_000_000,
    };

    fn input(json: serde_json::Value) -> VideoInput {
        serde_json::from_value(json).unwrap()
    }

    fn refusal(json: serde_json::Value) -> String {
        match input(json).plan(&LIMITS, &FRAMES) {
            Ok(_) => panic!("accepted"),
            Err(err) => err.message,
        }
    }

    #[test]
    fn duration_becomes_frames_and_defaults_apply() {
        let input = input(
            serde_json::json!({"code": "x", "width": 10, "height": 10, "durationS": 2.5, "fps": 24}),
        );
        let Ok(Plan::Record(recording)) = input.plan(&LIMITS, &FRAMES) else {
            panic!("not a recording")
        };
        assert_eq!(recording.frames, 60);
        assert_eq!(recording.kind, Kind::P5);
        assert_eq!(recording.formats, [Format::Mp4]);
        assert_eq!(recording.scale, 1);
    }

    #[test]
    fn each_bad_value_names_its_field() {
        let base = serde_json::json!({"code": "x", "width": 10, "height": 10, "frames": 10});
        let with = |key: &str, value: serde_json::Value| {
            let mut json = base.clone();
            json[key] = value;
            json
        };
        assert!(refusal(with("fps", 0.into())).starts_with("input.fps"));
        assert!(refusal(with("fps", 1e-6.into())).starts_with("input.fps"));
        assert!(refusal(with("fps", 121.into())).starts_with("input.fps"));
        assert!(refusal(with("frames", 3601.into())).contains("input.frames"));
        assert!(refusal(with("width", 5000.into())).starts_with("input.width"));
        assert!(refusal(with("posterFrame", 10.into())).starts_with("input.posterFrame"));
        let mut both = with("durationS", 1.into());
        both["frames"] = 5.into();
        assert!(refusal(both).starts_with("input.frames"));
        let big = serde_json::json!({"code": "x", "width": 4000, "height": 4000, "frames": 200});
        assert!(refusal(big).contains("budget"));
    }

    #[test]
    fn a_tape_excludes_code_and_needs_one_source() {
        assert!(
            refusal(serde_json::json!({"code": "x", "tape": {"zipKey": "a/b.zip"}}))
                .starts_with("input.tape")
        );
        assert!(
            refusal(serde_json::json!({"tape": {"zipKey": "a/b.zip", "frameKeys": ["a"]}}))
                .contains("exactly one")
        );
        assert!(
            refusal(serde_json::json!({"tape": {"zipKey": "a"}, "formats": ["gif"]}))
                .starts_with("input.formats")
        );
    }
}
