//! `blur n` (§9.4): accumulate; at 0.5 or more, a separable Gaussian with
//! radius ⌊acc⌋ (kernel capped at 15 taps, σ = ⌊n/2⌋/3), edges clamped.

use super::area;
use crate::jsnum;
use crate::raster::{Canvas, Gfx};

pub(crate) fn blur(g: &mut Gfx, cv: &mut Canvas, strength: f64) {
    if strength.is_nan() || strength <= 0.1 {
        return;
    }
    g.blur_acc += strength;
    if g.blur_acc.abs() < 0.5 {
        return;
    }
    let (x0, y0, x1, y1) = area(g, cv, true);
    if x1 <= x0 || y1 <= y0 {
        g.blur_acc = 0.0;
        return;
    }
    let radius = g.blur_acc.abs().floor().max(1.0);
    let size = (radius * 2.0 + 1.0).min(15.0) as usize;
    let r = size / 2;
    let sigma = r as f64 / 3.0;
    let mut weights: Vec<f64> = (0..size)
        .map(|i| {
            let x = i as f64 - r as f64;
            (-(x * x) / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let sum: f64 = weights.iter().sum();
    for w in &mut weights {
        *w /= sum;
    }
    let mut temp = vec![0u8; cv.px.len()];
    let store = |v: f64| jsnum::round(v.clamp(0.0, 255.0)) as u8;
    for y in y0..y1 {
        for x in x0..x1 {
            let mut acc = [0.0; 4];
            for (k, w) in weights.iter().enumerate() {
                let sx = (x as i64 + k as i64 - r as i64).clamp(x0 as i64, x1 as i64 - 1) as usize;
                let si = (y * cv.w + sx) * 4;
                for c in 0..4 {
                    acc[c] += f64::from(cv.px[si + c]) * w;
                }
            }
            let di = (y * cv.w + x) * 4;
            for c in 0..4 {
                temp[di + c] = store(acc[c]);
            }
        }
    }
    for y in y0..y1 {
        for x in x0..x1 {
            let mut acc = [0.0; 4];
            for (k, w) in weights.iter().enumerate() {
                let sy = (y as i64 + k as i64 - r as i64).clamp(y0 as i64, y1 as i64 - 1) as usize;
                let si = (sy * cv.w + x) * 4;
                for c in 0..4 {
                    acc[c] += f64::from(temp[si + c]) * w;
                }
            }
            let di = (y * cv.w + x) * 4;
            for c in 0..4 {
                cv.px[di + c] = store(acc[c]);
            }
        }
    }
    g.blur_acc = 0.0;
}
