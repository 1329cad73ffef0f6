//! `kiln bench video`: the three recording workloads through `run_batch` (what `kiln
//! batch` runs) with the `video` plugin, reporting per-job p50, captured frames per second, and
//! whether capture and encoding overlap: each job's recording time against the capture alone and
//! the encoders alone (the same frames, decoded back from the job's output, pushed through a
//! fresh encoder with no browser running).

use crate::stats::{percentile_ms, round1};
use anyhow::{Context, Result};
use clap::Args;
use kiln::Config;
use kiln::Kiln;
use kiln::cli::batch::{BatchEntry, run_batch};
use kiln::jobs::{JobOutcome, JobSpec};
use kiln::media::encode::{EncodeSettings, FrameKind, VideoEncoder, VideoFormat};
use serde::Serialize;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct VideoBenchArgs {
    /// Jobs per workload (after one unmeasured warm-up job).
    #[arg(long, default_value_t = 5)]
    pub jobs: usize,
    /// Jobs run at once.
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
}

/// One recording workload.
pub(crate) struct Workload {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    pub fps: u32,
    pub format: VideoFormat,
}

const WORKLOADS: [Workload; 3] = [
    Workload {
        name: "16 frames 400x400 animated WebP",
        width: 400,
        height: 400,
        frames: 16,
        fps: 30,
        format: VideoFormat::Webp,
    },
    Workload {
        name: "the old grabber's grab: 90 frames 512x512 animated WebP",
        width: 512,
        height: 512,
        frames: 90,
        fps: 30,
        format: VideoFormat::Webp,
    },
    Workload {
        name: "5 s 1280x720 30 fps MP4",
        width: 1280,
        height: 720,
        frames: 150,
        fps: 30,
        format: VideoFormat::Mp4,
    },
];

#[derive(Debug, Serialize)]
struct WorkloadReport {
    workload: &'static str,
    jobs: usize,
    concurrency: usize,
    /// Per-job wall time, queue wait excluded (what `kiln batch` reports).
    job_p50_ms: f64,
    job_p95_ms: f64,
    /// Frames captured per second while recording (median over jobs).
    capture_frames_per_s: f64,
    /// Time from the first capture to the last (median over jobs).
    capture_ms: f64,
    /// Time from the first capture until the encoders finished (median over jobs).
    record_ms: f64,
    /// The same frames through the encoder alone, no browser running (median of 3).
    encode_alone_ms: f64,
    /// `record_ms` over the slower of capture and encoding alone: 1.0 is perfect overlap.
    record_over_slower: f64,
    /// `record_ms` over capture and encoding one after the other.
    record_over_serial: f64,
}

pub async fn run(config: Config, args: VideoBenchArgs) -> Result<ExitCode> {
    anyhow::ensure!(
        args.jobs >= 1 && args.concurrency >= 1,
        "jobs and concurrency must be at least 1"
    );
    let config = crate::stills::in_bench_dir(config);
    let kiln = Kiln::start(config).await?;
    let mut reports = Vec::new();
    for workload in &WORKLOADS {
        eprintln!("bench video: {} ({} jobs)", workload.name, args.jobs);
        let _ = run_batch(&kiln.runner, specs(workload, 1, "warmup"), 1, |_| {}).await;
        let (summary, outcomes) = run_batch(
            &kiln.runner,
            specs(workload, args.jobs, "run"),
            args.concurrency,
            |_| {},
        )
        .await;
        if let Some(failed) = outcomes.iter().find(|o| !o.succeeded()) {
            anyhow::bail!("a benchmark job failed: {:?}", failed.error);
        }
        let stats: Vec<RecordStats> = outcomes
            .iter()
            .map(RecordStats::from_log)
            .collect::<Result<_>>()?;
        let median = |f: fn(&RecordStats) -> f64| {
            let mut values: Vec<f64> = stats.iter().map(f).collect();
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        };
        let capture_ms = median(|s| s.capture_ms);
        let record_ms = median(|s| s.record_ms);
        let encode_alone_ms = encode_alone(workload, &outcomes[0]).await?;
        let report = WorkloadReport {
            workload: workload.name,
            jobs: args.jobs,
            concurrency: args.concurrency,
            job_p50_ms: round1(summary.p50_ms),
            job_p95_ms: round1(summary.p95_ms),
            capture_frames_per_s: round1(median(|s| s.frames_per_s)),
            capture_ms: round1(capture_ms),
            record_ms: round1(record_ms),
            encode_alone_ms: round1(encode_alone_ms),
            record_over_slower: (record_ms / capture_ms.max(encode_alone_ms) * 100.0).round()
                / 100.0,
            record_over_serial: (record_ms / (capture_ms + encode_alone_ms) * 100.0).round()
                / 100.0,
        };
        eprintln!(
            "  job p50 {:.0} ms (p95 {:.0}) | capture {:.1} frames/s, {:.0} ms | encoders alone {:.0} ms | \
             recording {:.0} ms = {:.2}× the slower, {:.2}× capture + encode",
            report.job_p50_ms,
            report.job_p95_ms,
            report.capture_frames_per_s,
            report.capture_ms,
            report.encode_alone_ms,
            report.record_ms,
            report.record_over_slower,
            report.record_over_serial
        );
        reports.push(report);
    }
    kiln.shutdown().await;
    println!("{}", serde_json::to_string(&reports)?);
    Ok(ExitCode::SUCCESS)
}

