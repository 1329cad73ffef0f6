//! Host-held pixels and bytes: the `media` capability.
//!
//! Captures never cross into the sandbox: a plugin holds handles to [`HostImage`] and [`HostBlob`]
//! and reads bytes only when it asks to.

mod binding;
pub mod encode;
mod image;
pub mod tape;

pub use image::{HostBlob, HostImage, ImageFormat};
