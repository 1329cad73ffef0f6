//! The url job's input, its JSON Schema, and the checks the schema cannot express.

use kiln_sdk::host::{FrameLimits, JobLimits};
use kiln_sdk::media::VideoFormat;
use kiln_sdk::{Error, ImageFormat};
use schemars::JsonSchema;
use serde::Deserialize;

/// Longest piece name accepted.
pub const MAX_PIECE_LEN: usize = 200;
/// Width and height when the input does not say, in CSS pixels (the oven's grab size).
pub const DEFAULT_SIDE: u32 = 512;
/// The highest density (device pixels per CSS pixel).
pub const MAX_DENSITY: f32 = 8.0;
/// The capture rate of a recording when the input does not say (the oven's 7.5 fps).
pub const DEFAULT_FPS: f64 = 7.5;
/// How long the page may take to make a `<canvas>` when the input does not say (the oven's).
pub const DEFAULT_CANVAS_TIMEOUT_MS: u32 = 10_000;
/// How long the page may take to set `window.acPieceReady` when the input does not say (the
/// oven's); after it the capture goes on anyway, as the oven's did.
pub const DEFAULT_READY_TIMEOUT_MS: u32 = 30_000;
/// Virtual time the piece runs between ready and the capture: the oven's settle for a still.
pub const DEFAULT_STILL_SETTLE_MS: u32 = 500;
/// The same for a recording.
pub const DEFAULT_RECORDING_SETTLE_MS: u32 = 200;
/// The longest settle an input may ask for.
pub const MAX_SETTLE_MS: u32 = 60_000;

/// A page of the operator's site to capture: `{pieces.base_url}/{piece}?density=D&tv=true&nolabel=true&nogap=true`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
// The fields the host checks against its limits when the job is submitted (docs/plugins.md).
#[schemars(extend("x-kiln-limits" = {
    "page": {"width": "width", "height": "height", "density": "density"},
    "recording": {"frames": "frames", "fps": "fps", "defaultFps": 7.5, "scale": "scale"}
}))]
pub struct UrlInput {
    /// The piece: a path of the site without its leading `/`, e.g. `prompt`, `wand~red` or
    /// `@jeffrey/hello`. Letters, digits and `-_~.@$:/`; no `..`, query or fragment.
    #[schemars(length(min = 1, max = 200))]
    pub piece: String,
    /// Viewport width in CSS pixels (default 512).
    #[schemars(range(min = 1))]
    pub width: Option<u32>,
    /// Viewport height in CSS pixels (default 512).
    #[schemars(range(min = 1))]
    pub height: Option<u32>,
    /// Device pixels per CSS pixel, 1–8 (default 1); also the page's `density` parameter.
    #[schemars(range(min = 1.0, max = 8.0))]
    pub density: Option<f32>,
    /// A recording of this many frames instead of a still.
    #[schemars(range(min = 1))]
    pub frames: Option<u32>,
    /// Frames per second of a recording's capture (default 7.5): frame `i` shows the piece
    /// `i / fps` seconds (of its virtual clock) after it settled.
    #[schemars(range(min = 0.01, max = 120.0))]
    pub fps: Option<f64>,
    /// Frames per second the videos play at (default `fps`). The oven's grabs capture at 7.5 and
    /// play at 15: the piece runs twice as fast.
    #[schemars(range(min = 0.01, max = 120.0))]
    pub playback_fps: Option<f64>,
    /// Leave out the recording's blank frames (all transparent, or every visible pixel black:
    /// shared/OVEN.md §3.3), as the oven's grabs did; a recording whose every frame is blank
    /// fails (default false: every frame is kept). Recordings only.
    #[serde(default)]
    pub drop_blank_frames: bool,
    /// Go on recording when the page throws, as the oven did (its errors are logged and counted
    /// in `recording.json`); by default an error fails the job naming the frame. Recordings
    /// only.
    #[serde(default)]
    pub tolerate_page_errors: bool,
    /// Integer upscale of a recording's frames, nearest-neighbour (default 1).
    #[schemars(range(min = 1, max = 16))]
    pub scale: Option<u32>,
    /// Encodings: `png`, `jpeg`, `webp` for a still (default `png`); `mp4`, `webm`, `webp`,
    /// `gif` for a recording (default `webp`).
    #[serde(default)]
    pub formats: Vec<Format>,
    /// Quality 1–100 of the lossy encodings (default per format).
    #[schemars(range(min = 1, max = 100))]
    pub quality: Option<u8>,
    /// Fixes the page's `Math.random`.
    pub seed: Option<u64>,
    /// How long the page may take to make a `<canvas>`, in ms of real time (default 10000);
    /// without one the job fails `timeout`.
    #[schemars(range(min = 1))]
    pub canvas_timeout_ms: Option<u32>,
    /// How long the page may take to set `window.acPieceReady = true`, in ms of real time
    /// (default 30000); after it the capture goes on, and the job's log says so.
    #[schemars(range(min = 0))]
    pub ready_timeout_ms: Option<u32>,
    /// Virtual time the piece runs after it is ready and before the capture, in ms (default 500
    /// for a still, 200 for a recording).
    #[schemars(range(min = 0, max = 60000))]
    pub settle_ms: Option<u32>,
}

