//! Drawing for Kiln's card plugins (`kidlisp-og`, `notepat-og`): a 2D canvas with anti-aliased
//! shapes, gradients and text from embedded fonts, a Gaussian blur, and the resampling the cards
//! need to place piece captures. No browser, no system fonts at run time, no clock: the same
//! calls give the same bytes on every machine and target (it builds for `wasm32-wasip2`).
//!
//! Shapes, gradients and compositing are [`tiny_skia`]'s; glyph outlines and metrics are read
//! with [`ttf_parser`] from fonts embedded at build time ([`fonts`]; see `docs/cards.md` for
//! where they come from and their licences).

pub mod blur;
pub mod canvas;
pub mod fonts;
pub mod rgba;
pub mod text;

pub use canvas::{Canvas, hex, rgb, rgba};
pub use rgba::Rgba;
pub use text::{Anchor, Font, TextStyle};
pub use tiny_skia::{Color, Point};
