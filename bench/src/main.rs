//! `kiln-bench`, run as `kiln bench`: Kiln's benchmarks, out of the product binary.
//!
//! It measures a host started from the same config `kiln` reads (`--config`, `KILN_*`), through
//! the `kiln` library's public API, and against a bare Chromium started as the pool starts one
//! (`kiln::browser::bare`). `kiln bench ARGS` runs this binary from beside `kiln` with the same
//! arguments. See docs/benchmarks.md for what each benchmark measures and the figures.

mod capture;
mod cards;
mod floor;
mod http;
mod kidlisp;
mod oven;
mod peer;
mod plugins;
mod sketches;
mod stats;
mod stills;
mod video;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "kiln-bench",
    version,
    about = "Kiln's benchmarks (also run as `kiln bench`); see docs/benchmarks.md",
    long_about = "Kiln's benchmarks (also run as `kiln bench`). Without a subcommand: p5 stills \
                  through Kiln against a bare chromiumoxide loop (the floor). Reports go to \
                  stdout as one JSON line, progress to stderr. See docs/benchmarks.md."
)]
struct Cli {
    /// TOML config file (see docs/operations.md); KILN_* variables override it.
    #[arg(long, global = true, env = "KILN_CONFIG")]
    config: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(flatten)]
    stills: stills::StillsArgs,
    /// Another benchmark instead of the p5 stills.
    #[command(subcommand)]
    other: Option<OtherBench>,
}

/// Benchmarks other than the default p5 stills.
#[derive(Debug, Subcommand)]
enum OtherBench {
    /// The plugin engine alone: instantiate + trivial run, load times, hot-swap latency.
    Plugins(plugins::PluginBenchArgs),
    /// The job service: submissions accepted per second, and a small job over HTTP vs in-process.
    Http(http::HttpBenchArgs),
    /// Recordings: the three `video` workloads, capture frames/s and capture/encode overlap.
    Video(video::VideoBenchArgs),
    /// Recording frames: each way of reading stepped frames out of a page, timed, sized and
    /// checked for exactness, plus the screencast and capture + WebP encode totals.
    Capture(capture::CaptureBenchArgs),
    /// KidLisp: a 1200×630 still after 240 frames, the oven's grab against Kiln's p5 grab, the
    /// renderer alone at 256² and 1024², and the sandbox's memory per job.
    Kidlisp(kidlisp::KidlispBenchArgs),
    /// Social cards: `kidlisp-og` in its four layouts and `notepat-og`, cold and warm per card.
    Cards(cards::CardsBenchArgs),
    /// The oven's routes for a `$code` over HTTP: a 128² icon cold and cached, the default
    /// grab, the app-store ZIP.
    Oven(oven::OvenBenchArgs),
    /// Kiln against the Node/Playwright peer (`--peer DIR`, a copy of ../shared/peer), A B A B
    /// in one run, each side's whole process tree measured by the peer's memwatch.mjs: p5 stills
    /// and the old grabber's default grab, as ratios.
    Peer(peer::PeerBenchArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    kiln::cli::init_logging(cli.verbose, kiln::cli::LogFormat::Text);
    let result = async {
        let config = kiln::Config::load(cli.config.as_deref())?;
        match cli.other {
            Some(OtherBench::Plugins(args)) => plugins::run(config, args).await,
            Some(OtherBench::Http(args)) => http::run(config, args).await,
            Some(OtherBench::Video(args)) => video::run(config, args).await,
            Some(OtherBench::Capture(args)) => capture::run(config, args).await,
            Some(OtherBench::Kidlisp(args)) => kidlisp::run(config, args).await,
            Some(OtherBench::Cards(args)) => cards::run(config, args).await,
            Some(OtherBench::Oven(args)) => oven::run(config, args).await,
            Some(OtherBench::Peer(args)) => peer::run(config, args).await,
            None => stills::run(config, cli.stills).await,
        }
    }
    .await;
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
