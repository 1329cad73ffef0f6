//! `kiln bench peer --peer DIR`: Kiln against the Node/Playwright peer renderer (a writable copy
//! of `../shared/peer`), in one run on one machine, alternating A B A B.
//!
//! Both sides are separate processes started the same way: the peer's own `make-jobs.mjs` writes
//! the job file, its `memwatch.mjs` wraps each side (`kiln batch` for Kiln, `peer.mjs` for the
//! peer) and samples the whole process tree (browser, encoders, the host), and each side's last
//! stdout line is its summary (`jobs`, `ok`, `wall_s`, `p50_ms`, `jobs_per_s`, the same fields on
//! both sides). Alternating rounds put a busy or idle stretch of the machine on both sides alike,
//! so the ratios hold across machines that differ in absolute speed.
//!
//! Both sides do the same work: Kiln's jobs name the p5 major the peer serves (`p5Version`), and
//! one unmeasured Kiln job first fills the component cache that every round shares, as a
//! deployed host's is (the peer has nothing to compile). Each side's figures include its own
//! start-up (browser launch; Kiln's plugin loading), as a command run once per batch does.

use crate::stats::{self, round3};
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use kiln::Config;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// The peer benchmark's options.
#[derive(Debug, Args)]
pub struct PeerBenchArgs {
    /// The peer's folder: a writable copy of `../shared/peer` on which `setup.sh` has run.
    #[arg(long)]
    pub peer: PathBuf,
    /// Workloads to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "stills,grab")]
    pub only: Vec<Workload>,
    /// Rounds; each runs Kiln then the peer, so 2 rounds are A B A B.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Copies of each sketch in the stills job file (5 sketches; 8 gives 40 jobs).
    #[arg(long, default_value_t = 8)]
    pub stills_repeat: usize,
    /// Copies of each sketch in the grab job file (3 sketches).
    #[arg(long, default_value_t = 2)]
    pub grab_repeat: usize,
    /// The `kiln` binary to measure (default: the one beside this benchmark).
    #[arg(long)]
    pub kiln: Option<PathBuf>,
}

/// A workload both sides run from the same job file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// p5 stills at 800×800, concurrency 2: static shapes, animated, noLoop, randomSeed, text.
    Stills,
    /// The old grabber's default grab: 90 frames at 512², animated WebP, concurrency 1.
    Grab,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Stills => "stills",
            Workload::Grab => "grab",
        }
    }

    fn concurrency(self) -> usize {
        match self {
            Workload::Stills => 2,
            Workload::Grab => 1,
        }
    }

    /// `make-jobs.mjs` arguments for this workload.
    fn make_jobs_args(self, args: &PeerBenchArgs) -> Vec<String> {
        let list: &[&str] = match self {
            Workload::Stills => &[
                "--type",
                "p5",
                "--match",
                "static|animated|noloop|random|text",
            ],
            Workload::Grab => &[
                "--type",
                "video",
                "--match",
                "animated|random|text",
                "--width",
                "512",
                "--height",
                "512",
                "--frames",
                "90",
                "--fps",
                "30",
                "--format",
                "webp",
            ],
        };
        let repeat = match self {
            Workload::Stills => args.stills_repeat,
            Workload::Grab => args.grab_repeat,
        };
        let mut out: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        out.extend(["--repeat".into(), repeat.to_string()]);
        out
    }
}

/// One side's summary line, as both `kiln batch` and `peer.mjs` print it.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct Summary {
    jobs: usize,
    ok: usize,
    wall_s: f64,
    p50_ms: f64,
    jobs_per_s: f64,
}

/// What `memwatch.mjs` measured around one side.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct Tree {
    peak_pss_mb: f64,
    peak_rss_mb: f64,
    tree_cpu_s: f64,
    others_cpu_s: f64,
    wall_s: f64,
}

