//! Lines (KIDLISP.md §8.1): horizontal spans through `lineh` (blend rule 1),
//! other solid lines through the inline Bresenham of `lineFast` (rule 2),
//! gradient lines pixel by pixel.

use super::blend::{blend_pixel, plot, record_erase};
use super::{Canvas, Gfx};
use crate::color::fade;
use crate::jsnum::{clamp_u8, shr8};

/// Coordinates further out than this are clamped, so a line to 1e12 cannot
/// loop for hours (AC's own conformance host refuses beyond ±8192).
pub(crate) const COORD_LIMIT: f64 = 65_536.0;

fn lim(v: f64) -> f64 {
    v.clamp(-COORD_LIMIT, COORD_LIMIT)
}

fn floor0(v: f64) -> i64 {
    let f = lim(v).floor();
    if f.is_nan() { 0 } else { f as i64 }
}

/// graph.mjs `lineh(x0, x1, y)`: a clipped horizontal span, both ends inclusive.
pub(crate) fn line_h(g: &mut Gfx, cv: &mut Canvas, x0: f64, x1: f64, y: f64) {
    let (x0, x1, y) = (lim(x0).floor(), lim(x1).floor(), lim(y).floor());
    let (w, h) = (cv.wf(), cv.hf());
    // As in AC, the early-out looks at the endpoints unsorted.
    if !(y >= 0.0 && y < h) || x0 >= w || x1 < 0.0 || x0.is_nan() || x1.is_nan() {
        return;
    }
    let (mut a, mut b) = (x0.clamp(0.0, w - 1.0), x1.clamp(0.0, w - 1.0));
    if let Some(m) = g.mask {
        if y < m.y || y >= m.y + m.h || x1 < m.x || x0 >= m.x + m.w {
            return;
        }
        a = a.clamp(m.x, m.x + m.w - 1.0).floor();
        b = b.clamp(m.x, m.x + m.w - 1.0).floor();
    }
    let (start, end) = if a > b {
        (b as usize, a as usize)
    } else {
        (a as usize, b as usize)
    };
    let row = y as usize * cv.w;
    let c = g.ink.channels();
    if g.ink.is_erase() {
        let na = 1.0 - c[3] / 255.0;
        for x in start..=end {
            let i = (row + x) * 4;
            cv.px[i + 3] = clamp_u8(f64::from(cv.px[i + 3]) * na);
            record_erase(g, i, na);
        }
    } else if c[3] == 255.0 {
        let b = [clamp_u8(c[0]), clamp_u8(c[1]), clamp_u8(c[2]), 255];
        for x in start..=end {
            let i = (row + x) * 4;
            cv.px[i..i + 4].copy_from_slice(&b);
        }
    } else if c[3] != 0.0 {
        for x in start..=end {
            blend_pixel(g, &mut cv.px, (row + x) * 4, c, 1.0);
        }
    }
}

