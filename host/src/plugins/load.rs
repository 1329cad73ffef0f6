//! Loading one plugin file: compile (or take the cached compilation), link against this host's
//! world, call `describe` in the sandbox, and check what it says against the host's grants.
//! Everything here runs off the job path; a file that fails any step is refused with the reason.

use super::WasmtimeContext;
use super::engine::PluginEngine;
use super::instance::VersionedPre;
use super::invoke::{explain_trap, new_store};
use super::policy::{LoadPolicy, PluginPolicy, capability_name};
use super::store::PluginStore;
use crate::contract::latest::kiln::render::types::Capability;
use crate::contract::{ContractVersion, contract_version_of, latest};
use crate::error::RenderError;
use crate::jobs::JobContext;
use anyhow::{Context, Result, anyhow};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// The `kiln:render` version the plugin was built against, e.g. `1.0.0`.
    pub contract: String,
}

/// A plugin compiled, described, checked and ready to instantiate.
pub struct LoadedPlugin {
    pub info: PluginInfo,
    pub path: PathBuf,
    /// Whether the compiled code came from the on-disk cache, and how long loading took.
    pub from_cache: bool,
    pub load_time: Duration,
    /// What the host grants this plugin and the limits its jobs run under.
    pub policy: PluginPolicy,
    pub(super) pre: VersionedPre,
    capabilities: Vec<Capability>,
    pub(super) version: semver::Version,
    validator: jsonschema::Validator,
}

/// A file that could not be loaded, and why.
#[derive(Debug, Clone, Serialize)]
pub struct LoadError {
    pub path: PathBuf,
    pub message: String,
}

impl LoadedPlugin {
    /// `name@version`, for messages.
    pub fn label(&self) -> String {
        format!("{}@{}", self.info.name, self.info.version)
    }

    /// The capabilities the plugin declared (all of them granted, or it would not have loaded).
    pub(super) fn capabilities(&self) -> &[Capability] {
        &self.capabilities
    }

    /// The contract version the plugin was built against.
    pub fn contract_version(&self) -> ContractVersion {
        self.pre.version()
    }

    /// The plugin as `kiln plugins`, `kiln plugin check` and `GET /plugins` show it.
    pub fn report(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.info.name,
            "version": self.info.version,
            "summary": self.info.summary,
            "contract": self.info.contract,
            "capabilities": self.info.capabilities,
            "granted": self.policy.grants.iter().map(|c| capability_name(*c)).collect::<Vec<_>>(),
            "input_schema": self.info.input_schema,
            "path": self.path,
            "compiled_from_cache": self.from_cache,
            "load_ms": self.load_time.as_secs_f64() * 1e3,
        })
    }

    /// For an error at a `oneOf`/`anyOf` keyword, whose own message says only that no branch
    /// matched: the branches, so the client sees what would (e.g. `{"required":["code"]}`).
    fn alternatives_hint(&self, schema_path: &str) -> String {
        let keyword = schema_path.rsplit('/').next().unwrap_or_default();
        if keyword != "oneOf" && keyword != "anyOf" {
            return String::new();
        }
        match self.info.input_schema.pointer(schema_path) {
            Some(serde_json::Value::Array(branches)) => {
                let branches: Vec<String> = branches.iter().map(|b| b.to_string()).collect();
                format!(" (it must match {keyword} of: {})", branches.join(", "))
            }
            _ => String::new(),
        }
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
                format!(
                    "{at}: {e}{}",
                    self.alternatives_hint(&e.schema_path().to_string())
                )
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

/// Compiles, links, describes and checks one component file.
pub async fn load_file(
    engine: &Arc<PluginEngine>,
    path: &Path,
    policy: &LoadPolicy,
) -> Result<LoadedPlugin> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    load_bytes(engine, &bytes, path, policy).await
}