#[derive(Debug, Clone, Serialize)]
struct Run {
    summary: Summary,
    tree: Tree,
    /// The tree's CPU seconds over the jobs it ran (browser start included, on both sides).
    cpu_per_job_s: f64,
}

#[derive(Debug, Serialize)]
struct SideReport {
    jobs_per_s: f64,
    p50_ms: f64,
    cpu_per_job_s: f64,
    peak_pss_mb: f64,
    runs: Vec<Run>,
}

#[derive(Debug, Serialize)]
struct WorkloadReport {
    workload: Workload,
    concurrency: usize,
    kiln: SideReport,
    peer: SideReport,
    /// Kiln's jobs/s over the peer's (higher is better for Kiln).
    throughput_x: f64,
    /// Kiln's p50 over the peer's (lower is better for Kiln).
    p50_ratio: f64,
    /// Kiln's CPU per job over the peer's (lower is better for Kiln).
    cpu_per_job_ratio: f64,
    /// Kiln's peak PSS over the peer's (lower is better for Kiln).
    peak_pss_ratio: f64,
}

/// Runs the peer benchmark and prints its report.
pub async fn run(config: Config, args: PeerBenchArgs) -> Result<ExitCode> {
    anyhow::ensure!(args.rounds >= 1, "--rounds must be at least 1");
    let peer = args
        .peer
        .canonicalize()
        .with_context(|| format!("the peer folder {} is not there", args.peer.display()))?;
    for file in ["peer.mjs", "memwatch.mjs", "make-jobs.mjs", "node_modules"] {
        anyhow::ensure!(
            peer.join(file).exists(),
            "{} has no {file}: copy ../shared/peer somewhere writable and run its setup.sh there",
            peer.display()
        );
    }
    let kiln_bin = match &args.kiln {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("kiln"),
    };
    anyhow::ensure!(
        kiln_bin.exists(),
        "{} is not there: build it (cargo build -p kiln) or give --kiln",
        kiln_bin.display()
    );
    let work = config.data_dir.join("bench").join("peer");
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("clearing {}", work.display()))?;
    }
    std::fs::create_dir_all(&work)?;
    let plugin_dirs = std::env::join_paths(config.plugin_dirs())?;
    let p5_major = peer_p5_major(&peer)?;
    let kiln_data = work.join("kiln-data");
    eprintln!("bench peer: both sides render with p5 {p5_major}.x (the peer's own)");

    let mut reports = Vec::new();
    for &workload in &args.only {
        let peer_jobs = work.join(format!("{}.peer.jsonl", workload.name()));
        let mut make = Command::new("node");
        make.arg(peer.join("make-jobs.mjs"))
            .args(workload.make_jobs_args(&args))
            .arg("--out")
            .arg(&peer_jobs);
        run_quietly(make).context("make-jobs.mjs")?;
        let kiln_jobs = work.join(format!("{}.kiln.jsonl", workload.name()));
        let kiln_lines = kiln_job_lines(&std::fs::read_to_string(&peer_jobs)?, &p5_major)?;
        std::fs::write(&kiln_jobs, &kiln_lines)?;
        let jobs = kiln_lines.lines().count();

        // One unmeasured job first, so that every round starts as a deployed host does: its
        // plugins compiled and in the component cache (data_dir/cache), which all rounds share.
        let warm_jobs = work.join(format!("{}.warm.jsonl", workload.name()));
        std::fs::write(&warm_jobs, kiln_lines.lines().next().unwrap_or_default())?;
        let mut warm = Command::new(&kiln_bin);
        warm.arg("batch")
            .arg(&warm_jobs)
            .arg("--out")
            .arg(work.join("warm-out"))
            .env("KILN_DATA_DIR", &kiln_data)
            .env("KILN_PLUGIN_DIRS", &plugin_dirs);
        run_quietly(warm).context("kiln batch (the warm-up job)")?;
        eprintln!(
            "bench peer: {} — {jobs} jobs, concurrency {}, {} rounds of Kiln then the peer",
            workload.name(),
            workload.concurrency(),
            args.rounds
        );

        let (mut kiln_runs, mut peer_runs) = (Vec::new(), Vec::new());
        for round in 0..args.rounds {
            let dir = work.join(format!("{}-r{round}", workload.name()));
            // The artifacts of earlier rounds go; the compiled plugins stay.
            let artifacts = kiln_data.join("artifacts");
            if artifacts.exists() {
                std::fs::remove_dir_all(&artifacts)?;
            }
            let mut kiln = Command::new(&kiln_bin);
            kiln.arg("batch")
                .arg(&kiln_jobs)
                .arg("--concurrency")
                .arg(workload.concurrency().to_string())
                .arg("--out")
                .arg(dir.join("kiln-out"))
                .env("KILN_DATA_DIR", &kiln_data)
                .env("KILN_PLUGIN_DIRS", &plugin_dirs);
            let kiln_run = measured(&peer, kiln, &dir.join("kiln.mem.json"))?;
            report_round(round, "kiln", &kiln_run);
            kiln_runs.push(kiln_run);

            let mut peer_cmd = Command::new("node");
            peer_cmd
                .arg(peer.join("peer.mjs"))
                .arg("--jobs")
                .arg(&peer_jobs)
                .arg("--out")
                .arg(dir.join("peer-out"))
                .arg("--concurrency")
                .arg(workload.concurrency().to_string())
                .arg("-q");
            let peer_run = measured(&peer, peer_cmd, &dir.join("peer.mem.json"))?;
            report_round(round, "peer", &peer_run);
            peer_runs.push(peer_run);
        }
        let (kiln, peer_side) = (side(kiln_runs), side(peer_runs));
        let report = WorkloadReport {
            workload,
            concurrency: workload.concurrency(),
            throughput_x: round3(kiln.jobs_per_s / peer_side.jobs_per_s),
            p50_ratio: round3(kiln.p50_ms / peer_side.p50_ms),
            cpu_per_job_ratio: round3(kiln.cpu_per_job_s / peer_side.cpu_per_job_s),
            peak_pss_ratio: round3(kiln.peak_pss_mb / peer_side.peak_pss_mb),
            kiln,
            peer: peer_side,
        };
        for (name, side) in [("kiln", &report.kiln), ("peer", &report.peer)] {
            eprintln!(
                "median of rounds: {:<6} {name:<4} {:>6.2} jobs/s  p50 {:>7.1} ms  CPU {:>6.3} s/job  peak PSS {:>6.0} MB",
                workload.name(),
                side.jobs_per_s,
                side.p50_ms,
                side.cpu_per_job_s,
                side.peak_pss_mb
            );
        }
        eprintln!(
            "kiln vs peer, {}: throughput ×{:.2}, p50 ×{:.2}, CPU per job ×{:.2}, peak PSS ×{:.2}",
            workload.name(),
            report.throughput_x,
            report.p50_ratio,
            report.cpu_per_job_ratio,
            report.peak_pss_ratio
        );
        reports.push(report);
    }
    println!("{}", serde_json::to_string(&reports)?);
    Ok(ExitCode::SUCCESS)
}

