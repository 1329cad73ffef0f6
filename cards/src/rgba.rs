//! Straight-alpha RGBA images (what the `kidlisp` renderer hands out) and the resampling that
//! places a piece's capture on a card.

use tiny_skia::{ColorU8, Pixmap};

/// Bytes that are not `width × height × 4`.
#[derive(Debug, thiserror::Error)]
#[error("an RGBA image of {width}×{height} needs {} bytes, not {len}", *width as usize * *height as usize * 4)]
pub struct SizeMismatch {
    /// The width asked for.
    pub width: u32,
    /// The height asked for.
    pub height: u32,
    /// The bytes given.
    pub len: usize,
}

/// An image: `width × height` pixels of straight-alpha RGBA, row by row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rgba {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl Rgba {
    /// Wraps `data` (`width × height × 4` bytes).
    pub fn new(width: u32, height: u32, data: Vec<u8>) -> Result<Rgba, SizeMismatch> {
        if data.len() != width as usize * height as usize * 4 || width == 0 || height == 0 {
            return Err(SizeMismatch {
                width,
                height,
                len: data.len(),
            });
        }
        Ok(Rgba {
            width,
            height,
            data,
        })
    }

    /// An opaque black image.
    pub fn black(width: u32, height: u32) -> Rgba {
        let data = [0, 0, 0, 255].repeat(width.max(1) as usize * height.max(1) as usize);
        Rgba::new(width.max(1), height.max(1), data).expect("sized above")
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The pixel at (`x`, `y`) as `[r, g, b, a]`.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = (y as usize * self.width as usize + x as usize) * 4;
        [
            self.data[i],
            self.data[i + 1],
            self.data[i + 2],
            self.data[i + 3],
        ]
    }

    /// The image over opaque black (what a page shows through a piece's transparent pixels).
    pub fn over_black(mut self) -> Rgba {
        for p in self.data.chunks_exact_mut(4) {
            let a = u32::from(p[3]);
            for c in &mut p[..3] {
                *c = ((u32::from(*c) * a + 127) / 255) as u8;
            }
            p[3] = 255;
        }
        self
    }

    /// Each pixel repeated `k × k` times (nearest-neighbour upscaling by a whole factor).
    pub fn scale_up(&self, k: u32) -> Rgba {
        let k = k.max(1);
        let (w, h) = (self.width * k, self.height * k);
        let mut data = Vec::with_capacity(w as usize * h as usize * 4);
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&self.pixel(x / k, y / k));
            }
        }
        Rgba::new(w, h, data).expect("sized above")
    }

    /// Half the size, each pixel the mean of a 2×2 block (an odd last row or column is dropped).
    pub fn half(&self) -> Rgba {
        let (w, h) = ((self.width / 2).max(1), (self.height / 2).max(1));
        let mut data = Vec::with_capacity(w as usize * h as usize * 4);
        for y in 0..h {
            for x in 0..w {
                let (x0, y0) = (2 * x, 2 * y);
                let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
                let ps = [
                    self.pixel(x0, y0),
                    self.pixel(x1, y0),
                    self.pixel(x0, y1),
                    self.pixel(x1, y1),
                ];
                for c in 0..4 {
                    let sum: u32 = ps.iter().map(|p| u32::from(p[c])).sum();
                    data.push(((sum + 2) / 4) as u8);
                }
            }
        }
        Rgba::new(w, h, data).expect("sized above")
    }

    /// Scaled to cover `width × height` (the larger of the two scale factors, aspect kept) and
    /// centre-cropped to it, sampled bilinearly — sharp's `fit: 'cover'`.
    pub fn cover(&self, width: u32, height: u32) -> Rgba {
        let (sw, sh) = (self.width as f32, self.height as f32);
        let scale = (width as f32 / sw).max(height as f32 / sh);
        let (ox, oy) = (
            (sw * scale - width as f32) / 2.0,
            (sh * scale - height as f32) / 2.0,
        );
        let mut data = Vec::with_capacity(width as usize * height as usize * 4);
        for y in 0..height {
            let fy = ((y as f32 + 0.5 + oy) / scale - 0.5).clamp(0.0, sh - 1.0);
            let (y0, ty) = (fy.floor() as u32, fy.fract());
            let y1 = (y0 + 1).min(self.height - 1);
            for x in 0..width {
                let fx = ((x as f32 + 0.5 + ox) / scale - 0.5).clamp(0.0, sw - 1.0);
                let (x0, tx) = (fx.floor() as u32, fx.fract());
                let x1 = (x0 + 1).min(self.width - 1);
                let (a, b) = (self.pixel(x0, y0), self.pixel(x1, y0));
                let (c, d) = (self.pixel(x0, y1), self.pixel(x1, y1));
                for i in 0..4 {
                    let top = f32::from(a[i]) * (1.0 - tx) + f32::from(b[i]) * tx;
                    let bottom = f32::from(c[i]) * (1.0 - tx) + f32::from(d[i]) * tx;
                    data.push((top * (1.0 - ty) + bottom * ty).round() as u8);
                }
            }
        }
        Rgba::new(width.max(1), height.max(1), data).expect("sized above")
    }

    /// The image as a premultiplied pixmap.
    pub fn to_pixmap(&self) -> Pixmap {
        let mut pixmap = Pixmap::new(self.width, self.height).expect("non-zero size");
        for (dst, src) in pixmap
            .pixels_mut()
            .iter_mut()
            .zip(self.data.chunks_exact(4))
        {
            *dst = ColorU8::from_rgba(src[0], src[1], src[2], src[3]).premultiply();
        }
        pixmap
    }

    /// The bytes, given up.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }
}
