//! `HostFrames`: what a recording or a baked tape left behind once its frames went through the
//! encoders — the encoded videos, one poster frame and what the host saw on the way.

use super::encode::{EncodedVideo, VideoFormat};
use super::{HostBlob, HostImage, ImageFormat};
use crate::error::RenderError;
use bytes::Bytes;

/// The `frames` resource.
#[derive(Debug, Clone)]
pub struct HostFrames {
    /// How many frames were encoded.
    pub count: u32,
    /// Encoded width in pixels (after `scale`).
    pub width: u32,
    /// Encoded height in pixels (after `scale`).
    pub height: u32,
    pub fps: f64,
    /// Every frame had exactly the pixels of the first.
    pub all_identical: bool,
    /// Length of a baked tape's soundtrack.
    pub audio_seconds: Option<f64>,
    pub videos: Vec<EncodedVideo>,
    /// The poster frame as captured (PNG, JPEG or WebP), before `poster_scale`.
    pub poster: Bytes,
    /// Nearest-neighbour factor the poster still needs to match the videos.
    pub poster_scale: u32,
}

impl HostFrames {
    /// The encoding in `format`, as a blob to store.
    pub fn video(&self, format: VideoFormat) -> Result<HostBlob, RenderError> {
        let video = self
            .videos
            .iter()
            .find(|v| v.format == format)
            .ok_or_else(|| {
                let made: Vec<_> = self.videos.iter().map(|v| v.format.extension()).collect();
                RenderError::invalid_input(format!(
                    "no {} encoding was made; these were asked for: {}",
                    format.extension(),
                    made.join(", ")
                ))
            })?;
        Ok(HostBlob {
            bytes: video.bytes.clone(),
            content_type: format.content_type().to_string(),
        })
    }

    /// The poster frame as a still in `format`, scaled like the videos.
    pub fn poster(
        &self,
        format: ImageFormat,
        quality: Option<u8>,
    ) -> Result<HostImage, RenderError> {
        let decoded = image::load_from_memory(&self.poster)
            .map_err(|e| RenderError::internal(format!("the poster frame does not decode: {e}")))?;
        let mut frame = decoded.to_rgba8();
        if self.poster_scale > 1 {
            frame = image::imageops::resize(
                &frame,
                frame.width() * self.poster_scale,
                frame.height() * self.poster_scale,
                image::imageops::FilterType::Nearest,
            );
        }
        HostImage::encode(&frame, format, quality)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::ImageEncoder as _;

    fn png(width: u32, height: u32, rgba: [u8; 4]) -> Bytes {
        let image = image::RgbaImage::from_pixel(width, height, image::Rgba(rgba));
        let mut bytes = Vec::new();
        image::codecs::png::PngEncoder::new(&mut bytes)
            .write_image(&image, width, height, image::ExtendedColorType::Rgba8)
            .unwrap();
        bytes.into()
    }

    fn frames(poster_scale: u32) -> HostFrames {
        HostFrames {
            count: 1,
            width: 4 * poster_scale,
            height: 2 * poster_scale,
            fps: 30.0,
            all_identical: true,
            audio_seconds: None,
            videos: Vec::new(),
            poster: png(4, 2, [10, 200, 30, 255]),
            poster_scale,
        }
    }

    #[test]
    fn the_poster_is_scaled_with_nearest_neighbour() {
        let poster = frames(3).poster(ImageFormat::Png, None).unwrap();
        assert_eq!((poster.width, poster.height), (12, 6));
        let decoded = image::load_from_memory(&poster.bytes).unwrap().to_rgba8();
        assert!(decoded.pixels().all(|p| p.0 == [10, 200, 30, 255]));
        let jpeg = frames(1).poster(ImageFormat::Jpeg, Some(80)).unwrap();
        assert_eq!(
            (jpeg.width, jpeg.height, jpeg.format),
            (4, 2, ImageFormat::Jpeg)
        );
    }

    #[test]
    fn asking_for_an_encoding_not_made_names_those_made() {
        let err = frames(1).video(VideoFormat::Gif).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::InvalidInput);
        assert!(err.message.contains("no gif encoding"), "{}", err.message);
    }
}
