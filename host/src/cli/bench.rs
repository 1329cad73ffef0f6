//! `kiln bench`: runs the benchmark binary, `kiln-bench`, found beside this one.
//!
//! The harness is a crate of its own (`bench/`), so the product binary carries none of it and the
//! browser module need not open its internals to it. `kiln bench ARGS` replaces this process with
//! `kiln-bench [--config FILE] [-v…] ARGS`: the same arguments, config and verbosity, its stdout,
//! stderr and exit status.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

/// Everything after `kiln bench`, for `kiln-bench`.
#[derive(Debug, Args)]
// `--help` too goes to kiln-bench, which knows the benchmarks' options.
#[command(disable_help_flag = true)]
pub struct BenchArgs {
    /// Arguments for `kiln-bench` (`kiln bench --help` lists them).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<OsString>,
}

/// The name of the benchmark binary, as cargo builds it.
const BENCH_BINARY: &str = "kiln-bench";

/// Where `kiln-bench` is expected: beside the running `kiln` (cargo builds both into one
/// `target/<profile>` directory).
fn bench_binary() -> Result<PathBuf> {
    let kiln = std::env::current_exe().context("finding the running kiln executable")?;
    Ok(kiln.with_file_name(BENCH_BINARY))
}

/// Replaces this process with `kiln-bench`; returns only if it cannot be started.
pub fn run(config: Option<&Path>, verbose: u8, args: BenchArgs) -> Result<std::process::ExitCode> {
    let bench = bench_binary()?;
    if !bench.is_file() {
        bail!(
            "kiln bench runs the benchmark binary {}, which is not there: build it with `cargo \
             build -p kiln-bench` (with the profile this kiln was built with, e.g. `--release` for \
             target/release), then run kiln bench again",
            bench.display()
        );
    }
    let mut command = std::process::Command::new(&bench);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    for _ in 0..verbose {
        command.arg("-v");
    }
    command.args(&args.args);
    let err = command.exec();
    Err(err).with_context(|| format!("starting {}", bench.display()))
}
