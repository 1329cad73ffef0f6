//! `kiln plugin check FILE.wasm`: everything the host checks at load, reported as JSON.

use crate::config::Config;
use crate::plugins::{LoadPolicy, load_file};
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
        match load_file(
            &engine,
            file,
            &LoadPolicy::new(&config.plugins, &config.jobs),
        )
        .await
        {
            Ok(plugin) => (
                true,
                serde_json::json!({ "ok": true, "plugin": plugin.report() }),
            ),
            Err(err) => (
                false,
                serde_json::json!({ "ok": false, "file": file, "error": format!("{err:#}") }),
            ),
        },
    )
}
