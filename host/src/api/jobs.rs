//! `/jobs`: submit (one or a batch), status, events (SSE), cancel, artifacts.

use super::auth::require_submit;
use super::error::ApiError;
use super::error::ErrorAnswer;
use crate::error::ErrorKind;
use crate::jobs::JobSpec;
use crate::queue::{Cancelled, JobRecord, JobState, Lane, Submitted};
use crate::service::{EventName, JobEvent, Phase, Service, SubmitError, SubmitOptions};
use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubmitQuery {
    /// Hold the request up to this many seconds (at most service.max_wait_s) for the job to
    /// finish.
    wait: Option<u64>,
    /// `interactive` (default) or `bulk`.
    lane: Option<Lane>,
    /// Render again even if the result cache holds a succeeded job of the same type, plugin
    /// version and input.
    #[serde(default)]
    #[param(required = false)]
    force: bool,
}

/// Where a job's own routes are.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Links {
    /// `GET` the job.
    #[serde(rename = "self")]
    pub this: String,
    /// Its Server-Sent Events.
    pub events: String,
}

/// A job accepted (`202`).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Accepted {
    /// The job's id: the client's, or a new UUID.
    pub id: String,
    /// `queued`, or where the job stood when a replayed submission found it.
    pub status: JobState,
    pub links: Links,
}

/// What `DELETE /jobs/{id}` answers.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Cancellation {
    /// The job's id.
    pub id: String,
    /// What was done to it.
    pub status: CancelStatus,
}

wire_enum! {
    /// What `DELETE /jobs/{id}` did.
    pub enum CancelStatus {
        /// The job was waiting and is removed.
        Cancelled = "cancelled",
        /// The job is running; its worker is stopping it.
        Cancelling = "cancelling",
    }
}

/// The links a job's responses carry.
fn links(id: &str) -> Links {
    Links {
        this: format!("/jobs/{id}"),
        events: format!("/jobs/{id}/events"),
    }
}

/// A job record as the API shows it.
pub(super) fn record_json(record: &JobRecord) -> serde_json::Value {
    let mut value = record.public_json();
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "links".into(),
            serde_json::to_value(links(&record.id)).expect("links serialize"),
        );
    }
    value
}

/// Refuses a write whose body is not declared JSON (415): a web page on another site can send
/// `text/plain`, form and multipart bodies without asking (a "simple request"), but not JSON.
pub(super) fn require_json(headers: &HeaderMap, route: &str) -> Result<(), ApiError> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let essence = given
        .as_deref()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if essence.as_deref() == Some("application/json") {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::InvalidInput,
        match given {
            Some(given) => format!(
                "{route} takes a JSON body sent as Content-Type: application/json, not {given:?}"
            ),
            None => format!(
                "{route} takes a JSON body sent as Content-Type: application/json; the request has no Content-Type"
            ),
        },
    ))
}

pub(super) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        let status = rejection.status();
        if super::server::is_body_timeout(&rejection) {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                ErrorKind::InvalidInput,
                "the request body did not arrive within service.body_read_timeout_ms",
            )
        } else if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                ErrorKind::InvalidInput,
                "the request body is larger than service.max_body_bytes",
            )
        } else {
            ApiError::bad_request(format!("cannot read the request body: {rejection}"))
        }
    })
}

pub(super) fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request(format!("bad query string: {}", e.body_text())))
}

pub(super) fn submit_error(err: SubmitError) -> ApiError {
    match err {
        SubmitError::Invalid(err) => err.into(),
        SubmitError::Full {
            message,
            retry_after_s,
        } => ApiError {
            retry_after_s: Some(retry_after_s),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorKind::Unavailable,
                message,
            )
        },
        SubmitError::Unavailable(message) => ApiError::unavailable(message),
    }
}