/// An encoding of the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Png,
    Jpeg,
    Webp,
    Mp4,
    Webm,
    Gif,
}

/// What to capture, with every default applied.
pub struct Plan {
    /// The path navigated to on the job origin (the site answers it).
    pub path: String,
    pub width: u32,
    pub height: u32,
    pub density: f32,
    pub canvas_timeout_ms: u32,
    pub ready_timeout_ms: u32,
    pub settle_ms: u32,
    pub capture: Capture,
}

/// A still or a recording.
pub enum Capture {
    Still(Vec<ImageFormat>),
    Recording {
        frames: u32,
        fps: f64,
        playback_fps: Option<f64>,
        scale: u32,
        formats: Vec<VideoFormat>,
        drop_blank_frames: bool,
        tolerate_page_errors: bool,
    },
}

/// A still format's file extension.
pub fn image_extension(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "png",
        ImageFormat::Jpeg => "jpg",
        ImageFormat::Webp => "webp",
    }
}

/// A video format's file extension.
pub fn video_extension(format: VideoFormat) -> &'static str {
    match format {
        VideoFormat::Mp4 => "mp4",
        VideoFormat::Webm => "webm",
        VideoFormat::Webp => "webp",
        VideoFormat::Gif => "gif",
    }
}

/// Refuses a piece name that could leave the site's path: only a path of plain segments.
pub fn check_piece(piece: &str) -> Result<(), Error> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_~.@$:/".contains(c);
    let refused = piece.is_empty()
        || piece.len() > MAX_PIECE_LEN
        || piece.starts_with('/')
        || piece.starts_with("http:")
        || piece.starts_with("https:")
        || !piece.chars().all(allowed)
        || piece
            .split('/')
            .any(|segment| segment == ".." || segment == ".");
    if refused {
        return Err(Error::invalid_input(format!(
            "input.piece {piece:?} is not a piece of the site: give its path without the leading \
             / (1 to {MAX_PIECE_LEN} letters, digits and -_~.@$:/, no . or .. segments), e.g. \
             \"prompt\""
        )));
    }
    Ok(())
}

