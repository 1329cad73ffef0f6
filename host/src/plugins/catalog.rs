//! The live set of plugins: loaded from the plugin directories at start, then kept in step with
//! them while the host runs.
//!
//! A scan lists the directories' `.wasm` files. A new or changed file is loaded once it has kept
//! the same size and modification time for one scan interval (so a file still being copied is not
//! read half-written), compiled and checked off the job path, and published in a new registry
//! snapshot in one atomic swap. Jobs hold the plugin they resolved, so running jobs finish on the
//! version they started with while new jobs get the new one. A file that fails to load is refused
//! with its reason, and whatever it provided before keeps serving. A removed file is unloaded.

use super::engine::PluginEngine;
use super::load::{LoadError, LoadedPlugin, load_file};
use super::policy::LoadPolicy;
use super::registry::PluginRegistry;
use crate::error::RenderError;
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

/// What a file looked like when last seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

#[derive(Debug, Clone, Copy)]
enum FileState {
    /// Seen with this stamp, not loaded yet: loaded if the next scan sees the same stamp.
    Settling(Stamp),
    /// Loaded (or refused) at this stamp.
    Done(Stamp),
}

/// What one scan changed.
#[derive(Debug, Default, Serialize)]
pub struct ScanReport {
    /// `name@version` of each plugin loaded.
    pub loaded: Vec<String>,
    /// `name@version` of each plugin unloaded because its file went away or now holds another
    /// version.
    pub unloaded: Vec<String>,
    pub refused: Vec<LoadError>,
}

impl ScanReport {
    fn is_empty(&self) -> bool {
        self.loaded.is_empty() && self.unloaded.is_empty() && self.refused.is_empty()
    }
}

/// The plugins this host serves now.
pub struct PluginCatalog {
    engine: Arc<PluginEngine>,
    dirs: Vec<PathBuf>,
    policy: LoadPolicy,
    current: RwLock<Arc<PluginRegistry>>,
    /// Held for the whole of a scan, so scans never interleave.
    files: tokio::sync::Mutex<BTreeMap<PathBuf, FileState>>,
}

impl PluginCatalog {
    /// Loads every `.wasm` file in `dirs` now. A directory that cannot be read is an error; a
    /// file that cannot be loaded is refused and listed, and the rest serve.
    pub async fn open(
        engine: Arc<PluginEngine>,
        dirs: Vec<PathBuf>,
        policy: LoadPolicy,
    ) -> Result<Arc<Self>> {
        for dir in &dirs {
            std::fs::read_dir(dir).with_context(|| {
                format!(
                    "reading plugin directory {} (is the setup command done?)",
                    dir.display()
                )
            })?;
        }
        let catalog = Arc::new(Self {
            engine,
            dirs,
            policy,
            current: RwLock::new(Arc::new(PluginRegistry::default())),
            files: tokio::sync::Mutex::new(BTreeMap::new()),
        });
        catalog.scan_now().await;
        Ok(catalog)
    }

    /// The directories watched; uploads go to the first.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Loads `bytes` as the file at `path` would be loaded, without publishing it: what an
    /// upload is checked with before it is written.
    pub async fn check(&self, bytes: &[u8], path: &Path) -> Result<LoadedPlugin> {
        super::load::load_bytes(&self.engine, bytes, path, &self.policy).await
    }

    /// The plugins loaded now. Later loads publish a new snapshot; this one never changes.
    pub fn snapshot(&self) -> Arc<PluginRegistry> {
        self.current.read().expect("catalog lock").clone()
    }

    /// Resolves `type` or `type@version` against the plugins loaded now.
    pub fn resolve(&self, job_type: &str) -> Result<Arc<LoadedPlugin>, RenderError> {
        self.snapshot().resolve(job_type)
    }

    /// Loads every new or changed file at once, without waiting for it to settle, and unloads
    /// removed ones (start-up, and tests that have finished writing their files).
    pub async fn scan_now(&self) -> ScanReport {
        self.scan(false).await
    }

