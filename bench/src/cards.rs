//! `kiln bench cards`: the social cards (issue 15) — `kidlisp-og` in its four layouts and
//! `notepat-og` — through `run_batch` (what `kiln batch` runs), each card's first job after the
//! host starts (cold) and the p50 of the jobs after it (warm). The listing is 16 pieces in the
//! style of kidlisp.com's top pieces: shapes that move, and scrolling, blurring, zooming
//! feedback; every layout plays its pieces for the oven's times (4 s, 8 s per mosaic tile, 2 s +
//! 4 × 0.8 s for the filmstrip) at 60 fps.

use crate::stats::{percentile_ms, round1};
use anyhow::Result;
use clap::Args;
use kiln::Config;
use kiln::Kiln;
use kiln::cli::batch::{BatchEntry, run_batch};
use kiln::jobs::JobSpec;
use serde::Serialize;
use serde_json::{Value, json};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct CardsBenchArgs {
    /// Warm jobs per card (after the cold one).
    #[arg(long, default_value_t = 5)]
    pub jobs: usize,
    /// Only these cards (featured, mosaic, filmstrip, code-split, notepat); all by default.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
}

#[derive(Debug, Serialize)]
struct CardReport {
    card: String,
    cold_ms: f64,
    warm_p50_ms: f64,
    warm_p95_ms: f64,
    jobs: usize,
}

/// The benchmark's listing: 16 pieces, most played first.
pub fn listing() -> Value {
    let sources = [
        "(wipe navy)\n(ink yellow)\n(circle (+ 300 (* 100 (sin (/ frame 20)))) 150 60)",
        "purple, ink rainbow, line, scroll 1",
        "(wipe 20 20 40) (ink lime) (repeat 20 i (box (* i 30) (+ 100 (* 40 (sin (+ i (/ frame 10))))) 20 20))",
        "fade:red-blue, ink white 64, circle w/2 h/2 50",
        "black, ink cyan, line 0 0 w h, line w 0 0 h, blur 1",
        "(wipe 255 200 0) (ink black) (box (% (* frame 4) w) 40 60 60)",
        "darkblue, ink pink, circle w/2 h/2 (wiggle 40), zoom 1.01",
        "(wipe 0 60 30) (ink white) (repeat 12 i (line 0 (* i 25) w (* i 25))) (scroll 0 1)",
        "(wipe 30 0 30) (ink orange) (tri 100 200 300 50 500 200)",
        "gray, ink red, box 50 50 200 100, spin 1",
        "(wipe 10 10 10) (ink 0 255 128) (circle (% (* frame 3) w) (/ h 2) 30)",
        "maroon, ink yellow 128, box ? ? 40 40, blur 1",
        "(wipe white) (ink black) (line 0 (/ h 2) w (/ h 2)) (ink red) (circle 100 100 50)",
        "teal, ink white, point ? ?, point ? ?, point ? ?, scroll 1 1",
        "(wipe 50 0 100) (ink 255 255 0) (box 10 10 (% frame 300) 40)",
        "olive, ink black, circle w/2 h/2 100, invert",
    ];
    let pieces: Vec<Value> = sources
        .iter()
        .enumerate()
        .map(|(i, source)| {
            json!({"code": format!("b{i:02}"), "source": source, "hits": 20_000 - 1000 * i as u64, "handle": "@bench"})
        })
        .collect();
    Value::Array(pieces)
}

fn spec(card: &str, id: String) -> BatchEntry {
    let job = if card == "notepat" {
        json!({"id": id, "type": "notepat-og", "input": {}})
    } else {
        json!({"id": id, "type": "kidlisp-og", "input": {"layout": card, "pieces": listing(), "date": "2026-11-30"}})
    };
    BatchEntry::Job(serde_json::from_value::<JobSpec>(job).expect("a valid job"))
}

pub async fn run(config: Config, args: CardsBenchArgs) -> Result<ExitCode> {
    anyhow::ensure!(args.jobs >= 1, "jobs must be at least 1");
    let mut config = crate::stills::in_bench_dir(config);
    // Effect-heavy pieces played for the oven's full waits outrun the default 10 s CPU budget;
    // the benchmark measures them instead of stopping them.
    let card = config
        .plugins
        .per_plugin
        .entry("kidlisp-og".into())
        .or_default();
    card.cpu_ms = Some(card.cpu_ms.unwrap_or(0).max(600_000));
    card.timeout_ms = Some(card.timeout_ms.unwrap_or(0).max(600_000));
    let kiln = Kiln::start(config).await?;
    let cards = ["featured", "filmstrip", "code-split", "notepat", "mosaic"];
    let mut reports = Vec::new();
    for card in cards
        .iter()
        .filter(|c| args.only.is_empty() || args.only.iter().any(|o| o == *c))
    {
        eprintln!("bench cards: {card} (1 cold + {} warm)", args.jobs);
        let (cold, outcomes) = run_batch(
            &kiln.runner,
            vec![spec(card, format!("{card}-cold"))],
            1,
            |_| {},
        )
        .await;
        if let Some(failed) = outcomes.iter().find(|o| !o.succeeded()) {
            anyhow::bail!("the {card} card failed: {:?}", failed.error);
        }
        let (_, outcomes) = run_batch(
            &kiln.runner,
            (0..args.jobs)
                .map(|i| spec(card, format!("{card}-{i}")))
                .collect(),
            1,
            |_| {},
        )
        .await;
        if let Some(failed) = outcomes.iter().find(|o| !o.succeeded()) {
            anyhow::bail!("the {card} card failed: {:?}", failed.error);
        }
        let mut times: Vec<std::time::Duration> = outcomes
            .iter()
            .map(|o| std::time::Duration::from_secs_f64(o.elapsed_ms / 1e3))
            .collect();
        let report = CardReport {
            card: card.to_string(),
            cold_ms: round1(cold.p50_ms),
            warm_p50_ms: round1(percentile_ms(&mut times, 0.5)),
            warm_p95_ms: round1(percentile_ms(&mut times, 0.95)),
            jobs: args.jobs,
        };
        eprintln!(
            "  cold {} ms, warm p50 {} ms",
            report.cold_ms, report.warm_p50_ms
        );
        reports.push(report);
    }
    kiln.shutdown().await;
    println!("{}", serde_json::to_string(&json!({"cards": reports}))?);
    Ok(ExitCode::SUCCESS)
}
