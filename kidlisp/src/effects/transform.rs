//! Geometric effects: `scroll` (wrapping shift), `zoom` (nearest-neighbour,
//! toroidal), `spin` (rigid rotation by whole degrees, the CPU path) and
//! `suck` (radial bilinear displacement).

use super::{bounds, snapshot};
use crate::jsnum;
use crate::raster::{Canvas, Gfx};

/// The destination positions `min, min+1, …` below `max` that land inside
/// `[0, limit)` — a mask far larger than the buffer must not mean a long loop.
fn visible(min: f64, max: f64, limit: f64) -> (f64, f64) {
    let start = if min < 0.0 { min + (-min).ceil() } else { min };
    (start, max.min(limit))
}

/// `scroll dx dy` (§9.1): fractions accumulate (truncating toward zero);
/// positive dx moves the image left, positive dy moves it down; wraps.
pub(crate) fn scroll(g: &mut Gfx, cv: &mut Canvas, dx: f64, dy: f64) {
    if (dx == 0.0 && dy == 0.0) || dx.is_nan() || dy.is_nan() {
        return;
    }
    g.scroll_acc.0 += dx;
    g.scroll_acc.1 += dy;
    let (ix, iy) = (g.scroll_acc.0.trunc(), g.scroll_acc.1.trunc());
    g.scroll_acc.0 -= ix;
    g.scroll_acc.1 -= iy;
    if ix == 0.0 && iy == 0.0 {
        return;
    }
    let (w, h) = (cv.wf(), cv.hf());
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (0.0, 0.0, w, h);
    if let Some(m) = g.mask {
        min_x = m.x.floor().clamp(0.0, w);
        max_x = (m.x + m.w).ceil().clamp(0.0, w);
        min_y = m.y.floor().clamp(0.0, h);
        max_y = (m.y + m.h).ceil().clamp(0.0, h);
    }
    let (bw, bh) = (max_x - min_x, max_y - min_y);
    if bw <= 0.0 || bh <= 0.0 {
        return;
    }
    let fdx = ((ix % bw) + bw) % bw;
    let fdy = ((iy % bh) + bh) % bh;
    if fdx == 0.0 && fdy == 0.0 {
        return;
    }
    let (min_x, min_y, bw, bh, fdx, fdy) = (
        min_x as usize,
        min_y as usize,
        bw as usize,
        bh as usize,
        fdx as usize,
        fdy as usize,
    );
    // Destination x takes source x + fdx (wrapping), so each row is two slice copies.
    let temp = snapshot(g, cv);
    let split = (bw - fdx) * 4;
    for y in 0..bh {
        let sy = min_y + (y + bh - fdy) % bh;
        let src = &temp[(sy * cv.w + min_x) * 4..(sy * cv.w + min_x + bw) * 4];
        let dy = min_y + y;
        let dst = &mut cv.px[(dy * cv.w + min_x) * 4..(dy * cv.w + min_x + bw) * 4];
        dst[..split].copy_from_slice(&src[fdx * 4..]);
        dst[split..].copy_from_slice(&src[..fdx * 4]);
    }
    g.scratch = temp;
}

/// `zoom level [ax ay]` (§9.2): |level−1| ≥ 0.1 applies directly, smaller
/// steps accumulate and apply in ±0.05 quanta; sampling wraps around the area.
/// Source x goes through a `Float32Array` in AC, so it is rounded to f32 here too.
pub(crate) fn zoom(g: &mut Gfx, cv: &mut Canvas, level: f64, ax: f64, ay: f64) {
    if level == 1.0 || level.is_nan() {
        return;
    }
    let actual = if (level - 1.0).abs() >= 0.1 {
        g.zoom_acc = 0.0;
        level
    } else {
        g.zoom_acc += level - 1.0;
        if g.zoom_acc.abs() < 0.05 {
            return;
        }
        let step = g.zoom_acc.signum() * 0.05;
        g.zoom_acc -= step;
        1.0 + step
    };
    let (min_x, min_y, max_x, max_y) = bounds(g, cv, false);
    let (ww, wh) = (max_x - min_x, max_y - min_y);
    if !(ww > 0.0 && wh > 0.0) {
        return;
    }
    let (anchor_x, anchor_y) = (min_x + ww * ax, min_y + wh * ay);
    let inv = 1.0 / actual;
    let inv_w = 1.0 / ww;
    let (y_start, y_end) = visible(min_y, max_y, cv.hf());
    let (x_start, x_end) = visible(min_x, max_x, cv.wf());
    // The source column depends on the destination column only: work it out once per column
    // (the same f64 and f32 steps as before), not once per pixel. Columns whose source falls
    // outside the area or the buffer are left out, as the per-pixel test did.
    let mut columns: Vec<(usize, usize)> = Vec::with_capacity(cv.w);
    let mut dest_x = x_start;
    while dest_x < x_end {
        let src_x = ((dest_x - anchor_x) * inv + anchor_x) as f32 as f64;
        let norm = (src_x - min_x) * inv_w;
        let wrapped = min_x + (norm - norm.floor()) * ww;
        let nearest = jsnum::round(wrapped);
        let final_x = min_x + ((nearest - min_x) % ww + ww) % ww;
        if final_x >= min_x
            && final_x < max_x
            && final_x >= 0.0
            && final_x < cv.wf()
            && dest_x >= 0.0
            && dest_x < cv.wf()
        {
            columns.push((dest_x as usize * 4, final_x as usize * 4));
        }
        dest_x += 1.0;
    }
    let temp = snapshot(g, cv);
    let row_bytes = cv.w * 4;
    let mut dest_y = y_start;
    while dest_y < y_end {
        let src_y_base = (dest_y - anchor_y) * inv + anchor_y;
        let wrapped_y = ((src_y_base - min_y) % wh + wh) % wh + min_y;
        let nearest_y = jsnum::round(wrapped_y);
        let final_y = min_y + ((nearest_y - min_y) % wh + wh) % wh;
        if final_y >= min_y
            && final_y < max_y
            && dest_y >= 0.0
            && dest_y < cv.hf()
            && final_y >= 0.0
            && final_y < cv.hf()
        {
            let src = &temp[final_y as usize * row_bytes..][..row_bytes];
            let dst = &mut cv.px[dest_y as usize * row_bytes..][..row_bytes];
            for &(d, s) in &columns {
                dst[d..d + 4].copy_from_slice(&src[s..s + 4]);
            }
        }
        dest_y += 1.0;
    }
    g.scratch = temp;
}