/// The major version of the p5 the peer serves (its `node_modules/p5`), so that Kiln renders
/// the same library rather than the newest it has.
fn peer_p5_major(peer: &Path) -> Result<String> {
    let manifest = peer.join("node_modules/p5/package.json");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let version: Value = serde_json::from_str(&text)?;
    let version = version["version"].as_str().unwrap_or_default();
    match version.split('.').next() {
        Some(major @ ("1" | "2")) => Ok(major.to_owned()),
        _ => bail!("the peer's p5 is {version:?}; Kiln has p5 1.x and 2.x"),
    }
}

/// The peer's job lines as Kiln's job envelopes: the same ids, types and inputs, with the peer's
/// p5 major as `p5Version`, and a video job's single `format` as Kiln's `formats` list.
fn kiln_job_lines(peer_lines: &str, p5_major: &str) -> Result<String> {
    let mut out = String::new();
    for line in peer_lines.lines().filter(|l| !l.trim().is_empty()) {
        let mut job: Value = serde_json::from_str(line).context("a make-jobs.mjs line")?;
        let video = job["type"] == "video";
        if let Some(input) = job["input"].as_object_mut() {
            input.insert("p5Version".into(), p5_major.into());
            if video && let Some(format) = input.remove("format") {
                input.insert("formats".into(), Value::Array(vec![format]));
            }
        }
        out.push_str(&serde_json::to_string(&job)?);
        out.push('\n');
    }
    Ok(out)
}

