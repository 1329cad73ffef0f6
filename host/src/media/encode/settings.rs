//! What an encode is asked for, its checks, and how one quality number maps onto each codec.

use super::format::{FrameKind, VideoFormat};
use crate::error::RenderError;

/// The highest frame rate accepted. Above it browsers and players drop frames anyway.
pub const MAX_FPS: f64 = 120.0;

/// The lowest frame rate the encoders take: one frame per 10 000 s. Below it ffmpeg's MP4 muxer
/// and WebP encoder refuse the frame durations (at 1e-6 and 1e-5 fps), an error only ffmpeg's
/// log explains, so a rate under it is refused as the caller's mistake before ffmpeg starts.
/// Recordings have a higher floor of their own (`browser::record`).
pub const MIN_FPS: f64 = 1e-4;

/// The largest output side in pixels, after `scale`. 8192 is what H.264 level 6.2 allows and far
/// beyond what a browser canvas capture produces; it keeps one raw frame under 256 MiB.
pub const MAX_SIDE: u32 = 8192;

/// What to encode: the source frames' size and rate, the formats wanted, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodeSettings {
    /// Source frame width in pixels.
    pub width: u32,
    /// Source frame height in pixels.
    pub height: u32,
    /// Frames per second, `1e-4 <= fps <= 120`; fractional rates (29.97, 12.5) are kept exact.
    pub fps: f64,
    /// The formats to write, at least one, each at most once.
    pub formats: Vec<VideoFormat>,
    /// 1 (smallest) to 100 (best). `None` takes each format's default: x264 CRF 23 for MP4, VP9
    /// CRF 32 for WebM, WebP quality 75, a 256-colour GIF palette. See [`EncodeSettings::crf`].
    pub quality: Option<u8>,
    /// Integer upscale factor, nearest-neighbour so pixel art stays crisp; 1 leaves the size.
    pub scale: u32,
    /// How pushed frames are encoded.
    pub frame_kind: FrameKind,
}

impl EncodeSettings {
    /// Checks every field, naming the one that is wrong.
    pub fn validate(&self) -> Result<(), RenderError> {
        if self.width == 0 || self.height == 0 {
            return Err(RenderError::invalid_input(format!(
                "`width` and `height` must be at least 1 pixel (got {}×{})",
                self.width, self.height
            )));
        }
        if !self.fps.is_finite() || self.fps < MIN_FPS || self.fps > MAX_FPS {
            return Err(RenderError::invalid_input(format!(
                "`fps` must be at least {MIN_FPS} and at most {MAX_FPS} (got {})",
                self.fps
            )));
        }
        if self.formats.is_empty() {
            return Err(RenderError::invalid_input(
                "`formats` is empty: ask for at least one of mp4, webm, webp, gif",
            ));
        }
        for (i, format) in self.formats.iter().enumerate() {
            if self.formats[..i].contains(format) {
                return Err(RenderError::invalid_input(format!(
                    "`formats` lists {format} twice: list each format once"
                )));
            }
        }
        if let Some(q) = self.quality
            && !(1..=100).contains(&q)
        {
            return Err(RenderError::invalid_input(format!(
                "`quality` must be from 1 to 100 (got {q})"
            )));
        }
        if self.scale == 0 {
            return Err(RenderError::invalid_input(
                "`scale` must be at least 1 (1 keeps the source size)",
            ));
        }
        let (w, h) = (
            u64::from(self.width) * u64::from(self.scale),
            u64::from(self.height) * u64::from(self.scale),
        );
        if w > u64::from(MAX_SIDE) || h > u64::from(MAX_SIDE) {
            let field = if self.scale == 1 {
                "`width`/`height`"
            } else {
                "`scale`"
            };
            return Err(RenderError::invalid_input(format!(
                "{field}: {}×{} frames at scale {} would be {w}×{h} pixels, above the limit of \
                 {MAX_SIDE} per side; lower the scale or the frame size",
                self.width, self.height, self.scale
            )));
        }
        Ok(())
    }

    /// The size of one frame after `scale`, before any format-specific padding.
    pub fn scaled_size(&self) -> (u32, u32) {
        (self.width * self.scale, self.height * self.scale)
    }

