//! `/dead-letters` (admin): jobs that used up their attempts, and re-queueing them.

use super::auth::require_admin;
use super::error::{ApiError, ErrorAnswer};
use super::jobs::record_json;
use crate::queue::JobRecord;
use crate::service::Service;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// `GET /dead-letters`: their records, newest first.
#[utoipa::path(
    get,
    path = "/dead-letters",
    tag = "admin",
    responses(
        (status = 200, description = "`{jobs: [Job]}`: jobs that used up queue.max_attempts, newest first"),
        (status = 401, description = "No or wrong token", body = ErrorAnswer),
        (status = 403, description = "Admin routes are off", body = ErrorAnswer),
    ),
)]
pub async fn list(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_admin(&service, &headers)?;
    let records = service
        .queue
        .dead_letters()
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    let jobs: Vec<_> = records.iter().map(record_json).collect();
    Ok(axum::Json(serde_json::json!({ "jobs": jobs })).into_response())
}

/// `POST /dead-letters/{id}/requeue`: queues the job again with fresh attempts (202).
#[utoipa::path(
    post,
    path = "/dead-letters/{id}/requeue",
    tag = "admin",
    params(("id" = String, Path, description = "The dead letter's job id")),
    responses(
        (status = 202, description = "Queued again with fresh attempts", body = JobRecord),
        (status = 401, description = "No or wrong token", body = ErrorAnswer),
        (status = 403, description = "Admin routes are off", body = ErrorAnswer),
        (status = 404, description = "Not a dead letter", body = ErrorAnswer),
    ),
)]
pub async fn requeue(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_admin(&service, &headers)?;
    let record = service
        .queue
        .requeue(id.clone())
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?
        .ok_or_else(|| ApiError::not_found(format!("job {id:?} is not a dead letter")))?;
    service.wake_workers();
    Ok((StatusCode::ACCEPTED, axum::Json(record_json(&record))).into_response())
}
