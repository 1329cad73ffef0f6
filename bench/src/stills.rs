//! `kiln bench` (no subcommand): Kiln's own path against a bare loop over warm chromiumoxide
//! pages (the floor), on identical sketches, reported as medians and ratios. The floor runs twice
//! per round: on one origin (nothing isolated) and with each page alternating between two origins
//! (the ring Kiln isolates jobs with), so the report separates the cost of Kiln's machinery from
//! the cost of isolation.
//! See docs/benchmarks.md.

use crate::stats::{percentile_ms, round3};
use crate::{floor, sketches};
use anyhow::Result;
use clap::Args;
use kiln::cli::{BatchSummary, run_batch};
use kiln::{Config, Kiln};
use serde::Serialize;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The p5 stills benchmark's options.
#[derive(Debug, Args)]
pub struct StillsArgs {
    /// Jobs per round.
    #[arg(long, default_value_t = 40)]
    pub jobs: usize,
    /// Jobs run at once (Kiln) and pages driven at once (floor).
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Rounds of each; medians are taken across rounds.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Canvas size of the sketches.
    #[arg(long, default_value_t = 800)]
    pub size: u32,
}

#[derive(Debug, Serialize)]
struct Side {
    p50_ms: f64,
    p95_ms: f64,
    jobs_per_s: f64,
    rounds: Vec<BatchSummary>,
}

#[derive(Debug, Serialize)]
struct Ratios {
    /// Kiln's per-job p50 over the floor's (1.0 = no overhead).
    p50_ratio: f64,
    /// The floor's jobs/s over Kiln's (1.0 = no overhead).
    throughput_ratio: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    workload: String,
    kiln: Side,
    /// The bare loop: every sketch on one origin, nothing isolated.
    floor: Side,
    /// The bare loop with each page alternating between two origins of its own.
    floor_ring: Side,
    vs_floor: Ratios,
    vs_floor_ring: Ratios,
}

impl Ratios {
    fn of(kiln: &Side, floor: &Side) -> Self {
        Self {
            p50_ratio: round3(kiln.p50_ms / floor.p50_ms),
            throughput_ratio: round3(floor.jobs_per_s / kiln.jobs_per_s),
        }
    }
}

/// Runs the p5 stills benchmark and prints its report.
pub async fn run(config: Config, args: StillsArgs) -> Result<ExitCode> {
    anyhow::ensure!(
        args.jobs >= 1 && args.rounds >= 1 && args.concurrency >= 1,
        "jobs, rounds and concurrency must be at least 1"
    );
    let workload = format!(
        "{} p5 stills at {}x{}, concurrency {}, {} rounds",
        args.jobs, args.size, args.size, args.concurrency, args.rounds
    );
    eprintln!("bench: {workload}");
    let codes = sketches::codes(args.jobs);

    let config = in_bench_dir(config);
    let kiln = Kiln::start(config.clone()).await?;
    let floor = floor::Floor::start(&config, args.concurrency, args.size).await?;

    // One warm-up job each, not counted.
    let _ = run_batch(
        &kiln.runner,
        sketches::specs(&codes[..1], args.size, "warmup"),
        1,
        |_| {},
    )
    .await;
    floor.run(&codes[..1], 1, false).await?;

    let mut rounds: [Vec<BatchSummary>; 3] = Default::default();
    for round in 0..args.rounds {
        let specs = sketches::specs(&codes, args.size, &format!("r{round}"));
        let (summary, outcomes) = run_batch(&kiln.runner, specs, args.concurrency, |_| {}).await;
        if let Some(failed) = outcomes.iter().find(|o| !o.succeeded()) {
            anyhow::bail!("a benchmark job failed: {:?}", failed.error);
        }
        report_round(round, "kiln", &summary);
        rounds[0].push(summary);

        for (index, ring, label) in [(1, false, "floor"), (2, true, "floor, origin ring")] {
            let started = Instant::now();
            let mut latencies = floor.run(&codes, args.concurrency, ring).await?;
            let summary = summarize(&mut latencies, started.elapsed());
            report_round(round, label, &summary);
            rounds[index].push(summary);
        }
    }
    kiln.shutdown().await;
    floor.shutdown().await;

    let [kiln_rounds, floor_rounds, ring_rounds] = rounds;
    let (kiln, floor, floor_ring) = (side(kiln_rounds), side(floor_rounds), side(ring_rounds));
    let report = Report {
        workload,
        vs_floor: Ratios::of(&kiln, &floor),
        vs_floor_ring: Ratios::of(&kiln, &floor_ring),
        kiln,
        floor,
        floor_ring,
    };
    for (name, side) in [
        ("kiln", &report.kiln),
        ("floor", &report.floor),
        ("floor, origin ring", &report.floor_ring),
    ] {
        eprintln!(
            "median of rounds: {name:<21} p50 {:>7.1} ms  {:>5.2} jobs/s",
            side.p50_ms, side.jobs_per_s
        );
    }
    eprintln!(
        "kiln vs floor: p50 x{:.3}, throughput x{:.3} | kiln vs floor with an origin ring: p50 x{:.3}, throughput x{:.3}",
        report.vs_floor.p50_ratio,
        report.vs_floor.throughput_ratio,
        report.vs_floor_ring.p50_ratio,
        report.vs_floor_ring.throughput_ratio
    );
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// `config` with its data (artifacts, queue, caches) under `<data_dir>/bench`, and its plugins
/// still the installed ones: the default plugin dir follows `data_dir`, and `bench/plugins` would
/// be a stale copy.
pub fn in_bench_dir(mut config: Config) -> Config {
    config.plugin_dirs = config.plugin_dirs();
    config.data_dir = config.data_dir.join("bench");
    config
}

fn report_round(round: usize, label: &str, summary: &BatchSummary) {
    eprintln!(
        "round {round}: {label:<21} p50 {:>7.1} ms  {:>5.2} jobs/s",
        summary.p50_ms, summary.jobs_per_s
    );
}

fn summarize(latencies: &mut [Duration], wall: Duration) -> BatchSummary {
    let wall_s = wall.as_secs_f64();
    BatchSummary {
        jobs: latencies.len(),
        ok: latencies.len(),
        failed: 0,
        wall_s: round3(wall_s),
        p50_ms: round3(percentile_ms(latencies, 0.5)),
        p95_ms: round3(percentile_ms(latencies, 0.95)),
        jobs_per_s: round3(latencies.len() as f64 / wall_s),
    }
}

fn side(rounds: Vec<BatchSummary>) -> Side {
    let median = |f: fn(&BatchSummary) -> f64| {
        let mut values: Vec<f64> = rounds.iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    Side {
        p50_ms: median(|s| s.p50_ms),
        p95_ms: median(|s| s.p95_ms),
        jobs_per_s: median(|s| s.jobs_per_s),
        rounds,
    }
}
