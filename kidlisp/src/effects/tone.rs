//! Per-channel tone changes: `contrast`, `brightness`, `invert` (RGB only,
//! transparent pixels untouched).

use super::area;
use crate::jsnum;
use crate::raster::{Canvas, Gfx};

fn apply(g: &Gfx, cv: &mut Canvas, lut: impl Fn(u8) -> u8) {
    let (x0, y0, x1, y1) = area(g, cv, true);
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (y * cv.w + x) * 4;
            if cv.px[i + 3] == 0 {
                continue;
            }
            for c in 0..3 {
                cv.px[i + c] = lut(cv.px[i + c]);
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
