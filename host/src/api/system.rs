//! `/health`, `/ready`, `/metrics`, `/plugins`, and the 404 for everything else.

use super::error::{ApiError, ApiErrorKind, ErrorAnswer};
use crate::service::Service;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/health",
    tag = "system",
    responses((status = 200, description = "The process answers: `{status: ok}`")),
)]
pub async fn health() -> Response {
    axum::Json(serde_json::json!({ "status": "ok" })).into_response()
}

/// Readiness: the queue answers and, in a process that runs jobs, a browser is running.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "system",
    responses(
        (status = 200, description = "Ready: `{status: ready, queued}`"),
        (status = 503, description = "Not ready: the queue does not answer, or no browser runs in a process that runs jobs", body = ErrorAnswer),
    ),
)]
pub async fn ready(State(service): State<Arc<Service>>) -> Result<Response, ApiError> {
    if let Some(pool) = &service.kiln.pool
        && pool.browser_pids().is_empty()
    {
        return Err(ApiError::unavailable(
            "no browser is running (one is being started)",
        ));
    }
    let depths = service
        .queue
        .depths()
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    let kiln = &service.kiln;
    let pools = serde_json::json!({
        "cpu": kiln.pool.as_ref().map(|p| p.serving_pages()),
        "gpu": kiln.gpu_pool.as_ref().map(|p| p.serving_pages()),
        "gpuDetection": kiln.gpu,
    });
    Ok(
        axum::Json(serde_json::json!({ "status": "ready", "queued": depths, "pages": pools }))
            .into_response(),
    )
}

/// Prometheus metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "system",
    responses(
        (status = 200, description = "Prometheus text exposition (0.0.4)", content_type = "text/plain"),
        (status = 503, description = "The queue does not answer", body = ErrorAnswer),
    ),
)]
pub async fn metrics(State(service): State<Arc<Service>>) -> Result<Response, ApiError> {
    let depths = service
        .queue
        .depths()
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    let text = service.metrics.render(
        depths,
        service.kiln.pool.as_ref().map_or(0, |pool| pool.restarts()),
    );
    Ok((
        [(
            header::CONTENT_TYPE,
            prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        )],
        text,
    )
        .into_response())
}

/// The plugins loaded now, and files that were refused.
#[utoipa::path(
    get,
    path = "/plugins",
    tag = "plugins",
    responses((status = 200, description = "Loaded plugins with their schemas and grants, and refused files")),
)]
pub async fn plugins(State(service): State<Arc<Service>>) -> Response {
    let snapshot = service.kiln.plugins.snapshot();
    let plugins: Vec<_> = snapshot.plugins().map(|p| p.report()).collect();
    axum::Json(serde_json::json!({ "plugins": plugins, "refused": snapshot.errors() }))
        .into_response()
}

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ApiErrorKind::NotFound,
        format!("no route {}; GET /openapi.json lists them", uri.path()),
    )
}
