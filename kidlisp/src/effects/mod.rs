//! Buffer effects (KIDLISP.md §9), each on the current target buffer (or the
//! mask rectangle), following graph.mjs's CPU code paths — the ones AC's
//! conformance host runs (its WebGL2 versions differ, spin most of all).

mod blur;
mod misc;
mod spin;
mod tone;
mod transform;

pub(crate) use blur::blur;
pub(crate) use misc::{flip, noise, sharpen, shear, sort};
pub(crate) use spin::{SpinMaps, spin};
pub(crate) use tone::{brightness, contrast, invert};
pub(crate) use transform::{scroll, suck, zoom};

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

/// A copy of the buffer's bytes to read from while the buffer is rewritten, in the reusable
/// scratch buffer; give it back with `g.scratch = copy` when done.
pub(crate) fn snapshot(g: &mut Gfx, cv: &Canvas) -> Vec<u8> {
    let mut copy = std::mem::take(&mut g.scratch);
    copy.clear();
    copy.extend_from_slice(&cv.px);
    copy
}