    /// One scan of the directories. With `settle`, a new or changed file is loaded only once a
    /// later scan sees it unchanged.
    pub async fn scan(&self, settle: bool) -> ScanReport {
        let mut files = self.files.lock().await;
        let present = self.list_files();
        let mut report = ScanReport::default();
        let mut next = (*self.snapshot()).clone();

        let gone: Vec<PathBuf> = files
            .keys()
            .filter(|path| !present.contains_key(*path))
            .cloned()
            .collect();
        for path in gone {
            files.remove(&path);
            next.clear_error(&path);
            let removed = next.remove_path(&path);
            for label in &removed {
                tracing::info!(plugin = %label, path = %path.display(), "unloaded plugin: its file was removed");
            }
            report.unloaded.extend(removed);
        }

        for (path, stamp) in present {
            let ready = match files.get(&path) {
                Some(FileState::Done(done)) if *done == stamp => false,
                Some(FileState::Settling(seen)) if *seen == stamp => true,
                _ => !settle,
            };
            if !ready {
                if !matches!(files.get(&path), Some(FileState::Done(done)) if *done == stamp) {
                    files.insert(path, FileState::Settling(stamp));
                }
                continue;
            }
            files.insert(path.clone(), FileState::Done(stamp));
            match load_file(&self.engine, &path, &self.policy).await {
                Ok(plugin) => {
                    tracing::info!(plugin = %plugin.label(), path = %path.display(), from_cache = plugin.from_cache,
                        ms = plugin.load_time.as_secs_f64() * 1e3, "loaded plugin");
                    let label = plugin.label();
                    let before: Vec<String> = next
                        .plugins()
                        .filter(|p| p.path == path)
                        .map(|p| p.label())
                        .collect();
                    report
                        .unloaded
                        .extend(before.into_iter().filter(|l| *l != label));
                    next.insert(Arc::new(plugin));
                    report.loaded.push(label);
                }
                Err(err) => {
                    let message = format!("{err:#}");
                    let keeps: Vec<String> = next
                        .plugins()
                        .filter(|p| p.path == path)
                        .map(|p| p.label())
                        .collect();
                    if keeps.is_empty() {
                        tracing::error!(path = %path.display(), "refused plugin: {message}");
                    } else {
                        tracing::error!(path = %path.display(), still_serving = %keeps.join(", "),
                            "refused plugin: {message}");
                    }
                    let error = LoadError { path, message };
                    next.set_error(error.clone());
                    report.refused.push(error);
                }
            }
        }

        if !report.is_empty() {
            *self.current.write().expect("catalog lock") = Arc::new(next);
        }
        report
    }

    /// Scans every `interval` in the background until the catalog is dropped or the returned
    /// handle is.
    pub fn watch(self: &Arc<Self>, interval: Duration) -> WatchHandle {
        let catalog: Weak<Self> = Arc::downgrade(self);
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(catalog) = catalog.upgrade() else {
                    return;
                };
                catalog.scan(true).await;
            }
        });
        WatchHandle(task)
    }

    /// `.wasm` files in the plugin directories, with their stamps. A directory that has gone is
    /// skipped (its plugins unload), with a warning.
    fn list_files(&self) -> BTreeMap<PathBuf, Stamp> {
        let mut found = BTreeMap::new();
        for dir in &self.dirs {
            let entries = match std::fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(err) => {
                    tracing::warn!(dir = %dir.display(), "cannot read plugin directory: {err}");
                    continue;
                }
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if !is_plugin_file(&path) {
                    continue;
                }
                if let Ok(meta) = entry.metadata() {
                    found.insert(
                        path,
                        Stamp {
                            len: meta.len(),
                            modified: meta.modified().ok(),
                        },
                    );
                }
            }
        }
        found
    }
}

/// Only `*.wasm` files load; `*.wasm.tmp` and the like are ignored, so writing to a temporary
/// name and renaming is the way to replace a plugin atomically.
fn is_plugin_file(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "wasm") && path.is_file()
}

/// Stops the background scans when dropped.
pub struct WatchHandle(tokio::task::JoinHandle<()>);

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}
