//! `blur n` (§9.4): accumulate; at 0.5 or more, a separable Gaussian with
//! radius ⌊acc⌋ (kernel capped at 15 taps, σ = ⌊n/2⌋/3), edges clamped.
//!
//! Each output channel is `0.0 + p₀·w₀ + p₁·w₁ + …` in f64, taps in kernel order, rounded with
//! `Math.round` after clamping, horizontal pass first, each pass's result stored as bytes. Away
//! from the edges the sums are taken in 2⁻²⁴ fixed point, tap by tap over whole rows, which gives
//! the same byte except for sums within a hair of a half; those are summed in f64 exactly as AC
//! does (`FixedWeights` says why this is exact).

use super::area;
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
    let fixed = FixedWeights::new(&weights);
    let (n, m) = (x1 - x0, y1 - y0);
    let row_bytes = cv.w * 4;
    let span = |y: usize| y * row_bytes + x0 * 4..y * row_bytes + x1 * 4;
    // The horizontal pass's bytes for the area, `n × m` pixels.
    let mut temp = std::mem::take(&mut g.scratch);
    temp.clear();
    temp.resize(n * m * 4, 0);
    // Pixels far enough from both ends that no tap is clamped.
    let (inner_lo, inner_hi) = (r.min(n), n.saturating_sub(r).max(r.min(n)));
    for y in 0..m {
        let src = &cv.px[span(y0 + y)];
        let out = &mut temp[y * n * 4..(y + 1) * n * 4];
        for x in (0..inner_lo).chain(inner_hi..n) {
            for c in 0..4 {
                let mut a = 0.0;
                for (k, &w) in weights.iter().enumerate() {
                    let sx = (x + k).saturating_sub(r).min(n - 1);
                    a += f64::from(src[sx * 4 + c]) * w;
                }
                out[x * 4 + c] = round_byte(a);
            }
        }
        if inner_hi > inner_lo {
            let mut taps: [&[u8]; 15] = [&[]; 15];
            for (k, tap) in taps[..size].iter_mut().enumerate() {
                *tap = &src[(inner_lo + k - r) * 4..(inner_hi + k - r) * 4];
            }
            convolve(
                &taps[..size],
                &weights,
                &fixed,
                &mut out[inner_lo * 4..inner_hi * 4],
            );
        }
    }
    // The vertical pass reads `size` rows of `temp` per output row.
    for y in 0..m {
        let mut taps: [&[u8]; 15] = [&[]; 15];
        for (k, tap) in taps[..size].iter_mut().enumerate() {
            let sy = (y + k).saturating_sub(r).min(m - 1);
            *tap = &temp[sy * n * 4..(sy + 1) * n * 4];
        }
        convolve(&taps[..size], &weights, &fixed, &mut cv.px[span(y0 + y)]);
    }
    g.scratch = temp;
    g.blur_acc = 0.0;
}

/// The kernel's weights as integers of 2^-24, for a sum that needs no floating point.
///
/// Why the bytes stay the same: with `Wₖ = round(wₖ·2²⁴)`, the integer sum `I = Σ pₖ·Wₖ` is
/// within `Σ pₖ·|Wₖ/2²⁴ − wₖ| ≤ 255 · 15 · 2⁻²⁵ < 1.2·10⁻⁴` of the exact `Σ pₖ·wₖ` (times 2²⁴),
/// and the f64 sum AC computes is within 10⁻¹² of the exact one. So unless `I/2²⁴` is within
/// `NEAR_HALF/2²⁴ ≈ 2.4·10⁻⁴` of a half, both round to the same whole number, which
/// `(I + 2²³) >> 24` is; those few values near a half are summed in f64 as before.
struct FixedWeights {
    weights: [u32; 15],
}

const FIXED_BITS: u32 = 24;
const FIXED_HALF: u32 = 1 << (FIXED_BITS - 1);
const FIXED_MASK: u32 = (1 << FIXED_BITS) - 1;
/// How close (in 2⁻²⁴) to a half a sum may be before the f64 sum decides; twice the bound above.
const NEAR_HALF: u32 = 4096;

impl FixedWeights {
    fn new(weights: &[f64]) -> Self {
        let mut fixed = [0u32; 15];
        for (f, &w) in fixed.iter_mut().zip(weights) {
            *f = (w * f64::from(1u32 << FIXED_BITS)).round() as u32;
        }
        Self { weights: fixed }
    }
}

