//! `kiln plugin check FILE.wasm`: everything the host checks at load, reported as JSON.

use crate::config::Config;
use crate::plugins::{LoadPolicy, LoadedPlugin, capability_name, load_file};
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The component to check.
    pub file: PathBuf,
}

pub async fn run(config: Config, args: CheckArgs) -> Result<ExitCode> {
    let (ok, report) = check(&config, &args.file).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Loads `file` with this config's grants; `(true, report)` if a host would serve it.
pub async fn check(config: &Config, file: &Path) -> Result<(bool, serde_json::Value)> {
    let engine = Arc::new(crate::kiln::open_engine(config)?);
    Ok(
        match load_file(&engine, file, &LoadPolicy::from_config(config)).await {
            Ok(plugin) => (
                true,
                serde_json::json!({ "ok": true, "plugin": describe(&plugin) }),
            ),
            Err(err) => (
                false,
                serde_json::json!({ "ok": false, "file": file, "error": format!("{err:#}") }),
            ),
        },
    )
}

/// A loaded plugin as `kiln plugins` and `kiln plugin check` show it.
pub fn describe(plugin: &LoadedPlugin) -> serde_json::Value {
    serde_json::json!({
        "name": plugin.info.name,
        "version": plugin.info.version,
        "summary": plugin.info.summary,
        "capabilities": plugin.info.capabilities,
        "granted": plugin.policy.grants.iter().map(|c| capability_name(*c)).collect::<Vec<_>>(),
        "input_schema": plugin.info.input_schema,
        "path": plugin.path,
        "compiled_from_cache": plugin.from_cache,
        "load_ms": plugin.load_time.as_secs_f64() * 1e3,
    })
}
