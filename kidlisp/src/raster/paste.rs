//! Copying one image onto another: layer `paste` (§6.6 rule 3), the embed
//! composite (§7.6) and scaled/rotated stamps.

use super::blend::plot;
use super::{Canvas, Gfx, Ink};
use crate::jsnum::{clamp_u8, shr8, to_int32};

/// graph.mjs `paste(from, x, y)` at scale 1: alpha 0 skipped, alpha 255
/// copied, otherwise `(k·s + (256−k)·d) >> 8` with k = a+1 and the alpha
/// *added* (so colour darkens onto a transparent destination).
pub(crate) fn paste(g: &Gfx, dst: &mut Canvas, src: &Canvas, x: f64, y: f64) {
    let (dx0, dy0) = ((x + g.pan.0).floor() as i64, (y + g.pan.1).floor() as i64);
    if g.mask.is_none() {
        paste_unmasked(dst, src, dx0, dy0);
        return;
    }
    for sy in 0..src.h {
        let dy = dy0 + sy as i64;
        if dy < 0 || dy >= dst.h as i64 {
            continue;
        }
        for sx in 0..src.w {
            let dx = dx0 + sx as i64;
            if dx < 0 || dx >= dst.w as i64 {
                continue;
            }
            if let Some(m) = g.mask {
                let (mx, my) = (m.x + g.pan.0, m.y + g.pan.1);
                let (fx, fy) = (dx as f64, dy as f64);
                if fx < mx || fx >= mx + m.w || fy < my || fy >= my + m.h {
                    continue;
                }
            }
            let si = (sx + sy * src.w) * 4;
            let di = (dx as usize + dy as usize * dst.w) * 4;
            let a = src.px[si + 3];
            if a == 0 {
                continue;
            }
            if a == 255 {
                dst.px[di..di + 4].copy_from_slice(&src.px[si..si + 4]);
            } else {
                let k = f64::from(a) + 1.0;
                let inv = 256.0 - k;
                for c in 0..3 {
                    dst.px[di + c] = clamp_u8(shr8(
                        k * f64::from(src.px[si + c]) + inv * f64::from(dst.px[di + c]),
                    ));
                }
                dst.px[di + 3] = (u16::from(dst.px[di + 3]) + u16::from(a)).min(255) as u8;
            }
        }
    }
}

/// [`paste`] without a mask, row by row: the same arithmetic per pixel, with the bounds worked
/// out once per row and each run of opaque pixels copied as one slice (layer pastes run every
/// frame, so this is most of a simple piece's time).
fn paste_unmasked(dst: &mut Canvas, src: &Canvas, dx0: i64, dy0: i64) {
    let sx0 = (-dx0).clamp(0, src.w as i64) as usize;
    let sx1 = (dst.w as i64 - dx0).clamp(0, src.w as i64) as usize;
    if sx0 >= sx1 {
        return;
    }
    for sy in 0..src.h {
        let dy = dy0 + sy as i64;
        if dy < 0 || dy >= dst.h as i64 {
            continue;
        }
        let s0 = (sx0 + sy * src.w) * 4;
        let d0 = ((dx0 + sx0 as i64) as usize + dy as usize * dst.w) * 4;
        let len = (sx1 - sx0) * 4;
        let srow = &src.px[s0..s0 + len];
        let drow = &mut dst.px[d0..d0 + len];
        let (srow, _) = srow.as_chunks::<4>();
        let (drow, _) = drow.as_chunks_mut::<4>();
        let mut i = 0;
        while i < srow.len() {
            // A run of opaque pixels is copied as one slice.
            let opaque = opaque_run(&srow[i..]);
            drow[i..i + opaque].copy_from_slice(&srow[i..i + opaque]);
            i += opaque;
            while let Some((s, d)) = srow.get(i).filter(|p| p[3] != 255).zip(drow.get_mut(i)) {
                let a = s[3];
                if a != 0 {
                    // In integers: k·s + (256−k)·d is a whole number below 2^16, which the f64
                    // formula above holds exactly, and its `>> 8` is at most 255 (no clamping).
                    let k = u32::from(a) + 1;
                    let inv = 256 - k;
                    for c in 0..3 {
                        d[c] = ((k * u32::from(s[c]) + inv * u32::from(d[c])) >> 8) as u8;
                    }
                    d[3] = (u16::from(d[3]) + u16::from(a)).min(255) as u8;
                }
                i += 1;
            }
        }
    }
}

/// How many pixels from the start are opaque, tested four at a time while they are.
fn opaque_run(px: &[[u8; 4]]) -> usize {
    let (quads, _) = px.as_chunks::<4>();
    let quads = quads
        .iter()
        .take_while(|q| q[0][3] & q[1][3] & q[2][3] & q[3][3] == 255)
        .count();
    let n = quads * 4;
    n + px[n..].iter().take_while(|p| p[3] == 255).count()
}

