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

/// Most mappings kept at once: a piece spinning by a fractional step turns by a few whole
/// angles in turn (`$roz`'s ±1.125 steps give 1°, 2°, −1° and −2°).
const KEPT: usize = 8;

/// Most bytes the kept mappings take together (the least recently used go first). The plugin's
/// memory is bounded and a 4096² canvas is already 64 MiB.
const KEPT_BYTES: usize = 16 << 20;

/// Largest area (in pixels) whose mapping is kept: as a plain map it costs 4 bytes per pixel,
/// so one takes at most half of [`KEPT_BYTES`]. Larger spins work the mapping out row by row
/// every time, in memory for one row.
const MAX_KEPT_PIXELS: usize = 1 << 21;

/// A destination pixel with no source (outside the buffer).
const NONE: u32 = u32::MAX;

/// Everything a whole-number spin's mapping depends on, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key([u64; 10]);

/// Recently used spin mappings, most recent last.
#[derive(Debug, Clone, Default)]
pub struct SpinMaps(Vec<(Key, Kept)>);

/// A kept mapping: for each destination pixel of the visible area, row by row, the index of its
/// source pixel (or [`NONE`]); as runs where that is smaller.
#[derive(Debug, Clone)]
enum Kept {
    Map(Vec<u32>),
    Runs(Runs),
}

/// A mapping as runs of destination pixels whose sources are consecutive pixels (or all
/// [`NONE`]), each copied as one slice: a small rotation moves dozens of pixels side by side.
#[derive(Debug, Clone, Default)]
struct Runs {
    /// Where each visible row's runs start in `runs`, and where the last one's end.
    rows: Vec<u32>,
    /// `[first column from x0, first source index or NONE, length]`.
    runs: Vec<[u32; 3]>,
}

impl Kept {
    /// Bytes it takes.
    fn bytes(&self) -> usize {
        match self {
            Kept::Map(map) => map.len() * 4,
            Kept::Runs(runs) => runs.rows.len() * 4 + runs.runs.len() * 12,
        }
    }
}

impl Runs {
    fn new(map: &[u32], width: usize) -> Runs {
        let mut runs = Runs {
            rows: vec![0],
            runs: Vec::new(),
        };
        for sources in map.chunks_exact(width) {
            let mut i = 0;
            while i < width {
                let s = sources[i];
                let mut n = 1;
                while i + n < width && sources[i + n] == if s == NONE { NONE } else { s + n as u32 }
                {
                    n += 1;
                }
                runs.runs.push([i as u32, s, n as u32]);
                i += n;
            }
            runs.rows.push(runs.runs.len() as u32);
        }
        runs
    }

    /// The runs of the k-th visible row.
    fn row(&self, k: usize) -> &[[u32; 3]] {
        &self.runs[self.rows[k] as usize..self.rows[k + 1] as usize]
    }
}

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
    // integer path; anything else (fractional masks, NaN or huge anchors) the f64 one.
    let whole = |v: f64| v.fract() == 0.0 && v.abs() <= 1e6;
    if !([min_x, min_y, ww, wh].into_iter().all(whole) && cx.abs() < 1e6 && cy.abs() < 1e6) {
        let temp = snapshot(g, cv);
        spin_f64(
            cv,
            &temp,
            (min_x, min_y, max_x, max_y),
            (cx, cy),
            (cos, sin),
        );
        g.scratch = temp;
        return;
    }
    let Some(rotation) = Rotation::new(cv, (min_x, min_y, ww, wh), (cx, cy), (cos, sin)) else {
        return;
    };
    // Out of `g` while in use, so the scratch buffer can be borrowed too.
    let mut maps = std::mem::take(&mut g.spin_maps.0);
    let width = rotation.x1 - rotation.x0;
    if width * (rotation.y1 - rotation.y0) <= MAX_KEPT_PIXELS {
        let key = Key([
            min_x.to_bits(),
            min_y.to_bits(),
            ww.to_bits(),
            wh.to_bits(),
            cx.to_bits(),
            cy.to_bits(),
            cos.to_bits(),
            sin.to_bits(),
            cv.w as u64,
            cv.h as u64,
        ]);
        match maps.iter().position(|(k, _)| *k == key) {
            Some(i) => {
                let hit = maps.remove(i);
                maps.push(hit);
            }
            None => {
                let mut map = Vec::with_capacity(width * (rotation.y1 - rotation.y0));
                for y in rotation.y0..rotation.y1 {
                    rotation.row(y, &mut map);
                }
                let runs = Runs::new(&map, width);
                // Runs take 12 bytes each: kept only when they take less than the map.
                let kept = if runs.runs.len() * 3 <= map.len() {
                    Kept::Runs(runs)
                } else {
                    Kept::Map(map)
                };
                maps.push((key, kept));
                while maps.len() > 1
                    && (maps.len() > KEPT
                        || maps.iter().map(|(_, k)| k.bytes()).sum::<usize>() > KEPT_BYTES)
                {
                    maps.remove(0);
                }
            }
        }
        let (_, kept) = maps.last().expect("just pushed");
        rotation.apply(g, cv, Some(kept));
    } else {
        rotation.apply(g, cv, None);
    }
    g.spin_maps.0 = maps;
}