impl UrlInput {
    /// The plan, checked against the host's limits, naming the field at fault.
    pub fn plan(&self, limits: &JobLimits, frame_limits: &FrameLimits) -> Result<Plan, Error> {
        check_piece(&self.piece)?;
        let width = self.width.unwrap_or(DEFAULT_SIDE);
        let height = self.height.unwrap_or(DEFAULT_SIDE);
        let density = self.density.unwrap_or(1.0);
        if !(density.is_finite() && (1.0..=MAX_DENSITY).contains(&density)) {
            return Err(Error::invalid_input(format!(
                "input.density: {density} is outside 1..={MAX_DENSITY}"
            )));
        }
        kiln_sdk::size::check_page_size(width, height, Some(("density", density)), limits)?;
        let capture = match self.frames {
            None => {
                if self.fps.is_some()
                    || self.scale.is_some()
                    || self.playback_fps.is_some()
                    || self.drop_blank_frames
                    || self.tolerate_page_errors
                {
                    return Err(Error::invalid_input(
                        "input.fps, playbackFps, scale, dropBlankFrames and toleratePageErrors \
                         are for recordings: give frames too",
                    ));
                }
                let formats = self
                    .formats
                    .iter()
                    .map(|f| match f {
                        Format::Png => Ok(ImageFormat::Png),
                        Format::Jpeg => Ok(ImageFormat::Jpeg),
                        Format::Webp => Ok(ImageFormat::Webp),
                        other => Err(Error::invalid_input(format!(
                            "input.formats: {other:?} is a recording format; give frames for a \
                             recording, or png, jpeg or webp for a still"
                        ))),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Capture::Still(if formats.is_empty() {
                    vec![ImageFormat::Png]
                } else {
                    formats
                })
            }
            Some(frames) => {
                let fps = self.fps.unwrap_or(DEFAULT_FPS);
                if !(fps.is_finite() && (0.01..=120.0).contains(&fps)) {
                    return Err(Error::invalid_input(format!(
                        "input.fps: {fps} is outside 0.01..=120"
                    )));
                }
                if let Some(playback) = self.playback_fps
                    && !(playback.is_finite() && (0.01..=120.0).contains(&playback))
                {
                    return Err(Error::invalid_input(format!(
                        "input.playbackFps: {playback} is outside 0.01..=120"
                    )));
                }
                if frames == 0 || frames > frame_limits.max_frames {
                    return Err(Error::invalid_input(format!(
                        "input.frames: {frames} is outside 1..={}, this host's cap",
                        frame_limits.max_frames
                    )));
                }
                let scale = self.scale.unwrap_or(1);
                let per_frame = f64::from(width) * f64::from(height) * f64::from(density).powi(2);
                let total = per_frame * f64::from(scale).powi(2) * f64::from(frames);
                if total > frame_limits.max_frame_pixels as f64 {
                    return Err(Error::invalid_input(format!(
                        "input.frames: {frames} frames of {width}×{height} at density {density} \
                         and scale {scale} is {total:.0} pixels, over this host's budget of {}: \
                         record fewer or smaller frames",
                        frame_limits.max_frame_pixels
                    )));
                }
                let formats = self
                    .formats
                    .iter()
                    .map(|f| match f {
                        Format::Mp4 => Ok(VideoFormat::Mp4),
                        Format::Webm => Ok(VideoFormat::Webm),
                        Format::Webp => Ok(VideoFormat::Webp),
                        Format::Gif => Ok(VideoFormat::Gif),
                        other => Err(Error::invalid_input(format!(
                            "input.formats: {other:?} is a still format; a recording (frames) \
                             is mp4, webm, webp or gif"
                        ))),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Capture::Recording {
                    frames,
                    fps,
                    playback_fps: self.playback_fps,
                    drop_blank_frames: self.drop_blank_frames,
                    tolerate_page_errors: self.tolerate_page_errors,
                    scale,
                    formats: if formats.is_empty() {
                        vec![VideoFormat::Webp]
                    } else {
                        formats
                    },
                }
            }
        };
        let default_settle = match capture {
            Capture::Still(_) => DEFAULT_STILL_SETTLE_MS,
            Capture::Recording { .. } => DEFAULT_RECORDING_SETTLE_MS,
        };
        let settle_ms = self.settle_ms.unwrap_or(default_settle);
        if settle_ms > MAX_SETTLE_MS {
            return Err(Error::invalid_input(format!(
                "input.settleMs: {settle_ms} is over {MAX_SETTLE_MS}"
            )));
        }
        Ok(Plan {
            path: format!(
                "/{}?density={density}&tv=true&nolabel=true&nogap=true",
                self.piece
            ),
            width,
            height,
            density,
            canvas_timeout_ms: self
                .canvas_timeout_ms
                .unwrap_or(DEFAULT_CANVAS_TIMEOUT_MS)
                .min(limits.timeout_ms),
            ready_timeout_ms: self
                .ready_timeout_ms
                .unwrap_or(DEFAULT_READY_TIMEOUT_MS)
                .min(limits.timeout_ms),
            settle_ms,
            capture,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_paths_of_the_site_only() {
        for good in ["prompt", "wand~red", "@jeffrey/hello", "$roz", "a.b"] {
            check_piece(good).unwrap();
        }
        for bad in [
            "",
            "/prompt",
            "https://evil.com",
            "http:evil",
            "a/../b",
            "./a",
            "a?x=1",
            "a#b",
            "a b",
            "a%2e",
            "a\\b",
        ] {
            let err = check_piece(bad).unwrap_err();
            assert!(
                err.message.contains("input.piece"),
                "{bad}: {}",
                err.message
            );
        }
    }
}