/// `spin steps [ax ay]` (§9.3, the CPU `spinBlockBased`): steps accumulate and
/// the floor is applied as a rigid rotation by that many degrees about the
/// area's centre, nearest-neighbour, wrapping.
pub(crate) fn spin(g: &mut Gfx, cv: &mut Canvas, steps: f64, anchor: Option<(f64, f64)>) {
    if steps == 0.0 || steps.is_nan() {
        return;
    }
    g.spin_acc += steps;
    let k = g.spin_acc.floor();
    g.spin_acc -= k;
    if k == 0.0 {
        return;
    }
    let (min_x, min_y, max_x, max_y) = bounds(g, cv, true);
    let (ww, wh) = (max_x - min_x, max_y - min_y);
    if !(ww > 0.0 && wh > 0.0) {
        return;
    }
    let (cx, cy) = anchor.unwrap_or((min_x + (ww / 2.0).floor(), min_y + (wh / 2.0).floor()));
    let rad = (k * std::f64::consts::PI) / 180.0;
    let (cos, sin) = (libm::cos(rad), libm::sin(rad));
    let temp = snapshot(g, cv);
    let (y_start, y_end) = visible(min_y, max_y, cv.hf());
    let (x_start, x_end) = visible(min_x, max_x, cv.wf());
    // Whole-number areas (no mask, or a mask on whole pixels) and a sane anchor take the integer
    // path; anything else (fractional masks, NaN or huge anchors) the f64 one.
    let whole = |v: f64| v.fract() == 0.0 && v.abs() <= 1e9;
    if [min_x, min_y, ww, wh].into_iter().all(whole) && cx.abs() < 1e9 && cy.abs() < 1e9 {
        spin_whole(cv, &temp, (min_x, min_y, ww, wh), (cx, cy), (cos, sin));
    } else {
        let mut dest_y = y_start;
        while dest_y < y_end {
            let dy = dest_y - cy;
            let (ryx, ryy) = (dy * sin + cx, dy * cos + cy);
            let mut dest_x = x_start;
            while dest_x < x_end {
                let dx = dest_x - cx;
                let mut sx = jsnum::round(dx * cos + ryx);
                let mut sy = jsnum::round(-dx * sin + ryy);
                sx = min_x + ((sx - min_x) % ww + ww) % ww;
                sy = min_y + ((sy - min_y) % wh + wh) % wh;
                sx = sx.min(max_x - 1.0);
                sy = sy.min(max_y - 1.0);
                let ok = |v: f64, hi: f64| v >= 0.0 && v < hi;
                if ok(sx, cv.wf()) && ok(sy, cv.hf()) && ok(dest_x, cv.wf()) && ok(dest_y, cv.hf())
                {
                    let si = (sy as usize * cv.w + sx as usize) * 4;
                    let di = (dest_y as usize * cv.w + dest_x as usize) * 4;
                    cv.px[di..di + 4].copy_from_slice(&temp[si..si + 4]);
                }
                dest_x += 1.0;
            }
            dest_y += 1.0;
        }
    }
    g.scratch = temp;
}