/// graph.mjs `compositeLayers` (CPU): the layer's alpha scaled by `alpha/255`,
/// under 1 skipped, from 254 copied opaque, otherwise `(sA·s + (255−sA)·d) >> 8`.
pub(crate) fn composite_layer(dst: &mut Canvas, src: &Canvas, x: i64, y: i64, alpha: f64) {
    for sy in 0..src.h {
        let dy = y + sy as i64;
        if dy < 0 || dy >= dst.h as i64 {
            continue;
        }
        for sx in 0..src.w {
            let dx = x + sx as i64;
            if dx < 0 || dx >= dst.w as i64 {
                continue;
            }
            let si = (sx + sy * src.w) * 4;
            let di = (dx as usize + dy as usize * dst.w) * 4;
            let sa = f64::from(src.px[si + 3]) * alpha / 255.0;
            if sa < 1.0 {
                continue;
            }
            if sa >= 254.0 {
                dst.px[di..di + 3].copy_from_slice(&src.px[si..si + 3]);
                dst.px[di + 3] = 255;
            } else {
                let inv = 255.0 - sa;
                for c in 0..3 {
                    dst.px[di + c] = clamp_u8(shr8(
                        sa * f64::from(src.px[si + c]) + inv * f64::from(dst.px[di + c]),
                    ));
                }
                dst.px[di + 3] =
                    clamp_u8((f64::from(dst.px[di + 3]) + f64::from(to_int32(sa) >> 1)).min(255.0));
            }
        }
    }
}

/// Draw an image at `(x, y)` scaled by `scale` and turned by `angle` degrees
/// about its centre, nearest-neighbour, each pixel blended through `plot`.
/// (AC's `grid` has extra off-by-one nudges for some angles; this is the plain mapping.)
pub(crate) fn paste_image(
    g: &mut Gfx,
    dst: &mut Canvas,
    src: &Canvas,
    x: f64,
    y: f64,
    scale: f64,
    angle: f64,
) {
    if scale.abs() < 0.01 || !scale.is_finite() {
        return;
    }
    if scale == 1.0 && angle == 0.0 {
        paste(g, dst, src, x, y);
        return;
    }
    let (w, h) = (src.wf() * scale.abs(), src.hf() * scale.abs());
    let (cx, cy) = (x + g.pan.0 + w / 2.0, y + g.pan.1 + h / 2.0);
    let rad = -angle.to_radians();
    let (cos, sin) = (libm::cos(rad), libm::sin(rad));
    let reach = (w * w + h * h).sqrt() / 2.0 + 1.0;
    let saved = g.ink.clone();
    let (x0, x1) = (
        (cx - reach).floor().max(0.0) as i64,
        (cx + reach).ceil().min(dst.wf()) as i64,
    );
    let (y0, y1) = (
        (cy - reach).floor().max(0.0) as i64,
        (cy + reach).ceil().min(dst.hf()) as i64,
    );
    for dy in y0..y1 {
        for dx in x0..x1 {
            let (rx, ry) = (dx as f64 + 0.5 - cx, dy as f64 + 0.5 - cy);
            let (ux, uy) = (rx * cos - ry * sin + w / 2.0, rx * sin + ry * cos + h / 2.0);
            let (mut sx, mut sy) = ((ux / scale.abs()).floor(), (uy / scale.abs()).floor());
            if scale < 0.0 {
                sx = src.wf() - 1.0 - sx;
                sy = src.hf() - 1.0 - sy;
            }
            if sx < 0.0 || sy < 0.0 || sx >= src.wf() || sy >= src.hf() {
                continue;
            }
            let si = (sx as usize + sy as usize * src.w) * 4;
            let p = &src.px[si..si + 4];
            if p[3] == 0 {
                continue;
            }
            g.ink = Ink::Solid([
                f64::from(p[0]),
                f64::from(p[1]),
                f64::from(p[2]),
                f64::from(p[3]),
            ]);
            plot(g, dst, dx as f64, dy as f64);
        }
    }
    g.ink = saved;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-pixel rule of graph.mjs `paste`, as the masked path applies it, for comparison.
    fn reference(dst: &mut Canvas, src: &Canvas, dx0: i64, dy0: i64) {
        for sy in 0..src.h {
            for sx in 0..src.w {
                let (dx, dy) = (dx0 + sx as i64, dy0 + sy as i64);
                if dx < 0 || dy < 0 || dx >= dst.w as i64 || dy >= dst.h as i64 {
                    continue;
                }
                let si = (sx + sy * src.w) * 4;
                let di = (dx as usize + dy as usize * dst.w) * 4;
                let a = src.px[si + 3];
                if a == 0 {
                    continue;
                }
                if a == 255 {
                    dst.px[di..di + 4].copy_from_slice(&src.px[si..si + 4]);
                    continue;
                }
                let k = f64::from(a) + 1.0;
                for c in 0..3 {
                    dst.px[di + c] = clamp_u8(shr8(
                        k * f64::from(src.px[si + c]) + (256.0 - k) * f64::from(dst.px[di + c]),
                    ));
                }
                dst.px[di + 3] = (u16::from(dst.px[di + 3]) + u16::from(a)).min(255) as u8;
            }
        }
    }

    #[test]
    fn the_row_wise_paste_gives_the_per_pixel_bytes() {
        let mut seed = 12345u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8
        };
        let mut src = Canvas::new(13, 7);
        for (i, p) in src.px.iter_mut().enumerate() {
            *p = next();
            // Some rows fully opaque, some pixels fully transparent.
            if i % 4 == 3 && (i / (13 * 4) == 2 || next() < 40) {
                *p = if i / (13 * 4) == 2 { 255 } else { 0 };
            }
        }
        for (dx, dy) in [(0, 0), (-3, 2), (5, -4), (20, 0), (-13, 0), (9, 9)] {
            let mut fast = Canvas::new(17, 11);
            for p in fast.px.iter_mut() {
                *p = next();
            }
            let mut slow = Canvas::new(17, 11);
            slow.px.clone_from(&fast.px);
            paste_unmasked(&mut fast, &src, dx, dy);
            reference(&mut slow, &src, dx, dy);
            assert!(fast.px == slow.px, "offset ({dx}, {dy})");
        }
    }
}