/// The old grabber's default grab, which `kiln bench kidlisp` sets the KidLisp grab against.
pub(crate) const GRAB: &Workload = &WORKLOADS[1];

/// `n` distinct seeded sketches of the workload's size: 40 circles moving and changing colour.
pub(crate) fn specs(workload: &Workload, n: usize, tag: &str) -> Vec<BatchEntry> {
    let code = format!(
        "function setup() {{ createCanvas({w}, {h}); noStroke(); }}\n\
         function draw() {{\n  background(20, 24, 40);\n\
           for (let i = 0; i < 40; i++) {{\n\
             fill((i * 37 + frameCount * 3) % 255, 120 + random(40), 200 - i * 4);\n\
             circle(width / 2 + width * 0.35 * cos(i + frameCount / 20), height / 2 + height * 0.35 * sin(i * 1.3 + frameCount / 25), 20 + i + noise(i, frameCount / 30) * 30);\n\
           }}\n}}\n",
        w = workload.width,
        h = workload.height
    );
    (0..n)
        .map(|i| {
            BatchEntry::Job(JobSpec {
                id: Some(format!("bench-video-{tag}-{}-{i}", workload.frames)),
                job_type: "video".into(),
                input: serde_json::json!({
                    "code": code, "width": workload.width, "height": workload.height,
                    "fps": workload.fps, "frames": workload.frames,
                    "formats": [workload.format.extension()], "seed": i,
                }),
                callback: None,
            })
        })
        .collect()
}

/// What the host logged about one recording.
struct RecordStats {
    capture_ms: f64,
    frames_per_s: f64,
    record_ms: f64,
}

impl RecordStats {
    /// Reads `recorded N frames of W×H in C ms (F frames/s, …); encoders done at T ms`.
    fn from_log(outcome: &JobOutcome) -> Result<Self> {
        let line = outcome
            .log
            .iter()
            .find(|l| l.message.starts_with("recorded "))
            .context("the job logged no recording line")?;
        let number_after = |marker: &str| -> Result<f64> {
            let rest = line
                .message
                .split_once(marker)
                .with_context(|| format!("no {marker:?} in {:?}", line.message))?
                .1;
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            rest[..end]
                .parse()
                .with_context(|| format!("reading {marker:?} in {:?}", line.message))
        };
        Ok(Self {
            capture_ms: number_after(" in ")?,
            frames_per_s: number_after(" ms (")?,
            record_ms: number_after("done at ")?,
        })
    }
}

/// Decodes the job's video back into PNG frames and times the encoder alone on them (median of
/// three runs).
async fn encode_alone(workload: &Workload, outcome: &JobOutcome) -> Result<f64> {
    let artifact = outcome
        .artifacts
        .iter()
        .find(|a| a.name.starts_with("video."))
        .context("the job stored no video")?;
    let path = artifact
        .url
        .strip_prefix("file://")
        .context("the bench needs the local store")?;
    let frames = decode_frames(workload.format, std::path::Path::new(path))?;
    let mut times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let mut encoder = VideoEncoder::start(EncodeSettings {
            width: workload.width,
            height: workload.height,
            fps: f64::from(workload.fps),
            formats: vec![workload.format],
            quality: None,
            scale: 1,
            frame_kind: FrameKind::Png,
        })
        .await?;
        for frame in &frames {
            encoder.push(frame).await?;
        }
        encoder.finish().await?;
        times.push(started.elapsed());
    }
    Ok(percentile_ms(&mut times, 0.5))
}

/// Every frame of a video as PNG bytes (WebP through the `image` crate: ffmpeg 5.1 cannot read
/// animated WebP; MP4 through ffmpeg).
fn decode_frames(format: VideoFormat, path: &std::path::Path) -> Result<Vec<Vec<u8>>> {
    let png = |image: &image::RgbaImage| -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        image.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )?;
        Ok(bytes)
    };
    if format == VideoFormat::Webp {
        use image::AnimationDecoder;
        let file = std::io::BufReader::new(std::fs::File::open(path)?);
        let frames = image::codecs::webp::WebPDecoder::new(file)?
            .into_frames()
            .collect_frames()?;
        return frames.iter().map(|f| png(f.buffer())).collect();
    }
    let dir = tempfile::tempdir()?;
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .arg(dir.path().join("%05d.png"))
        .status()?;
    anyhow::ensure!(
        status.success(),
        "ffmpeg could not decode {}",
        path.display()
    );
    let mut names: Vec<_> = std::fs::read_dir(dir.path())?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    names.sort();
    names
        .iter()
        .map(|p| Ok(std::fs::read(p)?))
        .collect::<Result<_>>()
}
