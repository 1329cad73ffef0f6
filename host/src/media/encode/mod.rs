//! Streaming video encoders: frames go into one ffmpeg process, which writes every requested
//! format (MP4, WebM, animated WebP, GIF) in one pass.
//!
//! - `format.rs`: [`VideoFormat`] and [`FrameKind`].
//! - `settings.rs`: [`EncodeSettings`], their checks and how quality maps onto each codec.
//! - `command.rs`: the ffmpeg command line and filter graph.
//! - `process.rs`: running ffmpeg (killed on drop, stderr drained in the background).
//! - `encoder.rs`: [`VideoEncoder`] and [`EncodedVideo`].

mod command;
mod encoder;
mod format;
pub(crate) mod process;
mod settings;
#[cfg(test)]
pub(crate) mod testing;

pub use encoder::{EncodedVideo, VideoEncoder};
pub use format::{FrameKind, VideoFormat};
pub use settings::{EncodeSettings, MAX_FPS, MAX_SIDE, MIN_FPS};

pub(crate) use command::rational_parts;
