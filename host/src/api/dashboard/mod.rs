//! The live dashboard at `GET /` (the oven's "oven TV", shared/OVEN.md §11): one page, with its
//! script and styles inline and nothing loaded from elsewhere, that follows the service over
//! Server-Sent Events (`GET /dashboard/events`) without reloading.
//!
//! - `page.html`, `style.css`, `app.js`: the page, put together once ([`page`]).
//! - `snapshot.rs`: what the page shows, built from what the other routes already answer (the
//!   status view of `/grab-status`, the queue's depths, `/api/frozen`, `/plugins`, the dead
//!   letters' count, the browser pool as `/ready` sees it) and from the ring of finished-job
//!   timings ([`crate::service::Throughput`]).
//! - `stream.rs`: the event stream, and the same snapshot as JSON (`GET /dashboard/snapshot`).
//!
//! The page reads as `/status` and `/grab-status` do: without a token unless `service.status_views`
//! is `admin` (then through the cookie `/?token=` sets, [`super::auth::StatusViewer`]). Its
//! actions (cancel a job,
//! requeue a dead letter, forget a frozen piece) and the dead letters' list call the existing
//! routes with the token the operator types in (kept in the tab's `sessionStorage`), and those
//! routes check it as they always do: nothing here grants anything.

mod snapshot;
pub(super) mod stream;

pub use stream::{events, snapshot_json};

use super::auth::{StatusViewer, status_login};
use super::error::ApiError;
use crate::service::Service;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, LazyLock};

/// The page's own rules: its script and styles are inline, images come from this server (an
/// artifact may redirect to the store's public URL, hence `https:`/`http:`), and it talks only
/// to this server. No other page may frame it.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
     style-src 'unsafe-inline'; img-src 'self' data: https: http:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page with its styles and script in place.
static PAGE: LazyLock<String> = LazyLock::new(|| {
    include_str!("page.html")
        .replace("/*STYLE*/", include_str!("style.css"))
        .replace("/*SCRIPT*/", include_str!("app.js"))
});

/// `GET /`: the dashboard.
#[utoipa::path(
    get,
    path = "/",
    tag = "dashboard",
    params(("token" = Option<String>, Query, description = "The admin token: sets a cookie (HttpOnly, this browser session) through which this browser reads the status views when `service.status_views` is `admin`, and redirects to `/`")),
    responses(
        (status = 200, description = "The live dashboard: one HTML page, script and styles inline, that follows GET /dashboard/events", content_type = "text/html"),
        (status = 303, description = "`token` was the admin token: the cookie is set, and the page is at `/`"),
        (status = 401, description = "`service.status_views` is `admin` and the request has neither the admin token nor the cookie, or `token` is wrong"),
        (status = 403, description = "`service.status_views` is `admin` but no admin token is set"),
    ),
)]
pub async fn page(
    State(service): State<Arc<Service>>,
    Query(query): Query<PageQuery>,
    viewer: Result<StatusViewer, ApiError>,
) -> Result<Response, ApiError> {
    if let Some(token) = &query.token {
        return status_login(&service, token);
    }
    viewer?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        PAGE.as_str(),
    )
        .into_response())
}

/// `GET /`'s query.
#[derive(serde::Deserialize)]
pub struct PageQuery {
    /// The admin token, to sign this browser in to the status views.
    token: Option<String>,
}

/// `GET /dashboard/preview/{id}`: the latest frame of a recording running in this process.
#[utoipa::path(
    get,
    path = "/dashboard/preview/{id}",
    tag = "dashboard",
    params(("id" = String, Path, description = "A running job's id")),
    responses(
        (status = 200, description = "The recording's latest frame (taken with every progress report, every 15 frames)", content_type = "image/png"),
        (status = 404, description = "The job is not recording in this process (a still, not started, ended, or running elsewhere)"),
        (status = 401, description = "`service.status_views` is `admin` and the request has neither the admin token nor the cookie"),
    ),
)]
pub async fn preview(
    _: StatusViewer,
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let frame = service.events.previews.get(&id).ok_or_else(|| {
        ApiError::not_found(format!(
            "job {id:?} has no live frame here: only recordings running in this process have one"
        ))
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        frame.png,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_has_its_script_and_styles_inline_and_loads_nothing_from_elsewhere() {
        let page = super::PAGE.as_str();
        assert!(!page.contains("/*STYLE*/") && !page.contains("/*SCRIPT*/"));
        assert!(page.contains("new EventSource"));
        for external in [
            "src=\"http",
            "href=\"http",
            "src=\"//",
            "@import",
            "url(http",
        ] {
            assert!(!page.contains(external), "the page loads {external}…");
        }
    }
}
