//! `kiln bench capture`: the ways of reading recording frames out of a page on the virtual clock,
//! timed on the same p5 sketch, with what each costs end to end and whether it is exact.
//!
//! One browser, one warm page, files served from memory through Fetch (as in `floor.rs`). Every
//! recording starts from a fresh navigation on a new origin, so no path inherits another's state.
//! For frame `i` a path advances the page's clock to `i / fps` and reads the pixels back; a path
//! is *exact* when two recordings of it decode to the same pixels as each other and as the canvas
//! read back as PNG (lossless by definition). The screencast is measured apart: it runs in real
//! time, so it cannot be stepped and its frames are never the same twice.
//! See docs/benchmarks.md.

use crate::floor::{evaluation, fulfil, intercept_every_request};
use crate::stats::{median, percentile_ms, round1, round3};
use anyhow::{Context, Result, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::fetch::{EventRequestPaused, HeaderEntry};
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, CaptureScreenshotFormat, CaptureScreenshotParams,
    EventLoadEventFired, EventScreencastFrame, NavigateParams, ScreencastFrameAckParams,
    StartScreencastFormat, StartScreencastParams, StopScreencastParams,
};
use clap::Args;
use futures::StreamExt;
use kiln::Config;
use kiln::browser::Libraries;
use kiln::browser::bare::{
    BareBrowser, LIBRARY_PATH, job_origin, library_headers, page_script, split_job_url,
};
use kiln::media::encode::{EncodeSettings, FrameKind, VideoEncoder, VideoFormat};
use serde::Serialize;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

// The video plugin's own page and harness, so every path records what the plugin records.
const PAGE_HTML: &str = include_str!("../../plugins/video/src/p5.html");
const HARNESS_JS: &str = include_str!("../../plugins/video/src/harness.js");

/// The recording rate. Frame `i` is the page at `i * 1000 / FPS` ms of virtual time.
const FPS: f64 = 30.0;

/// Seeds p5's `random` and the page's `Math.random`, so every recording draws the same frames.
const SEED: u64 = 7;

/// Frames queued between capture and ffmpeg, as in `record.rs`.
const FRAMES_IN_FLIGHT: usize = 4;

/// A moderately busy sketch: 40 translucent circles bouncing over a fresh background each frame.
/// Motion is per draw call, not per millisecond, so a draw skipped or repeated would show up as a
/// difference between recordings.
const SKETCH: &str = r#"
const balls = [];
function setup() {
  createCanvas({W}, {H});
  pixelDensity(1);
  for (let i = 0; i < 40; i++) {
    balls.push({
      x: random(width), y: random(height),
      vx: random(-5, 5), vy: random(-5, 5),
      d: random(20, 120),
      c: color(random(255), random(255), random(255), 200),
    });
  }
}
function draw() {
  background(18, 22, 38);
  noStroke();
  for (const b of balls) {
    b.x += b.vx; b.y += b.vy;
    if (b.x < 0 || b.x > width) b.vx = -b.vx;
    if (b.y < 0 || b.y > height) b.vy = -b.vy;
    fill(b.c);
    circle(b.x, b.y, b.d);
  }
  stroke(255);
  strokeWeight(3);
  line(0, (frameCount * 7) % height, width, (frameCount * 7) % height);
}
"#;

/// The canvas as the page holds it, for the expressions below.
const CANVAS_JS: &str = "document.querySelector('canvas[data-kiln-main]')";

#[derive(Debug, Args)]
pub struct CaptureBenchArgs {
    /// Canvas side in pixels (a square), unless --width and --height say otherwise.
    #[arg(long, default_value_t = 512)]
    pub size: u32,
    /// Canvas width; defaults to --size.
    #[arg(long)]
    pub width: Option<u32>,
    /// Canvas height; defaults to --size.
    #[arg(long)]
    pub height: Option<u32>,
    /// Frames per recording (at 30 fps of virtual time).
    #[arg(long, default_value_t = 90)]
    pub frames: u32,
    /// Recordings per path, each from a fresh navigation; at least 2, since whether a path is
    /// deterministic is decided by comparing them.
    #[arg(long, default_value_t = 2)]
    pub runs: usize,
    /// Seconds of screencast per format.
    #[arg(long, default_value_t = 3.0)]
    pub screencast_seconds: f64,
    /// Skip the capture + WebP encode measurements.
    #[arg(long)]
    pub no_encode: bool,
}

