//! Geometric effects: `scroll` (wrapping shift), `zoom` (nearest-neighbour,
//! toroidal) and `suck` (radial bilinear displacement); `spin` is in spin.rs.

use super::snapshot;
use crate::jsnum;
use crate::raster::{Canvas, Gfx};

/// The destination positions `min, min+1, …` below `max` that land inside
/// `[0, limit)` — a mask far larger than the buffer must not mean a long loop.
pub(super) fn visible(min: f64, max: f64, limit: f64) -> (f64, f64) {
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
    let (min_x, min_y, max_x, max_y) = g.area_bounds(cv, false);
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
            columns.push((dest_x as usize, final_x as usize));
        }
        dest_x += 1.0;
    }
    // Each visible row's source row, or None where the per-pixel test failed.
    let h = cv.hf();
    let mut rows: Vec<(usize, Option<usize>)> = Vec::with_capacity(cv.h);
    let mut dest_y = y_start;
    while dest_y < y_end {
        let src_y_base = (dest_y - anchor_y) * inv + anchor_y;
        let wrapped_y = ((src_y_base - min_y) % wh + wh) % wh + min_y;
        let nearest_y = jsnum::round(wrapped_y);
        let final_y = min_y + ((nearest_y - min_y) % wh + wh) % wh;
        if dest_y >= 0.0 && dest_y < h {
            let ok = final_y >= min_y && final_y < max_y && final_y >= 0.0 && final_y < h;
            rows.push((dest_y as usize, ok.then_some(final_y as usize)));
        }
        dest_y += 1.0;
    }
    let w = cv.w;
    let full = columns.len() == w && rows.len() == cv.h;
    // Columns whose sources are consecutive too, as runs `(first destination, first source,
    // length)` copied as one slice each (zooming by 1.1 repeats a column only every tenth).
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    for &(d, s) in &columns {
        match runs.last_mut() {
            Some((d0, s0, n)) if *d0 + *n == d && *s0 + *n == s => *n += 1,
            _ => runs.push((d, s, 1)),
        }
    }
    if full {
        // Every pixel of the buffer is written (columns and rows are each the whole range, in
        // order): build the result in the scratch buffer and swap, with no copy beforehand.
        let mut out = std::mem::take(&mut g.scratch);
        out.resize(cv.px.len(), 0);
        let (src, _) = cv.px.as_chunks::<4>();
        let (dst, _) = out.as_chunks_mut::<4>();
        for &(y, final_y) in &rows {
            let drow = &mut dst[y * w..][..w];
            match final_y {
                Some(fy) => {
                    let srow = &src[fy * w..][..w];
                    for &(d, s, n) in &runs {
                        drow[d..d + n].copy_from_slice(&srow[s..s + n]);
                    }
                }
                None => drow.copy_from_slice(&src[y * w..][..w]),
            }
        }
        std::mem::swap(&mut cv.px, &mut out);
        g.scratch = out;
        return;
    }
    let temp = snapshot(g, cv);
    let (src_px, _) = temp.as_chunks::<4>();
    let (px, _) = cv.px.as_chunks_mut::<4>();
    for &(y, final_y) in &rows {
        if let Some(fy) = final_y {
            let src = &src_px[fy * w..][..w];
            let dst = &mut px[y * w..][..w];
            for &(d, s, n) in &runs {
                dst[d..d + n].copy_from_slice(&src[s..s + n]);
            }
        }
    }
    g.scratch = temp;
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
    let (min_x, min_y, max_x, max_y) = g.area_bounds(cv, false);
    let (ww, wh) = (max_x - min_x, max_y - min_y);
    let (cx, cy) = center.unwrap_or((min_x + ww * 0.5, min_y + wh * 0.5));
    let amount = g.suck_acc.abs();
    let dir = if g.suck_acc > 0.0 { 1.0 } else { -1.0 };
    g.suck_acc = 0.0;
    let temp = snapshot(g, cv);
    let (cw, ch) = (cv.wf(), cv.hf());
    let (y_start, y_end) = visible(min_y, max_y, ch);
    let (x_start, x_end) = visible(min_x, max_x, cw);
    let mut dest_y = y_start;
    while dest_y < y_end {
        let mut dest_x = x_start;
        while dest_x < x_end {
            if !cv.contains(dest_x, dest_y) {
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
            if !(cv.contains(x1, y1) && cv.contains(x2, y2)) {
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
