//! The plugins this host serves: loaded from directories of `.wasm` files, described, and
//! resolved by job type (`p5`) or pinned version (`p5@0.1.0`).

use super::WasmtimeContext;
use super::bindings::kiln::render::types::Capability;
use super::bindings::{Plugin, PluginPre};
use super::engine::PluginEngine;
use super::invoke::{explain_trap, new_store};
use super::limits::SandboxLimits;
use super::state::JobState;
use crate::error::RenderError;
use crate::jobs::JobContext;
use anyhow::{Context, Result, anyhow};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long `describe` may take at load time.
const DESCRIBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a plugin says about itself, as the host keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub summary: String,
    pub input_schema: serde_json::Value,
    pub capabilities: Vec<String>,
}

/// A plugin compiled, described and ready to instantiate.
pub struct LoadedPlugin {
    pub info: PluginInfo,
    pub path: PathBuf,
    /// Whether the compiled code came from the on-disk cache, and how long loading took.
    pub from_cache: bool,
    pub load_time: Duration,
    pub(super) pre: PluginPre<JobState>,
    capabilities: Vec<Capability>,
    version: semver::Version,
    validator: jsonschema::Validator,
}

/// A file that could not be loaded, and why.
#[derive(Debug, Clone, Serialize)]
pub struct LoadError {
    pub path: PathBuf,
    pub message: String,
}

/// All loaded plugins, newest version first within each name.
#[derive(Default)]
pub struct PluginRegistry {
    by_name: BTreeMap<String, Vec<Arc<LoadedPlugin>>>,
    errors: Vec<LoadError>,
}

impl LoadedPlugin {
    /// `name@version`, for messages.
    pub fn label(&self) -> String {
        format!("{}@{}", self.info.name, self.info.version)
    }

    pub(super) fn capabilities(&self) -> Vec<Capability> {
        self.capabilities.clone()
    }

    /// Checks a job's input against the plugin's schema; the message names the JSON path.
    pub fn validate_input(&self, input: &serde_json::Value) -> Result<(), RenderError> {
        let problems: Vec<String> = self
            .validator
            .iter_errors(input)
            .take(5)
            .map(|e| {
                let path = e.instance_path().to_string();
                let at = if path.is_empty() {
                    "input".to_string()
                } else {
                    format!("input{}", path.replace('/', "."))
                };
                format!("{at}: {e}")
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(RenderError::invalid_input(format!(
                "input does not match the {} schema: {}",
                self.info.name,
                problems.join("; ")
            )))
        }
    }
}

impl PluginRegistry {
    /// Loads every `*.wasm` in `dirs`. A file that fails is recorded in [`Self::errors`] and skipped,
    /// so one bad build never stops the rest from serving.
    pub async fn load_dirs(
        engine: &PluginEngine,
        dirs: &[PathBuf],
        limits: SandboxLimits,
    ) -> Result<Self> {
        let mut registry = Self::default();
        for dir in dirs {
            let entries = std::fs::read_dir(dir).with_context(|| {
                format!(
                    "reading plugin directory {} (is the setup command done?)",
                    dir.display()
                )
            })?;
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|ext| ext == "wasm"))
                .collect();
            paths.sort();
            for path in paths {
                match load_one(engine, &path, limits).await {
                    Ok(plugin) => {
                        tracing::info!(plugin = %plugin.label(), path = %path.display(), from_cache = plugin.from_cache,
                            ms = plugin.load_time.as_secs_f64() * 1e3, "loaded plugin");
                        registry.insert(plugin);
                    }
                    Err(err) => {
                        let message = format!("{err:#}");
                        tracing::error!(path = %path.display(), "refused plugin: {message}");
                        registry.errors.push(LoadError { path, message });
                    }
                }
            }
        }
        Ok(registry)
    }

    fn insert(&mut self, plugin: LoadedPlugin) {
        let versions = self.by_name.entry(plugin.info.name.clone()).or_default();
        versions.retain(|p| p.version != plugin.version);
        versions.push(Arc::new(plugin));
        versions.sort_by(|a, b| b.version.cmp(&a.version));
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

/// Compiles, links and describes one component file.
async fn load_one(
    engine: &PluginEngine,
    path: &Path,
    limits: SandboxLimits,
) -> Result<LoadedPlugin> {
    let started = std::time::Instant::now();
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.starts_with(b"\0asm\x01\0\0\0") {
        return Err(anyhow!(
            "this is a core WebAssembly module, not a component; build the plugin with \
             `cargo build --target wasm32-wasip2` so it is a component of the kiln:render world"
        ));
    }
    let compiled = engine
        .compile(&bytes)
        .context("not a valid WebAssembly component")?;
    let instance_pre = engine
        .linker()
        .instantiate_pre(&compiled.component)
        .wasm_context("the component does not fit this host's kiln:render@1.x plugin world")?;
    let pre = PluginPre::new(instance_pre)
        .wasm_context("the component does not export the kiln:render plugin world")?;

    let wit_info = describe(engine, &pre, limits).await?;
    let info = PluginInfo {
        input_schema: serde_json::from_str(&wit_info.input_schema).with_context(|| {
            format!(
                "describe() returned an input schema that is not JSON: {:?}",
                wit_info.input_schema
            )
        })?,
        capabilities: wit_info
            .capabilities
            .iter()
            .map(|c| capability_name(*c).to_string())
            .collect(),
        name: wit_info.name,
        version: wit_info.version,
        summary: wit_info.summary,
    };
    check_name(&info.name)?;
    let version = semver::Version::parse(&info.version).with_context(|| {
        format!(
            "describe() returned version {:?}, which is not semver",
            info.version
        )
    })?;
    let validator = jsonschema::validator_for(&info.input_schema).map_err(|e| {
        anyhow!("describe() returned an input schema that is not a valid JSON Schema: {e}")
    })?;
    Ok(LoadedPlugin {
        info,
        path: path.to_path_buf(),
        from_cache: compiled.from_cache,
        load_time: started.elapsed(),
        pre,
        capabilities: wit_info.capabilities,
        version,
        validator,
    })
}

/// Calls `describe` in a throwaway store with the normal sandbox limits.
async fn describe(
    engine: &PluginEngine,
    pre: &PluginPre<JobState>,
    limits: SandboxLimits,
) -> Result<super::bindings::PluginInfo> {
    let job = Arc::new(JobContext::for_describe(DESCRIBE_TIMEOUT));
    let mut store = new_store(engine.engine(), JobState::new(job, limits, Vec::new()));
    let call = async {
        let instance: Plugin = pre.instantiate_async(&mut store).await?;
        instance.call_describe(&mut store).await
    };
    match tokio::time::timeout(DESCRIBE_TIMEOUT, call).await {
        Err(_) => Err(anyhow!(
            "describe() did not return within {} s",
            DESCRIBE_TIMEOUT.as_secs()
        )),
        Ok(Err(trap)) => Err(anyhow!(
            "describe() failed: {}",
            explain_trap("(loading)", store.data(), &trap).message
        )),
        Ok(Ok(info)) => Ok(info),
    }
}

/// Job type names are what clients type: lowercase letters, digits and `-`.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(anyhow!(
            "describe() returned name {name:?}; use 1–64 of a-z, 0-9 and '-'"
        ))
    }
}

/// The capability's WIT name.
pub fn capability_name(capability: Capability) -> &'static str {
    match capability {
        Capability::Browser => "browser",
        Capability::Media => "media",
        Capability::Storage => "storage",
    }
}
