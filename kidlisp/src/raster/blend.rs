//! Per-pixel writes: `plot` and the `blend` formula (KIDLISP.md §6.6 rule 1).

use super::{BlendMode, Canvas, Gfx, Ink};
use crate::color::fade;
use crate::jsnum::{clamp_u8, shr8};

/// graph.mjs `blend(dst, src)`: float "over" onto a not-opaque destination,
/// integer `(k·s + (256−k)·d) >> 8` onto an opaque one; erase mode multiplies
/// the destination alpha instead.
pub(crate) fn blend_pixel(g: &mut Gfx, px: &mut [u8], i: usize, src: [f64; 4], alpha_in: f64) {
    if g.blend == BlendMode::Erase {
        let na = 1.0 - src[3] / 255.0;
        px[i + 3] = clamp_u8(f64::from(px[i + 3]) * na);
        if px[i + 3] == 0 {
            px[i] = 32;
            px[i + 1] = 32;
            px[i + 2] = 32;
        }
        record_erase(g, i, na);
        return;
    }
    if src[3] == 0.0 {
        return;
    }
    let d = [
        f64::from(px[i]),
        f64::from(px[i + 1]),
        f64::from(px[i + 2]),
        f64::from(px[i + 3]),
    ];
    if d[3] < 255.0 && src[3] > 0.0 {
        let a_src = (src[3] * alpha_in) / 255.0;
        let a_dst = d[3] / 255.0;
        let combined = a_src + (1.0 - a_src) * a_dst;
        if combined > 1e-10 {
            for k in 0..3 {
                px[i + k] =
                    clamp_u8((src[k] * a_src + d[k] * (1.0 - a_src) * a_dst) / (combined + 1e-10));
            }
            px[i + 3] = clamp_u8(combined * 255.0);
        }
    } else {
        let alpha = src[3] * alpha_in + 1.0;
        let inv = 256.0 - alpha;
        for k in 0..3 {
            px[i + k] = clamp_u8(shr8(alpha * src[k] + inv * d[k]));
        }
        px[i + 3] = 255;
    }
}

/// Record how much a pixel was erased, for punching through lower layers at composite time.
pub(crate) fn record_erase(g: &mut Gfx, i: usize, na: f64) {
    if let Some(t) = g.erase_target.as_mut() {
        let pi = i >> 2;
        if let Some(v) = t.get_mut(pi) {
            *v = crate::jsnum::or0(255.0 - ((255.0 - f64::from(*v)) * na + 0.5)) as u8;
        }
    }
}

/// graph.mjs `plot`: floor, clip to buffer and mask, then write with the ink.
pub(crate) fn plot(g: &mut Gfx, cv: &mut Canvas, x: f64, y: f64) {
    let (x, y) = (x.floor(), y.floor());
    if !(x >= 0.0 && x < cv.wf() && y >= 0.0 && y < cv.hf()) {
        return;
    }
    if let Some(m) = g.mask
        && (y < m.y || y >= m.y + m.h || x >= m.x + m.w || x < m.x)
    {
        return;
    }
    let i = (x as usize + y as usize * cv.w) * 4;
    let (color, alpha) = match &g.ink {
        Ink::Fade(s, a) => {
            // AC hands the whole "fade:…" string to the stop parser here, so the
            // first stop is the unknown name "fade:…" (grey), and it writes five
            // values (r, g, b, stop alpha, ink alpha): the fifth lands in the next
            // pixel's red channel. Reproduced as is.
            let (body, a) = (s.clone(), *a);
            let extra = if a == 0.0 { 255.0 } else { a };
            let c = match fade::parse_stops(&body, 255.0) {
                Some(stops) => {
                    let f = fade::Fade {
                        stops,
                        direction: fade::Direction::Named("horizontal".into()),
                        neat: true,
                    };
                    fade::color_at(0.0, &f, &mut g.cycles, &mut g.host)
                }
                None => [255.0, 0.0, 255.0, 255.0],
            };
            for k in 0..4 {
                cv.px[i + k] = clamp_u8(c[k]);
            }
            if let Some(next) = cv.px.get_mut(i + 4) {
                *next = clamp_u8(extra);
            }
            return;
        }
        Ink::Solid(c) => (*c, c[3]),
    };
    if g.ink.is_erase() {
        let na = 1.0 - color[3] / 255.0;
        cv.px[i + 3] = clamp_u8(f64::from(cv.px[i + 3]) * na);
        record_erase(g, i, na);
    } else if alpha == 255.0 {
        for k in 0..4 {
            cv.px[i + k] = clamp_u8(color[k]);
        }
    } else if alpha != 0.0 {
        blend_pixel(g, &mut cv.px, i, color, 1.0);
    }
}

/// graph.mjs `point`: add the pan offset, then plot.
pub(crate) fn point(g: &mut Gfx, cv: &mut Canvas, x: f64, y: f64) {
    plot(g, cv, x + g.pan.0, y + g.pan.1);
}
