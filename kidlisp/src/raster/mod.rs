//! The software rasteriser: an RGBA byte buffer with straight alpha and the
//! graph.mjs drawing state (ink, blend mode, mask, pan, effect accumulators).
//! Pixel rules follow KIDLISP.md §6.6 and §8, with JS arithmetic throughout.

mod blend;
mod flood;
mod line;
mod paste;
mod shapes;

pub(crate) use blend::{plot, point};
pub(crate) use flood::flood;
pub(crate) use line::line;
pub(crate) use paste::{composite_layer, paste, paste_image};
pub(crate) use shapes::{box_, circle, oval, shape, tri};

use crate::color::fade::{self, Fade};
use crate::color::{Cycles, Found};
use crate::jsnum;
use crate::rng::Lcg;

/// An RGBA image, row-major, top row first, straight alpha.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canvas {
    /// Width in pixels.
    pub w: usize,
    /// Height in pixels.
    pub h: usize,
    /// `w * h * 4` bytes.
    pub px: Vec<u8>,
}

impl Canvas {
    /// A transparent canvas.
    pub fn new(w: usize, h: usize) -> Self {
        Canvas {
            w,
            h,
            px: vec![0; w * h * 4],
        }
    }

    pub(crate) fn wf(&self) -> f64 {
        self.w as f64
    }

    pub(crate) fn hf(&self) -> f64 {
        self.h as f64
    }

    /// Whether the point lies on the buffer (false for NaN).
    pub(crate) fn contains(&self, x: f64, y: f64) -> bool {
        x >= 0.0 && y >= 0.0 && x < self.wf() && y < self.hf()
    }
}

/// The current ink, as graph.mjs's `c` holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ink {
    /// Floored channels; `-1,-1,-1` marks erase.
    Solid([f64; 4]),
    /// A gradient string with its alpha.
    Fade(String, f64),
}

impl Ink {
    /// Channels as the raw-array code paths see them: a fade ink reads as
    /// `[NaN→0, alpha, 0, 255]`, exactly what storing AC's `c` gives.
    pub(crate) fn channels(&self) -> [f64; 4] {
        match self {
            Ink::Solid(c) => *c,
            Ink::Fade(_, a) => [f64::NAN, *a, 0.0, 255.0],
        }
    }

    pub(crate) fn is_erase(&self) -> bool {
        matches!(self, Ink::Solid(c) if c[0] == -1.0 && c[1] == -1.0 && c[2] == -1.0)
    }
}

/// `blend` or `erase` (graph.mjs's blending mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlendMode {
    /// Normal alpha blending.
    Blend,
    /// Multiply destination alpha down by the ink's alpha.
    Erase,
}

/// The mask rectangle (`mask x y w h`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mask {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

/// Module-level drawing state of graph.mjs, shared by every buffer, layer and
/// embed (KIDLISP.md §9: the effect accumulators are global).
#[derive(Debug, Clone)]
pub struct Gfx {
    /// Current ink.
    pub ink: Ink,
    /// Current blend mode.
    pub blend: BlendMode,
    /// Active mask.
    pub mask: Option<Mask>,
    /// `pan` translation.
    pub pan: (f64, f64),
    /// Fractional scroll carried between calls.
    pub scroll_acc: (f64, f64),
    /// Fractional spin carried between calls.
    pub spin_acc: f64,
    /// Small zoom steps carried between calls.
    pub zoom_acc: f64,
    /// Suck strength carried between calls.
    pub suck_acc: f64,
    /// Blur strength carried between calls.
    pub blur_acc: f64,
    /// `rainbow`/`zebra` state.
    pub cycles: Cycles,
    /// Stands in for `Math.random` where AC uses it (unseeded in the browser):
    /// seeded here too, so a render is a pure function of its inputs.
    pub host: Lcg,
    /// Per-pixel erase amounts recorded while erasing on a bake layer.
    pub erase_target: Option<Vec<u8>>,
    /// The effects' copy of the buffer they read from, kept between calls: a fresh allocation
    /// of a whole canvas per effect per frame costs page faults and zeroing every time.
    pub scratch: Vec<u8>,
    /// `spin`'s recently used pixel mappings.
    pub spin_maps: crate::effects::SpinMaps,
}

