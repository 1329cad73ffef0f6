//! `flood` (KIDLISP.md §8.6): 4-connected fill of pixels exactly equal to the
//! seed pixel, painted through `plot`; a transparent seed fills nothing.

use super::blend::plot;
use super::{Canvas, Gfx};

/// Fill from `(x, y)` with the current ink (the caller sets it).
pub(crate) fn flood(g: &mut Gfx, cv: &mut Canvas, x: f64, y: f64) {
    if !(x >= 0.0 && y >= 0.0 && x < cv.wf() && y < cv.hf()) {
        return;
    }
    let (x, y) = (x.floor() as usize, y.floor() as usize);
    let i = (x + y * cv.w) * 4;
    let target: [u8; 4] = cv.px[i..i + 4].try_into().expect("4 bytes");
    if target[3] == 0 {
        return;
    }
    let mut visited = vec![false; cv.w * cv.h];
    let mut stack = vec![(x, y)];
    while let Some((cx, cy)) = stack.pop() {
        let idx = cy * cv.w + cx;
        if visited[idx] {
            continue;
        }
        visited[idx] = true;
        if cv.px[idx * 4..idx * 4 + 4] == target {
            plot(g, cv, cx as f64, cy as f64);
            if cx + 1 < cv.w {
                stack.push((cx + 1, cy));
            }
            if cx > 0 {
                stack.push((cx - 1, cy));
            }
            if cy + 1 < cv.h {
                stack.push((cx, cy + 1));
            }
            if cy > 0 {
                stack.push((cx, cy - 1));
            }
        }
    }
}
