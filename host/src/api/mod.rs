//! The HTTP API (axum): jobs, their events and artifacts, plugins, health, metrics and the
//! OpenAPI document. See docs/api.md.

mod auth;
mod dashboard;
mod dead_letters;
mod error;
mod jobs;
mod openapi;
pub mod oven;
mod plugins;
mod render;
mod schedules;
mod server;
mod system;

use crate::service::Service;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::{HeaderName, Method, Request};
use axum::routing::{MethodFilter, MethodRouter, on};
use std::sync::Arc;
use std::time::Duration;
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use error::ApiError;
pub use openapi::ApiDoc;
pub use server::{AllowedHosts, exposure_warning, serve};

/// The header that carries a request's id: the client's own when it sends one, else a new UUID;
/// the response carries it back, and every log line of the request has it.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// One route: a method, a path in axum's syntax (which is OpenAPI's: `/jobs/{id}`), and what
/// answers it.
struct Route {
    method: Method,
    path: &'static str,
    handler: MethodRouter<Arc<Service>>,
}

impl Route {
    /// The route with its own request body limit instead of `service.max_body_bytes`.
    fn body_limit(self, bytes: usize) -> Self {
        Self {
            handler: self.handler.layer(DefaultBodyLimit::max(bytes)),
            ..self
        }
    }
}

fn route<H, T>(method: Method, path: &'static str, handler: H) -> Route
where
    H: Handler<T, Arc<Service>>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a method axum can route");
    Route {
        method,
        path,
        handler: on(filter, handler),
    }
}

/// Every route. The router is built from this table, and a test holds it against the OpenAPI
/// document and docs/api.md, so the three cannot drift apart.
fn routes(max_plugin_bytes: usize) -> Vec<Route> {
    vec![
        route(Method::GET, "/", dashboard::page),
        route(Method::GET, "/dashboard/events", dashboard::events),
        route(Method::GET, "/dashboard/snapshot", dashboard::snapshot_json),
        route(Method::GET, "/dashboard/preview/{id}", dashboard::preview),
        route(Method::POST, "/jobs", jobs::submit),
        route(Method::POST, "/jobs/batch", jobs::submit_batch),
        route(Method::GET, "/jobs/{id}", jobs::status),
        route(Method::DELETE, "/jobs/{id}", jobs::cancel),
        route(Method::GET, "/jobs/{id}/events", jobs::events),
        route(Method::GET, "/jobs/{id}/artifacts/{name}", jobs::artifact),
        route(Method::GET, "/render/{target}", render::render),
        route(Method::POST, "/render/{target}", render::render_post),
        route(Method::GET, "/dead-letters", dead_letters::list),
        route(
            Method::POST,
            "/dead-letters/{id}/requeue",
            dead_letters::requeue,
        ),
        route(Method::GET, "/schedules", schedules::list),
        route(Method::GET, "/plugins", system::plugins),
        route(Method::GET, "/plugins/{name}", plugins::show),
        route(Method::PUT, "/plugins/{name}", plugins::upload).body_limit(max_plugin_bytes),
        route(Method::DELETE, "/plugins/{name}", plugins::remove),
        route(Method::GET, "/health", system::health),
        route(Method::GET, "/ready", system::ready),
        route(Method::GET, "/metrics", system::metrics),
        route(Method::GET, "/openapi.json", openapi::document),
        route(Method::GET, "/kidlisp-og.png", oven::kidlisp_og_png),
        route(Method::GET, "/kidlisp-og", oven::kidlisp_og),
        route(Method::GET, "/kidlisp-og/status", oven::kidlisp_og_status),
        route(Method::GET, "/kidlisp-og/preview", oven::kidlisp_og_preview),
        route(Method::GET, "/og-preview", oven::og_preview),
        route(Method::GET, "/notepat-og.png", oven::notepat_og_png),
        route(Method::GET, "/kidlisp-backdrop.webp", oven::backdrop_webp),
        route(Method::GET, "/kidlisp-backdrop", oven::backdrop),
        route(
            Method::GET,
            "/grab/{format}/{width}/{height}/{piece}",
            oven::grab_get,
        ),
        route(Method::POST, "/grab", oven::grab_post),
        route(Method::GET, "/icon/{size}/{file}", oven::icon),
        route(Method::GET, "/preview/{size}/{file}", oven::preview),
        route(Method::GET, "/grab-status", oven::grab_status),
        route(Method::GET, "/status", oven::status),
        route(Method::GET, "/api/frozen", oven::frozen_list),
        route(Method::DELETE, "/api/frozen/{piece}", oven::frozen_clear),
        route(
            Method::GET,
            "/app-screenshots/{preset}/{file}",
            oven::app_screenshot,
        ),
        route(
            Method::GET,
            "/app-screenshots/download/{piece}",
            oven::app_screenshots_zip,
        ),
        route(
            Method::GET,
            "/api/app-screenshots/{piece}",
            oven::app_screenshots_info,
        ),
        route(Method::POST, "/bake", oven::bake),
        route(Method::POST, "/bake-status", oven::bake_status),
        route(Method::POST, "/bake-complete", oven::bake_complete),
        route(Method::GET, "/bundle-html", oven::bundle_html),
    ]
}

/// The method and path of every route the router answers, in the order they are declared.
pub fn route_table() -> Vec<(Method, &'static str)> {
    routes(0)
        .into_iter()
        .map(|route| (route.method, route.path))
        .collect()
}

