//! The Chromium pool and offline pages: the `browser` capability.
//!
//! - [`launch`]: starting one Chromium process with the flags that keep it offline and quiet, as an
//!   unprivileged user in its sandbox where the machine allows, driven over a pipe ([`devtools`]).
//! - [`procfs`]: what Kiln reads of Chromium's processes in `/proc` (liveness, renderer memory).
//! - [`pool`]: warm processes × pages, leases, retiring finished jobs' pages, crash replacement.
//! - [`recycle`]: when a browser is replaced by a fresh one (jobs, age, memory), without a dip
//!   in capacity.
//! - [`slot`]: one warm page and the event listeners that route its traffic to the current job.
//! - [`gpu`]: whether a usable GPU is here, the GPU browser's flags, which jobs use WebGL.
//! - [`intercept`]: every request a page makes — the job's origin and the libraries answer,
//!   everything else is refused and logged.
//! - [`network`]: what pages may reach besides their own files: the operator's site and the
//!   origins granted to the plugin, fetched by the host.
//! - [`page`]: what a plugin does with a page (serve, navigate, wait, evaluate, capture).
//! - [`record`]: frames on the virtual clock (`clock.js`) streamed into the encoders.
//! - [`libraries`]: p5.js and friends, installed from npm and served unmodified.
//! - [`bare`]: a Chromium launched as the pool launches one, with nothing of the pool around it,
//!   for `kiln-bench` to measure Kiln against (docs/benchmarks.md).

pub mod bare;
mod binding;
mod blackhole;
mod context;
mod devtools;
pub mod gpu;
mod intercept;
mod launch;
mod libraries;
mod network;
mod origins;
mod page;
mod pool;
mod procfs;
mod record;
mod recycle;
mod settings;
mod shim;
mod slot;

pub use context::{BrowserAccess, BrowserCtx, BrowserView};
pub use libraries::{Libraries, Library};
pub use network::{
    NetworkGrant, PiecesSettings, SITE, SiteFetcher, check_network_grant, check_pieces_settings,
};
pub use page::{CaptureSource, JobPage, PageErrorRecord, PageOptions};
pub use pool::{BrowserPool, BrowserReport, PageLimits};
pub use record::{RecordOptions, RecordSource};
pub use settings::BrowserSettings;

use libraries::LIBRARY_PATH;
use origins::{job_origin, split_job_url};
