//! `kiln bench plugins`: the plugin engine's own costs, without a browser — instantiating a
//! plugin and a trivial `run`, loading a component by compiling it and from the compile cache, and
//! the time from a file landing in a watched plugin directory to new jobs resolving it.
//! See docs/benchmarks.md.

use crate::stats::{median_ms, percentile_us, round1};
use anyhow::{Context, Result};
use clap::Args;
use kiln::Config;
use kiln::jobs::{JobContext, JobLimits, JobLog};
use kiln::plugins::{HostServices, LoadPolicy, PluginCatalog, PluginEngine, load_file, run_plugin};
use kiln::storage::ArtifactStore;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct PluginBenchArgs {
    /// Instantiate-and-run calls to time.
    #[arg(long, default_value_t = 2000)]
    pub iterations: usize,
    /// Loads and hot swaps to time, each.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    plugin: String,
    instantiate_and_run_p50_us: f64,
    instantiate_and_run_p95_us: f64,
    load_compiling_ms: f64,
    load_from_cache_ms: f64,
    hot_swap_cached_ms: f64,
    hot_swap_compiling_ms: f64,
    watch_interval_ms: u64,
}

pub async fn run(config: Config, args: PluginBenchArgs) -> Result<ExitCode> {
    anyhow::ensure!(
        args.iterations >= 1 && args.rounds >= 1,
        "iterations and rounds must be at least 1"
    );
    let file = find_p5(&config)?;
    let policy = LoadPolicy::new(&config.plugins, &config.jobs);
    let scratch = tempfile::tempdir()?;
    eprintln!(
        "bench plugins: {} ({} calls, {} rounds)",
        file.display(),
        args.iterations,
        args.rounds
    );

    // Loading: a fresh compile cache each round, then loads from the warm one.
    let mut compiling = Vec::new();
    let mut cached = Vec::new();
    for round in 0..args.rounds {
        let engine = Arc::new(PluginEngine::new(
            &scratch.path().join(format!("cache-{round}")),
        )?);
        compiling.push(timed(load_file(&engine, &file, &policy)).await?.1);
        cached.push(timed(load_file(&engine, &file, &policy)).await?.1);
    }
    let (load_compiling_ms, load_from_cache_ms) =
        (median_ms(&mut compiling), median_ms(&mut cached));
    eprintln!("load, compiling:      {load_compiling_ms:>8.1} ms (median)");
    eprintln!("load, from the cache: {load_from_cache_ms:>8.1} ms (median)");

    // A trivial run: p5 with a zero-sized canvas returns `invalid-input` from its own check,
    // before it would reach for the browser. A fresh instance each call, as every job gets.
    let engine = Arc::new(PluginEngine::new(&scratch.path().join("cache-0"))?);
    let plugin = load_file(&engine, &file, &policy).await?;
    let limits = JobLimits::from(&config.jobs);
    let input = r#"{"code":"","width":0,"height":0}"#.to_string();
    let services = HostServices {
        browser: None,
        gpu_browser: None,
        store: Arc::new(ArtifactStore::local(
            &scratch.path().join("artifacts"),
            &config.storage,
        )?),
        sources: Arc::new(kiln::sources::SourceClient::new(&config.sources)),
        site: Arc::new(kiln::browser::SiteFetcher::new(&config.pieces)),
    };
    let mut calls = Vec::with_capacity(args.iterations);
    for i in 0..args.iterations {
        let job = Arc::new(JobContext::new(
            format!("bench-{i}"),
            JobLog::default(),
            limits,
        ));
        let started = Instant::now();
        let result = run_plugin(engine.engine(), &plugin, job, &services, input.clone()).await;
        calls.push(started.elapsed());
        anyhow::ensure!(
            result.is_err(),
            "the trivial run was expected to refuse its input"
        );
    }
    let p50 = percentile_us(&mut calls, 0.5);
    let p95 = percentile_us(&mut calls, 0.95);
    eprintln!("instantiate + trivial run: p50 {p50:.1} µs, p95 {p95:.1} µs");

    // Hot swap: a watched directory, the file written under a temporary name and renamed, timed
    // until the catalog resolves it.
    let interval = Duration::from_millis(config.plugins.watch_interval_ms.max(1));
    let mut swaps_cached = Vec::new();
    for _ in 0..args.rounds {
        swaps_cached.push(hot_swap(&engine, &file, &policy, interval, scratch.path()).await?);
    }
    let mut swaps_compiling = Vec::new();
    for round in 0..args.rounds {
        let cold = Arc::new(PluginEngine::new(
            &scratch.path().join(format!("cold-{round}")),
        )?);
        swaps_compiling.push(hot_swap(&cold, &file, &policy, interval, scratch.path()).await?);
    }
    let (hot_swap_cached_ms, hot_swap_compiling_ms) = (
        median_ms(&mut swaps_cached),
        median_ms(&mut swaps_compiling),
    );
    eprintln!(
        "hot swap visible to new jobs: {hot_swap_cached_ms:.0} ms cached, {hot_swap_compiling_ms:.0} ms compiling (median; scans every {} ms)",
        interval.as_millis()
    );

    let report = Report {
        plugin: plugin.label(),
        instantiate_and_run_p50_us: round1(p50),
        instantiate_and_run_p95_us: round1(p95),
        load_compiling_ms: round1(load_compiling_ms),
        load_from_cache_ms: round1(load_from_cache_ms),
        hot_swap_cached_ms: round1(hot_swap_cached_ms),
        hot_swap_compiling_ms: round1(hot_swap_compiling_ms),
        watch_interval_ms: interval.as_millis() as u64,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// The p5 component from the configured plugin directories.
fn find_p5(config: &Config) -> Result<PathBuf> {
    config
        .plugin_dirs()
        .iter()
        .map(|dir| dir.join("p5.wasm"))
        .find(|path| path.is_file())
        .context("no p5.wasm in the plugin directories; run the README's setup command first")
}

/// Drops `file` into an empty watched directory and returns how long until it resolves.
async fn hot_swap(
    engine: &Arc<PluginEngine>,
    file: &Path,
    policy: &LoadPolicy,
    interval: Duration,
    scratch: &Path,
) -> Result<Duration> {
    let dir = tempfile::tempdir_in(scratch)?;
    let catalog = PluginCatalog::open(
        engine.clone(),
        vec![dir.path().to_path_buf()],
        policy.clone(),
    )
    .await?;
    let _watch = catalog.watch(interval);
    let temporary = dir.path().join("p5.wasm.tmp");
    std::fs::copy(file, &temporary)?;
    let landed = Instant::now();
    std::fs::rename(&temporary, dir.path().join("p5.wasm"))?;
    while catalog.resolve("p5").is_err() {
        anyhow::ensure!(
            landed.elapsed() < Duration::from_secs(60),
            "the plugin never became visible"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(landed.elapsed())
}

async fn timed<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<(T, Duration)> {
    let started = Instant::now();
    let value = future.await?;
    Ok((value, started.elapsed()))
}