/// One way of capturing a stepped frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CapturePath {
    /// Step and `canvas.toDataURL(mime, quality)` in one evaluate.
    Canvas(Codec),
    /// Step and `getImageData` in one evaluate, returned as base64 by `Uint8Array.toBase64`.
    CanvasRaw,
    /// The same pixels base64-encoded by `btoa` over 32 KiB chunks (browsers before
    /// `toBase64`, and a check that the native encoder is what makes the difference).
    CanvasRawBtoa,
    /// Step in one evaluate, then `Page.captureScreenshot` with optimizeForSpeed.
    Screenshot(Codec),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Png,
    Jpeg,
    Webp,
}

impl Codec {
    fn name(self) -> &'static str {
        match self {
            Codec::Png => "png",
            Codec::Jpeg => "jpeg",
            Codec::Webp => "webp",
        }
    }

    fn image_format(self) -> image::ImageFormat {
        match self {
            Codec::Png => image::ImageFormat::Png,
            Codec::Jpeg => image::ImageFormat::Jpeg,
            Codec::Webp => image::ImageFormat::WebP,
        }
    }
}

impl CapturePath {
    const ALL: [CapturePath; 8] = [
        CapturePath::Canvas(Codec::Png),
        CapturePath::Canvas(Codec::Jpeg),
        CapturePath::Canvas(Codec::Webp),
        CapturePath::CanvasRaw,
        CapturePath::CanvasRawBtoa,
        CapturePath::Screenshot(Codec::Png),
        CapturePath::Screenshot(Codec::Jpeg),
        CapturePath::Screenshot(Codec::Webp),
    ];

    fn name(self) -> String {
        match self {
            CapturePath::Canvas(Codec::Png) => "canvas toDataURL png".into(),
            CapturePath::Canvas(codec) => format!("canvas toDataURL {} q0.9", codec.name()),
            CapturePath::CanvasRaw => "canvas getImageData (toBase64)".into(),
            CapturePath::CanvasRawBtoa => "canvas getImageData (btoa)".into(),
            CapturePath::Screenshot(Codec::Png) => "screenshot png (fast)".into(),
            CapturePath::Screenshot(codec) => format!("screenshot {} q90", codec.name()),
        }
    }

    /// The encoding of the bytes this path yields; `None` for raw RGBA.
    fn codec(self) -> Option<Codec> {
        match self {
            CapturePath::Canvas(codec) | CapturePath::Screenshot(codec) => Some(codec),
            CapturePath::CanvasRaw | CapturePath::CanvasRawBtoa => None,
        }
    }
}

