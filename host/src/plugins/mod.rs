//! Plugins: the wasmtime engine, the compiled-component cache, loading and checking plugin files,
//! the live catalog of loaded plugins, grants and limits per plugin, and the call into a plugin's
//! `run`.
//!
//! One [`PluginEngine`] serves the process. Each plugin version is compiled once (or loaded from the
//! on-disk cache) into one `InstancePre`; every job gets a fresh `Store` with a memory limiter, an
//! epoch-based CPU budget and a wall-clock timeout, so a trap or a spin loop ends that job only.
//! The [`PluginCatalog`] watches the plugin directories and swaps plugins in while the host runs.

mod catalog;
mod compile_cache;
mod engine;
mod instance;
mod invoke;
mod limits;
mod load;
mod policy;
mod registry;
mod settings;
mod store;

pub use catalog::{PluginCatalog, ScanReport, WatchHandle};
pub use engine::PluginEngine;
pub use invoke::run_plugin;
pub use limits::SandboxLimits;
pub use load::{LoadError, LoadedPlugin, PluginInfo, check_name, load_bytes, load_file};
pub use policy::{BUILT_IN, LoadPolicy, PluginPolicy, capability_name, check_grant_names};
pub use registry::PluginRegistry;
pub use settings::{PluginOverrides, PluginSettings};
pub use store::{HostServices, PluginStore};

/// `wasmtime::Error` is not `anyhow::Error` (wasmtime 48); this adds context while converting.
pub(crate) trait WasmtimeContext<T> {
    fn wasm_context(self, what: &str) -> anyhow::Result<T>;
}

impl<T> WasmtimeContext<T> for wasmtime::Result<T> {
    fn wasm_context(self, what: &str) -> anyhow::Result<T> {
        self.map_err(|e| anyhow::anyhow!("{what}: {e:#}"))
    }
}
