//! `kiln batch`: many jobs through the pool, with a progress bar and a JSON summary line.

use crate::Kiln;
use crate::config::Config;
use crate::error::RenderError;
use crate::jobs::{JobOutcome, JobSpec};
use crate::runner::JobRunner;
use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// JSON-lines file: one job envelope per line (blank lines are skipped).
    pub jobs: PathBuf,
    /// Jobs run at once.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Directory for the artifacts, written as `<id>.<ext>`.
    #[arg(long)]
    pub out: PathBuf,
}

/// The summary printed as the last line of `kiln batch`.
#[derive(Debug, Clone, Serialize)]
pub struct BatchSummary {
    pub jobs: usize,
    pub ok: usize,
    pub failed: usize,
    pub wall_s: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub jobs_per_s: f64,
}

pub async fn run(config: Config, args: BatchArgs) -> Result<ExitCode> {
    anyhow::ensure!(args.concurrency >= 1, "--concurrency must be at least 1");
    let text = std::fs::read_to_string(&args.jobs)
        .with_context(|| format!("reading {}", args.jobs.display()))?;
    let specs = parse_lines(&text);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;

    let kiln = Kiln::start(config).await?;
    let bar = ProgressBar::new(specs.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} jobs  {per_sec}  eta {eta}")
            .expect("valid template"),
    );
    let out = args.out.clone();
    let (summary, _) = run_batch(&kiln.runner, specs, args.concurrency, |outcome| {
        bar.inc(1);
        report(&bar, outcome, &out);
    })
    .await;
    bar.finish_and_clear();
    kiln.shutdown().await;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(if summary.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One line of a batch: a job to run, or a line that did not parse.
pub enum BatchEntry {
    Job(JobSpec),
    Invalid { id: String, error: RenderError },
}

/// One entry per non-blank line; a line that does not parse is kept as a failure naming the line.
fn parse_lines(text: &str) -> Vec<BatchEntry> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let number = index + 1;
            match JobSpec::from_json(line) {
                Ok(mut spec) => {
                    spec.id.get_or_insert_with(|| format!("line-{number}"));
                    BatchEntry::Job(spec)
                }
                Err(mut error) => {
                    error.message = format!("line {number}: {}", error.message);
                    BatchEntry::Invalid {
                        id: format!("line-{number}"),
                        error,
                    }
                }
            }
        })
        .collect()
}

/// Runs `specs` with at most `concurrency` at once, calling `on_done` as each finishes. Returns the
/// summary and every outcome. Latency is measured per job from dequeue (a worker takes it) to its
/// artifacts being stored.
pub async fn run_batch(
    runner: &Arc<JobRunner>,
    specs: Vec<BatchEntry>,
    concurrency: usize,
    mut on_done: impl FnMut(&JobOutcome),
) -> (BatchSummary, Vec<JobOutcome>) {
    let started = Instant::now();
    let permits = Arc::new(Semaphore::new(concurrency));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let total = specs.len();
    for spec in specs {
        let (runner, permits, tx) = (runner.clone(), permits.clone(), tx.clone());
        tokio::spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            let dequeued = Instant::now();
            let outcome = match spec {
                BatchEntry::Job(spec) => runner.run(&spec).await,
                BatchEntry::Invalid { id, error } => JobOutcome {
                    id,
                    ..JobOutcome::from_error(error)
                },
            };
            let _ = tx.send((outcome, dequeued.elapsed()));
        });
    }
    drop(tx);

    let mut outcomes = Vec::with_capacity(total);
    let mut latencies = Vec::with_capacity(total);
    while let Some((outcome, latency)) = rx.recv().await {
        on_done(&outcome);
        if outcome.succeeded() {
            latencies.push(latency);
        }
        outcomes.push(outcome);
    }
    let ok = outcomes.iter().filter(|o| o.succeeded()).count();
    let wall = started.elapsed().as_secs_f64();
    let summary = BatchSummary {
        jobs: total,
        ok,
        failed: total - ok,
        wall_s: round3(wall),
        p50_ms: round3(percentile_ms(&mut latencies, 0.50)),
        p95_ms: round3(percentile_ms(&mut latencies, 0.95)),
        jobs_per_s: round3(if wall > 0.0 { ok as f64 / wall } else { 0.0 }),
    };
    (summary, outcomes)
}

/// Prints a failure, or copies a success's artifacts into `out`.
fn report(bar: &ProgressBar, outcome: &JobOutcome, out: &Path) {
    if let Some(err) = &outcome.error {
        // `suspend` rather than `println`: the latter prints nothing when stderr is not a terminal.
        bar.suspend(|| eprintln!("job {} failed: {}: {}", outcome.id, err.kind, err.message));
        return;
    }
    let single = outcome.artifacts.len() == 1;
    for artifact in &outcome.artifacts {
        let ext = Path::new(&artifact.name)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("bin");
        let file = if single {
            format!("{}.{ext}", outcome.id)
        } else {
            format!("{}-{}", outcome.id, artifact.name)
        };
        if let Err(err) = copy_artifact(&artifact.url, &out.join(&file)) {
            bar.suspend(|| eprintln!("job {}: could not write {file}: {err:#}", outcome.id));
        }
    }
}

fn copy_artifact(url: &str, to: &Path) -> Result<()> {
    let from = url.strip_prefix("file://").with_context(|| {
        format!("artifact {url} is not in a local store; fetch it from its URL")
    })?;
    std::fs::copy(from, to).with_context(|| format!("copying {from}"))?;
    Ok(())
}

/// The `q` quantile (nearest rank) of the latencies, in milliseconds; 0 when empty.
pub fn percentile_ms(latencies: &mut [Duration], q: f64) -> f64 {
    if latencies.is_empty() {
        return 0.0;
    }
    latencies.sort();
    let rank = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
    latencies[rank - 1].as_secs_f64() * 1e3
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut l: Vec<Duration> = (1..=20).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&mut l, 0.5), 10.0);
        assert_eq!(percentile_ms(&mut l, 0.95), 19.0);
        assert_eq!(percentile_ms(&mut [], 0.5), 0.0);
    }

    #[test]
    fn bad_lines_become_failed_jobs_naming_the_line() {
        let specs = parse_lines("{\"type\":\"p5\",\"input\":{}}\n\nnot json\n");
        assert_eq!(specs.len(), 2);
        assert!(matches!(&specs[0], BatchEntry::Job(spec) if spec.id.as_deref() == Some("line-1")));
        assert!(matches!(
            &specs[1],
            BatchEntry::Invalid { id, error } if id == "line-3" && error.message.starts_with("line 3:")
        ));
    }
}
