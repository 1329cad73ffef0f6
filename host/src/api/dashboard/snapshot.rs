//! What the dashboard shows at one moment, as one JSON object (docs/api.md, "The dashboard").
//!
//! The live part (jobs running, waiting and ended, the queue's depths, the last hour's
//! throughput) is built on every change; the slow part (frozen pieces, dead letters' count,
//! plugins, browsers and their memory) reads the store, the queue's dead letters and `/proc`,
//! so it is refreshed at most every [`SLOW_REFRESH`] per connection and reused between.

use crate::api::oven::{frozen, status};
use crate::service::Service;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How often the slow part is read again (per open dashboard).
pub const SLOW_REFRESH: Duration = Duration::from_secs(5);

/// The slow part, and when it was read.
#[derive(Default)]
pub struct Slow {
    read_at: Option<Instant>,
    value: Value,
}

fn now_ms() -> u64 {
    chrono::Utc::now().timestamp_millis().max(0) as u64
}

/// The snapshot now; `slow` is read again when older than [`SLOW_REFRESH`].
pub async fn build(service: &Service, slow: &mut Slow) -> Value {
    if slow.read_at.is_none_or(|at| at.elapsed() >= SLOW_REFRESH) {
        slow.value = read_slow(service).await;
        slow.read_at = Some(Instant::now());
    }
    let view = status::snapshot(service).await;
    let now = now_ms();
    let previews = &service.events.previews;
    let active: Vec<Value> = view
        .active
        .iter()
        .map(|job| {
            let mut entry = json!(job);
            // The page fetches the frame again when `previewSeq` changes.
            entry["previewSeq"] = json!(previews.get(&job.id).map(|p| p.seq));
            entry
        })
        .collect();
    let (depths, queue_error) = match service.queue.depths().await {
        Ok(depths) => (json!(depths), Value::Null),
        Err(err) => (
            Value::Null,
            json!(format!("the queue did not answer: {err}")),
        ),
    };
    let queue_depth = depths
        .as_object()
        .map(|d| d.values().filter_map(Value::as_u64).sum::<u64>());
    let settings = &service.settings;
    let mut snapshot = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "now": now,
        "startedAt": service.started_at_ms,
        "uptimeS": now.saturating_sub(service.started_at_ms) / 1000,
        "adminEnabled": settings.admin_token.is_some(),
        "submitTokens": !settings.submit_tokens.is_empty(),
        "concurrency": {
            "active": view.active.len(),
            "max": service.worker_count,
            "queueDepth": queue_depth,
        },
        "depths": depths,
        "queueError": queue_error,
        "active": active,
        "queue": view.queue,
        "recent": view.recent,
        "throughput": service.events.activity.throughput.summary(now),
    });
    if let (Some(out), Some(slow)) = (snapshot.as_object_mut(), slow.value.as_object()) {
        out.extend(slow.clone());
    }
    snapshot
}

/// Frozen pieces, dead letters' count, plugins and browsers.
async fn read_slow(service: &Service) -> Value {
    let (frozen, frozen_error) = match frozen::pieces(service).await {
        Ok(pieces) => (json!(pieces), Value::Null),
        Err(err) => (json!([]), json!(err.message)),
    };
    // The count only: the list itself is an admin route (`GET /dead-letters`), which the page
    // calls with the operator's token.
    let dead_letters = match service.queue.dead_letters().await {
        Ok(records) => json!(records.len()),
        Err(_) => Value::Null,
    };
    let plugins = service.kiln.plugins.snapshot();
    let loaded: Vec<Value> = plugins
        .plugins()
        .map(|plugin| {
            let report = plugin.report();
            json!({
                "name": report["name"],
                "version": report["version"],
                "summary": report["summary"],
                "contract": report["contract"],
                "granted": report["granted"],
                "loadMs": report["load_ms"],
            })
        })
        .collect();
    let kiln = &service.kiln;
    json!({
        "frozen": frozen,
        "frozenError": frozen_error,
        "deadLetters": dead_letters,
        "plugins": loaded,
        "refusedPlugins": plugins.errors().len(),
        "browsers": {
            "cpu": kiln.pool.as_ref().map(|pool| pool.browsers()),
            "gpu": kiln.gpu_pool.as_ref().map(|pool| pool.browsers()),
            "recycleAboveMib": kiln.config.browser.recycle_above_mib,
        },
        "slowAt": now_ms(),
    })
}
