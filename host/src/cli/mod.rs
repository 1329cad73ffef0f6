//! The `kiln` command line: `serve`, `worker`, `render`, `batch`, `plugins`, `plugin`, `bench`.

pub mod batch;
mod bench;
mod extra_plugins;
mod plugin;
mod plugins;
mod render;
mod serve;
mod worker;

use crate::config::Config;
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

pub use batch::{BatchEntry, BatchSummary, run_batch};

#[derive(Debug, Parser)]
#[command(
    name = "kiln",
    version,
    about = "Renders creative code through sandboxed WebAssembly plugins"
)]
pub struct Cli {
    /// TOML config file (see docs/operations.md); KILN_* variables override it.
    #[arg(long, global = true, env = "KILN_CONFIG")]
    pub config: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug). `serve` and `worker` log at info
    /// already. RUST_LOG overrides both.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// How log lines are written on stderr: `text` for people, `json` (one object a line) for
    /// log collectors.
    #[arg(long, global = true, value_enum, env = "KILN_LOG_FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the HTTP API and the workers (see docs/api.md); `--api-only` for the API alone.
    Serve(serve::ServeArgs),
    /// Runs workers only, taking jobs from the shared Redis queue (`queue.url`).
    Worker(worker::WorkerArgs),
    /// Runs one job in-process and prints its result JSON. Exit code 1 if the job failed.
    Render(render::RenderArgs),
    /// Runs a JSON-lines file of jobs through the pool; writes artifacts to --out.
    Batch(batch::BatchArgs),
    /// Lists the loaded plugins with their input schemas, and files that were refused.
    Plugins(plugins::PluginsArgs),
    /// Plugin author tools: `new`, `build`, `check`.
    Plugin(plugin::PluginArgs),
    /// Benchmarks (see docs/benchmarks.md): runs `kiln-bench` from beside this binary with the
    /// same arguments; `kiln bench --help` lists them.
    Bench(bench::BenchArgs),
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per event, with its span's fields (a request's id, method and path).
    Json,
}

impl Cli {
    /// The long-running commands log at `info` by default: an operator wants to see requests,
    /// retries and restarts without asking. The one-shot commands stay quiet (`warn`).
    fn default_log_level(&self) -> u8 {
        match self.command {
            Command::Serve(_) | Command::Worker(_) => 1,
            _ => 0,
        }
    }
}

/// Logs go to stderr so stdout stays machine-readable. RUST_LOG, when set, replaces the level
/// that `-v` and the command choose.
pub fn init_tracing(cli: &Cli) {
    init_logging(cli.verbose.max(cli.default_log_level()), cli.log_format);
}

/// Installs the stderr logger at `level` (0 warn, 1 info, 2 or more debug) in `format`, for
/// binaries beside `kiln` (`kiln-bench`) that log the way it does.
pub fn init_logging(level: u8, format: LogFormat) {
    let default = match level {
        0 => "warn",
        1 => "info,chromiumoxide=warn",
        _ => "debug,chromiumoxide=info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// Runs the command `cli` names.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let config = || Config::load(cli.config.as_deref());
    match cli.command {
        Command::Serve(args) => serve::run(config()?, args).await,
        Command::Worker(args) => worker::run(config()?, args).await,
        Command::Render(args) => render::run(config()?, args).await,
        Command::Batch(args) => batch::run(config()?, args).await,
        Command::Plugins(args) => plugins::run(config()?, args).await,
        Command::Plugin(args) => plugin::run(config()?, args).await,
        // kiln-bench reads the config itself.
        Command::Bench(args) => bench::run(cli.config.as_deref(), cli.verbose, args),
    }
}
