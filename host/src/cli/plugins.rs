//! `kiln plugins`: what this host would serve, without starting a browser.

use crate::config::Config;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct PluginsArgs {}

pub async fn run(config: Config, _args: PluginsArgs) -> Result<ExitCode> {
    let registry = crate::kiln::load_plugins(&config).await?.snapshot();
    let plugins: Vec<_> = registry.plugins().map(|p| p.report()).collect();
    let report = serde_json::json!({ "plugins": plugins, "refused": registry.errors() });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
