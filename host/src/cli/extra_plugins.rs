//! A host with plugin files an author just built loaded beside the configured ones (`kiln
//! render --plugin`, `kiln plugin test`).

use crate::Kiln;
use crate::config::Config;
use anyhow::{Context, Result};
use std::path::PathBuf;

/// Starts a host that also loads `files`, from a folder of their own next to the configured
/// plugin folders, without watching. Fails, naming why, when the host refused one of them. The
/// folder is returned with the host: it must outlive it.
pub async fn start_with(
    mut config: Config,
    files: &[PathBuf],
) -> Result<(Kiln, tempfile::TempDir)> {
    let extra = tempfile::tempdir().context("creating a folder for the plugin files")?;
    if !files.is_empty() {
        for file in files {
            let name = file
                .file_name()
                .with_context(|| format!("{} is not a file", file.display()))?;
            std::fs::copy(file, extra.path().join(name))
                .with_context(|| format!("reading {}", file.display()))?;
        }
        config.plugin_dirs = config.plugin_dirs();
        config.plugin_dirs.push(extra.path().to_path_buf());
        config.plugins.watch_interval_ms = 0;
    }
    let kiln = Kiln::start(config).await?;
    let refused: Vec<String> = kiln
        .plugins
        .snapshot()
        .errors()
        .iter()
        .filter(|e| e.path.starts_with(extra.path()))
        .map(|e| e.message.clone())
        .collect();
    if !refused.is_empty() {
        kiln.shutdown().await;
        anyhow::bail!("the plugin was refused: {}", refused.join("; "));
    }
    Ok((kiln, extra))
}