/// `POST /jobs`: 202 with `{id, status, links}`; with `?wait=S`, 200 and the finished record if
/// it finishes within S seconds.
#[utoipa::path(
    post,
    path = "/jobs",
    tag = "jobs",
    params(
        SubmitQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters. A second submission of the same request with the same key gets the first job back (header Idempotent-Replayed: true); another request with the key is 422"),
    ),
    request_body(content = JobSpec, content_type = "application/json"),
    responses(
        (status = 200, description = "Finished within `wait`, or answered from the result cache (header Kiln-Cache: hit)", body = JobRecord),
        (status = 202, description = "Accepted", body = Accepted),
        (status = 400, description = "Malformed JSON or envelope", body = ErrorAnswer),
        (status = 401, description = "Submit tokens are configured and the request carries none of them", body = ErrorAnswer),
        (status = 403, description = "Host or Origin not in service.allowed_hosts", body = ErrorAnswer),
        (status = 408, description = "Body not received within service.body_read_timeout_ms", body = ErrorAnswer),
        (status = 413, description = "Body over service.max_body_bytes", body = ErrorAnswer),
        (status = 415, description = "Content-Type is not application/json", body = ErrorAnswer),
        (status = 422, description = "Unknown type, input against the plugin's schema or this host's job limits, a taken id, or an Idempotency-Key used for another request", body = ErrorAnswer),
        (status = 429, description = "Queue full; see Retry-After", body = ErrorAnswer),
        (status = 503, description = "Queue unavailable; nothing was written", body = ErrorAnswer),
    ),
)]
pub async fn submit(
    State(service): State<Arc<Service>>,
    params: Result<Query<SubmitQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_submit(&service, &headers)?;
    require_json(&headers, "POST /jobs")?;
    let params = query(params)?;
    let idempotency_key = idempotency_key(&headers)?;
    let body = body_bytes(body)?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not UTF-8: {e}")))?;
    let spec = JobSpec::from_json(text).map_err(|e| ApiError::bad_request(e.message))?;
    let wait = params
        .wait
        .map(|s| Duration::from_secs(s.min(service.settings.max_wait_s)));
    let options = SubmitOptions {
        lane: params.lane.unwrap_or_default(),
        idempotency_key,
        force: params.force,
        source: None,
        generated_id: false,
    };
    let followed = submit_following(&service, spec, options, wait.is_some()).await?;
    let (record, replayed) = match followed.submitted {
        Submitted::New(record) => (record, false),
        Submitted::Existing(record) => (record, true),
        Submitted::Cached(record) => {
            let mut response = (StatusCode::OK, axum::Json(record_json(&record))).into_response();
            mark_cached(&mut response);
            return Ok(response);
        }
    };
    if let (Some(wait), Some(events)) = (wait, followed.events)
        && let Some(record) = wait_for_end(&service, &record.id, events, wait).await?
    {
        let mut response = (StatusCode::OK, axum::Json(record_json(&record))).into_response();
        mark_replayed(&mut response, replayed);
        return Ok(response);
    }
    let body = Accepted {
        links: links(&record.id),
        id: record.id,
        status: record.status,
    };
    let mut response = (StatusCode::ACCEPTED, axum::Json(body)).into_response();
    mark_replayed(&mut response, replayed);
    Ok(response)
}

/// A submission, and the events of the job it names when they were asked for.
pub(super) struct Followed {
    pub submitted: Submitted,
    /// `None` unless asked for, and for a cache hit (a finished job has nothing to follow). A
    /// replayed submission follows the first submission's job.
    pub events: Option<broadcast::Receiver<JobEvent>>,
}

/// Submits `spec` (giving it an id if it has none); with `follow`, subscribes to the job's
/// events before it can start, so none is missed.
pub(super) async fn submit_following(
    service: &Service,
    mut spec: JobSpec,
    options: SubmitOptions,
    follow: bool,
) -> Result<Followed, ApiError> {
    let mut options = options;
    options.generated_id |= spec.id.is_none();
    let id = spec.id_or_new();
    spec.id = Some(id.clone());
    let events = follow.then(|| service.events.subscribe(&id));
    let submitted = service.submit_with(spec, options).await;
    let events = match (&submitted, events) {
        (Ok(Submitted::New(_)), events) => events,
        (Ok(Submitted::Existing(earlier)), Some(unused)) => {
            drop(unused);
            service.events.release(&id);
            Some(service.events.subscribe(&earlier.id))
        }
        (_, unused) => {
            if unused.is_some() {
                drop(unused);
                service.events.release(&id);
            }
            None
        }
    };
    Ok(Followed {
        submitted: submitted.map_err(submit_error)?,
        events,
    })
}

/// How often a waiting request looks at the job's record besides listening for its events (the
/// events of a job run by a worker in another process arrive through Redis, best effort).
const WAIT_POLL: Duration = Duration::from_millis(500);

