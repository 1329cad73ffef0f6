//! `spin` (§9.3, the CPU `spinBlockBased`): a rigid rotation by whole degrees, nearest-neighbour,
//! wrapping around the area.
//!
//! Which source pixel each destination pixel takes depends only on the angle, the area, the
//! anchor and the buffer's size, and pieces spin by the same few angles frame after frame
//! (`spin 1` is one degree every frame). So in the usual case (whole-number area, sane anchor)
//! the mapping is worked out once into a [`SpinMaps`] entry and later frames only copy pixels
//! through it.

use super::{snapshot, transform::visible};
use crate::jsnum;
use crate::raster::{Canvas, Gfx};

/// Maps kept at once. Two cover a piece alternating between two angles (`$roz`'s 1.125 steps
/// give 1° and 2°); each costs 4 bytes per pixel.
const KEPT: usize = 2;

/// A destination pixel with no source (outside the buffer).
const NONE: u32 = u32::MAX;

/// Everything a whole-number spin's mapping depends on, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key([u64; 10]);

/// Recently used spin mappings, most recent last: for each destination pixel of the visible
/// area, row by row, the index of its source pixel or [`NONE`].
#[derive(Debug, Clone, Default)]
pub struct SpinMaps(Vec<(Key, Vec<u32>)>);

/// `spin steps [ax ay]`: steps accumulate and the floor is applied as a rigid rotation by that
/// many degrees about the area's centre (or the anchor).
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
    let (min_x, min_y, max_x, max_y) = g.area_bounds(cv, true);
    let (ww, wh) = (max_x - min_x, max_y - min_y);
    if !(ww > 0.0 && wh > 0.0) {
        return;
    }
    let (cx, cy) = anchor.unwrap_or((min_x + (ww / 2.0).floor(), min_y + (wh / 2.0).floor()));
    let rad = (k * std::f64::consts::PI) / 180.0;
    let (cos, sin) = (libm::cos(rad), libm::sin(rad));
    // Whole-number areas (no mask, or a mask on whole pixels) and an anchor below 1e6 take the
    // mapped path; anything else (fractional masks, NaN or huge anchors) the f64 one.
    let whole = |v: f64| v.fract() == 0.0 && v.abs() <= 1e6;
    if [min_x, min_y, ww, wh].into_iter().all(whole) && cx.abs() < 1e6 && cy.abs() < 1e6 {
        let key = Key([min_x, min_y, ww, wh, cx, cy, cos, sin]
            .map(f64::to_bits)
            .into_iter()
            .chain([cv.w as u64, cv.h as u64])
            .collect::<Vec<_>>()
            .try_into()
            .expect("ten values"));
        // Out of `g` while in use, so the scratch buffer can be borrowed too.
        let mut maps = std::mem::take(&mut g.spin_maps.0);
        match maps.iter().position(|(k, _)| *k == key) {
            Some(i) => {
                let hit = maps.remove(i);
                maps.push(hit);
            }
            None => {
                if maps.len() >= KEPT {
                    maps.remove(0);
                }
                let map = whole_map(cv, (min_x, min_y, ww, wh), (cx, cy), (cos, sin));
                maps.push((key, map));
            }
        }
        let (_, map) = maps.last().expect("just pushed");
        let area = (min_x, min_y, ww, wh);
        if visible_whole(cv, area) == Some([0, cv.w, 0, cv.h]) {
            // The map covers every pixel: build the result in the scratch buffer and swap,
            // with no copy beforehand (unmapped pixels keep their own value).
            let mut out = std::mem::take(&mut g.scratch);
            out.resize(cv.px.len(), 0);
            let (src, _) = cv.px.as_chunks::<4>();
            let (dst, _) = out.as_chunks_mut::<4>();
            for ((d, &s), own) in dst.iter_mut().zip(map).zip(src) {
                *d = if s == NONE { *own } else { src[s as usize] };
            }
            std::mem::swap(&mut cv.px, &mut out);
            g.scratch = out;
        } else {
            let temp = snapshot(g, cv);
            apply(cv, &temp, area, map);
            g.scratch = temp;
        }
        g.spin_maps.0 = maps;
    } else {
        let temp = snapshot(g, cv);
        spin_f64(
            cv,
            &temp,
            (min_x, min_y, max_x, max_y),
            (cx, cy),
            (cos, sin),
        );
        g.scratch = temp;
    }
}

