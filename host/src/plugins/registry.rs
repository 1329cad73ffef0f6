//! One snapshot of the loaded plugins, resolved by job type (`p5`) or pinned version
//! (`p5@0.1.0`). Snapshots are immutable once published (see `catalog.rs`): a job holds the
//! plugin it resolved for as long as it runs, whatever is loaded meanwhile.

use super::load::{LoadError, LoadedPlugin};
use crate::error::RenderError;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// All loaded plugins, newest version first within each name, and the files that were refused.
#[derive(Default, Clone)]
pub struct PluginRegistry {
    by_name: BTreeMap<String, Vec<Arc<LoadedPlugin>>>,
    errors: Vec<LoadError>,
}

impl PluginRegistry {
    /// Adds `plugin`. It replaces whatever its file provided before and any loaded plugin of the
    /// same name and version; other versions stay.
    pub fn insert(&mut self, plugin: Arc<LoadedPlugin>) {
        self.remove_path(&plugin.path);
        self.clear_error(&plugin.path);
        let versions = self.by_name.entry(plugin.info.name.clone()).or_default();
        versions.retain(|p| p.version != plugin.version);
        versions.push(plugin);
        versions.sort_by(|a, b| b.version.cmp(&a.version));
    }

    /// Unloads what the file at `path` provided; returns the `name@version` labels unloaded.
    pub fn remove_path(&mut self, path: &Path) -> Vec<String> {
        let mut removed = Vec::new();
        for versions in self.by_name.values_mut() {
            versions.retain(|p| {
                let keep = p.path != path;
                if !keep {
                    removed.push(p.label());
                }
                keep
            });
        }
        self.by_name.retain(|_, versions| !versions.is_empty());
        removed
    }

    /// Records why the file at `error.path` was refused (replacing an earlier reason).
    pub fn set_error(&mut self, error: LoadError) {
        self.clear_error(&error.path);
        self.errors.push(error);
    }

    pub fn clear_error(&mut self, path: &Path) {
        self.errors.retain(|e| e.path != path);
    }

    /// Resolves `type` or `type@version` to a loaded plugin.
    pub fn resolve(&self, job_type: &str) -> Result<Arc<LoadedPlugin>, RenderError> {
        let (name, version) = match job_type.split_once('@') {
            Some((name, version)) => (name, Some(version)),
            None => (job_type, None),
        };
        let Some(versions) = self.by_name.get(name) else {
            let known: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
            return Err(RenderError::invalid_input(format!(
                "unknown job type {name:?}; this host serves: {}",
                if known.is_empty() {
                    "no plugins (check plugin_dirs)".to_string()
                } else {
                    known.join(", ")
                }
            )));
        };
        match version {
            None => Ok(versions[0].clone()),
            Some(wanted) => versions
                .iter()
                .find(|p| p.info.version == wanted)
                .cloned()
                .ok_or_else(|| {
                    let have: Vec<&str> =
                        versions.iter().map(|p| p.info.version.as_str()).collect();
                    RenderError::invalid_input(format!(
                        "job type {name:?} has no version {wanted:?}; loaded versions: {}",
                        have.join(", ")
                    ))
                }),
        }
    }

    /// Every loaded plugin version, by name then newest first.
    pub fn plugins(&self) -> impl Iterator<Item = &Arc<LoadedPlugin>> {
        self.by_name.values().flatten()
    }

    /// Files that were refused, with the reason.
    pub fn errors(&self) -> &[LoadError] {
        &self.errors
    }
}