/// `out[i] = round_byte(0.0 + taps[0][i]·w[0] + taps[1][i]·w[1] + …)`: summed in integers a
/// block at a time (so the sums vectorise), and in f64, in AC's order, for a sum near a half.
fn convolve(taps: &[&[u8]], weights: &[f64], fixed: &FixedWeights, out: &mut [u8]) {
    const BLOCK: usize = 64;
    let len = out.len();
    let mut acc = [0u32; BLOCK];
    let mut start = 0;
    while start < len {
        let count = (len - start).min(BLOCK);
        let acc = &mut acc[..count];
        acc.fill(0);
        for (tap, &w) in taps.iter().zip(&fixed.weights) {
            // p ≤ 255 and the weights sum to about 2²⁴, so no sum passes 2³².
            for (a, &p) in acc.iter_mut().zip(&tap[start..start + count]) {
                *a += u32::from(p) * w;
            }
        }
        for (j, &a) in acc.iter().enumerate() {
            out[start + j] = if (a & FIXED_MASK).abs_diff(FIXED_HALF) <= NEAR_HALF {
                let mut exact = 0.0;
                for (tap, &w) in taps.iter().zip(weights) {
                    exact += f64::from(tap[start + j]) * w;
                }
                round_byte(exact)
            } else {
                ((a + FIXED_HALF) >> FIXED_BITS).min(255) as u8
            };
        }
        start += count;
    }
}

/// `Math.round(clamp(v, 0, 255))` as a byte, without a branch on the fraction (it goes either
/// way at random and was most of a small blur's time). For v in [0.5, 255], `v + 0.5` is exact
/// or rounds without crossing a whole number (0.5 is a multiple of v's ulp, and so is every
/// `n − 0.5`), so its truncation is `floor(v + 0.5)`, which is `Math.round(v)`. Below 0.5 the
/// answer is 0; there `v + 0.5` alone would give 1 for 0.49999999999999994.
#[inline]
fn round_byte(v: f64) -> u8 {
    let v = v.clamp(0.0, 255.0);
    let t = if v < 0.5 { 0.0 } else { v + 0.5 };
    t as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsnum;

    /// The per-pixel blur this module replaced, kept as the reference.
    fn blur_reference(g: &mut Gfx, cv: &mut Canvas, strength: f64) {
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
                    let sx =
                        (x as i64 + k as i64 - r as i64).clamp(x0 as i64, x1 as i64 - 1) as usize;
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
                    let sy =
                        (y as i64 + k as i64 - r as i64).clamp(y0 as i64, y1 as i64 - 1) as usize;
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

    #[test]
    fn round_byte_is_math_round_clamped() {
        let mut state = 0x1234_5678_9abc_def1_u64;
        let check = |v: f64| {
            let want = jsnum::round(v.clamp(0.0, 255.0)) as u8;
            assert_eq!(round_byte(v), want, "{v:e}");
        };
        for v in [
            0.0,
            -0.0,
            0.5,
            0.49999999999999994,
            254.5,
            255.0,
            255.4,
            -3.0,
            1e9,
        ] {
            check(v);
        }
        for _ in 0..1_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = (state >> 11) as f64 / (1u64 << 53) as f64 * 270.0 - 5.0;
            let half = v.trunc() + 0.5;
            for x in [v, half, half.next_up(), half.next_down(), v.trunc()] {
                check(x);
            }
        }
    }

    #[test]
    fn blur_matches_the_per_pixel_reference() {
        let mut rng = crate::rng::Lcg::new(7);
        let sizes = [
            (1, 1),
            (1, 9),
            (9, 1),
            (2, 3),
            (17, 11),
            (40, 23),
            (64, 64),
            (120, 90),
        ];
        let strengths = [0.6, 1.0, 1.6, 2.0, 3.0, 5.0, 6.5, 7.0, 9.0, 40.0];
        let masks = [
            None,
            Some(crate::raster::Mask {
                x: 2.5,
                y: 1.0,
                w: 9.0,
                h: 30.0,
            }),
            Some(crate::raster::Mask {
                x: -3.0,
                y: -2.0,
                w: 6.0,
                h: 5.0,
            }),
        ];
        for &(w, h) in &sizes {
            for &s in &strengths {
                for mask in masks {
                    let mut cv = Canvas::new(w, h);
                    for p in cv.px.iter_mut() {
                        // Mostly noise, some flat runs (where sums meet halves more often).
                        let v = rng.below(300.0) as u32;
                        *p = if v >= 256 { 128 } else { v as u8 };
                    }
                    let mut g = Gfx::new(1);
                    g.mask = mask;
                    let (mut g2, mut cv2) = (g.clone(), cv.clone());
                    blur(&mut g, &mut cv, s);
                    blur_reference(&mut g2, &mut cv2, s);
                    assert_eq!(cv.px, cv2.px, "{w}x{h} blur {s} mask {mask:?}");
                }
            }
        }
    }
}
