//! `[plugins]`: how plugins are loaded, what they are granted, and their sandbox limits.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How plugins are loaded, what they are granted, and the sandbox limits of every instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginSettings {
    /// Linear memory one plugin instance may grow to, in MiB.
    pub memory_mib: u64,
    /// CPU time the plugin's own code may use per job, in milliseconds (host calls excluded).
    pub cpu_ms: u64,
    /// Bytes one job may store across all its artifacts.
    pub max_artifact_bytes: u64,
    /// Pages one job may have open at once.
    pub max_pages: u32,
    /// How often the plugin directories are scanned for new, changed and removed `.wasm` files,
    /// in milliseconds; 0 turns hot-loading off.
    pub watch_interval_ms: u64,
    /// Capabilities (`browser`, `media`, `storage`) granted to a plugin that neither
    /// `per_plugin` nor the built-in defaults name.
    pub default_grants: Vec<String>,
    /// Grants and limits per plugin name; a key set here replaces the value above for that
    /// plugin.
    pub per_plugin: BTreeMap<String, PluginOverrides>,
}

impl Default for PluginSettings {
    fn default() -> Self {
        Self {
            memory_mib: 256,
            cpu_ms: 10_000,
            max_artifact_bytes: 256 << 20,
            max_pages: 4,
            watch_interval_ms: 250,
            default_grants: vec!["media".into(), "storage".into()],
            per_plugin: BTreeMap::new(),
        }
    }
}

/// One plugin's own grants and limits. Unset keys fall back to `[plugins]` (and, for `grants`,
/// to the built-in defaults).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginOverrides {
    /// Capabilities granted: any of `browser`, `media`, `storage`.
    pub grants: Option<Vec<String>>,
    /// Storage key prefixes this plugin's jobs may read (`storage.get`: tape frames, ZIPs,
    /// soundtracks) besides the keys under their own job id, e.g. `["shared/"]`; `"*"` grants
    /// every key. None by default: a job cannot read another job's artifacts.
    pub read_prefixes: Vec<String>,
    /// Directories the plugin may read through WASI, guest path → host path. Read-only,
    /// preopened with cap-std; nothing else of the file system is visible.
    pub dirs: BTreeMap<String, PathBuf>,
    /// What this plugin's pages may reach besides their own files: `"site"` (the pages of
    /// `pieces.base_url`, behind the job's own origin) and origins such as
    /// `"https://cdn.example.com"`, fetched by the host. None by default (the built-in `url` job
    /// type: `["site"]`); every other request of a page is refused and logged.
    pub network: Option<Vec<String>>,
    pub memory_mib: Option<u64>,
    pub cpu_ms: Option<u64>,
    /// Wall-clock budget of one attempt of this plugin's jobs, in milliseconds.
    pub timeout_ms: Option<u64>,
    pub max_artifact_bytes: Option<u64>,
    pub max_pages: Option<u32>,
}
