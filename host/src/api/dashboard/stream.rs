//! `GET /dashboard/events`: the dashboard's Server-Sent Events, and `GET /dashboard/snapshot`,
//! the same snapshot once as JSON.
//!
//! Each event is a whole `snapshot` (the page replaces what it shows; nothing to merge or to miss
//! after a reconnect). One is sent at once, then after every change the service's job events and
//! submissions announce ([`crate::service::Activity::changes`]), at most one per
//! [`MIN_INTERVAL`] (a burst of progress reports becomes one snapshot), and at least every
//! [`TICK`] (uptime, browsers' memory). The stream ends when the service has drained.

use super::snapshot::{Slow, build};
use crate::api::auth::StatusViewer;
use crate::service::{Phase, Service};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The shortest time between two snapshots of one stream.
pub const MIN_INTERVAL: Duration = Duration::from_millis(250);
/// The longest time between two snapshots of one stream.
pub const TICK: Duration = Duration::from_secs(5);
/// What the browser waits before reconnecting a dropped stream (the SSE `retry:` field).
const RECONNECT: Duration = Duration::from_secs(2);

/// One open stream's state.
struct Follow {
    service: Arc<Service>,
    changes: watch::Receiver<u64>,
    slow: Slow,
    first: bool,
}

/// `GET /dashboard/events`
#[utoipa::path(
    get,
    path = "/dashboard/events",
    tag = "dashboard",
    responses(
        (status = 200, description = "Server-Sent Events, each a `snapshot` (as GET /dashboard/snapshot): one at once, then on every change (at most 4 a second) and at least every 5 s", content_type = "text/event-stream"),
        (status = 401, description = "`service.status_views` is `admin` and the request has neither the admin token nor the cookie"),
    ),
)]
pub async fn events(
    _: StatusViewer,
    State(service): State<Arc<Service>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let follow = Follow {
        changes: service.events.activity.changes(),
        service: service.clone(),
        slow: Slow::default(),
        first: true,
    };
    let stream = futures::stream::unfold(follow, |mut follow| async move {
        if follow.first {
            follow.first = false;
            follow.changes.mark_unchanged();
        } else {
            tokio::select! {
                changed = follow.changes.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                    // Let the rest of a burst arrive: it goes out in this snapshot.
                    tokio::time::sleep(MIN_INTERVAL).await;
                    follow.changes.mark_unchanged();
                }
                () = tokio::time::sleep(TICK) => {}
            }
        }
        let snapshot = build(&follow.service, &mut follow.slow).await;
        let event = Event::default()
            .event("snapshot")
            .retry(RECONNECT)
            .data(snapshot.to_string());
        Some((Ok(event), follow))
    });
    let stream = stream.take_until(service.reached(Phase::Stopped));
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// `GET /dashboard/snapshot`
#[utoipa::path(
    get,
    path = "/dashboard/snapshot",
    tag = "dashboard",
    responses((status = 200, description = "What the dashboard shows now: {version, now, startedAt, uptimeS, adminEnabled, submitTokens, concurrency, depths, queueError, active, queue, recent, throughput, frozen, frozenError, deadLetters, plugins, refusedPlugins, browsers, slowAt}; see docs/api.md"),
        (status = 401, description = "`service.status_views` is `admin` and the request has neither the admin token nor the cookie"),
    ),
)]
pub async fn snapshot_json(_: StatusViewer, State(service): State<Arc<Service>>) -> Response {
    let snapshot = build(&service, &mut Slow::default()).await;
    axum::Json(snapshot).into_response()
}