/// Files served to the page, by path; every origin gets the same ones.
type Files = Arc<HashMap<String, (&'static str, Bytes)>>;

/// The browser, its one page and the files it is served.
struct Bench {
    browser: BareBrowser,
    page: Page,
    width: u32,
    height: u32,
    /// Origins are numbered far from Kiln's and the floor's.
    next_origin: u64,
}

/// One recording of one path.
struct Recording {
    frames: Vec<Bytes>,
    /// Per frame: step + read back + base64 decode in Rust.
    times: Vec<Duration>,
    wall: Duration,
}

#[derive(Debug, Serialize)]
struct PathReport {
    path: String,
    /// Per-frame capture time over every run (step, read back, base64 decode).
    p50_ms: f64,
    p95_ms: f64,
    /// Frames over wall time, median of runs.
    frames_per_s: f64,
    /// The frame as the path yields it (PNG/JPEG/WebP file, or raw RGBA).
    bytes_per_frame: u64,
    /// Median time for the `image` crate to decode one frame to RGBA; 0 for raw frames.
    decode_p50_ms: f64,
    /// Capture plus decode: what a consumer needing pixels pays per frame.
    capture_and_decode_ms: f64,
    /// Every run decoded to the same pixels.
    deterministic: bool,
    /// Every frame of every run equals the PNG canvas path's pixels.
    lossless: bool,
    /// Deterministic and lossless.
    exact: bool,
    /// The largest channel difference from the PNG canvas path's pixels.
    max_channel_diff: u8,
}

#[derive(Debug, Serialize)]
struct ScreencastReport {
    format: String,
    seconds: f64,
    frames_received: usize,
    frames_per_s: f64,
    bytes_per_frame: u64,
    /// Clock steps the host drove meanwhile (the page draws at most 60 times a second).
    steps_per_s: f64,
    deterministic: bool,
}

#[derive(Debug, Serialize)]
struct EncodeReport {
    path: String,
    frame_kind: String,
    /// Median of runs: first capture until the last frame is handed over.
    capture_s: f64,
    /// Median of runs: first capture until ffmpeg has written the WebP.
    total_s: f64,
    webp_bytes: u64,
}

#[derive(Debug, Serialize)]
struct EncodeAloneReport {
    frame_kind: String,
    /// Pushing frames captured earlier into ffmpeg until the WebP is written.
    total_s: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    workload: String,
    width: u32,
    height: u32,
    frames: u32,
    fps: f64,
    runs: usize,
    /// Different frames among those recorded (the sketch animates).
    distinct_frames: usize,
    paths: Vec<PathReport>,
    /// The raw path's step and in-page work alone, its string not returned: the rest of its
    /// time is moving ~1.33 bytes of base64 per pixel byte over DevTools and decoding it.
    raw_in_page_p50_ms: f64,
    /// The exact path with the lowest capture + decode time per frame.
    fastest_exact: Option<String>,
    screencast: Vec<ScreencastReport>,
    encode_webp: Vec<EncodeReport>,
    encode_webp_alone: Vec<EncodeAloneReport>,
}

pub async fn run(config: Config, args: CaptureBenchArgs) -> Result<ExitCode> {
    let width = args.width.unwrap_or(args.size);
    let height = args.height.unwrap_or(args.size);
    ensure!(
        args.runs >= 2,
        "--runs must be at least 2: exactness compares two runs"
    );
    ensure!(args.frames >= 1, "--frames must be at least 1");
    ensure!(
        (16..=4096).contains(&width) && (16..=4096).contains(&height),
        "width and height must be 16..=4096"
    );
    let workload = format!(
        "{} frames of a p5 sketch (40 circles) at {width}x{height}, {FPS} fps of virtual time, {} runs per path",
        args.frames, args.runs
    );
    eprintln!("bench capture: {workload}");

    let mut bench = Bench::start(&config, width, height).await?;
    let result = measure(&mut bench, &args, workload).await;
    bench.browser.close().await;
    let report = result?;
    print_table(&report);
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}

async fn measure(bench: &mut Bench, args: &CaptureBenchArgs, workload: String) -> Result<Report> {
    // One unmeasured recording, so the first measured one does not pay for warming up.
    bench.load(FPS).await?;
    bench
        .record(CapturePath::Canvas(Codec::Png), args.frames.min(10), None)
        .await?;

    // Runs interleave the paths, so drift in the machine's load spreads over all of them.
    let mut recordings: Vec<Vec<Recording>> = CapturePath::ALL.iter().map(|_| Vec::new()).collect();
    for run in 0..args.runs {
        for (i, &path) in CapturePath::ALL.iter().enumerate() {
            bench.load(FPS).await?;
            let recording = bench.record(path, args.frames, None).await?;
            eprintln!(
                "run {run}: {:<32} {:>6.1} ms/frame  {:>5.1} frames/s",
                path.name(),
                median_ms(&recording.times),
                f64::from(args.frames) / recording.wall.as_secs_f64()
            );
            recordings[i].push(recording);
        }
    }

    let (width, height) = (bench.width, bench.height);
    let reference = decode_all(
        CapturePath::Canvas(Codec::Png),
        &recordings[0][0],
        width,
        height,
    )?
    .0;
    // A sketch that stood still would make every path look exact.
    let distinct_frames = reference
        .iter()
        .map(|frame| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            frame.hash(&mut hasher);
            hasher.finish()
        })
        .collect::<std::collections::HashSet<_>>()
        .len();
    ensure!(
        distinct_frames > 1 || args.frames == 1,
        "every recorded frame is the same: the sketch did not animate"
    );
    let mut paths = Vec::new();
    for (&path, runs) in CapturePath::ALL.iter().zip(&recordings) {
        paths.push(path_report(path, runs, &reference, width, height)?);
    }
    drop(reference);
    let fastest_exact = paths
        .iter()
        .filter(|p| p.exact)
        .min_by(|a, b| a.capture_and_decode_ms.total_cmp(&b.capture_and_decode_ms))
        .map(|p| p.path.clone());

    // Where the raw path's time goes: the same step and in-page work, returning only a length.
    bench.load(FPS).await?;
    let mut in_page = Vec::new();
    for index in 0..args.frames {
        let ms = f64::from(index) * 1000.0 / FPS;
        let started = Instant::now();
        bench
            .evaluate(&format!(
                "window.__kilnClock.advanceTo({ms}).then(() => {{ const c = {CANVAS_JS}; \
                 const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
                 return new Uint8Array(d.buffer, d.byteOffset, d.byteLength).toBase64().length; }})"
            ))
            .await?;
        in_page.push(started.elapsed());
    }
    let raw_in_page_p50_ms = round1(percentile_ms(&mut in_page, 0.5));
    eprintln!(
        "raw path without the transfer (step + getImageData + toBase64, length returned): {raw_in_page_p50_ms:.1} ms/frame"
    );

    let mut screencast = Vec::new();
    if args.screencast_seconds > 0.0 {
        for format in [StartScreencastFormat::Png, StartScreencastFormat::Jpeg] {
            let report = bench.screencast(format, args.screencast_seconds).await?;
            eprintln!(
                "screencast {:<5} {:>5.1} frames/s received, {:>5.1} clock steps/s",
                report.format, report.frames_per_s, report.steps_per_s
            );
            screencast.push(report);
        }
    }

    let (mut encode_webp, mut encode_webp_alone) = (Vec::new(), Vec::new());
    if !args.no_encode {
        for (path, kind) in [
            (CapturePath::Canvas(Codec::Png), FrameKind::Png),
            (CapturePath::CanvasRaw, FrameKind::Rgba),
            (CapturePath::Screenshot(Codec::Png), FrameKind::Png),
        ] {
            let mut captures = Vec::new();
            let mut totals = Vec::new();
            let mut webp_bytes = 0;
            for _ in 0..args.runs {
                bench.load(FPS).await?;
                let (capture, total, bytes) =
                    bench.record_into_webp(path, kind, args.frames).await?;
                eprintln!(
                    "capture + WebP encode: {:<32} captured in {:.2} s, WebP written at {:.2} s",
                    path.name(),
                    capture.as_secs_f64(),
                    total.as_secs_f64()
                );
                captures.push(capture.as_secs_f64());
                totals.push(total.as_secs_f64());
                webp_bytes = bytes;
            }
            encode_webp.push(EncodeReport {
                path: path.name(),
                frame_kind: format!("{kind:?}"),
                capture_s: round3(median(&mut captures)),
                total_s: round3(median(&mut totals)),
                webp_bytes,
            });
        }
        // ffmpeg alone on frames captured earlier: what the encoder costs without a browser
        // competing for the two cores, and what decoding PNG input adds to it.
        let png_index = CapturePath::ALL
            .iter()
            .position(|&p| p == CapturePath::Canvas(Codec::Png))
            .expect("listed");
        let raw_index = CapturePath::ALL
            .iter()
            .position(|&p| p == CapturePath::CanvasRaw)
            .expect("listed");
        for (kind, frames) in [
            (FrameKind::Png, &recordings[png_index][0].frames),
            (FrameKind::Rgba, &recordings[raw_index][0].frames),
        ] {
            let mut totals = Vec::new();
            for _ in 0..args.runs {
                totals.push(
                    encode_alone(frames, kind, width, height)
                        .await?
                        .as_secs_f64(),
                );
            }
            let total_s = round3(median(&mut totals));
            eprintln!("WebP encode alone, {kind:?} frames: {total_s:.2} s");
            encode_webp_alone.push(EncodeAloneReport {
                frame_kind: format!("{kind:?}"),
                total_s,
            });
        }
    }

    Ok(Report {
        workload,
        width,
        height,
        frames: args.frames,
        fps: FPS,
        runs: args.runs,
        distinct_frames,
        paths,
        raw_in_page_p50_ms,
        fastest_exact,
        screencast,
        encode_webp,
        encode_webp_alone,
    })
}

