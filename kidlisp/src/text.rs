//! `write` (KIDLISP.md §10) with the 8×8 public-domain glyphs of the `font8x8`
//! crate (AC's own vector font_1 is not available): each glyph sits at the top
//! of an 8-wide, 10-high cell, scaled by whole pixels.

use crate::raster::{Canvas, Gfx, plot};

/// Cell width before scaling.
pub const CELL_W: f64 = 8.0;
/// Line height before scaling.
pub const CELL_H: f64 = 10.0;
/// Longest text drawn by one `write` (characters).
pub const MAX_CHARS: usize = 4096;

fn glyph(c: char) -> [u8; 8] {
    let code = c as usize;
    if code < 128 {
        font8x8::legacy::BASIC_LEGACY[code]
    } else {
        font8x8::legacy::BASIC_LEGACY[b'?' as usize]
    }
}

/// The size of `text` in pixels at `scale`.
pub fn measure(text: &str, scale: f64) -> (f64, f64) {
    let lines: Vec<&str> = text.split('\n').collect();
    let cols = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64;
    (cols * CELL_W * scale, lines.len() as f64 * CELL_H * scale)
}

/// Draw `text` with its top-left cell at `(x, y)` in the current ink.
pub fn draw(g: &mut Gfx, cv: &mut Canvas, text: &str, x: f64, y: f64, scale: f64) {
    let scale = scale.floor().clamp(1.0, 16.0);
    for (row, line) in text.split('\n').enumerate() {
        for (col, ch) in line.chars().take(MAX_CHARS).enumerate() {
            let bits = glyph(ch);
            let cx = x + col as f64 * CELL_W * scale;
            let cy = y + row as f64 * CELL_H * scale;
            let cell = CELL_W.max(CELL_H) * scale;
            let (vx, vy) = (cx + g.pan.0, cy + g.pan.1);
            if vx >= cv.wf() || vy >= cv.hf() || vx + cell < 0.0 || vy + cell < 0.0 {
                continue;
            }
            for (gy, bits) in bits.iter().enumerate() {
                for gx in 0..8 {
                    if bits & (1 << gx) == 0 {
                        continue;
                    }
                    for sy in 0..scale as usize {
                        for sx in 0..scale as usize {
                            let px = cx + (gx as f64) * scale + sx as f64 + g.pan.0;
                            let py = cy + (gy as f64) * scale + sy as f64 + g.pan.1;
                            plot(g, cv, px, py);
                        }
                    }
                }
            }
        }
    }
}
