//! `kiln-sdk`: the one crate a Kiln plugin author depends on.
//!
//! A plugin is a WebAssembly component built for `wasm32-wasip2` that exports the
//! `kiln:render/plugin@1.4.0` world. This crate hides the WIT plumbing: implement [`Plugin`] for a
//! type whose `Input` derives `serde::Deserialize` and `schemars::JsonSchema`, call
//! [`export_plugin!`], and the host gets a `describe` with your input's JSON Schema and a `run`
//! that hands you parsed, typed input.
//!
//! ```ignore
//! use kiln_sdk::prelude::*;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! #[serde(deny_unknown_fields)]
//! struct Input { text: String }
//!
//! struct Card;
//! impl Plugin for Card {
//!     type Input = Input;
//!     const NAME: &'static str = "card";
//!     const VERSION: &'static str = env!("CARGO_PKG_VERSION");
//!     const SUMMARY: &'static str = "Renders a text card";
//!     const CAPABILITIES: &'static [Capability] = &[Capability::Browser, Capability::Storage];
//!     fn run(job: &JobContext, input: Input) -> Result<Vec<Artifact>, Error> { todo!() }
//! }
//! kiln_sdk::export_plugin!(Card);
//! ```

#![warn(missing_docs)]

pub mod bindings;
pub mod date;
mod error;
pub mod p5;
mod plugin;
pub mod size;
pub mod template;

pub use bindings::Capability;
pub use bindings::kiln::render::types::{Artifact, Error, ErrorKind, ImageFormat};
pub use bindings::kiln::render::{
    about, browser, host, libraries, media, pixels, recording, sources, storage,
};
pub use plugin::{JobContext, Plugin, describe, run};

/// Re-exported so the [`export_plugin!`] macro can name them from the author's crate.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::{Guest, Job, PluginInfo, export_bindings};
}

/// Everything a typical plugin uses, in one `use`.
pub mod prelude {
    pub use crate::browser::{
        self, CaptureOptions, CaptureSource, Page, PageOptions, RecordOptions,
    };
    pub use crate::host::{self, LogLevel};
    pub use crate::media::{Blob, EncodeOptions, Frames, Image, VideoFormat};
    pub use crate::pixels::{self, EncoderOptions, FrameEncoder};
    pub use crate::{Artifact, Capability, Error, ErrorKind, ImageFormat, JobContext, Plugin};
    pub use crate::{storage, template};
}