/// Timing, size, decode cost and exactness of one path over its runs.
fn path_report(
    path: CapturePath,
    runs: &[Recording],
    reference: &[Vec<u8>],
    width: u32,
    height: u32,
) -> Result<PathReport> {
    let mut times: Vec<Duration> = runs.iter().flat_map(|r| r.times.iter().copied()).collect();
    let mut rates: Vec<f64> = runs
        .iter()
        .map(|r| r.frames.len() as f64 / r.wall.as_secs_f64())
        .collect();
    let frames: usize = runs.iter().map(|r| r.frames.len()).sum();
    let bytes: usize = runs.iter().flat_map(|r| &r.frames).map(|f| f.len()).sum();

    let mut decode_times = Vec::new();
    let mut run_hashes = Vec::new();
    let mut max_diff = 0u8;
    let mut lossless = true;
    for run in runs {
        let (pixels, times) = decode_all(path, run, width, height)?;
        decode_times.extend(times);
        let mut hashes = Vec::new();
        for (frame, expected) in pixels.iter().zip(reference) {
            if frame.len() != expected.len() {
                // A different size cannot be the same picture.
                lossless = false;
                max_diff = u8::MAX;
            } else if frame != expected {
                lossless = false;
                let diff = frame
                    .iter()
                    .zip(expected)
                    .map(|(a, b)| a.abs_diff(*b))
                    .max()
                    .unwrap_or(0);
                max_diff = max_diff.max(diff);
            }
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            frame.hash(&mut hasher);
            hashes.push(hasher.finish());
        }
        run_hashes.push(hashes);
    }
    let deterministic = run_hashes.windows(2).all(|pair| pair[0] == pair[1]);
    let p50_ms = percentile_ms(&mut times, 0.5);
    let decode_p50_ms = if path.codec().is_some() {
        percentile_ms(&mut decode_times, 0.5)
    } else {
        0.0
    };
    Ok(PathReport {
        path: path.name(),
        p50_ms: round1(p50_ms),
        p95_ms: round1(percentile_ms(&mut times, 0.95)),
        frames_per_s: round1(median(&mut rates)),
        bytes_per_frame: (bytes / frames.max(1)) as u64,
        decode_p50_ms: round1(decode_p50_ms),
        capture_and_decode_ms: round1(p50_ms + decode_p50_ms),
        deterministic,
        lossless,
        exact: deterministic && lossless,
        max_channel_diff: max_diff,
    })
}