/// Loads a component from `bytes`; `path` is where it came from, for messages and unloading.
pub async fn load_bytes(
    engine: &Arc<PluginEngine>,
    bytes: &[u8],
    path: &Path,
    policy: &LoadPolicy,
) -> Result<LoadedPlugin> {
    let started = Instant::now();
    if bytes.starts_with(b"\0asm\x01\0\0\0") {
        return Err(anyhow!(
            "this is a core WebAssembly module, not a component; build the plugin with \
             `cargo build --target wasm32-wasip2` (or `kiln plugin build`) so it is a component \
             of the kiln:render world"
        ));
    }
    // Compiling takes a core for up to seconds: keep it off the async workers serving jobs.
    let compiled = {
        let (engine, bytes) = (engine.clone(), bytes.to_vec());
        tokio::task::spawn_blocking(move || engine.compile(&bytes))
            .await
            .context("the compiler thread failed")?
            .context("not a valid WebAssembly component")?
    };
    let component_type = compiled.component.component_type();
    let imports: Vec<String> = component_type
        .imports(engine.engine())
        .map(|(name, _)| name.to_string())
        .collect();
    let exports: Vec<String> = component_type
        .exports(engine.engine())
        .map(|(name, _)| name.to_string())
        .collect();
    let contract = contract_version_of(&imports)
        .map_err(|reason| anyhow!("the component cannot run on this host: {reason}"))?;
    let instance_pre = engine
        .linker()
        .instantiate_pre(&compiled.component)
        .wasm_context(&format!(
            "the component does not fit this host's kiln:render@{contract} plugin world"
        ))?;
    let pre = VersionedPre::new(contract, instance_pre).map_err(|e| {
        anyhow!(
            "the component is not a kiln:render plugin: it must export `describe` and `run` of \
             the kiln:render@{contract} `plugin` world, and it exports [{}] ({e})",
            exports.join(", ")
        )
    })?;

    let wit_info = describe(engine, &pre, policy).await?;
    check_name(&wit_info.name).context("describe() returned a bad name")?;
    let input_schema: serde_json::Value = serde_json::from_str(&wit_info.input_schema)
        .with_context(|| {
            format!(
                "describe() returned an input schema that is not JSON: {:?}",
                wit_info.input_schema
            )
        })?;
    let validator = jsonschema::validator_for(&input_schema).map_err(|e| {
        anyhow!("describe() returned an input schema that is not a valid JSON Schema: {e}")
    })?;
    let version = semver::Version::parse(&wit_info.version).with_context(|| {
        format!(
            "describe() returned version {:?}, which is not semver",
            wit_info.version
        )
    })?;
    let plugin_policy = policy.for_plugin(&wit_info.name);
    plugin_policy.check(&wit_info.name, &imports, &wit_info.capabilities)?;
    let info = PluginInfo {
        input_schema,
        capabilities: wit_info
            .capabilities
            .iter()
            .map(|c| capability_name(*c).to_string())
            .collect(),
        name: wit_info.name,
        version: wit_info.version,
        summary: wit_info.summary,
        contract: contract.to_string(),
    };
    Ok(LoadedPlugin {
        info,
        path: path.to_path_buf(),
        from_cache: compiled.from_cache,
        load_time: started.elapsed(),
        policy: plugin_policy,
        pre,
        capabilities: wit_info.capabilities,
        version,
        validator,
    })
}

/// Calls `describe` in a throwaway store with the sandbox limits and no grants: any host call
/// from `describe` is refused.
async fn describe(
    engine: &PluginEngine,
    pre: &VersionedPre,
    policy: &LoadPolicy,
) -> Result<latest::PluginInfo> {
    let job = Arc::new(JobContext::for_describe(DESCRIBE_TIMEOUT));
    let state = PluginStore::for_describe(job, policy.describe_limits());
    let mut store = new_store(engine.engine(), state);
    match tokio::time::timeout(DESCRIBE_TIMEOUT, pre.describe(&mut store)).await {
        Err(_) => Err(anyhow!(
            "describe() did not return within {} s",
            DESCRIBE_TIMEOUT.as_secs()
        )),
        Ok(Err(trap)) => Err(anyhow!(
            "describe() failed: {}",
            explain_trap("(loading)", &store.data().sandbox, &trap).message
        )),
        Ok(Ok(info)) => Ok(info),
    }
}

/// Job type names are what clients type: lowercase letters, digits and `-`.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(anyhow!(
            "{name:?} is not a job type name: use 1–64 of a-z, 0-9 and '-'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component that imports `progress` from `kiln:render/host@{version}` and exports nothing.
    fn importing_host(version: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component
                 (import "kiln:render/host@{version}" (instance
                   (export "progress" (func (param "fraction" f32) (param "stage" string))))))"#
        ))
        .unwrap()
    }

    async fn refusal(bytes: &[u8]) -> String {
        let cache = tempfile::tempdir().unwrap();
        let engine = Arc::new(PluginEngine::new(cache.path()).unwrap());
        let policy = LoadPolicy::new(&Default::default(), &Default::default());
        match load_bytes(&engine, bytes, Path::new("test.wasm"), &policy).await {
            Ok(_) => panic!("a component that exports nothing loaded"),
            Err(err) => format!("{err:#}"),
        }
    }

    #[tokio::test]
    async fn each_served_contract_version_links_and_others_are_refused_by_name() {
        // A served version links (the refusal comes after linking: nothing is exported)…
        for version in ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"] {
            let message = refusal(&importing_host(version)).await;
            assert!(
                message.contains(&format!(
                    "`run` of the kiln:render@{version} `plugin` world"
                )),
                "{version}: {message}"
            );
        }
        // …a later minor or another major is refused, naming what this host serves.
        for version in ["1.5.0", "2.0.0"] {
            let message = refusal(&importing_host(version)).await;
            assert!(
                message.contains(&format!("imports kiln:render/host@{version}"))
                    && message
                        .contains("this host serves kiln:render 1.0.0, 1.1.0, 1.2.0, 1.3.0, 1.4.0"),
                "{version}: {message}"
            );
        }
    }
}
