//! `GET /schedules`: the configured `[[schedules]]`, read-only.

use super::error::{ApiError, ErrorAnswer};
use crate::service::{ScheduleStatus, Service};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The schedules.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ScheduleList {
    /// In config order.
    pub schedules: Vec<ScheduleStatus>,
}

/// `GET /schedules`: each schedule's cron expression, job type, next fire time and the last fire
/// time any process on this queue submitted, with its job.
#[utoipa::path(
    get,
    path = "/schedules",
    tag = "system",
    responses(
        (status = 200, description = "The configured schedules", body = ScheduleList),
        (status = 503, description = "Their history (Redis, or the data dir) cannot be read", body = ErrorAnswer),
    ),
)]
pub async fn list(State(service): State<Arc<Service>>) -> Result<Response, ApiError> {
    let schedules = service
        .schedules
        .status()
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    Ok(axum::Json(ScheduleList { schedules }).into_response())
}