/// Every frame of `run` as RGBA, with the time each took to decode.
fn decode_all(
    path: CapturePath,
    run: &Recording,
    width: u32,
    height: u32,
) -> Result<(Vec<Vec<u8>>, Vec<Duration>)> {
    let mut pixels = Vec::with_capacity(run.frames.len());
    let mut times = Vec::with_capacity(run.frames.len());
    for frame in &run.frames {
        let started = Instant::now();
        let rgba = match path.codec() {
            Some(codec) => image::load_from_memory_with_format(frame, codec.image_format())
                .with_context(|| format!("decoding a frame of {}", path.name()))?
                .into_rgba8()
                .into_raw(),
            None => {
                ensure!(
                    frame.len() == (width * height * 4) as usize,
                    "{}: {} bytes, not {width}x{height} RGBA",
                    path.name(),
                    frame.len()
                );
                frame.to_vec()
            }
        };
        times.push(started.elapsed());
        pixels.push(rgba);
    }
    Ok((pixels, times))
}

impl Bench {
    /// One browser and one page of `width`×`height` on the virtual clock, serving the sketch.
    async fn start(config: &Config, width: u32, height: u32) -> Result<Self> {
        let libraries = Libraries::load(&config.libraries_dir)?;
        let p5 = libraries
            .iter()
            .find(|l| l.name == "p5" && l.version.starts_with('2'))
            .context("p5 2.x is not installed")?;
        let browser = BareBrowser::launch(&config.browser).await?;
        let page = browser.open_page().await?;

        let sketch = SKETCH
            .replace("{W}", &width.to_string())
            .replace("{H}", &height.to_string());
        let mut files = HashMap::new();
        files.insert(p5.url.clone(), ("text/javascript", p5.bytes.clone()));
        files.insert(
            "/kiln-video-harness.js".to_string(),
            ("text/javascript", Bytes::from_static(HARNESS_JS.as_bytes())),
        );
        files.insert("/sketch.js".to_string(), ("text/javascript", sketch.into()));
        for fps in [FPS, SCREENCAST_FPS] {
            let html = PAGE_HTML
                .replace("{{p5_src}}", &p5.url)
                .replace("{{fps}}", &fps.to_string())
                .replace("{{seed}}", &SEED.to_string());
            files.insert(page_path(fps), ("text/html", html.into()));
        }
        serve(&page, Arc::new(files)).await?;

        page.execute(SetDeviceMetricsOverrideParams::new(
            i64::from(width),
            i64::from(height),
            1.0,
            false,
        ))
        .await?;
        page.execute(AddScriptToEvaluateOnNewDocumentParams::new(page_script(
            Some(SEED),
            true,
        )))
        .await?;
        Ok(Self {
            browser,
            page,
            width,
            height,
            next_origin: 2_000_000,
        })
    }