impl Gfx {
    /// Fresh state; `host_seed` seeds the stand-in for `Math.random`.
    pub fn new(host_seed: u32) -> Self {
        Gfx {
            ink: Ink::Solid([255.0; 4]),
            blend: BlendMode::Blend,
            mask: None,
            pan: (0.0, 0.0),
            scroll_acc: (0.0, 0.0),
            spin_acc: 0.0,
            zoom_acc: 0.0,
            suck_acc: 0.0,
            blur_acc: 0.0,
            cycles: Cycles::default(),
            host: Lcg::new(host_seed),
            erase_target: None,
            scratch: Vec::new(),
            spin_maps: Default::default(),
        }
    }

    /// graph.mjs `color(...)`: set the ink from resolved channels (floored).
    pub(crate) fn set_color(&mut self, found: &Found) {
        self.ink = match found {
            Found::Fade(s, a) => {
                Ink::Fade(s.clone(), if *a == 0.0 || a.is_nan() { 255.0 } else { *a })
            }
            Found::Channels(c) => {
                let g = |i: usize, d: f64| c.get(i).copied().unwrap_or(d).floor();
                Ink::Solid([g(0, f64::NAN), g(1, f64::NAN), g(2, f64::NAN), g(3, 255.0)])
            }
        };
    }

    /// `setColor(r, g, b, a)` with already-known channels.
    pub(crate) fn set_rgba(&mut self, c: [f64; 4]) {
        self.ink = Ink::Solid([c[0].floor(), c[1].floor(), c[2].floor(), c[3].floor()]);
    }

    /// The area `(min_x, min_y, max_x, max_y)` that `clear` and the geometric effects work on:
    /// the whole buffer, or the mask rectangle unclamped (offset by the pan where `with_pan`).
    pub(crate) fn area_bounds(&self, cv: &Canvas, with_pan: bool) -> (f64, f64, f64, f64) {
        match self.mask {
            None => (0.0, 0.0, cv.wf(), cv.hf()),
            Some(m) if with_pan => {
                let (px, py) = self.pan;
                (m.x + px, m.y + py, m.x + m.w + px, m.y + m.h + py)
            }
            Some(m) => (m.x, m.y, m.x + m.w, m.y + m.h),
        }
    }

    /// The current ink as a gradient, if it is one.
    pub(crate) fn fade(&self) -> Option<Fade> {
        match &self.ink {
            Ink::Fade(s, a) => fade::parse(s, *a),
            Ink::Solid(_) => None,
        }
    }
}

