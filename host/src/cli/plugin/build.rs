//! `kiln plugin build`: `cargo build --release --target wasm32-wasip2` for a plugin crate, then the
//! same checks as `kiln plugin check`.

use super::check::check;
use crate::config::Config;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The plugin crate's directory.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Also copy the component into this directory, created if missing (a running host's plugin
    /// directory: it is written under a temporary name and renamed, so the host never reads half
    /// a file).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub async fn run(config: Config, args: BuildArgs) -> Result<ExitCode> {
    let manifest = args.path.join("Cargo.toml");
    anyhow::ensure!(
        manifest.is_file(),
        "{} has no Cargo.toml; give the plugin crate's directory",
        args.path.display()
    );
    let wasm = cargo_build(&manifest)?;
    eprintln!("built {}", wasm.display());
    let (ok, report) = check(&config, &wasm).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if !ok {
        return Ok(ExitCode::from(1));
    }
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)
            .with_context(|| format!("creating the plugin directory {}", out.display()))?;
        let name = wasm.file_name().context("the component has no file name")?;
        let temporary = out.join(format!("{}.tmp", name.to_string_lossy()));
        std::fs::copy(&wasm, &temporary)
            .with_context(|| format!("copying the component to {}", temporary.display()))?;
        std::fs::rename(&temporary, out.join(name))
            .with_context(|| format!("moving the component into {}", out.display()))?;
        eprintln!("installed {}", out.join(name).display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs cargo and returns the `.wasm` it produced. Cargo's diagnostics go to stderr as usual.
fn cargo_build(manifest: &std::path::Path) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .spawn()
        .context("running cargo (is Rust installed, with `rustup target add wasm32-wasip2`?)")?;
    let mut wasm = None;
    for line in std::io::BufReader::new(child.stdout.take().expect("piped stdout")).lines() {
        let message: serde_json::Value = match serde_json::from_str(&line?) {
            Ok(message) => message,
            Err(_) => continue,
        };
        if message["reason"] == "compiler-artifact" {
            let files = message["filenames"].as_array().cloned().unwrap_or_default();
            if let Some(file) = files
                .iter()
                .filter_map(|f| f.as_str())
                .find(|f| f.ends_with(".wasm"))
            {
                wasm = Some(PathBuf::from(file));
            }
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!("cargo build failed ({status}); its errors are above");
    }
    wasm.context("cargo built no .wasm; is the crate a `cdylib`?")
}
