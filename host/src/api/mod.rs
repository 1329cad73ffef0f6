//! The HTTP API (axum): jobs, their events and artifacts, plugins, health, metrics and the
//! OpenAPI document. See docs/api.md.

mod auth;
mod dead_letters;
mod error;
mod jobs;
mod openapi;
mod plugins;
mod render;
mod server;
mod system;

use crate::service::Service;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::sync::Arc;
use std::time::Duration;

pub use error::ApiError;
pub use server::{AllowedHosts, exposure_warning, serve};

/// Every route, over one service.
pub fn router(service: Arc<Service>) -> Router {
    let max_body = service.settings.max_body_bytes;
    let body_timeout = Duration::from_millis(service.settings.body_read_timeout_ms);
    let hosts = Arc::new(AllowedHosts::new(
        &service.settings.listen,
        &service.settings.allowed_hosts,
    ));
    Router::new()
        .route("/jobs", post(jobs::submit))
        .route("/jobs/batch", post(jobs::submit_batch))
        .route("/jobs/{id}", get(jobs::status).delete(jobs::cancel))
        .route("/jobs/{id}/events", get(jobs::events))
        .route("/jobs/{id}/artifacts/{name}", get(jobs::artifact))
        .route(
            "/render/{target}",
            get(render::render).post(render::render_post),
        )
        .route("/dead-letters", get(dead_letters::list))
        .route("/dead-letters/{id}/requeue", post(dead_letters::requeue))
        .route("/plugins", get(system::plugins))
        .route(
            "/plugins/{name}",
            get(plugins::show)
                .put(plugins::upload)
                .layer(DefaultBodyLimit::max(service.settings.max_plugin_bytes))
                .delete(plugins::remove),
        )
        .route("/health", get(system::health))
        .route("/ready", get(system::ready))
        .route("/metrics", get(system::metrics))
        .route("/openapi.json", get(openapi::document))
        .fallback(system::not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(
            body_timeout,
            server::body_deadline,
        ))
        .layer(axum::middleware::from_fn_with_state(
            hosts,
            server::check_host,
        ))
        .with_state(service)
}
