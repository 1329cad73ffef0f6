//! The oven's tape thumbnail (shared/OVEN.md §10): the middle frame, upscaled nearest-neighbour
//! like the video, fitted inside a square and padded to it, as JPEG.

use super::frames::{decode_rgba, no_frames};
use super::unzip::Tape;
use crate::error::RenderError;
use bytes::Bytes;
use image::imageops::{self, FilterType};
use std::io::Cursor;

/// The JPEG quality of the oven's thumbnails.
pub const OVEN_THUMBNAIL_QUALITY: u8 = 90;

/// The frame at `len / 2` (the oven's "middle frame" of its sorted frames), upscaled `scale`×
/// nearest-neighbour, fitted inside `side` × `side` keeping its aspect (nearest-neighbour when
/// it grows, so pixel art stays sharp; a triangle filter when it shrinks), centred on a black
/// `side` × `side` square (the oven asked for transparent padding, which JPEG flattens to
/// black), and encoded as JPEG at `quality`. A translucent pixel is composited over black too.
pub fn middle_frame_thumbnail(
    tape: &Tape,
    scale: u32,
    side: u32,
    quality: u8,
) -> Result<Bytes, RenderError> {
    let (name, bytes) = tape
        .frames
        .get(tape.frames.len() / 2)
        .ok_or_else(no_frames)?;
    let frame = decode_rgba(name, bytes)?;
    let (w, h) = frame.dimensions();
    let (w, h) = (w * scale.max(1), h * scale.max(1));
    let frame = imageops::resize(&frame, w, h, FilterType::Nearest);
    let fit = f64::from(side) / f64::from(w.max(h));
    let (fw, fh) = (
        ((f64::from(w) * fit).round() as u32).clamp(1, side),
        ((f64::from(h) * fit).round() as u32).clamp(1, side),
    );
    let filter = if fit >= 1.0 {
        FilterType::Nearest
    } else {
        FilterType::Triangle
    };
    let fitted = imageops::resize(&frame, fw, fh, filter);
    let mut square = image::RgbImage::new(side, side);
    let (x0, y0) = ((side - fw) / 2, (side - fh) / 2);
    for (x, y, pixel) in fitted.enumerate_pixels() {
        let [r, g, b, a] = pixel.0;
        let over_black = |c: u8| ((u16::from(c) * u16::from(a) + 127) / 255) as u8;
        square.put_pixel(
            x0 + x,
            y0 + y,
            image::Rgb([over_black(r), over_black(g), over_black(b)]),
        );
    }
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&square)
        .map_err(|e| RenderError::internal(format!("encoding the thumbnail failed: {e}")))?;
    Ok(Bytes::from(out.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::encode::testing::*;

    #[test]
    fn the_middle_frame_is_fitted_and_padded_to_the_square() {
        let tape = Tape {
            frames: (0..5)
                .map(|i| {
                    (
                        format!("frame-{i:05}.png"),
                        Bytes::from(solid_png(40, 20, frame_colour(i))),
                    )
                })
                .collect(),
            ..Tape::default()
        };
        let jpeg = middle_frame_thumbnail(&tape, 3, 512, 90).unwrap();
        let image = image::load_from_memory(&jpeg).unwrap().into_rgb8();
        assert_eq!(image.dimensions(), (512, 512));
        // 120 × 60 grows to 512 × 256, centred: black above and below, frame 2 between.
        let [r, g, b] = frame_colour(2);
        let centre = image.get_pixel(256, 256).0;
        assert!(
            centre[0].abs_diff(r) < 8 && centre[1].abs_diff(g) < 8 && centre[2].abs_diff(b) < 8,
            "{centre:?}"
        );
        assert!(image.get_pixel(256, 10).0.iter().all(|&c| c < 8));
    }
}