/// graph.mjs `lineFast`: Bresenham with AC's alpha formula
/// `(s·a + d·(255−a)) >> 8`, alpha `a + (dA·(255−a) >> 8)`.
fn line_fast(g: &mut Gfx, cv: &mut Canvas, x0: f64, y0: f64, x1: f64, y1: f64) {
    let (mut x0, mut y0, x1, y1) = (floor0(x0), floor0(y0), floor0(x1), floor0(y1));
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (0.0, 0.0, cv.wf(), cv.hf());
    if let Some(m) = g.mask {
        min_x = m.x;
        min_y = m.y;
        max_x = m.x + m.w;
        max_y = m.y + m.h;
    }
    let [r, gg, b, a] = g.ink.channels();
    let erase = g.ink.is_erase();
    let na = if erase { 1.0 - a / 255.0 } else { 0.0 };
    let opaque = a == 255.0 && !erase;
    let has_alpha = a != 0.0 && a != 255.0 && !erase;
    let dx = (x1 - x0).abs();
    let dy = -(y1 - y0).abs();
    let sx = if x0 < x1 { 1 } else { -1 };
    let sy = if y0 < y1 { 1 } else { -1 };
    let mut err = dx + dy;
    loop {
        let (xf, yf) = (x0 as f64, y0 as f64);
        if xf >= min_x
            && xf < max_x
            && yf >= min_y
            && yf < max_y
            && x0 >= 0
            && y0 >= 0
            && (x0 as usize) < cv.w
            && (y0 as usize) < cv.h
        {
            let i = (x0 as usize + y0 as usize * cv.w) * 4;
            if opaque {
                cv.px[i] = clamp_u8(r);
                cv.px[i + 1] = clamp_u8(gg);
                cv.px[i + 2] = clamp_u8(b);
                cv.px[i + 3] = 255;
            } else if erase {
                cv.px[i + 3] = clamp_u8(f64::from(cv.px[i + 3]) * na);
                record_erase(g, i, na);
            } else if has_alpha {
                let inv = 255.0 - a;
                let d = |k: usize| f64::from(cv.px[i + k]);
                let (d0, d1, d2, d3) = (d(0), d(1), d(2), d(3));
                cv.px[i] = clamp_u8(shr8(r * a + d0 * inv));
                cv.px[i + 1] = clamp_u8(shr8(gg * a + d1 * inv));
                cv.px[i + 2] = clamp_u8(shr8(b * a + d2 * inv));
                cv.px[i + 3] = clamp_u8(a + shr8(d3 * inv));
            }
        }
        if x0 == x1 && y0 == y1 {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x0 += sx;
        }
        if e2 <= dx {
            err += dx;
            y0 += sy;
        }
    }
}

/// `bresenham`: the pixels of a line, both ends included.
pub(crate) fn bresenham(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<(i64, i64)> {
    let (mut x0, mut y0, x1, y1) = (floor0(x0), floor0(y0), floor0(x1), floor0(y1));
    let dx = (x1 - x0).abs();
    let dy = -(y1 - y0).abs();
    let sx = if x0 < x1 { 1 } else { -1 };
    let sy = if y0 < y1 { 1 } else { -1 };
    let mut err = dx + dy;
    let mut out = Vec::new();
    loop {
        out.push((x0, y0));
        if x0 == x1 && y0 == y1 {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x0 += sx;
        }
        if e2 <= dx {
            err += dx;
            y0 += sy;
        }
    }
    out
}

/// graph.mjs `line(x0, y0, x1, y1)`: missing or NaN coordinates are random in
/// [0, size] (from the `Math.random` stand-in), the pan offset is added.
pub(crate) fn line(g: &mut Gfx, cv: &mut Canvas, coords: [Option<f64>; 4]) {
    let mut c = [0.0; 4];
    for (k, v) in coords.iter().enumerate() {
        let size = if k % 2 == 0 { cv.wf() } else { cv.hf() };
        c[k] = match v {
            Some(n) if !n.is_nan() => *n,
            _ => g.host.int_inclusive(size),
        };
    }
    let (x0, y0, x1, y1) = (
        c[0] + g.pan.0,
        c[1] + g.pan.1,
        c[2] + g.pan.0,
        c[3] + g.pan.1,
    );
    match g.fade() {
        None => {
            if y0 == y1 {
                line_h(g, cv, x0, x1, y0);
            } else {
                line_fast(g, cv, x0, y0, x1, y1);
            }
        }
        // A gradient on a horizontal line still goes through `lineh`, which
        // reads the raw ink array (see `Ink::channels`).
        Some(_) if y0 == y1 => line_h(g, cv, x0, x1, y0),
        Some(f) => {
            let cached = g.ink.clone();
            let points = bresenham(x0, y0, x1, y1);
            let steps = (points.len().max(2) - 1) as f64;
            for (index, &(px, py)) in points.iter().enumerate() {
                let col = fade::color_at(index as f64 / steps, &f, &mut g.cycles, &mut g.host);
                g.set_rgba(col);
                plot(g, cv, px as f64, py as f64);
            }
            g.ink = cached;
        }
    }
}