/// Every route, over one service, with request ids and a span (method, path, id, and the
/// latency when it ends) around every request.
pub fn router(service: Arc<Service>) -> Router {
    let max_body = service.settings.max_body_bytes;
    let body_timeout = Duration::from_millis(service.settings.body_read_timeout_ms);
    let hosts = Arc::new(AllowedHosts::new(
        &service.settings.listen,
        &service.settings.allowed_hosts,
    ));
    let mut paths: Vec<(&'static str, MethodRouter<Arc<Service>>)> = Vec::new();
    for route in routes(service.settings.max_plugin_bytes) {
        match paths.iter_mut().find(|(path, _)| *path == route.path) {
            Some((_, methods)) => {
                *methods = std::mem::take(methods).merge(route.handler);
            }
            None => paths.push((route.path, route.handler)),
        }
    }
    let mut router = Router::new();
    for (path, methods) in paths {
        router = router.route(path, methods);
    }
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    router
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
        // Layers run outside in, last added first: the id is set, then copied to the response,
        // then the span (which names it) is opened.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Millis),
                )
                // A 5xx is the server's own trouble (a queue or a browser that is down) and is
                // logged as such; `/ready` answers 503 while a browser restarts, so not as an error.
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(service)
}

/// What `kiln worker` serves (`service.worker_listen`): `/health`, `/ready` and `/metrics`, the
/// same handlers as `kiln serve`'s, for probes and Prometheus; no jobs API.
pub fn worker_router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/health", axum::routing::get(system::health))
        .route("/ready", axum::routing::get(system::ready))
        .route("/metrics", axum::routing::get(system::metrics))
        .fallback(system::not_found)
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(service)
}

/// The span of one request: its id, method and path (not the query, which can hold a job's
/// whole input).
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use utoipa::OpenApi;

    /// A path with its parameters' names left out: `/jobs/{id}` and `/jobs/{job}` are one path.
    fn shape(path: &str) -> String {
        let mut out = String::new();
        let mut in_param = false;
        for c in path.chars() {
            match c {
                '{' => {
                    in_param = true;
                    out.push_str("{}");
                }
                '}' => in_param = false,
                _ if !in_param => out.push(c),
                _ => {}
            }
        }
        out
    }

    fn router_routes() -> BTreeSet<String> {
        route_table()
            .into_iter()
            .map(|(method, path)| format!("{method} {}", shape(path)))
            .collect()
    }

    fn openapi_routes() -> BTreeSet<String> {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut routes = BTreeSet::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if ["get", "put", "post", "delete", "patch", "head", "options"]
                    .contains(&method.as_str())
                {
                    routes.insert(format!("{} {}", method.to_uppercase(), shape(path)));
                }
            }
        }
        routes
    }

    /// The routes docs/api.md's route table lists: rows that start `` | `METHOD /path…` ``.
    fn documented_routes() -> BTreeSet<String> {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.md"))
            .expect("docs/api.md");
        let mut routes = BTreeSet::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("| `") else {
                continue;
            };
            let Some((method, rest)) = rest.split_once(' ') else {
                continue;
            };
            if !["GET", "POST", "PUT", "DELETE", "PATCH"].contains(&method) {
                continue;
            }
            let path: String = rest
                .chars()
                .take_while(|c| !matches!(c, '`' | '?'))
                .collect();
            routes.insert(format!("{method} {}", shape(&path)));
        }
        routes
    }

    fn differences(a: &BTreeSet<String>, b: &BTreeSet<String>) -> (Vec<String>, Vec<String>) {
        (
            a.difference(b).cloned().collect(),
            b.difference(a).cloned().collect(),
        )
    }

    #[test]
    fn the_router_the_openapi_document_and_docs_api_md_list_the_same_routes() {
        let router = router_routes();
        assert_eq!(
            router.len(),
            route_table().len(),
            "a route is declared twice"
        );
        let (only_router, only_openapi) = differences(&router, &openapi_routes());
        assert!(
            only_router.is_empty() && only_openapi.is_empty(),
            "the router and /openapi.json disagree: only routed {only_router:?}, only in the \
             document {only_openapi:?}; annotate the handler with #[utoipa::path] and list it in \
             ApiDoc (api/openapi.rs), or route it in api::routes"
        );
        let (only_router, only_docs) = differences(&router, &documented_routes());
        assert!(
            only_router.is_empty() && only_docs.is_empty(),
            "the router and docs/api.md disagree: only routed {only_router:?}, only documented \
             {only_docs:?}; add or fix the row in docs/api.md's route table"
        );
    }

    #[test]
    fn the_document_is_openapi_3_1_with_the_wire_enums() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        let schemas = &document["components"]["schemas"];
        assert_eq!(
            schemas["JobState"]["enum"],
            serde_json::json!(["queued", "running", "succeeded", "failed", "cancelled"])
        );
        assert_eq!(
            schemas["EventName"]["enum"],
            serde_json::json!([
                "queued",
                "started",
                "progress",
                "retrying",
                "succeeded",
                "failed",
                "cancelled"
            ])
        );
        assert!(
            schemas["Job"]["properties"].get("seq").is_none(),
            "internal fields are not documented"
        );
        assert!(schemas["Job"]["properties"].get("status").is_some());
    }
}
