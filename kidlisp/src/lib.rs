//! KidLisp — aesthetic.computer's drawing language — as a library.
//!
//! [`Program::parse`] reads source text; a [`Renderer`] runs it frame by
//! frame on a persistent RGBA canvas with a software rasteriser that follows
//! aesthetic.computer's CPU code paths closely enough that the `pixels-v1`
//! conformance fixtures match byte for byte. Everything is deterministic: the
//! same program, size, options and events give the same bytes. No I/O, no
//! threads, no system time, so it builds for `wasm32-unknown-unknown`.
//!
//! ```
//! use kidlisp::{Options, Program, Renderer};
//! let program = Program::parse("(wipe navy) (ink yellow) (circle 48 32 20)").unwrap();
//! let mut r = Renderer::new(&program, 96, 64, Options::default()).unwrap();
//! let rgba = r.render_frame(&[]).unwrap();
//! assert_eq!(rgba.len(), 96 * 64 * 4);
//! ```
//!
//! See `docs/kidlisp.md` for what is implemented and the limits.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Pixel code indexes RGBA channels by number on purpose; and a few raster
// functions keep graph.mjs's argument lists so they can be read side by side.
#![allow(clippy::needless_range_loop, clippy::too_many_arguments)]

mod color;
mod effects;
pub(crate) mod eval;
mod jsnum;
mod piece;
mod raster;
mod rng;
mod syntax;
mod text;
mod value;

pub use piece::{
    Event, Image, MAX_PIXELS, MAX_SIDE, Missing, Options, Program, Renderer, RuntimeError,
    SizeError,
};
pub use syntax::ParseError;
