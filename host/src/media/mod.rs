//! Host-held pixels, bytes and encoders: the `media` capability.
//!
//! Captures never cross into the sandbox: a plugin holds handles to [`HostImage`], [`HostBlob`]
//! and [`HostFrames`] and reads bytes only when it asks to.
//!
//! - [`encode`]: a stream of frames into MP4, WebM and GIF (one ffmpeg process) and animated WebP
//!   (libwebp, in-process).
//! - [`tape`]: baking existing frames (a ZIP or stored objects), timings and a soundtrack.
//! - `frames.rs`: what a recording or a tape left behind (the `frames` resource).
//! - `pixels.rs`: frames a plugin drew itself, made into stills or streamed into the encoders.

mod binding;
mod context;
pub mod encode;
mod frames;
mod image;
mod pixels;
pub mod tape;

pub use context::{MediaAccess, MediaCtx, MediaView, ObjectReader};
pub use frames::HostFrames;
pub use image::{HostBlob, HostImage, ImageFormat};
pub use pixels::{
    FrameEncoderOptions, HostFrameEncoder, MAX_SCALE as MAX_PIXELS_SCALE, encode_rgba,
};