/// Waits up to `wait` for job `id` to end; its final record, or `None` if it is still going
/// (or the service has stopped: a drain holds no request past its end).
pub(super) async fn wait_for_end(
    service: &Service,
    id: &str,
    mut events: broadcast::Receiver<JobEvent>,
    wait: Duration,
) -> Result<Option<JobRecord>, ApiError> {
    let get = || async {
        service
            .queue
            .get(id.to_string())
            .await
            .map_err(|e| ApiError::unavailable(e.to_string()))
    };
    let deadline = tokio::time::Instant::now() + wait;
    let stopped = service.reached(Phase::Stopped);
    tokio::pin!(stopped);
    loop {
        if let Some(record) = get().await?
            && record.status.is_final()
        {
            return Ok(Some(record));
        }
        let now = tokio::time::Instant::now();
        if now >= deadline || service.phase() >= Phase::Stopped {
            return Ok(None);
        }
        let round = tokio::time::timeout((deadline - now).min(WAIT_POLL), async {
            loop {
                match events.recv().await {
                    Ok(event) if event.is_final() => return,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => {
                        // The channel closed (the final event went to another listener):
                        // sleep out this round and read the record.
                        std::future::pending::<()>().await
                    }
                }
            }
        });
        tokio::select! {
            _ = round => {}
            _ = &mut stopped => {}
        }
    }
}

/// Says a response is an earlier job's result, from the result cache.
pub(super) fn mark_cached(response: &mut Response) {
    response
        .headers_mut()
        .insert("kiln-cache", HeaderValue::from_static("hit"));
}

/// The `Idempotency-Key` header: 1–255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request("Idempotency-Key must be 1–255 visible ASCII characters")
        })?;
    Ok(Some(key.to_string()))
}

/// Says a response is the job of an earlier submission with the same idempotency key.
fn mark_replayed(response: &mut Response, replayed: bool) {
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
}

/// Many jobs in one request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// Job envelopes; each is accepted or refused on its own.
    #[schema(value_type = Vec<JobSpec>)]
    jobs: Vec<serde_json::Value>,
    /// Default `bulk`.
    #[serde(default)]
    lane: Option<Lane>,
}

/// `POST /jobs/batch`: `{"jobs": [...], "lane"?}`; each job is accepted or refused on its own.
#[utoipa::path(
    post,
    path = "/jobs/batch",
    tag = "jobs",
    request_body(content = Batch, content_type = "application/json"),
    responses(
        (status = 202, description = "Each job accepted (`{index, id, status, links}`) or refused (`{index, error}`) on its own"),
        (status = 400, description = "Malformed batch", body = ErrorAnswer),
        (status = 401, description = "No submit token", body = ErrorAnswer),
        (status = 415, description = "Content-Type is not application/json", body = ErrorAnswer),
    ),
)]
pub async fn submit_batch(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_submit(&service, &headers)?;
    require_json(&headers, "POST /jobs/batch")?;
    let body = body_bytes(body)?;
    let batch: Batch = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not a batch {{\"jobs\": [...], \"lane\"?}}: {e}"
        ))
    })?;
    let lane = batch.lane.unwrap_or(Lane::Bulk);
    let mut results = Vec::with_capacity(batch.jobs.len());
    for (index, job) in batch.jobs.into_iter().enumerate() {
        let submitted = match JobSpec::from_json(&job.to_string()) {
            Err(err) => Err(ApiError::bad_request(err.message)),
            Ok(spec) => service.submit(spec, lane).await.map_err(submit_error),
        };
        results.push(match submitted {
            Ok(Submitted::New(record) | Submitted::Existing(record)) => serde_json::json!({ "index": index, "id": record.id, "status": record.status, "links": links(&record.id) }),
            Ok(Submitted::Cached(record)) => serde_json::json!({ "index": index, "id": record.id, "status": record.status, "cached": true, "links": links(&record.id) }),
            Err(err) => serde_json::json!({ "index": index, "error": err.body() }),
        });
    }
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({ "jobs": results })),
    )
        .into_response())
}

pub(super) async fn find(service: &Service, id: &str) -> Result<JobRecord, ApiError> {
    service
        .queue
        .get(id.to_string())
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?
        .ok_or_else(|| ApiError::not_found(format!("no job {id:?}")))
}

