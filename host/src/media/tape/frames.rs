//! Checking and decoding tape frames (PNG, JPEG or WebP, whatever their names say).

use crate::error::RenderError;
use std::io::Cursor;

/// A frame's size from its image header, without decoding the pixels.
pub(crate) fn frame_size(name: &str, bytes: &[u8]) -> Result<(u32, u32), RenderError> {
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| undecodable(name, &e.to_string()))?
        .into_dimensions()
        .map_err(|e| undecodable(name, &e.to_string()))
}

/// The size every frame shares; the first frame of another size is named with both sizes.
pub(crate) fn uniform_size(frames: &[(String, bytes::Bytes)]) -> Result<(u32, u32), RenderError> {
    let Some((first_name, first)) = frames.first() else {
        return Err(no_frames());
    };
    let size = frame_size(first_name, first)?;
    for (name, bytes) in &frames[1..] {
        let other = frame_size(name, bytes)?;
        if other != size {
            return Err(RenderError::invalid_input(format!(
                "frame `{name}` is {}×{} but the first frame `{first_name}` is {}×{}: every \
                 frame of a tape must have the same size",
                other.0, other.1, size.0, size.1
            )));
        }
    }
    Ok(size)
}

/// Decodes a frame to RGBA. Blocking: call it from `spawn_blocking`.
pub(crate) fn decode_rgba(name: &str, bytes: &[u8]) -> Result<image::RgbaImage, RenderError> {
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| undecodable(name, &e.to_string()))?
        .decode()
        .map(|img| img.into_rgba8())
        .map_err(|e| undecodable(name, &e.to_string()))
}

pub(crate) fn no_frames() -> RenderError {
    RenderError::invalid_input(
        "the tape has no frames: add PNG, JPEG or WebP images (.png, .jpg, .jpeg, .webp)",
    )
}

fn undecodable(name: &str, why: &str) -> RenderError {
    RenderError::invalid_input(format!(
        "frame `{name}` does not decode as an image ({why}): frames must be PNG, JPEG or WebP"
    ))
}