/// `spin`'s pixel loop when the area's corner and size are whole numbers and the anchor is
/// finite and below 1e9: the same f64 products and sums, rounded with [`jsnum::round_small`],
/// and the wrap `min + ((s − min) % size + size) % size` done on integers, where it is exact
/// (every value is a whole number far below 2^53, so the f64 `%` and `+` never rounded). The
/// clamp to `max − 1` after the wrap never changed a whole number, and the destination is
/// always inside the buffer (the loops run over the visible part only).
fn spin_whole(
    cv: &mut Canvas,
    temp: &[u8],
    (min_x, min_y, ww, wh): (f64, f64, f64, f64),
    (cx, cy): (f64, f64),
    (cos, sin): (f64, f64),
) {
    let (x0, x1) = (min_x.max(0.0) as usize, (min_x + ww).min(cv.wf()) as usize);
    let (y0, y1) = (min_y.max(0.0) as usize, (min_y + wh).min(cv.hf()) as usize);
    if x0 >= x1 || y0 >= y1 {
        return;
    }
    let (mx, my, iw, ih) = (min_x as i64, min_y as i64, ww as i64, wh as i64);
    let (cw, ch) = (cv.w as i64, cv.h as i64);
    // dx·cos and −dx·sin depend on the column only.
    let columns: Vec<(f64, f64)> = (x0..x1)
        .map(|x| {
            let dx = x as f64 - cx;
            (dx * cos, -dx * sin)
        })
        .collect();
    let row_bytes = cv.w * 4;
    for y in y0..y1 {
        let dy = y as f64 - cy;
        let (ryx, ryy) = (dy * sin + cx, dy * cos + cy);
        let dst = &mut cv.px[y * row_bytes + x0 * 4..y * row_bytes + x1 * 4];
        for (d, &(xc, xs)) in dst.chunks_exact_mut(4).zip(&columns) {
            let sx = (jsnum::round_small(xc + ryx) - mx).rem_euclid(iw) + mx;
            let sy = (jsnum::round_small(xs + ryy) - my).rem_euclid(ih) + my;
            if sx >= 0 && sx < cw && sy >= 0 && sy < ch {
                let si = (sy * cw + sx) as usize * 4;
                d.copy_from_slice(&temp[si..si + 4]);
            }
        }
    }
}

/// `suck strength [cx cy]` (§9.6): accumulate; at |acc| ≥ 0.5 every pixel
/// samples (bilinear) the point on its ray from the centre |acc| further out
/// (positive) or closer in (negative).
pub(crate) fn suck(g: &mut Gfx, cv: &mut Canvas, strength: f64, center: Option<(f64, f64)>) {
    if strength == 0.0 || strength.is_nan() {
        return;
    }
    g.suck_acc += strength;
    if g.suck_acc.abs() < 0.5 {
        return;
    }
    let (min_x, min_y, max_x, max_y) = bounds(g, cv, false);
    let (ww, wh) = (max_x - min_x, max_y - min_y);
    let (cx, cy) = center.unwrap_or((min_x + ww * 0.5, min_y + wh * 0.5));
    let amount = g.suck_acc.abs();
    let dir = if g.suck_acc > 0.0 { 1.0 } else { -1.0 };
    g.suck_acc = 0.0;
    let temp = snapshot(g, cv);
    let (cw, ch) = (cv.wf(), cv.hf());
    let inside = |x: f64, y: f64| x >= 0.0 && y >= 0.0 && x < cw && y < ch;
    let (y_start, y_end) = visible(min_y, max_y, ch);
    let (x_start, x_end) = visible(min_x, max_x, cw);
    let mut dest_y = y_start;
    while dest_y < y_end {
        let mut dest_x = x_start;
        while dest_x < x_end {
            if !inside(dest_x, dest_y) {
                dest_x += 1.0;
                continue;
            }
            let di = (dest_y as usize * cv.w + dest_x as usize) * 4;
            let (dx, dy) = (dest_x - cx, dest_y - cy);
            let dist = (dx * dx + dy * dy).sqrt();
            if dist < 1.0 {
                dest_x += 1.0;
                continue;
            }
            let scale = (dist + dir * amount) / dist;
            let sx = (cx + dx * scale).min(max_x - 1.0).max(min_x);
            let sy = (cy + dy * scale).min(max_y - 1.0).max(min_y);
            let (fx, fy) = (sx.floor(), sy.floor());
            let (wx, wy) = (sx - fx, sy - fy);
            let cl = |v: f64, lo: f64, hi: f64| v.min(hi).max(lo);
            let x1 = cl(fx, min_x, max_x - 1.0);
            let y1 = cl(fy, min_y, max_y - 1.0);
            let x2 = cl(fx + 1.0, min_x, max_x - 1.0);
            let y2 = cl(fy + 1.0, min_y, max_y - 1.0);
            if !(inside(x1, y1) && inside(x2, y2)) {
                dest_x += 1.0;
                continue;
            }
            let idx = |x: f64, y: f64| (y as usize * cv.w + x as usize) * 4;
            let (i1, i2, i3, i4) = (idx(x1, y1), idx(x2, y1), idx(x1, y2), idx(x2, y2));
            for c in 0..4 {
                let p = |i: usize| f64::from(temp[i + c]);
                let top = p(i1) * (1.0 - wx) + p(i2) * wx;
                let bottom = p(i3) * (1.0 - wx) + p(i4) * wx;
                cv.px[di + c] = jsnum::clamp_u8(jsnum::round(top * (1.0 - wy) + bottom * wy));
            }
            dest_x += 1.0;
        }
        dest_y += 1.0;
    }
    g.scratch = temp;
}
