//! Plugins: the wasmtime engine, the compiled-component cache, the registry of loaded plugins,
//! per-job sandbox limits and the call into a plugin's `run`.
//!
//! One [`PluginEngine`] serves the process. Each plugin version is compiled once (or loaded from the
//! on-disk cache) into one `InstancePre`; every job gets a fresh `Store` with a memory limiter, an
//! epoch-based CPU budget and a wall-clock timeout, so a trap or a spin loop ends that job only.

pub mod bindings;
mod compile_cache;
mod engine;
mod invoke;
mod limits;
mod registry;
pub mod state;

pub use engine::PluginEngine;
pub use invoke::run_plugin;
pub use limits::SandboxLimits;
pub use registry::{LoadError, LoadedPlugin, PluginInfo, PluginRegistry};

/// `wasmtime::Error` is not `anyhow::Error` (wasmtime 48); this adds context while converting.
pub(crate) trait WasmtimeContext<T> {
    fn wasm_context(self, what: &str) -> anyhow::Result<T>;
}

impl<T> WasmtimeContext<T> for wasmtime::Result<T> {
    fn wasm_context(self, what: &str) -> anyhow::Result<T> {
        self.map_err(|e| anyhow::anyhow!("{what}: {e:#}"))
    }
}