/// Runs `command` under the peer's `memwatch.mjs` and reads both summaries.
fn measured(peer: &Path, command: Command, mem_json: &Path) -> Result<Run> {
    std::fs::create_dir_all(mem_json.parent().expect("a file in a folder"))?;
    let mut wrapped = Command::new("node");
    wrapped
        .arg(peer.join("memwatch.mjs"))
        .arg("--json")
        .arg(mem_json)
        .arg("--")
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            wrapped.env(key, value);
        }
    }
    let what = format!("{:?}", command.get_program());
    let output = wrapped
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {what} under memwatch.mjs"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty());
    let summary: Summary = match last.map(serde_json::from_str) {
        Some(Ok(summary)) => summary,
        _ => bail!("{what} printed no summary line (exit {})", output.status),
    };
    if summary.ok != summary.jobs {
        bail!(
            "{what}: {} of {} jobs failed; the benchmark compares only complete runs",
            summary.jobs - summary.ok,
            summary.jobs
        );
    }
    let tree: Tree = serde_json::from_str(&std::fs::read_to_string(mem_json)?)
        .with_context(|| format!("reading {}", mem_json.display()))?;
    Ok(Run {
        cpu_per_job_s: round3(tree.tree_cpu_s / summary.jobs as f64),
        summary,
        tree,
    })
}

fn run_quietly(mut command: Command) -> Result<()> {
    let output = command.stdin(Stdio::null()).output()?;
    anyhow::ensure!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

fn report_round(round: usize, name: &str, run: &Run) {
    eprintln!(
        "round {round}: {name:<4} {:>6.2} jobs/s  p50 {:>7.1} ms  tree CPU {:>6.2} s ({:.3} s/job)  peak PSS {:>6.0} MB  others' CPU {:.2} s",
        run.summary.jobs_per_s,
        run.summary.p50_ms,
        run.tree.tree_cpu_s,
        run.cpu_per_job_s,
        run.tree.peak_pss_mb,
        run.tree.others_cpu_s
    );
}

fn side(runs: Vec<Run>) -> SideReport {
    let median = |f: &dyn Fn(&Run) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(f).collect();
        round3(stats::median(&mut values))
    };
    SideReport {
        jobs_per_s: median(&|r| r.summary.jobs_per_s),
        p50_ms: median(&|r| r.summary.p50_ms),
        cpu_per_job_s: median(&|r| r.cpu_per_job_s),
        peak_pss_mb: median(&|r| r.tree.peak_pss_mb),
        runs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_jobs_become_kiln_jobs_with_the_peers_p5_and_a_formats_list() {
        let line = r#"{"id":"a","type":"video","input":{"code":"x","format":"webp","frames":90}}
{"id":"b","type":"p5","input":{"code":"y","width":8}}"#;
        let out = kiln_job_lines(line, "1").unwrap();
        let jobs: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(jobs[0]["input"]["formats"], serde_json::json!(["webp"]));
        assert!(jobs[0]["input"].get("format").is_none());
        assert_eq!(jobs[0]["input"]["p5Version"], "1");
        assert_eq!(
            jobs[1]["input"],
            serde_json::json!({"code": "y", "width": 8, "p5Version": "1"})
        );
    }
}
