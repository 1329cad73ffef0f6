//! Encoded images and blobs held by the host on a plugin's behalf.

use crate::error::RenderError;
use ::image::ImageEncoder as _;
use bytes::Bytes;

/// Encodings the host produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
}

impl ImageFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Webp => "image/webp",
        }
    }

    fn decoder_format(self) -> ::image::ImageFormat {
        match self {
            ImageFormat::Png => ::image::ImageFormat::Png,
            ImageFormat::Jpeg => ::image::ImageFormat::Jpeg,
            ImageFormat::Webp => ::image::ImageFormat::WebP,
        }
    }
}

/// An encoded still image. Its dimensions are read from the encoded header, so they are the real
/// pixel size of what will be stored.
#[derive(Debug, Clone)]
pub struct HostImage {
    pub bytes: Bytes,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
}

impl HostImage {
    /// Wraps encoded bytes, checking they decode as `format` far enough to give a size.
    pub fn from_encoded(bytes: Bytes, format: ImageFormat) -> Result<Self, RenderError> {
        let reader = ::image::ImageReader::with_format(
            std::io::Cursor::new(&bytes[..]),
            format.decoder_format(),
        );
        let (width, height) = reader.into_dimensions().map_err(|e| {
            RenderError::internal(format!(
                "the browser returned a {format:?} image that does not decode: {e}"
            ))
        })?;
        Ok(Self {
            bytes,
            format,
            width,
            height,
        })
    }

    /// Encodes RGBA pixels as `format`; `quality` (1–100, default 90) applies to JPEG. The
    /// `image` crate writes lossless WebP only, so `quality` does not apply to it.
    pub fn encode(
        frame: &::image::RgbaImage,
        format: ImageFormat,
        quality: Option<u8>,
    ) -> Result<Self, RenderError> {
        let (width, height) = frame.dimensions();
        let mut bytes = Vec::new();
        let encoded = match format {
            ImageFormat::Png => ::image::codecs::png::PngEncoder::new(&mut bytes).write_image(
                frame,
                width,
                height,
                ::image::ExtendedColorType::Rgba8,
            ),
            ImageFormat::Jpeg => {
                let rgb = ::image::DynamicImage::ImageRgba8(frame.clone()).to_rgb8();
                ::image::codecs::jpeg::JpegEncoder::new_with_quality(
                    &mut bytes,
                    quality.unwrap_or(90).clamp(1, 100),
                )
                .write_image(&rgb, width, height, ::image::ExtendedColorType::Rgb8)
            }
            ImageFormat::Webp => ::image::codecs::webp::WebPEncoder::new_lossless(&mut bytes)
                .write_image(frame, width, height, ::image::ExtendedColorType::Rgba8),
        };
        encoded.map_err(|e| {
            RenderError::internal(format!("encoding a {format:?} image failed: {e}"))
        })?;
        Ok(Self {
            bytes: bytes.into(),
            format,
            width,
            height,
        })
    }

    pub fn to_blob(&self) -> HostBlob {
        HostBlob {
            bytes: self.bytes.clone(),
            content_type: self.format.content_type().to_string(),
        }
    }
}

/// Bytes with a content type.
#[derive(Debug, Clone)]
pub struct HostBlob {
    pub bytes: Bytes,
    pub content_type: String,
}

impl HostBlob {
    /// At most `length` bytes from `offset` (clamped to the blob).
    pub fn slice(&self, offset: u64, length: u64) -> Bytes {
        let len = self.bytes.len() as u64;
        let start = offset.min(len);
        let end = start.saturating_add(length).min(len);
        self.bytes.slice(start as usize..end as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_slices_clamp_to_the_end() {
        let blob = HostBlob {
            bytes: Bytes::from_static(b"abcdef"),
            content_type: "text/plain".into(),
        };
        assert_eq!(&blob.slice(2, 3)[..], b"cde");
        assert_eq!(&blob.slice(4, 100)[..], b"ef");
        assert!(blob.slice(100, 1).is_empty());
    }

    #[test]
    fn garbage_is_not_an_image() {
        let err =
            HostImage::from_encoded(Bytes::from_static(b"nope"), ImageFormat::Png).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Internal);
    }
}
