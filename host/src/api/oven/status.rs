//! `GET /grab-status` and `GET /status` (shared/OVEN.md §11): the jobs running with their stage
//! and percent, the jobs waiting with their position and an estimated wait, and the last jobs
//! that ended (and, in `/status`, the tape bakes), in the oven's field names, so its dashboard
//! and scripts can poll Kiln.
//!
//! The lists are this process's view ([`crate::service::Activity`]: its own submissions, and
//! every process's job events in a Redis deployment); `concurrency.queueDepth` is the queue's
//! own count, exact across processes. Every job type is listed, each entry with its `type`;
//! `piece` and `format` are filled for `kidlisp` jobs.

use crate::api::auth::StatusViewer;
use crate::api::error::ApiError;
use crate::queue::JobState;
use crate::service::{ActiveJob, ActivitySnapshot, JobLabel, Service};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// Waiting jobs listed, the next first; the rest are counted in `queueDepth`.
pub const QUEUE_SHOWN: usize = 50;

/// The snapshot, checked against the records of the jobs it lists as waiting or running (a job
/// whose events were missed is dropped from the view), with the labels of jobs first seen
/// running (queued by another process) read from their records.
pub(crate) async fn snapshot(service: &Service) -> ActivitySnapshot {
    let activity = &service.events.activity;
    let before = activity.snapshot(service.worker_count);
    let listed = before
        .queue
        .iter()
        .take(QUEUE_SHOWN)
        .map(|q| (&q.id, JobState::Queued));
    let running = before.active.iter().map(|a| (&a.id, JobState::Running));
    let mut labels = HashMap::new();
    for (id, expected) in listed.chain(running) {
        match service.queue.get(id.clone()).await {
            Ok(Some(record)) if record.status == expected => {
                labels.insert(id.clone(), JobLabel::of(&record.job_type, &record.input));
            }
            Ok(_) => activity.forget(id),
            // The queue did not answer: keep the view as it is.
            Err(_) => {}
        }
    }
    let mut now = activity.snapshot(service.worker_count);
    now.queue.truncate(QUEUE_SHOWN);
    for active in &mut now.active {
        if active.label.job_type.is_none()
            && let Some(label) = labels.remove(&active.id)
        {
            active.label = label;
        }
    }
    now
}

/// The oven's `grabProgress` entry of a running job.
fn progress(active: &ActiveJob) -> serde_json::Value {
    json!({
        "piece": active.label.piece,
        "format": active.label.format,
        "stage": active.stage,
        "stageDetail": format!("{} ({}%)", active.stage, active.percent),
        "percent": active.percent,
    })
}

/// The jobs waiting in the queue, both lanes, counted by the queue itself.
async fn queue_depth(service: &Service) -> Result<u64, ApiError> {
    let depths = service
        .queue
        .depths()
        .await
        .map_err(|e| ApiError::unavailable(format!("the queue did not answer: {e}")))?;
    Ok(depths.interactive + depths.bulk + depths.retrying)
}

/// `GET /grab-status`
#[utoipa::path(
    get,
    path = "/grab-status",
    tag = "oven",
    responses(
        (status = 200, description = "{active, recent, queue, progress (the oldest running job's, or null), grabProgress (by job id), concurrency: {active, max, queueDepth}}"),
        (status = 503, description = "The queue did not answer"),
        (status = 401, description = "`service.status_views` is `admin` and the request has neither the admin token nor the cookie"),
    ),
)]
pub async fn grab_status(
    _: StatusViewer,
    State(service): State<Arc<Service>>,
) -> Result<Response, ApiError> {
    let now = snapshot(&service).await;
    let grab_progress: serde_json::Map<String, serde_json::Value> = now
        .active
        .iter()
        .map(|a| (a.id.clone(), progress(a)))
        .collect();
    let body = json!({
        "active": now.active,
        "recent": now.recent,
        "queue": now.queue,
        "progress": now.active.first().map(progress),
        "grabProgress": grab_progress,
        "concurrency": {
            "active": now.active.len(),
            "max": service.worker_count,
            "queueDepth": queue_depth(&service).await?,
        },
    });
    Ok(axum::Json(body).into_response())
}

/// `GET /status`
#[utoipa::path(
    get,
    path = "/status",
    tag = "oven",
    responses(
        (status = 200, description = "{version, serverStartTime (Unix ms), uptime (s), incoming, active, recent (this process's tape bakes: POST /bake), grabs: {active, recent, queue} (as /grab-status)}"),
        (status = 401, description = "`service.status_views` is `admin` and the request has neither the admin token nor the cookie"),
    ),
)]
pub async fn status(
    _: StatusViewer,
    State(service): State<Arc<Service>>,
) -> Result<Response, ApiError> {
    let now = snapshot(&service).await;
    let uptime_ms =
        (chrono::Utc::now().timestamp_millis().max(0) as u64).saturating_sub(service.started_at_ms);
    let bakes = super::bake::bakes_snapshot();
    let (incoming, active): (Vec<_>, Vec<_>) = bakes
        .active
        .into_iter()
        .partition(|bake| bake.status == "incoming");
    let body = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "serverStartTime": service.started_at_ms,
        "uptime": uptime_ms / 1000,
        "incoming": incoming,
        "active": active,
        "recent": bakes.recent,
        "grabs": {"active": now.active, "recent": now.recent, "queue": now.queue},
    });
    Ok(axum::Json(body).into_response())
}
