//! `sort`, `sharpen`, `flip`, `shear` and `noise`.

use super::area;
use crate::jsnum;
use crate::raster::{Canvas, Gfx};

/// `sort`: pixels of the area stably sorted by luminance, written back row-major.
pub(crate) fn sort(g: &Gfx, cv: &mut Canvas) {
    let (x0, y0, x1, y1) = area(g, cv, true);
    let mut pix: Vec<([u8; 4], f64)> = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (y * cv.w + x) * 4;
            let p: [u8; 4] = cv.px[i..i + 4].try_into().expect("4 bytes");
            pix.push((
                p,
                0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]),
            ));
        }
    }
    pix.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal));
    let mut k = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (y * cv.w + x) * 4;
            cv.px[i..i + 4].copy_from_slice(&pix[k].0);
            k += 1;
        }
    }
}

/// `sharpen s`: 3×3 cross kernel (centre 1+4s, neighbours −s) on RGB, skipping
/// transparent pixels and the area's 1-px border.
pub(crate) fn sharpen(g: &Gfx, cv: &mut Canvas, s: f64) {
    if s.is_nan() || s <= 0.0 {
        return;
    }
    let (x0, y0, x1, y1) = area(g, cv, true);
    if x1 < x0 + 3 || y1 < y0 + 3 {
        return;
    }
    let temp = cv.px.clone();
    let (center, edge) = (1.0 + 4.0 * s, -s);
    for y in y0 + 1..y1 - 1 {
        for x in x0 + 1..x1 - 1 {
            let i = (y * cv.w + x) * 4;
            if temp[i + 3] == 0 {
                continue;
            }
            for c in 0..3 {
                let p = |xx: usize, yy: usize| f64::from(temp[(yy * cv.w + xx) * 4 + c]);
                let sum = p(x, y) * center
                    + p(x, y - 1) * edge
                    + p(x, y + 1) * edge
                    + p(x - 1, y) * edge
                    + p(x + 1, y) * edge;
                cv.px[i + c] = jsnum::round(sum).clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// `flip`: mirror the area top-to-bottom.
pub(crate) fn flip(g: &Gfx, cv: &mut Canvas) {
    let (x0, y0, x1, y1) = area(g, cv, false);
    if x1 <= x0 || y1 <= y0 + 1 {
        return;
    }
    let temp = cv.px.clone();
    for y in 0..(y1 - y0) {
        let (sy, dy) = (y1 - 1 - y, y0 + y);
        let (s, d) = ((sy * cv.w + x0) * 4, (dy * cv.w + x0) * 4);
        let n = (x1 - x0) * 4;
        cv.px[d..d + n].copy_from_slice(&temp[s..s + n]);
    }
}

/// `shear sx sy`: rows shifted by round(sx·(y − H/2)) with wrap, then columns
/// by round(sy·(x − W/2)).
pub(crate) fn shear(g: &Gfx, cv: &mut Canvas, sx: f64, sy: f64) {
    if (sx == 0.0 && sy == 0.0) || sx.is_nan() || sy.is_nan() {
        return;
    }
    let (x0, y0, x1, y1) = area(g, cv, true);
    let (w, h) = (x1.saturating_sub(x0), y1.saturating_sub(y0));
    if w == 0 || h == 0 {
        return;
    }
    if sx != 0.0 {
        let temp = cv.px.clone();
        for y in 0..h {
            let shift = jsnum::round(sx * (y as f64 - h as f64 / 2.0)) as i64;
            for x in 0..w {
                let src = (x as i64 - shift).rem_euclid(w as i64) as usize;
                let (si, di) = (
                    ((y0 + y) * cv.w + x0 + src) * 4,
                    ((y0 + y) * cv.w + x0 + x) * 4,
                );
                cv.px[di..di + 4].copy_from_slice(&temp[si..si + 4]);
            }
        }
    }
    if sy != 0.0 {
        let temp = cv.px.clone();
        for x in 0..w {
            let shift = jsnum::round(sy * (x as f64 - w as f64 / 2.0)) as i64;
            for y in 0..h {
                let src = (y as i64 - shift).rem_euclid(h as i64) as usize;
                let (si, di) = (
                    ((y0 + src) * cv.w + x0 + x) * 4,
                    ((y0 + y) * cv.w + x0 + x) * 4,
                );
                cv.px[di..di + 4].copy_from_slice(&temp[si..si + 4]);
            }
        }
    }
}

/// `noise`: per-pixel random greys min(16·randInt(16), 255) per channel, opaque.
/// AC draws these from `Math.random`; here they come from the seeded stand-in.
pub(crate) fn noise(g: &mut Gfx, cv: &mut Canvas, variant: &str) {
    let (x0, y0, x1, y1) = area(g, cv, false);
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (y * cv.w + x) * 4;
            let mut v = || (16.0 * g.host.int_inclusive(16.0)).min(255.0);
            let (r, gg, b) = (v(), v(), v());
            let (r, gg, b) = match variant {
                "digitpain" => (r, gg * 0.8, b * 0.8),
                "aesthetic" => (r * 0.9, gg, b * 0.9),
                "sotce" => (r, gg * 0.9, b * 0.9),
                _ => (r, gg, b),
            };
            cv.px[i] = jsnum::clamp_u8(r);
            cv.px[i + 1] = jsnum::clamp_u8(gg);
            cv.px[i + 2] = jsnum::clamp_u8(b);
            cv.px[i + 3] = 255;
        }
    }
}