    /// Navigates to a fresh origin and waits for the sketch's setup; the clock then stands at 0.
    async fn load(&mut self, fps: f64) -> Result<()> {
        self.next_origin += 1;
        let url = format!("{}{}", job_origin(self.next_origin), page_path(fps));
        let mut loaded = self.page.event_listener::<EventLoadEventFired>().await?;
        self.page.execute(NavigateParams::new(url)).await?;
        loaded.next().await.context("page closed while loading")?;
        // Polled from here: the page's own timers run on the virtual clock, which stands still.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = self
                .evaluate("!!(window.__kilnVideo && window.__kilnVideo.ready)")
                .await?;
            if ready.as_bool() == Some(true) {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "the sketch's setup did not finish in 20 s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Records `frames` frames with `path`; each is also sent to `sink` when there is one.
    async fn record(
        &self,
        path: CapturePath,
        frames: u32,
        sink: Option<&mpsc::Sender<Bytes>>,
    ) -> Result<Recording> {
        let started = Instant::now();
        let mut recording = Recording {
            frames: Vec::with_capacity(frames as usize),
            times: Vec::with_capacity(frames as usize),
            wall: Duration::ZERO,
        };
        for index in 0..frames {
            let shot = Instant::now();
            let frame: Bytes = self
                .frame(path, f64::from(index) * 1000.0 / FPS)
                .await?
                .into();
            recording.times.push(shot.elapsed());
            if let Some(sink) = sink {
                sink.send(frame.clone())
                    .await
                    .context("the encoder stopped early")?;
            }
            recording.frames.push(frame);
        }
        recording.wall = started.elapsed();
        Ok(recording)
    }

    /// Advances the clock to `ms` and reads the frame back with `path`.
    async fn frame(&self, path: CapturePath, ms: f64) -> Result<Vec<u8>> {
        let step = format!("window.__kilnClock.advanceTo({ms})");
        match path {
            CapturePath::Canvas(codec) => {
                let mime = format!("image/{}", codec.name());
                let quality = if codec == Codec::Png { "" } else { ", 0.9" };
                let value = self
                    .evaluate(&format!(
                        "{step}.then(() => {CANVAS_JS}.toDataURL('{mime}'{quality}))"
                    ))
                    .await?;
                let url = value.as_str().context("toDataURL returned no string")?;
                // Chromium falls back to PNG for a type it cannot encode: that would not be
                // the path being measured.
                let data = url
                    .strip_prefix(&format!("data:{mime};base64,"))
                    .with_context(|| format!("toDataURL did not return {mime}"))?;
                Ok(BASE64.decode(data)?)
            }
            CapturePath::CanvasRaw | CapturePath::CanvasRawBtoa => {
                // `getImageData` is unpremultiplied RGBA, rows top to bottom: what ffmpeg's
                // rawvideo rgba input takes as is.
                let encode = if path == CapturePath::CanvasRaw {
                    "return u.toBase64();"
                } else {
                    "let s = ''; for (let i = 0; i < u.length; i += 0x8000) \
                     s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000)); \
                     return btoa(s);"
                };
                let value = self
                    .evaluate(&format!(
                        "{step}.then(() => {{ const c = {CANVAS_JS}; \
                         const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
                         const u = new Uint8Array(d.buffer, d.byteOffset, d.byteLength); {encode} }})"
                    ))
                    .await?;
                let data = value.as_str().context("getImageData returned no string")?;
                Ok(BASE64.decode(data)?)
            }
            CapturePath::Screenshot(codec) => {
                self.evaluate(&step).await?;
                let (format, quality) = match codec {
                    Codec::Png => (CaptureScreenshotFormat::Png, None),
                    Codec::Jpeg => (CaptureScreenshotFormat::Jpeg, Some(90)),
                    Codec::Webp => (CaptureScreenshotFormat::Webp, Some(90)),
                };
                // The parameters `page.rs` captures the viewport with.
                let params = CaptureScreenshotParams {
                    format: Some(format),
                    quality,
                    clip: None,
                    from_surface: Some(true),
                    capture_beyond_viewport: Some(false),
                    optimize_for_speed: Some(true),
                };
                let response = self.page.execute(params).await?;
                Ok(BASE64.decode(AsRef::<str>::as_ref(&response.result.data))?)
            }
        }
    }

    /// Records with `path` while a task pipes the frames into a WebP encoder, as `record.rs`
    /// does. Returns the time to the last capture, the time to the written WebP, and its size.
    async fn record_into_webp(
        &self,
        path: CapturePath,
        kind: FrameKind,
        frames: u32,
    ) -> Result<(Duration, Duration, u64)> {
        let started = Instant::now();
        let mut encoder = start_webp(kind, self.width, self.height).await?;
        let (frames_tx, mut frames_rx) = mpsc::channel::<Bytes>(FRAMES_IN_FLIGHT);
        let feeder = tokio::spawn(async move {
            while let Some(frame) = frames_rx.recv().await {
                encoder.push(&frame).await?;
            }
            encoder.finish().await
        });
        let recorded = self.record(path, frames, Some(&frames_tx)).await;
        drop(frames_tx);
        let capture = started.elapsed();
        let videos = feeder.await??;
        let total = started.elapsed();
        recorded?;
        Ok((capture, total, videos[0].bytes.len() as u64))
    }

    /// Screencasts for `seconds` while advancing the clock to the wall time as fast as the page
    /// allows; counts the frames that arrive.
    async fn screencast(
        &mut self,
        format: StartScreencastFormat,
        seconds: f64,
    ) -> Result<ScreencastReport> {
        self.load(SCREENCAST_FPS).await?;
        let mut events = self.page.event_listener::<EventScreencastFrame>().await?;
        let ack_page = self.page.clone();
        let counts = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let counted = counts.clone();
        // Frames are acknowledged at once: Chromium sends the next only after an ack.
        let counter = tokio::spawn(async move {
            while let Some(event) = events.next().await {
                let _ = ack_page
                    .execute(ScreencastFrameAckParams::new(event.session_id))
                    .await;
                if let Ok(data) = BASE64.decode(AsRef::<str>::as_ref(&event.data)) {
                    counted.0.fetch_add(1, Ordering::Relaxed);
                    counted.1.fetch_add(data.len(), Ordering::Relaxed);
                }
            }
        });
        let name = match format {
            StartScreencastFormat::Png => "png",
            StartScreencastFormat::Jpeg => "jpeg",
        };
        let started = Instant::now();
        self.page
            .execute(StartScreencastParams {
                format: Some(format),
                quality: Some(90),
                max_width: Some(i64::from(self.width)),
                max_height: Some(i64::from(self.height)),
                every_nth_frame: Some(1),
            })
            .await?;
        let mut steps = 0u64;
        while started.elapsed().as_secs_f64() < seconds {
            let ms = started.elapsed().as_secs_f64() * 1e3;
            self.evaluate(&format!("window.__kilnClock.advanceTo({ms})"))
                .await?;
            steps += 1;
        }
        self.page.execute(StopScreencastParams::default()).await?;
        let elapsed = started.elapsed().as_secs_f64();
        // Frames already on their way still arrive after the stop; they are counted.
        tokio::time::sleep(Duration::from_millis(100)).await;
        counter.abort();
        let frames = counts.0.load(Ordering::Relaxed);
        let bytes = counts.1.load(Ordering::Relaxed);
        Ok(ScreencastReport {
            format: name.into(),
            seconds: round3(elapsed),
            frames_received: frames,
            frames_per_s: round1(frames as f64 / elapsed),
            bytes_per_frame: (bytes / frames.max(1)) as u64,
            steps_per_s: round1(steps as f64 / elapsed),
            deterministic: false,
        })
    }

    /// `Runtime.evaluate`, promises awaited; a thrown exception is an error.
    async fn evaluate(&self, expression: &str) -> Result<serde_json::Value> {
        let response = self.page.execute(evaluation(expression)?).await?;
        if let Some(exception) = &response.result.exception_details {
            let detail = exception
                .exception
                .as_ref()
                .and_then(|e| e.description.clone())
                .unwrap_or_else(|| exception.text.clone());
            bail!("the page threw: {detail}");
        }
        Ok(response
            .result
            .result
            .value
            .clone()
            .unwrap_or(serde_json::Value::Null))
    }
}

