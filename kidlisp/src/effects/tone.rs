//! Per-channel tone changes: `contrast`, `brightness`, `invert` (RGB only,
//! transparent pixels untouched).

use super::area;
use crate::jsnum;
use crate::raster::{Canvas, Gfx};

fn apply(g: &Gfx, cv: &mut Canvas, lut: impl Fn(u8) -> u8) {
    let (x0, y0, x1, y1) = area(g, cv, true);
    if x1 <= x0 {
        return;
    }
    let w = cv.w;
    let (px, _) = cv.px.as_chunks_mut::<4>();
    for y in y0..y1 {
        for p in &mut px[y * w + x0..y * w + x1] {
            if p[3] != 0 {
                p[0] = lut(p[0]);
                p[1] = lut(p[1]);
                p[2] = lut(p[2]);
            }
        }
    }
}

/// `contrast k`: `clamp(round(((i/255 − 0.5)·k + 0.5)·255))` per channel; 1 is a no-op.
pub(crate) fn contrast(g: &Gfx, cv: &mut Canvas, level: f64) {
    if level == 1.0 || level.is_nan() {
        return;
    }
    let mut table = [0u8; 256];
    for (i, t) in table.iter_mut().enumerate() {
        let adjusted = ((i as f64 / 255.0 - 0.5) * level + 0.5) * 255.0;
        *t = jsnum::round(adjusted).clamp(0.0, 255.0) as u8;
    }
    apply(g, cv, |v| table[v as usize]);
}

/// `brightness adj`: add `adj` (clamped to ±255) to each channel.
pub(crate) fn brightness(g: &Gfx, cv: &mut Canvas, adj: f64) {
    if adj == 0.0 || adj.is_nan() {
        return;
    }
    let adj = adj.clamp(-255.0, 255.0);
    apply(g, cv, |v| (f64::from(v) + adj).clamp(0.0, 255.0) as u8);
}

/// `invert`: 255 − v.
pub(crate) fn invert(g: &Gfx, cv: &mut Canvas) {
    apply(g, cv, |v| 255 - v);
}
