//! `[browser]`: the Chromium pool.

use super::gpu::GpuMode;
use serde::Deserialize;
use std::path::PathBuf;

/// The Chromium pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrowserSettings {
    /// The Chromium binary. Debian's real binary, not the `/usr/bin/chromium` wrapper script.
    pub executable: PathBuf,
    /// Browser processes kept warm.
    pub processes: usize,
    /// Pages per process; each page is one job slot.
    pub pages_per_process: usize,
    /// Jobs one page serves before it is replaced by a fresh page in a fresh context (bounds what
    /// accumulates per page: history entries, cookies of finished jobs' origins).
    pub jobs_per_page: u32,
    /// How long a retired page keeps the finished job's document, its scripts switched off, while
    /// no job waits for a page, in milliseconds; then the document is sent to `about:blank`. A job
    /// that comes sooner replaces the document with its own navigation, which saves a navigation
    /// per job when the pool is busy (see `retire` in pool.rs). 0 sends every finished document to
    /// `about:blank` at once.
    pub linger_ms: u64,
    /// How long a browser may take to start, in milliseconds.
    pub launch_timeout_ms: u64,
    /// Extra Chromium flags (without the leading `--`).
    pub extra_args: Vec<String>,
    /// The user Chromium runs as when Kiln runs as root: a name from /etc/passwd or `uid:gid`.
    /// Empty keeps root (and then Chromium cannot use its sandbox). Ignored when Kiln is not
    /// root: Chromium runs as Kiln's own user.
    pub run_as: String,
    /// Chromium's own sandbox (namespaces and seccomp-bpf around every renderer). When the machine
    /// cannot give it (no unprivileged user namespaces), browsers start without it and Kiln logs a
    /// warning once; `false` never tries.
    pub sandbox: bool,
    /// A browser is replaced after its pages served this many jobs (0: never). Its replacement
    /// starts before it stops taking jobs, so capacity does not dip (`recycle.rs`).
    pub recycle_after_jobs: u64,
    /// A browser is replaced after running this many seconds (0: never).
    pub recycle_after_s: u64,
    /// A browser is replaced once its processes hold this many MiB of their own (0: never).
    pub recycle_above_mib: u64,
    /// Whether to run a GPU pool for WebGL jobs: `auto` (when a usable GPU is found), `off`,
    /// `on` (see `gpu.rs`).
    pub gpu: GpuMode,
    /// Browsers of the GPU pool, each with `pages_per_process` pages.
    pub gpu_processes: usize,
    /// Set by the host on the settings of its GPU pool: browsers start with hardware WebGL
    /// instead of `--disable-gpu`. Not a config key.
    #[serde(skip)]
    pub hardware_gpu: bool,
}

impl Default for BrowserSettings {
    fn default() -> Self {
        Self {
            executable: PathBuf::from("/usr/lib/chromium/chromium"),
            processes: 1,
            pages_per_process: 2,
            jobs_per_page: 200,
            linger_ms: 200,
            launch_timeout_ms: 20_000,
            extra_args: Vec::new(),
            run_as: "nobody".into(),
            sandbox: true,
            recycle_after_jobs: 5000,
            recycle_after_s: 6 * 3600,
            recycle_above_mib: 1536,
            gpu: GpuMode::Auto,
            gpu_processes: 1,
            hardware_gpu: false,
        }
    }
}
