//! The Chromium pool and offline pages: the `browser` capability.
//!
//! - [`launch`]: starting one Chromium process with the flags that keep it offline and quiet.
//! - [`pool`]: warm processes × pages, leases, resets between jobs, crash replacement.
//! - [`slot`]: one warm page and the event listeners that route its traffic to the current job.
//! - [`intercept`]: every request a page makes — the virtual origin answers, everything else is
//!   refused and logged.
//! - [`page`]: what a plugin does with a page (serve, navigate, wait, evaluate, capture).
//! - [`libraries`]: p5.js and friends, installed from npm and served unmodified.

mod binding;
pub(crate) mod blackhole;
mod intercept;
pub(crate) mod launch;
mod libraries;
mod page;
mod pool;
mod shim;
mod slot;

pub use libraries::{Libraries, Library};
pub use page::{CaptureSource, JobPage, PageErrorRecord, PageOptions};
pub use pool::BrowserPool;

/// The origin every page is served from. `.invalid` can never resolve, so nothing but Kiln's own
/// interception can answer it; https makes pages a secure context.
pub const VIRTUAL_ORIGIN: &str = "https://kiln.invalid";