/// `GET /jobs/{id}`.
#[utoipa::path(
    get,
    path = "/jobs/{id}",
    tag = "jobs",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job, with `links`", body = JobRecord),
        (status = 404, description = "No such job", body = ErrorAnswer),
    ),
)]
pub async fn status(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let record = find(&service, &id).await?;
    Ok(axum::Json(record_json(&record)).into_response())
}

/// `DELETE /jobs/{id}`: a queued job is removed (200); a running one is stopped (202).
#[utoipa::path(
    delete,
    path = "/jobs/{id}",
    tag = "jobs",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "A queued job, removed: `{id, status: cancelled}`", body = Cancellation),
        (status = 202, description = "A running job, being stopped: `{id, status: cancelling}`", body = Cancellation),
        (status = 401, description = "No submit token", body = ErrorAnswer),
        (status = 404, description = "No such job", body = ErrorAnswer),
        (status = 409, description = "Already ended", body = ErrorAnswer),
    ),
)]
pub async fn cancel(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_submit(&service, &headers)?;
    let result = service
        .cancel(&id)
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    let (status, state) = match result {
        Cancelled::WasQueued => (StatusCode::OK, CancelStatus::Cancelled),
        Cancelled::IsRunning => (StatusCode::ACCEPTED, CancelStatus::Cancelling),
        Cancelled::AlreadyDone => {
            let record = find(&service, &id).await?;
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorKind::InvalidInput,
                format!("job {id:?} has already ended ({})", record.status),
            ));
        }
        Cancelled::NotFound => return Err(ApiError::not_found(format!("no job {id:?}"))),
    };
    Ok((status, axum::Json(Cancellation { id, status: state })).into_response())
}

fn sse_event(event: &JobEvent) -> Event {
    Event::default()
        .event(event.event.as_str())
        .data(event.data.to_string())
}

/// `GET /jobs/{id}/events`: Server-Sent Events, starting with where the job stands now and ending
/// after its final event (or when the service has drained and stops).
#[utoipa::path(
    get,
    path = "/jobs/{id}/events",
    tag = "jobs",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "Server-Sent Events named by EventName: where the job stands now, then started, progress, retrying, and succeeded, failed or cancelled with the whole job", content_type = "text/event-stream", body = EventName),
        (status = 404, description = "No such job", body = ErrorAnswer),
    ),
)]
pub async fn events(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let receiver = service.events.subscribe(&id);
    let record = match find(&service, &id).await {
        Ok(record) => record,
        Err(err) => {
            drop(receiver);
            service.events.release(&id);
            return Err(err);
        }
    };
    let current = JobEvent {
        event: EventName::for_state(record.status),
        data: record_json(&record),
    };
    let stream = futures::stream::unfold(
        (Some(current), receiver, false),
        |(first, mut receiver, done)| async move {
            if done {
                return None;
            }
            if let Some(event) = first {
                let done = event.is_final();
                return Some((Ok(sse_event(&event)), (None, receiver, done)));
            }
            loop {
                match receiver.recv().await {
                    Ok(event) => {
                        let done = event.is_final();
                        return Some((Ok(sse_event(&event)), (None, receiver, done)));
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    let stream = stream.take_until(service.reached(Phase::Stopped));
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// `GET /jobs/{id}/artifacts/{name}`: the bytes, or a redirect to the store's public URL.
#[utoipa::path(
    get,
    path = "/jobs/{id}/artifacts/{name}",
    tag = "jobs",
    params(
        ("id" = String, Path, description = "The job's id"),
        ("name" = String, Path, description = "The artifact's name"),
    ),
    responses(
        (status = 200, description = "The artifact's bytes, with its content type"),
        (status = 307, description = "Redirect to the public URL (with storage.public_base_url)"),
        (status = 404, description = "No such job or artifact", body = ErrorAnswer),
    ),
)]
pub async fn artifact(
    State(service): State<Arc<Service>>,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let record = find(&service, &id).await?;
    let artifact = record
        .artifacts
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| ApiError::not_found(format!("job {id:?} has no artifact {name:?}")))?;
    let store = &service.kiln.store;
    if store.has_public_base_url() {
        return Ok(Redirect::temporary(&artifact.url).into_response());
    }
    let bytes = store.get(&artifact.key).await?;
    Ok((
        [(header::CONTENT_TYPE, artifact.content_type.clone())],
        Body::from(bytes),
    )
        .into_response())
}