/// The visible part `[x0, x1) × [y0, y1)` of a whole-number area, or None when empty. The
/// f64 loops ran from `visible`'s start while below its end, which for whole numbers is this.
fn visible_whole(cv: &Canvas, (min_x, min_y, ww, wh): (f64, f64, f64, f64)) -> Option<[usize; 4]> {
    let (x0, x1) = (min_x.max(0.0) as usize, (min_x + ww).min(cv.wf()) as usize);
    let (y0, y1) = (min_y.max(0.0) as usize, (min_y + wh).min(cv.hf()) as usize);
    (x0 < x1 && y0 < y1).then_some([x0, x1, y0, y1])
}

/// The mapping of a whole-number spin: the same f64 products and sums as [`spin_f64`], rounded
/// with [`jsnum::round_small`], and the wrap `min + ((s − min) % size + size) % size` done on
/// integers, where it is exact (every value is a whole number far below 2^53, so the f64 `%`
/// and `+` never rounded). The clamp to `max − 1` after the wrap never changed a whole number,
/// and the destination is always inside the buffer (the loops run over the visible part only).
fn whole_map(
    cv: &Canvas,
    area @ (min_x, min_y, ww, wh): (f64, f64, f64, f64),
    (cx, cy): (f64, f64),
    (cos, sin): (f64, f64),
) -> Vec<u32> {
    let Some([x0, x1, y0, y1]) = visible_whole(cv, area) else {
        return Vec::new();
    };
    let (mx, my, iw, ih) = (min_x as i64, min_y as i64, ww as i64, wh as i64);
    let (cw, ch) = (cv.w as i64, cv.h as i64);
    // dx·cos and −dx·sin depend on the column only.
    let columns: Vec<(f64, f64)> = (x0..x1)
        .map(|x| {
            let dx = x as f64 - cx;
            (dx * cos, -dx * sin)
        })
        .collect();
    let mut map = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for y in y0..y1 {
        let dy = y as f64 - cy;
        let (ryx, ryy) = (dy * sin + cx, dy * cos + cy);
        map.extend(columns.iter().map(|&(xc, xs)| {
            let sx = wrap(jsnum::round_small(xc + ryx) - mx, iw) + mx;
            let sy = wrap(jsnum::round_small(xs + ryy) - my, ih) + my;
            if sx >= 0 && sx < cw && sy >= 0 && sy < ch {
                (sy * cw + sx) as u32
            } else {
                NONE
            }
        }));
    }
    map
}

/// Copy every mapped pixel from `temp` into the visible part of the area.
fn apply(cv: &mut Canvas, temp: &[u8], area: (f64, f64, f64, f64), map: &[u32]) {
    let Some([x0, x1, y0, y1]) = visible_whole(cv, area) else {
        return;
    };
    let (src, _) = temp.as_chunks::<4>();
    let (px, _) = cv.px.as_chunks_mut::<4>();
    for (y, sources) in (y0..y1).zip(map.chunks_exact(x1 - x0)) {
        for (d, &s) in px[y * cv.w + x0..y * cv.w + x1].iter_mut().zip(sources) {
            if s != NONE {
                *d = src[s as usize];
            }
        }
    }
}

/// `v.rem_euclid(n)` for n ≥ 1, without a division when v is within one period of the range
/// (nearly every pixel of a rotation: division is the slowest step of the loop otherwise).
#[inline]
fn wrap(v: i64, n: i64) -> i64 {
    if (0..n).contains(&v) {
        v
    } else if (-n..0).contains(&v) {
        v + n
    } else {
        v.rem_euclid(n)
    }
}

/// The rotation as graph.mjs computes it, in f64 throughout, for areas the integer path does
/// not cover.
fn spin_f64(
    cv: &mut Canvas,
    temp: &[u8],
    (min_x, min_y, max_x, max_y): (f64, f64, f64, f64),
    (cx, cy): (f64, f64),
    (cos, sin): (f64, f64),
) {
    let (ww, wh) = (max_x - min_x, max_y - min_y);
    let (y_start, y_end) = visible(min_y, max_y, cv.hf());
    let (x_start, x_end) = visible(min_x, max_x, cv.wf());
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
            if ok(sx, cv.wf()) && ok(sy, cv.hf()) && ok(dest_x, cv.wf()) && ok(dest_y, cv.hf()) {
                let si = (sy as usize * cv.w + sx as usize) * 4;
                let di = (dest_y as usize * cv.w + dest_x as usize) * 4;
                cv.px[di..di + 4].copy_from_slice(&temp[si..si + 4]);
            }
            dest_x += 1.0;
        }
        dest_y += 1.0;
    }
}
