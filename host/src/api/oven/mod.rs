//! The oven's routes: grabs, icons, previews and app-store screenshots of `$code` pieces
//! (shared/OVEN.md §2, §4, §8), its social cards and daily backdrop (§5.4, §6, §7), over the
//! `kidlisp`, `kidlisp-og` and `notepat-og` job types and the result cache, so a deployment of
//! Kiln answers the URLs the oven's pages and crawlers already use.
//!
//! What differs from the oven, on purpose: every layout and every day has its own cache entry
//! (the job's input names both; the oven kept one slot for all layouts, §16.3); when the store
//! has no public URL the bytes are the answer instead of a redirect; `force` renders only for a
//! caller that may submit jobs (`service.submit_tokens`), since it is a render on demand.

mod amxd;
pub(super) mod backdrop;
pub(super) mod bake;
pub(super) mod bundle;
pub(super) mod cards;
pub(super) mod frozen;
pub(super) mod grab;
pub(super) mod icons;
mod piece;
pub(super) mod screenshots;
pub(super) mod status;

pub use backdrop::{backdrop, backdrop_webp};
pub use bake::{Bake, BakesSnapshot, bake, bake_complete, bake_status, bakes_snapshot};
pub use bundle::bundle_html;
pub use cards::{
    kidlisp_og, kidlisp_og_png, kidlisp_og_preview, kidlisp_og_status, notepat_og_png, og_preview,
};
pub use frozen::{clear as frozen_clear, list as frozen_list};
pub use grab::{grab_get, grab_post};
pub use icons::{icon, preview};
pub use screenshots::{
    download as app_screenshots_zip, info as app_screenshots_info, screenshot as app_screenshot,
};
pub use status::{grab_status, status};

use super::error::ApiError;
use super::jobs::{submit_following, wait_for_end};
use crate::error::ErrorKind;
use crate::jobs::JobSpec;
use crate::queue::{JobRecord, JobState, Submitted};
use crate::service::{Service, SubmitOptions};
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

/// Today's date, `YYYY-MM-DD`, UTC: the day the cards and the backdrop are for.
fn today_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// Yesterday's date, `YYYY-MM-DD`, UTC.
fn yesterday_utc() -> String {
    (chrono::Utc::now() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string()
}

fn spec(job_type: &str, input: serde_json::Value) -> JobSpec {
    JobSpec {
        id: None,
        job_type: job_type.to_string(),
        input,
        callback: None,
    }
}

/// The result cache's record for `spec`, if it holds one.
async fn cached(service: &Service, spec: &JobSpec) -> Result<Option<JobRecord>, ApiError> {
    service
        .cached_result(spec)
        .await
        .map_err(super::jobs::submit_error)
}

/// Jobs these routes queued and have not seen end, by job type and input: a request for a
/// render already under way joins its job instead of queueing another, as the oven's capture-key
/// dedup did (§2.7). Per process; the queue's idempotency keys would also answer a failed job
/// for days, so they are not used for this.
static IN_FLIGHT: LazyLock<tokio::sync::Mutex<HashMap<String, String>>> =
    LazyLock::new(Default::default);

/// More entries than this and the map is cleared (entries of requests that went away before
/// their job ended are otherwise only dropped when asked for again).
const MAX_IN_FLIGHT: usize = 4096;

fn flight_key(spec: &JobSpec) -> String {
    serde_json::to_string(&(&spec.job_type, &spec.input)).unwrap_or_default()
}

/// Where a render stands once asked for.
enum Started {
    /// The result cache had it.
    Cached(JobRecord),
    /// A job is queued or running; `joined` when another request had started it.
    Running {
        record: JobRecord,
        events: tokio::sync::broadcast::Receiver<crate::service::JobEvent>,
        joined: bool,
    },
}

/// Starts `spec`, or joins the same render already under way; `force` renders even when the
/// cache holds a result, and never joins.
async fn start(service: &Service, spec: JobSpec, force: bool) -> Result<Started, ApiError> {
    let key = flight_key(&spec);
    let mut flights = IN_FLIGHT.lock().await;
    if !force && let Some(id) = flights.get(&key).cloned() {
        let events = service.events.subscribe(&id);
        match service.queue.get(id.clone()).await {
            Ok(Some(record)) if !record.status.is_final() => {
                return Ok(Started::Running {
                    record,
                    events,
                    joined: true,
                });
            }
            _ => {
                drop(events);
                service.events.release(&id);
                flights.remove(&key);
            }
        }
    }
    let options = SubmitOptions {
        force,
        ..SubmitOptions::default()
    };
    let followed = submit_following(service, spec, options, true).await?;
    match (followed.submitted, followed.events) {
        (Submitted::Cached(record), _) => Ok(Started::Cached(record)),
        (Submitted::New(record) | Submitted::Existing(record), Some(events)) => {
            if flights.len() >= MAX_IN_FLIGHT {
                flights.clear();
            }
            flights.insert(key, record.id.clone());
            Ok(Started::Running {
                record,
                events,
                joined: false,
            })
        }
        (Submitted::New(record) | Submitted::Existing(record), None) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Internal,
            format!(
                "job {} was queued but its events could not be followed",
                record.id
            ),
        )),
    }
}

