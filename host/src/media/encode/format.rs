//! The video formats the host encodes and the frame encodings it accepts.

use crate::error::RenderError;
use std::fmt;
use std::str::FromStr;

/// A video (or animated image) format, named by its file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoFormat {
    /// H.264 in MP4 (libx264, yuv420p, faststart).
    Mp4,
    /// VP9 in WebM (libvpx-vp9, yuv420p).
    Webm,
    /// Animated WebP (libwebp in-process, lossy, every frame whole, loops forever).
    Webp,
    /// Animated GIF with a palette computed from the whole clip, loops forever.
    Gif,
}

impl VideoFormat {
    /// Every format.
    pub const ALL: [VideoFormat; 4] = [
        VideoFormat::Mp4,
        VideoFormat::Webm,
        VideoFormat::Webp,
        VideoFormat::Gif,
    ];

    /// The file extension, without a dot: `mp4`, `webm`, `webp`, `gif`.
    pub fn extension(self) -> &'static str {
        match self {
            VideoFormat::Mp4 => "mp4",
            VideoFormat::Webm => "webm",
            VideoFormat::Webp => "webp",
            VideoFormat::Gif => "gif",
        }
    }

    /// The MIME type of the encoded bytes.
    pub fn content_type(self) -> &'static str {
        match self {
            VideoFormat::Mp4 => "video/mp4",
            VideoFormat::Webm => "video/webm",
            VideoFormat::Webp => "image/webp",
            VideoFormat::Gif => "image/gif",
        }
    }
}

impl fmt::Display for VideoFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for VideoFormat {
    type Err = RenderError;

    /// Parses an extension name, ignoring case and a leading dot (`MP4`, `.webm`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().trim_start_matches('.').to_ascii_lowercase();
        VideoFormat::ALL
            .into_iter()
            .find(|f| f.extension() == name)
            .ok_or_else(|| {
                RenderError::invalid_input(format!(
                    "unknown video format `{s}`: use one of mp4, webm, webp, gif"
                ))
            })
    }
}

/// How the frames given to [`super::VideoEncoder::push`] are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// Each frame is one PNG file of the source size.
    Png,
    /// Each frame is raw RGBA, exactly `width * height * 4` bytes, rows top to bottom.
    Rgba,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip_through_their_extension() {
        for format in VideoFormat::ALL {
            assert_eq!(format.to_string().parse::<VideoFormat>(), Ok(format));
        }
        assert_eq!(".MP4".parse::<VideoFormat>(), Ok(VideoFormat::Mp4));
        assert_eq!(VideoFormat::Webp.content_type(), "image/webp");
        let err = "avi".parse::<VideoFormat>().unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::InvalidInput);
        assert!(err.message.contains("`avi`"), "{}", err.message);
    }
}