/// graph.mjs `clear`: fill the buffer (or the mask) with the ink, gradient
/// included, by direct assignment; also resets the blur accumulator.
pub(crate) fn clear(g: &mut Gfx, cv: &mut Canvas) {
    g.blur_acc = 0.0;
    let (min_x, min_y, max_x, max_y) = g.area_bounds(cv, false);
    let w = cv.w as i64;
    let set = |cv: &mut Canvas, x: i64, y: i64, c: [f64; 4]| {
        if x < 0 || y < 0 || x >= w || y >= cv.h as i64 {
            return;
        }
        let i = ((x + y * w) * 4) as usize;
        for k in 0..4 {
            cv.px[i + k] = jsnum::clamp_u8(c[k]);
        }
    };
    if let Some(f) = g.fade() {
        let (x0, y0) = ((min_x as i64).max(0), (min_y as i64).max(0));
        let (x1, y1) = (
            (max_x as i64).min(cv.w as i64),
            (max_y as i64).min(cv.h as i64),
        );
        let plain: Option<Vec<[f64; 4]>> = f
            .stops
            .iter()
            .map(|s| match s {
                fade::Stop::Rgba(c) => Some(*c),
                _ => None,
            })
            .collect();
        if let (Some(stops), fade::Direction::Named(dir)) = (&plain, &f.direction) {
            let ww = (max_x - min_x).max(0.0);
            let hh = (max_y - min_y).max(0.0);
            let rev = dir.ends_with("-reverse");
            if dir.starts_with("vertical") {
                let max_t = (hh - 1.0).max(1.0);
                for y in y0..y1 {
                    let t = if rev {
                        (max_y - 1.0 - y as f64) / max_t
                    } else {
                        (y as f64 - min_y) / max_t
                    };
                    let c = fade::color_at_truncated(t, stops).map(jsnum::clamp_u8);
                    if x0 < x1 {
                        // [x0, x1) × [y0, y1) is inside the buffer: a row fill.
                        let row = (y * w + x0) as usize * 4..(y * w + x1) as usize * 4;
                        for p in cv.px[row].chunks_exact_mut(4) {
                            p.copy_from_slice(&c);
                        }
                    }
                }
                return;
            }
            if dir.starts_with("horizontal") {
                let max_t = (ww - 1.0).max(1.0);
                let lo = (-(min_x as i64)).max(0);
                let hi = (ww as i64).min(cv.w as i64 - min_x as i64);
                // Column min_x + x for x in [lo, hi) is inside the buffer, and so is every row
                // of [y0, y1): one row of colours, copied onto each row.
                if lo < hi && y0 < y1 {
                    let row: Vec<u8> = (lo..hi)
                        .flat_map(|x| {
                            let t = if rev {
                                (ww - 1.0 - x as f64) / max_t
                            } else {
                                x as f64 / max_t
                            };
                            fade::color_at_truncated(t, stops).map(jsnum::clamp_u8)
                        })
                        .collect();
                    let first = (min_x as i64 + lo) as usize * 4;
                    for y in y0..y1 {
                        let at = (y * w) as usize * 4 + first;
                        cv.px[at..at + row.len()].copy_from_slice(&row);
                    }
                }
                return;
            }
            if dir.starts_with("diagonal") {
                let (mtx, mty) = ((ww - 1.0).max(1.0), (hh - 1.0).max(1.0));
                for y in y0..y1 {
                    let dy = if rev {
                        (max_y - 1.0 - y as f64) / mty
                    } else {
                        (y as f64 - min_y) / mty
                    };
                    for x in x0..x1 {
                        let dx = if rev {
                            (max_x - 1.0 - x as f64) / mtx
                        } else {
                            (x as f64 - min_x) / mtx
                        };
                        set(cv, x, y, fade::color_at_truncated((dx + dy) * 0.5, stops));
                    }
                }
                return;
            }
        }
        for y in y0..y1 {
            for x in x0..x1 {
                let (xf, yf) = (x as f64, y as f64);
                let span = |a: f64, b: f64| (b - a).max(1.0);
                let t = match &f.direction {
                    fade::Direction::Angle(a) => {
                        fade::angle_position(xf, yf, min_x, min_y, max_x - 1.0, max_y - 1.0, *a)
                    }
                    fade::Direction::Named(d) => match d.as_str() {
                        "horizontal-reverse" => (max_x - 1.0 - xf) / span(min_x, max_x - 1.0),
                        "vertical" => (yf - min_y) / span(min_y, max_y - 1.0),
                        "vertical-reverse" => (max_y - 1.0 - yf) / span(min_y, max_y - 1.0),
                        "diagonal" => {
                            ((xf - min_x) / span(min_x, max_x - 1.0)
                                + (yf - min_y) / span(min_y, max_y - 1.0))
                                / 2.0
                        }
                        "diagonal-reverse" => {
                            ((max_x - 1.0 - xf) / span(min_x, max_x - 1.0)
                                + (max_y - 1.0 - yf) / span(min_y, max_y - 1.0))
                                / 2.0
                        }
                        _ => (xf - min_x) / span(min_x, max_x - 1.0),
                    },
                };
                let c = fade::color_at(t, &f, &mut g.cycles, &mut g.host);
                set(cv, x, y, c);
            }
        }
        return;
    }
    let c = g.ink.channels();
    let b = [
        jsnum::clamp_u8(c[0]),
        jsnum::clamp_u8(c[1]),
        jsnum::clamp_u8(c[2]),
        jsnum::clamp_u8(c[3]),
    ];
    if g.mask.is_none() {
        // One pixel, then the filled part copied onto the rest, doubling (memcpy-fast).
        if cv.px.len() >= 4 {
            cv.px[..4].copy_from_slice(&b);
            let mut filled = 4;
            while filled < cv.px.len() {
                let n = filled.min(cv.px.len() - filled);
                cv.px.copy_within(..n, filled);
                filled += n;
            }
        }
        return;
    }
    let (w, h) = (cv.w as i64, cv.h as i64);
    for y in (min_y as i64).max(0)..(max_y as i64).min(h) {
        for x in (min_x as i64).max(0)..(max_x as i64).min(w) {
            set(cv, x, y, c);
        }
    }
}
