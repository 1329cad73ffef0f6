//! Buffer effects (KIDLISP.md §9), each on the current target buffer (or the
//! mask rectangle), following graph.mjs's CPU code paths — the ones AC's
//! conformance host runs (its WebGL2 versions differ, spin most of all).

mod blur;
mod misc;
mod tone;
mod transform;

pub(crate) use blur::blur;
pub(crate) use misc::{flip, noise, sharpen, shear, sort};
pub(crate) use tone::{brightness, contrast, invert};
pub(crate) use transform::{scroll, spin, suck, zoom};

use crate::raster::{Canvas, Gfx};

/// The working rectangle `[min_x, max_x) × [min_y, max_y)`, clamped to the
/// buffer, with the mask offset by the pan (as the mask-aware effects do).
pub(crate) fn area(g: &Gfx, cv: &Canvas, with_pan: bool) -> (usize, usize, usize, usize) {
    let (w, h) = (cv.wf(), cv.hf());
    match g.mask {
        None => (0, 0, cv.w, cv.h),
        Some(m) => {
            let (px, py) = if with_pan { g.pan } else { (0.0, 0.0) };
            let c = |v: f64, hi: f64| v.clamp(0.0, hi) as usize;
            (
                c((m.x + px).floor(), w),
                c((m.y + py).floor(), h),
                c((m.x + m.w + px).floor(), w),
                c((m.y + m.h + py).floor(), h),
            )
        }
    }
}