    /// The size `format` is written at. yuv420p stores colour per 2×2 block, so MP4 and WebM
    /// need even sides (libx264 refuses odd ones; ffmpeg's converter silently crops a pixel for
    /// VP9). Those sides are rounded up, and `command.rs` pads with copies of the edge pixels
    /// rather than rescaling, which would blur every pixel of a pixel-art frame.
    pub fn output_size(&self, format: VideoFormat) -> (u32, u32) {
        let (w, h) = self.scaled_size();
        match format {
            VideoFormat::Mp4 | VideoFormat::Webm => (w.next_multiple_of(2), h.next_multiple_of(2)),
            VideoFormat::Webp | VideoFormat::Gif => (w, h),
        }
    }

    /// The byte length of a raw RGBA frame of the source size.
    pub fn rgba_frame_len(&self) -> usize {
        self.width as usize * self.height as usize * 4
    }

    /// The CRF for `format` (MP4: 51..=1, default 23; WebM: 63..=1, default 32), mapping quality
    /// 1..=100 linearly onto the codec's range. CRF 0 is avoided: for x264 it means lossless,
    /// which most players cannot decode.
    pub fn crf(&self, format: VideoFormat) -> Option<u32> {
        let (worst, default) = match format {
            VideoFormat::Mp4 => (51.0, 23),
            VideoFormat::Webm => (63.0, 32),
            _ => return None,
        };
        Some(match self.quality {
            None => default,
            Some(q) => (worst - (f64::from(q) - 1.0) * (worst - 1.0) / 99.0).round() as u32,
        })
    }

    /// libwebp's quality, 0..=100; the default 75 is libwebp's own.
    pub fn webp_quality(&self) -> u8 {
        self.quality.unwrap_or(75)
    }

    /// The GIF palette size: quality scales the number of colours (2..=256), default 256.
    pub fn gif_colours(&self) -> u32 {
        self.quality
            .map_or(256, |q| (f64::from(q) * 2.56).round() as u32)
            .clamp(2, 256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> EncodeSettings {
        EncodeSettings {
            width: 31,
            height: 17,
            fps: 30.0,
            formats: vec![VideoFormat::Mp4],
            quality: None,
            scale: 1,
            frame_kind: FrameKind::Rgba,
        }
    }

    fn refused(change: impl FnOnce(&mut EncodeSettings), needle: &str) {
        let mut s = settings();
        change(&mut s);
        let err = s.validate().unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::InvalidInput);
        assert!(err.message.contains(needle), "{needle}: {}", err.message);
    }

    #[test]
    fn bad_settings_name_their_field() {
        settings().validate().unwrap();
        refused(|s| s.fps = 0.0, "`fps`");
        refused(|s| s.fps = 120.5, "`fps`");
        refused(|s| s.fps = f64::NAN, "`fps`");
        refused(|s| s.formats.clear(), "`formats` is empty");
        refused(|s| s.formats.push(VideoFormat::Mp4), "lists mp4 twice");
        refused(|s| s.quality = Some(0), "`quality`");
        refused(|s| s.quality = Some(101), "`quality`");
        refused(|s| s.scale = 0, "`scale`");
        refused(|s| s.scale = 300, "`scale`");
        refused(|s| s.width = 0, "`width`");
        refused(|s| s.width = 9000, "`width`/`height`");
    }

    #[test]
    fn sizes_and_quality_per_format() {
        let mut s = settings();
        s.scale = 3;
        assert_eq!(s.output_size(VideoFormat::Mp4), (94, 52));
        assert_eq!(s.output_size(VideoFormat::Gif), (93, 51));
        assert_eq!(s.crf(VideoFormat::Mp4), Some(23));
        assert_eq!(s.crf(VideoFormat::Webp), None);
        s.quality = Some(100);
        assert_eq!(s.crf(VideoFormat::Mp4), Some(1));
        assert_eq!(s.crf(VideoFormat::Webm), Some(1));
        assert_eq!(s.gif_colours(), 256);
        s.quality = Some(1);
        assert_eq!(s.crf(VideoFormat::Mp4), Some(51));
        assert_eq!(s.crf(VideoFormat::Webm), Some(63));
        assert_eq!(s.gif_colours(), 3);
        assert_eq!(s.webp_quality(), 1);
    }
}
