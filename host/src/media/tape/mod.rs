//! Tapes: existing frames, optional per-frame timings and an optional WAV soundtrack, baked into
//! an MP4 and a thumbnail (the old `/bake` route).
//!
//! - `unzip.rs`: [`Tape`], [`TapeLimits`] and [`unzip`], reading a tape from a ZIP.
//! - `timing.rs`: `timing.json` and how durations become a constant frame rate.
//! - `wav.rs`: [`wav_duration`].
//! - `frames.rs`: frame sizes and decoding.
//! - `natural.rs`: natural name order (`frame2` before `frame10`).
//! - `bake.rs`: [`BakeSettings`], [`Baked`] and [`bake`].
//! - `settings.rs`: `[bake]`, the settings of the oven's `/bake` route.
//! - `thumbnail.rs`: the oven's thumbnail of a tape (its middle frame, as JPEG).

mod bake;
mod frames;
mod natural;
mod settings;
mod thumbnail;
mod timing;
mod unzip;
mod wav;

pub use bake::{BakeSettings, Baked, bake};
pub use settings::{BakeRouteSettings, check_settings};
pub use thumbnail::{OVEN_THUMBNAIL_QUALITY, middle_frame_thumbnail};
pub use timing::MAX_TIMED_FPS;
pub use unzip::{Tape, TapeLimits, unzip};
pub use wav::wav_duration;
