//! `kiln bench oven`: the oven's routes for a `$code` (issue 16) over HTTP against an in-process
//! `kiln serve`, its piece store a loopback stand-in: a 128² PNG icon made (cold) and answered
//! from the result cache (cached), the oven's default grab (`/grab/webp/512/512/$code`: 12 s at
//! 7.5 fps, 90 frames played at 15 fps), and the app-store ZIP (six presets, 1080×1920 to
//! 2560×1600 at density 4). Every round asks for a new `$code`, so "cold" is a real render.
//! Beside them, the same default grab of a page of the site (`/grab/webp/512/512/{page}`, the
//! `url` job type in Chromium), its site a loopback stand-in serving a canvas piece that draws
//! what the `$code` draws.

use crate::stats::{median_ms, round1};
use anyhow::{Context, Result};
use axum::extract::Query;
use axum::response::IntoResponse;
use clap::Args;
use kiln::Config;
use kiln::service::{Role, Service};
use serde::Serialize;
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct OvenBenchArgs {
    /// Rounds; each renders a new piece per route.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    rounds: usize,
    icon_cold_p50_ms: f64,
    icon_cached_p50_ms: f64,
    icon_cold_over_cached: f64,
    grab_p50_ms: f64,
    page_grab_p50_ms: f64,
    page_grab_over_code_grab: f64,
    app_screenshots_zip_p50_ms: f64,
    app_screenshots_zip_bytes: usize,
}

/// Every `$code` is this piece: it moves every frame (so a grab is neither frozen nor a dud) and
/// draws shapes and a line, as most top pieces do.
const PIECE: &str = "(wipe navy)\n(ink yellow)\n(circle (+ (/ w 2) (* (/ w 4) (sin (/ frame 20)))) (/ h 2) (/ w 8))\n(ink rainbow)\n(line 0 0 w (% (* frame 4) h))";

/// Every page of the stand-in site: the same circle and rainbow-ish line on a canvas, moving
/// every frame, and aesthetic.computer's ready signal on the first paint.
const PAGE: &str = "<!doctype html><html><head><style>html,body{margin:0;background:#000}\
canvas{display:block;width:100vw;height:100vh}</style></head><body><canvas></canvas><script>\
const c = document.querySelector('canvas'); const d = devicePixelRatio;\
c.width = innerWidth * d; c.height = innerHeight * d; const g = c.getContext('2d');\
let frame = 0;\
function draw() { const w = c.width, h = c.height;\
  g.fillStyle = 'navy'; g.fillRect(0, 0, w, h); g.fillStyle = 'yellow'; g.beginPath();\
  g.arc(w / 2 + w / 4 * Math.sin(frame / 20), h / 2, w / 8, 0, 2 * Math.PI); g.fill();\
  g.strokeStyle = `hsl(${frame * 7 % 360} 100% 50%)`; g.beginPath(); g.moveTo(0, 0);\
  g.lineTo(w, (frame * 4) % h); g.stroke(); frame++; window.acPieceReady = true;\
  requestAnimationFrame(draw); }\
requestAnimationFrame(draw);</script></body></html>";

async fn page() -> axum::response::Response {
    ([("content-type", "text/html; charset=utf-8")], PAGE).into_response()
}

async fn store_kidlisp(Query(query): Query<HashMap<String, String>>) -> axum::response::Response {
    let _ = query.get("code");
    axum::Json(serde_json::json!({"source": PIECE, "handle": "@bench"})).into_response()
}

/// GETs `path` and reads the whole body; fails on anything but `expected`.
async fn timed_get(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    expected: u16,
) -> Result<(Duration, usize)> {
    let started = Instant::now();
    let response = client.get(format!("{base}{path}")).send().await?;
    let status = response.status().as_u16();
    let body = response.bytes().await?;
    anyhow::ensure!(
        status == expected,
        "{path}: {status} (expected {expected}): {}",
        String::from_utf8_lossy(&body[..body.len().min(300)])
    );
    Ok((started.elapsed(), body.len()))
}

