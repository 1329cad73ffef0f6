//! `kiln bench http`: jobs accepted per second over HTTP with the workers paused, and the
//! end-to-end latency of a small p5 job over HTTP (`?wait`) against the same job run in-process,
//! as `kiln render` runs it. See docs/benchmarks.md.

use crate::stats::{percentile_ms, round1};
use anyhow::{Context, Result};
use clap::Args;
use kiln::Config;
use kiln::jobs::JobSpec;
use kiln::service::{Role, Service};
use serde::Serialize;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[derive(Debug, Args)]
pub struct HttpBenchArgs {
    /// Jobs submitted for the acceptance rate.
    #[arg(long, default_value_t = 2000)]
    pub submissions: usize,
    /// Clients submitting at once.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Small jobs timed end to end, each way.
    #[arg(long, default_value_t = 30)]
    pub jobs: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    accepted_per_s: f64,
    submit_p50_ms: f64,
    submit_p95_ms: f64,
    http_wait_p50_ms: f64,
    in_process_p50_ms: f64,
    http_over_in_process: f64,
}

/// A small p5 job, different per `n` so no cache could serve it.
fn small_job(id: &str, n: usize) -> serde_json::Value {
    serde_json::json!({"id": id, "type": "p5", "input": {
        "code": format!("function setup() {{ createCanvas(64, 64); background({}); circle(32, 32, 20); }}", n % 255),
        "width": 64, "height": 64}})
}

async fn serve(service: Arc<Service>) -> Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = kiln::api::router(service);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((base, task))
}

pub async fn run(mut config: Config, args: HttpBenchArgs) -> Result<ExitCode> {
    anyhow::ensure!(
        args.submissions >= 1 && args.clients >= 1 && args.jobs >= 1,
        "counts must be at least 1"
    );
    let scratch = tempfile::tempdir()?;
    config.plugin_dirs = config.plugin_dirs();
    config.data_dir = scratch.path().join("accept");
    config.service.max_queued = args.submissions as u64 + 1;
    eprintln!(
        "bench http: {} submissions from {} clients, {} small jobs each way",
        args.submissions, args.clients, args.jobs
    );
    let client = reqwest::Client::new();

    // 1. Acceptance with the workers paused: every 202 is a job committed to disk.
    let service = Service::start_with(config.clone(), Role::Api).await?;
    let (base, server) = serve(service.clone()).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let clients = (0..args.clients).map(|_| {
        let (client, base, next) = (client.clone(), base.clone(), next.clone());
        let total = args.submissions;
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return anyhow::Ok(latencies);
                }
                let sent = Instant::now();
                let response = client
                    .post(format!("{base}/jobs?lane=bulk"))
                    .json(&small_job(&format!("accept-{n}"), n))
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status() == 202,
                    "submission {n} got {}",
                    response.status()
                );
                latencies.push(sent.elapsed());
            }
        })
    });
    let mut submits = Vec::new();
    for client in futures::future::join_all(clients).await {
        submits.extend(client.context("a client task failed")??);
    }
    let accepted_per_s = args.submissions as f64 / started.elapsed().as_secs_f64();
    server.abort();
    service.shutdown().await;
    let submit_p50_ms = percentile_ms(&mut submits, 0.5);
    let submit_p95_ms = percentile_ms(&mut submits, 0.95);
    eprintln!(
        "accepted: {accepted_per_s:.0} jobs/s (submit p50 {submit_p50_ms:.2} ms, p95 {submit_p95_ms:.2} ms)"
    );

    // 2. One small job at a time: over HTTP with ?wait, and in-process.
    config.data_dir = scratch.path().join("latency");
    // Every job must render: the result cache would answer repeats without a render.
    config.queue.cache_ttl_s = 0;
    let service = Service::start(config).await?;
    let (base, server) = serve(service.clone()).await?;
    let warm = small_job("warm", 0);
    client
        .post(format!("{base}/jobs?wait=60"))
        .json(&warm)
        .send()
        .await?;
    let mut http = Vec::new();
    let mut local = Vec::new();
    for n in 0..args.jobs {
        let sent = Instant::now();
        let response = client
            .post(format!("{base}/jobs?wait=60"))
            .json(&small_job(&format!("http-{n}"), n))
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == 200,
            "job http-{n} did not finish in time: {}",
            response.status()
        );
        http.push(sent.elapsed());

        let spec: JobSpec = serde_json::from_value(small_job(&format!("local-{n}"), n))?;
        let ran = Instant::now();
        let outcome = service.kiln.runner.run(&spec).await;
        anyhow::ensure!(
            outcome.succeeded(),
            "in-process job failed: {:?}",
            outcome.error
        );
        local.push(ran.elapsed());
    }
    server.abort();
    service.shutdown().await;
    let http_wait_p50_ms = percentile_ms(&mut http, 0.5);
    let in_process_p50_ms = percentile_ms(&mut local, 0.5);
    eprintln!(
        "small p5 job: over HTTP p50 {http_wait_p50_ms:.1} ms, in-process p50 {in_process_p50_ms:.1} ms"
    );

    let report = Report {
        accepted_per_s: round1(accepted_per_s),
        submit_p50_ms: round1(submit_p50_ms),
        submit_p95_ms: round1(submit_p95_ms),
        http_wait_p50_ms: round1(http_wait_p50_ms),
        in_process_p50_ms: round1(in_process_p50_ms),
        http_over_in_process: (http_wait_p50_ms / in_process_p50_ms * 1000.0).round() / 1000.0,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}