/// Waits up to the service's `max_wait_s` for a started job; its final record, or `None`.
async fn finish(
    service: &Service,
    record: &JobRecord,
    events: tokio::sync::broadcast::Receiver<crate::service::JobEvent>,
) -> Result<Option<JobRecord>, ApiError> {
    let wait = Duration::from_secs(service.settings.max_wait_s);
    let done = wait_for_end(service, &record.id, events, wait).await?;
    if done.is_some() {
        let mut flights = IN_FLIGHT.lock().await;
        flights.retain(|_, id| *id != record.id);
    }
    Ok(done)
}

/// Renders `spec` (or joins the same render under way, or takes the cache's), waiting up to the
/// service's `max_wait_s`; `None` when it has not finished by then. The flag says the record
/// came from the result cache.
async fn render(
    service: &Service,
    spec: JobSpec,
    force: bool,
) -> Result<Option<(JobRecord, bool)>, ApiError> {
    match start(service, spec, force).await? {
        Started::Cached(record) => Ok(Some((record, true))),
        Started::Running { record, events, .. } => Ok(finish(service, &record, events)
            .await?
            .map(|record| (record, false))),
    }
}

/// Queues `spec` without waiting for it (a cache miss answered with something else meanwhile).
/// A job for the same input already queued or running is joined, not doubled.
async fn render_in_background(service: &Service, spec: JobSpec) {
    let options = SubmitOptions {
        generated_id: true,
        ..SubmitOptions::default()
    };
    let mut spec = spec;
    spec.id = Some(spec.id_or_new());
    if let Err(err) = service.submit_with(spec, options).await {
        let err = super::jobs::submit_error(err);
        tracing::warn!("an oven route could not queue its render: {}", err.message);
    }
}

/// The succeeded job's artifact `name`, or a 500 saying what failed.
fn artifact<'a>(
    record: &'a JobRecord,
    name: &str,
    what: &str,
) -> Result<&'a crate::jobs::StoredArtifact, ApiError> {
    if record.status != JobState::Succeeded {
        let why = record
            .error
            .as_ref()
            .map(|e| format!("{}: {}", e.kind.as_str(), e.message))
            .unwrap_or_else(|| format!("job {} was {:?}", record.id, record.status));
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Internal,
            format!("failed to generate {what} (job {}): {why}", record.id),
        ));
    }
    record
        .artifacts
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorKind::Internal,
                format!("job {} made no {name}, which {what} is", record.id),
            )
        })
}

/// How a route answers with an artifact.
struct Answer {
    /// The redirect's status when the store has a public URL (301 or 302).
    redirect: StatusCode,
    /// Always the bytes, even when the store has a public URL (crawlers that do not follow
    /// redirects for og:image, §6).
    always_bytes: bool,
    /// `Cache-Control`, when the route sets one.
    cache_control: Option<&'static str>,
    x_cache: &'static str,
    headers: Vec<(&'static str, String)>,
}

impl Answer {
    async fn send(
        self,
        service: &Service,
        artifact: &crate::jobs::StoredArtifact,
    ) -> Result<Response, ApiError> {
        let mut response = if service.kiln.store.has_public_base_url() && !self.always_bytes {
            let mut response = self.redirect.into_response();
            if let Ok(location) = HeaderValue::from_str(&artifact.url) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        } else {
            let bytes = service.kiln.store.get(&artifact.key).await?;
            (
                [(header::CONTENT_TYPE, artifact.content_type.clone())],
                Body::from(bytes),
            )
                .into_response()
        };
        let headers = response.headers_mut();
        if let Some(cache_control) = self.cache_control {
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(cache_control),
            );
        }
        headers.insert("x-cache", HeaderValue::from_static(self.x_cache));
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        Ok(response)
    }
}

/// Whether `value` (a `force` or `skipCache` query value) asks to render again; it may only
/// for a caller that may submit jobs (`service.submit_tokens`).
fn may_force(
    service: &Service,
    value: Option<&str>,
    headers: &axum::http::HeaderMap,
) -> Result<bool, ApiError> {
    let force = matches!(value, Some("" | "1" | "true"));
    if force {
        super::auth::require_submit(service, headers)?;
    }
    Ok(force)
}

/// The string `field` of the JSON report a job stored as `name` (`card.json`,
/// `recording.json`), if it has one.
async fn report_field(
    service: &Service,
    record: &JobRecord,
    name: &str,
    field: &str,
) -> Option<String> {
    let report = record.artifacts.iter().find(|a| a.name == name)?;
    let bytes = service.kiln.store.get(&report.key).await.ok()?;
    let report: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    report[field].as_str().map(str::to_string)
}

/// When the job ended, RFC 3339 in UTC to the millisecond.
fn finished_at(record: &JobRecord) -> Option<String> {
    let at = chrono::DateTime::from_timestamp_millis(i64::try_from(record.finished_at?).ok()?)?;
    Some(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}