pub async fn run(config: Config, args: OvenBenchArgs) -> Result<ExitCode> {
    anyhow::ensure!(args.rounds >= 1, "rounds must be at least 1");
    let mut config = crate::stills::in_bench_dir(config);
    let scratch = tempfile::tempdir()?;
    config.data_dir = scratch.path().join("oven");
    config.storage.url = Some(format!("file://{}", scratch.path().join("store").display()));
    config.storage.public_base_url = None;
    config.service.max_wait_s = 600;

    let store = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let store_addr = store.local_addr()?;
    let app = axum::Router::new()
        .route("/api/store-kidlisp", axum::routing::get(store_kidlisp))
        .route("/{page}", axum::routing::get(page));
    let store_task = tokio::spawn(async move {
        let _ = axum::serve(store, app).await;
    });
    config.sources.base_url = format!("http://{store_addr}");
    config.sources.allowed_hosts = vec!["127.0.0.1".into()];
    config.sources.allow_private = true;
    config.pieces.base_url = format!("http://{store_addr}");
    config.pieces.allow_private = true;

    let service = Service::start_with(config, Role::All).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = kiln::api::router(service.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(900))
        .build()?;

    let (mut icon_cold, mut icon_cached, mut grabs, mut zips) = (vec![], vec![], vec![], vec![]);
    let mut page_grabs = vec![];
    let mut zip_bytes = 0;
    let run_id = std::process::id();
    for round in 0..args.rounds {
        let code = format!("$o{run_id}r{round}");
        let icon = format!("/icon/128x128/{code}.png");
        let (cold, _) = timed_get(&client, &base, &icon, 200)
            .await
            .context("icon")?;
        let (cached, _) = timed_get(&client, &base, &icon, 200)
            .await
            .context("icon")?;
        let (grab, _) = timed_get(&client, &base, &format!("/grab/webp/512/512/{code}g"), 200)
            .await
            .context("grab")?;
        let (page_grab, _) = timed_get(
            &client,
            &base,
            &format!("/grab/webp/512/512/page{run_id}r{round}"),
            200,
        )
        .await
        .context("page grab")?;
        let (zip, bytes) = timed_get(
            &client,
            &base,
            &format!("/app-screenshots/download/{code}z"),
            200,
        )
        .await
        .context("app screenshots")?;
        eprintln!(
            "round {round}: icon cold {:.1} ms, cached {:.1} ms; grab {:.1} ms; page grab {:.1} ms; ZIP {:.1} ms ({bytes} bytes)",
            cold.as_secs_f64() * 1e3,
            cached.as_secs_f64() * 1e3,
            grab.as_secs_f64() * 1e3,
            page_grab.as_secs_f64() * 1e3,
            zip.as_secs_f64() * 1e3,
        );
        icon_cold.push(cold);
        icon_cached.push(cached);
        grabs.push(grab);
        page_grabs.push(page_grab);
        zips.push(zip);
        zip_bytes = bytes;
    }
    server.abort();
    store_task.abort();
    service.shutdown().await;

    let cold = median_ms(&mut icon_cold);
    let cached = median_ms(&mut icon_cached);
    let grab = median_ms(&mut grabs);
    let page_grab = median_ms(&mut page_grabs);
    let report = Report {
        rounds: args.rounds,
        icon_cold_p50_ms: round1(cold),
        icon_cached_p50_ms: round1(cached),
        icon_cold_over_cached: round1(cold / cached.max(0.001)),
        grab_p50_ms: round1(grab),
        page_grab_p50_ms: round1(page_grab),
        page_grab_over_code_grab: round1(page_grab / grab.max(0.001)),
        app_screenshots_zip_p50_ms: round1(median_ms(&mut zips)),
        app_screenshots_zip_bytes: zip_bytes,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}