/// The screencast page draws at 60 fps of virtual time, so its content can change faster than a
/// 30 fps recording's and the screencast, not the sketch, sets the rate received.
const SCREENCAST_FPS: f64 = 60.0;

fn page_path(fps: f64) -> String {
    format!("/index-{fps}.html")
}

/// Answers every request of `page` from `files`, by path, on whatever origin; 404 otherwise.
async fn serve(page: &Page, files: Files) -> Result<()> {
    let mut requests = page.event_listener::<EventRequestPaused>().await?;
    let serve_page = page.clone();
    tokio::spawn(async move {
        while let Some(event) = requests.next().await {
            let url = &event.request.url;
            let path = split_job_url(url).map(|(_, path)| path).unwrap_or("");
            let (code, headers, body) = match files.get(path) {
                Some((content_type, body)) => {
                    let headers = if path.starts_with(LIBRARY_PATH) {
                        library_headers()
                    } else {
                        vec![HeaderEntry::new("Content-Type", *content_type)]
                    };
                    (200, headers, body.clone())
                }
                None => (404, Vec::new(), Bytes::new()),
            };
            // A failure only means the page went away.
            let _ = fulfil(&serve_page, &event, code, headers, &body).await;
        }
    });
    intercept_every_request(page).await
}

/// A WebP encoder at Kiln's defaults for `width`×`height` frames of `kind`.
async fn start_webp(kind: FrameKind, width: u32, height: u32) -> Result<VideoEncoder> {
    Ok(VideoEncoder::start(EncodeSettings {
        width,
        height,
        fps: FPS,
        formats: vec![VideoFormat::Webp],
        quality: None,
        scale: 1,
        frame_kind: kind,
    })
    .await?)
}

