//! `kiln plugins`: what this host would serve, without starting a browser.

use crate::config::Config;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct PluginsArgs {}

pub async fn run(config: Config, _args: PluginsArgs) -> Result<ExitCode> {
    let registry = crate::kiln::load_plugins(&config).await?.snapshot();
    let plugins: Vec<_> = registry
        .plugins()
        .map(|p| {
            serde_json::json!({
                "name": p.info.name,
                "version": p.info.version,
                "summary": p.info.summary,
                "capabilities": p.info.capabilities,
                "granted": p.policy.grants.iter().map(|c| crate::plugins::capability_name(*c)).collect::<Vec<_>>(),
                "input_schema": p.info.input_schema,
                "path": p.path,
                "compiled_from_cache": p.from_cache,
                "load_ms": p.load_time.as_secs_f64() * 1e3,
            })
        })
        .collect();
    let report = serde_json::json!({ "plugins": plugins, "refused": registry.errors() });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
