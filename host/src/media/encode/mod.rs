//! Streaming video encoders: frames go into one ffmpeg process, which writes MP4, WebM and GIF in
//! one pass, and into libwebp in-process for animated WebP (frames encoded on every core, then
//! muxed).
//!
//! - `format.rs`: [`VideoFormat`] and [`FrameKind`].
//! - `settings.rs`: [`EncodeSettings`], their checks and how quality maps onto each codec.
//! - `command.rs`: the ffmpeg command line and filter graph.
//! - `process.rs`: running ffmpeg (killed on drop, stderr drained in the background).
//! - `webp.rs`: animated WebP with libwebp (per-frame encodes in parallel, then the muxer).
//! - `encoder.rs`: [`VideoEncoder`] and [`EncodedVideo`].

mod command;
mod encoder;
mod format;
pub(crate) mod process;
mod settings;
#[cfg(test)]
pub(crate) mod testing;
mod webp;

pub use encoder::{EncodedVideo, VideoEncoder};
pub use format::{FrameKind, VideoFormat};
pub use settings::{EncodeSettings, MAX_FPS, MAX_SIDE, MIN_FPS};

pub(crate) use command::rational_parts;