/// Pushes `frames` into a fresh WebP encoder; the time until the WebP is written.
async fn encode_alone(
    frames: &[Bytes],
    kind: FrameKind,
    width: u32,
    height: u32,
) -> Result<Duration> {
    let started = Instant::now();
    let mut encoder = start_webp(kind, width, height).await?;
    for frame in frames {
        encoder.push(frame).await?;
    }
    encoder.finish().await?;
    Ok(started.elapsed())
}

fn median_ms(times: &[Duration]) -> f64 {
    percentile_ms(&mut times.to_vec(), 0.5)
}

fn print_table(report: &Report) {
    eprintln!();
    eprintln!(
        "{:<32} {:>8} {:>8} {:>9} {:>10} {:>9} {:>12} {:>6} {:>9}",
        "path",
        "p50 ms",
        "p95 ms",
        "frames/s",
        "bytes/frm",
        "decode ms",
        "cap+dec ms",
        "exact",
        "max diff"
    );
    for p in &report.paths {
        let exact = if p.exact {
            "yes"
        } else if p.deterministic {
            "lossy"
        } else {
            "no"
        };
        eprintln!(
            "{:<32} {:>8.1} {:>8.1} {:>9.1} {:>10} {:>9.1} {:>12.1} {:>6} {:>9}",
            p.path,
            p.p50_ms,
            p.p95_ms,
            p.frames_per_s,
            p.bytes_per_frame,
            p.decode_p50_ms,
            p.capture_and_decode_ms,
            exact,
            p.max_channel_diff
        );
    }
    for s in &report.screencast {
        eprintln!(
            "{:<32} {:>8} {:>8} {:>9.1} {:>10} {:>9} {:>12} {:>6} {:>9}",
            format!("screencast {} (real time)", s.format),
            "-",
            "-",
            s.frames_per_s,
            s.bytes_per_frame,
            "-",
            "-",
            "no",
            "-"
        );
    }
    if let Some(fastest) = &report.fastest_exact {
        eprintln!("fastest exact path (capture + decode): {fastest}");
    }
    for e in &report.encode_webp {
        eprintln!(
            "capture + WebP encode, {:<32} ({:?} frames): captured {:.2} s, WebP at {:.2} s ({} bytes)",
            e.path, e.frame_kind, e.capture_s, e.total_s, e.webp_bytes
        );
    }
    for e in &report.encode_webp_alone {
        eprintln!(
            "WebP encode alone, {} frames: {:.2} s",
            e.frame_kind, e.total_s
        );
    }
}