/// A whole-number spin: the area's visible part `[x0, x1) × [y0, y1)` and what the mapping of
/// its pixels needs.
struct Rotation {
    x0: usize,
    x1: usize,
    y0: usize,
    y1: usize,
    /// The area's corner and size, and the buffer's size, as integers.
    min: (i64, i64),
    size: (i64, i64),
    buffer: (i64, i64),
    anchor: (f64, f64),
    cos: f64,
    sin: f64,
    /// Whether the visible part is the whole buffer. Then the result is built in a separate
    /// buffer, and a pixel without a source maps to itself (it keeps its value).
    full: bool,
    /// dx·cos and −dx·sin of each visible column (they depend on the column only).
    columns: Vec<(f64, f64)>,
}

impl Rotation {
    /// None when no pixel of the area is on the buffer. The f64 loops ran from `visible`'s
    /// start while below its end, which for whole numbers is `[max(min, 0), min(max, size))`.
    fn new(
        cv: &Canvas,
        (min_x, min_y, ww, wh): (f64, f64, f64, f64),
        (cx, cy): (f64, f64),
        (cos, sin): (f64, f64),
    ) -> Option<Rotation> {
        let (x0, x1) = (min_x.max(0.0) as usize, (min_x + ww).min(cv.wf()) as usize);
        let (y0, y1) = (min_y.max(0.0) as usize, (min_y + wh).min(cv.hf()) as usize);
        if x0 >= x1 || y0 >= y1 {
            return None;
        }
        let columns = (x0..x1)
            .map(|x| {
                let dx = x as f64 - cx;
                (dx * cos, -dx * sin)
            })
            .collect();
        Some(Rotation {
            x0,
            x1,
            y0,
            y1,
            min: (min_x as i64, min_y as i64),
            size: (ww as i64, wh as i64),
            buffer: (cv.w as i64, cv.h as i64),
            anchor: (cx, cy),
            cos,
            sin,
            full: [x0, x1, y0, y1] == [0, cv.w, 0, cv.h],
            columns,
        })
    }

    /// Append row y's source pixel indices ([`NONE`] for none, or the pixel's own index when
    /// [`Rotation::full`]) to `out`: the same f64
    /// products and sums as [`spin_f64`], rounded with [`jsnum::round_small`], and the wrap
    /// `min + ((s − min) % size + size) % size` done on integers, where it is exact (every value
    /// is a whole number far below 2^53, so the f64 `%` and `+` never rounded). The clamp to
    /// `max − 1` after the wrap never changed a whole number, and the destination is always on
    /// the buffer (rows and columns are the visible ones only).
    fn row(&self, y: usize, out: &mut Vec<u32>) {
        let ((mx, my), (iw, ih), (cw, ch)) = (self.min, self.size, self.buffer);
        let (cx, cy) = self.anchor;
        let dy = y as f64 - cy;
        let (ryx, ryy) = (dy * self.sin + cx, dy * self.cos + cy);
        let first = (y * self.buffer.0 as usize + self.x0) as u32;
        out.extend(self.columns.iter().zip(first..).map(|(&(xc, xs), own)| {
            let sx = wrap(jsnum::round_small(xc + ryx) - mx, iw) + mx;
            let sy = wrap(jsnum::round_small(xs + ryy) - my, ih) + my;
            if sx >= 0 && sx < cw && sy >= 0 && sy < ch {
                (sy * cw + sx) as u32
            } else if self.full {
                own
            } else {
                NONE
            }
        }));
    }

