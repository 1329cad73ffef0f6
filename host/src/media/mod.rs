//! Host-held pixels and bytes: the `media` capability.
//!
//! Captures never cross into the sandbox: a plugin holds handles to [`HostImage`] and [`HostBlob`]
//! and reads bytes only when it asks to.

mod binding;
mod image;

pub use image::{HostBlob, HostImage, ImageFormat};
