//! Kiln: a render host for creative code.
//!
//! One process owns the scarce and dangerous parts — the Chromium pool, encoders, object storage —
//! and every job type is a sandboxed WebAssembly component that reaches them only through the
//! `kiln:render` WIT interfaces. Each folder below is one capability, holding both its runtime and
//! its side of the WIT binding:
//!
//! - [`plugins`]: the wasmtime engine, compiled-component cache, registry and per-job limits;
//! - [`browser`]: the Chromium pool, offline pages and the `browser` interface;
//! - [`media`]: host-held images and blobs (the `media` interface);
//! - [`storage`]: the artifact store (the `storage` interface);
//! - [`jobs`]: job envelopes, the runner, outcomes and the `host` interface;
//! - [`cli`]: the `kiln` command line.

pub mod api;
pub mod browser;
pub mod cli;
pub mod config;
pub mod contract;
pub mod error;
pub mod jobs;
pub mod kiln;
pub mod media;
pub mod plugins;
pub mod queue;
pub mod runner;
pub mod service;
pub mod storage;

#[cfg(test)]
mod layering;

pub use config::Config;
pub use error::{ErrorKind, RenderError};
pub use kiln::Kiln;