    /// Move the pixels: through the kept mapping when given, otherwise working each row's
    /// indices out as it goes.
    fn apply(&self, g: &mut Gfx, cv: &mut Canvas, kept: Option<&Kept>) {
        let (w, width) = (cv.w, self.x1 - self.x0);
        let mut buffer = Vec::new();
        // Copy row y's pixels from `src` into `dst` (the row's visible part).
        let mut move_row = |y: usize, src: &[[u8; 4]], dst: &mut [[u8; 4]]| {
            let k = y - self.y0;
            let sources = match kept {
                Some(Kept::Runs(runs)) => {
                    for &[d, s, n] in runs.row(k) {
                        if s != NONE {
                            let (d, s, n) = (d as usize, s as usize, n as usize);
                            dst[d..d + n].copy_from_slice(&src[s..s + n]);
                        }
                    }
                    return;
                }
                Some(Kept::Map(map)) => &map[k * width..(k + 1) * width],
                None => {
                    buffer.clear();
                    self.row(y, &mut buffer);
                    &buffer[..]
                }
            };
            for (d, &s) in dst.iter_mut().zip(sources) {
                if s != NONE {
                    *d = src[s as usize];
                }
            }
        };
        if self.full {
            // Every pixel of the buffer has a source (maybe itself): build the result in the
            // scratch buffer and swap, with no copy beforehand.
            let mut out = std::mem::take(&mut g.scratch);
            out.resize(cv.px.len(), 0);
            let (src, _) = cv.px.as_chunks::<4>();
            let (dst, _) = out.as_chunks_mut::<4>();
            for y in 0..cv.h {
                move_row(y, src, &mut dst[y * w..(y + 1) * w]);
            }
            std::mem::swap(&mut cv.px, &mut out);
            g.scratch = out;
        } else {
            let temp = snapshot(g, cv);
            let (src, _) = temp.as_chunks::<4>();
            let (px, _) = cv.px.as_chunks_mut::<4>();
            for y in self.y0..self.y1 {
                move_row(y, src, &mut px[y * w + self.x0..y * w + self.x1]);
            }
            g.scratch = temp;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::Mask;

    fn noise_canvas(w: usize, h: usize, seed: u32) -> Canvas {
        let mut rng = crate::rng::Lcg::new(seed);
        let mut cv = Canvas::new(w, h);
        for p in cv.px.iter_mut() {
            *p = rng.below(256.0) as u8;
        }
        cv
    }

    /// The whole-number path, through a kept map and row by row, against the f64 loop.
    #[test]
    fn whole_number_spins_match_the_f64_loop() {
        let masks = [
            None,
            Some(Mask {
                x: 3.0,
                y: 2.0,
                w: 20.0,
                h: 15.0,
            }),
            Some(Mask {
                x: -5.0,
                y: -4.0,
                w: 60.0,
                h: 50.0,
            }),
            Some(Mask {
                x: 30.0,
                y: 1.0,
                w: 40.0,
                h: 9.0,
            }),
        ];
        let anchors = [
            None,
            Some((10.5, 7.0)),
            Some((-3.25, 40.75)),
            Some((0.0, 0.0)),
        ];
        let mut case = 0;
        for (w, h) in [(37, 23), (24, 24), (1, 5)] {
            for mask in masks {
                for anchor in anchors {
                    for k in [1.0, -1.0, 2.0, 45.0, 90.0, 180.0, 270.0, 359.0, 1000.0] {
                        case += 1;
                        let original = noise_canvas(w, h, case);
                        let mut g = Gfx::new(1);
                        g.mask = mask;
                        g.pan = (1.0, -2.0);
                        let (min_x, min_y, max_x, max_y) = g.area_bounds(&original, true);
                        let (ww, wh) = (max_x - min_x, max_y - min_y);
                        let (cx, cy) = anchor
                            .unwrap_or((min_x + (ww / 2.0).floor(), min_y + (wh / 2.0).floor()));
                        let rad = (k * std::f64::consts::PI) / 180.0;
                        let (cos, sin) = (libm::cos(rad), libm::sin(rad));
                        let mut want = original.clone();
                        let bounds = (min_x, min_y, max_x, max_y);
                        spin_f64(&mut want, &original.px, bounds, (cx, cy), (cos, sin));
                        let area = (min_x, min_y, ww, wh);
                        let Some(r) = Rotation::new(&original, area, (cx, cy), (cos, sin)) else {
                            assert_eq!(want, original, "case {case}: nothing visible");
                            continue;
                        };
                        let mut map = Vec::new();
                        for y in r.y0..r.y1 {
                            r.row(y, &mut map);
                        }
                        let runs = Kept::Runs(Runs::new(&map, r.x1 - r.x0));
                        let map = Kept::Map(map);
                        for (kept, how) in
                            [(Some(&map), "map"), (Some(&runs), "runs"), (None, "rows")]
                        {
                            let mut got = original.clone();
                            r.apply(&mut g, &mut got, kept);
                            assert_eq!(got, want, "case {case} ({how}): {w}x{h} {mask:?} {k}°");
                        }
                    }
                }
            }
        }
    }
}
