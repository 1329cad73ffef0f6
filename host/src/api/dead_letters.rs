//! `/dead-letters` (admin): jobs that used up their attempts, and re-queueing them.

use super::auth::require_admin;
use super::error::ApiError;
use super::jobs::record_json;
use crate::service::Service;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// `GET /dead-letters`: their records, newest first.
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
