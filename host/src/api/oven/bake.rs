//! Tape baking (shared/OVEN.md §10): `POST /bake` takes a tape the site stored as a ZIP, and in
//! the background the host fetches it, the `video` job type bakes it (3× nearest upscale, even
//! sides, the soundtrack as AAC), the MP4 and a JPEG thumbnail of the middle frame are stored at
//! `tapes/{code}.mp4` and `tapes/{code}-thumb.jpg`, and the site's callback gets the oven's JSON.
//! `POST /bake-status` and `POST /bake-complete` are the site telling how it carried on.
//!
//! What differs from the oven, on purpose:
//! - The ZIP is fetched by the host with bounds (`bake.max_zip_bytes`, `bake.fetch_timeout_ms`),
//!   only from public addresses unless `bake.allow_private` (every hop of a redirect checked
//!   again), and with TLS verified.
//! - The callback is a Kiln webhook: signed (`X-Kiln-Signature`, with `service.webhook_secret`,
//!   or `bake.secret` when there is none) and retried with backoff (`service.webhook_*`).
//! - The frame rate is the `video` job type's: timings make each frame last its duration
//!   exactly (the oven took `round(1000 / mean)`), else a soundtrack sets it so the video lasts
//!   as long as the audio, else `bake.default_fps` (60, the oven's).
//! - The thumbnail is made by the host from the ZIP it fetched (it has the bytes; the job's
//!   own `thumbnail.png` is the first frame, which other clients of the job type rely on).
//!
//! Bakes are kept per process for the status route ([`bakes_snapshot`]): the active ones (up to
//! [`MAX_ACTIVE`]), and the last [`MAX_RECENT`] that ended.

use crate::api::error::ApiError;
use crate::api::jobs::{submit_following, wait_for_end};
use crate::error::ErrorKind;
use crate::jobs::JobSpec;
use crate::media::tape::{self, BakeRouteSettings, TapeLimits};
use crate::queue::{JobRecord, JobState};
use crate::service::webhooks;
use crate::service::{EventName, Service, SubmitOptions};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// Ended bakes kept for the status route.
pub const MAX_RECENT: usize = 20;

/// Active bakes kept: a bake the site never reported complete stays active, so past this many
/// the oldest is moved to the recent ones as it is.
pub const MAX_ACTIVE: usize = 100;

/// The fields `POST /bake` must have, in the oven's order.
const REQUIRED: [&str; 5] = ["mongoId", "slug", "code", "zipUrl", "callbackUrl"];

/// The upscale of the video and the thumbnail (§10).
const SCALE: u32 = 3;

/// The thumbnail fits inside this square.
const THUMBNAIL_SIDE: u32 = 512;

/// Redirects followed when fetching the ZIP.
const MAX_REDIRECTS: usize = 5;

/// One bake, as the status route shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Bake {
    pub code: String,
    pub slug: String,
    #[schema(value_type = Object)]
    pub mongo_id: Value,
    /// `incoming`, `downloading`, `processing`, `uploading`, `complete` (the oven's part is
    /// done and the callback is on its way), then the site's statuses (`syncing`,
    /// `downloading`, `uploading-atproto`, `finalizing`…) from `/bake-status`; an ended bake
    /// has `succeeded` or `failed`.
    pub status: String,
    /// The latest `/bake-status` details.
    #[schema(value_type = Object)]
    pub details: Option<Value>,
    /// The `video` job that baked it.
    pub job: Option<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub updated_at: String,
    pub completed_at: Option<String>,
    pub success: Option<bool>,
    pub mp4_url: Option<String>,
    pub thumbnail_url: Option<String>,
    pub atproto_rkey: Option<String>,
    pub error: Option<String>,
}

/// The bakes of this process: active (oldest first) and recent (latest first).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct BakesSnapshot {
    pub active: Vec<Bake>,
    pub recent: Vec<Bake>,
}

#[derive(Default)]
struct Bakes {
    active: Vec<Bake>,
    recent: VecDeque<Bake>,
}

static BAKES: LazyLock<Mutex<Bakes>> = LazyLock::new(Default::default);

/// The active and recent bakes of this process, for `GET /status`.
pub fn bakes_snapshot() -> BakesSnapshot {
    let bakes = BAKES.lock().expect("bakes lock");
    BakesSnapshot {
        active: bakes.active.clone(),
        recent: bakes.recent.iter().cloned().collect(),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Changes the active bake of `code` (the latest, if several).
fn update_active(code: &str, change: impl FnOnce(&mut Bake)) {
    let mut bakes = BAKES.lock().expect("bakes lock");
    if let Some(bake) = bakes.active.iter_mut().rev().find(|b| b.code == code) {
        change(bake);
        bake.updated_at = now();
    }
}

/// Moves the active bake of `code` to recent (or makes a recent entry when none is active),
/// changed by `change`.
fn end(code: &str, change: impl FnOnce(&mut Bake)) {
    let mut bakes = BAKES.lock().expect("bakes lock");
    let mut bake = match bakes.active.iter().rposition(|b| b.code == code) {
        Some(i) => bakes.active.remove(i),
        None => Bake {
            code: code.to_string(),
            slug: String::new(),
            mongo_id: Value::Null,
            status: String::new(),
            details: None,
            job: None,
            started_at: now(),
            updated_at: now(),
            completed_at: None,
            success: None,
            mp4_url: None,
            thumbnail_url: None,
            atproto_rkey: None,
            error: None,
        },
    };
    change(&mut bake);
    bake.updated_at = now();
    bake.completed_at = Some(bake.updated_at.clone());
    bakes.recent.push_front(bake);
    bakes.recent.truncate(MAX_RECENT);
}

fn set_status(code: &str, status: &str) {
    update_active(code, |bake| bake.status = status.to_string());
}

/// A field of the body as a non-empty string.
fn text(body: &Value, field: &str) -> Option<String> {
    body[field]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Whether `field` is given (not missing, null or an empty string).
fn present(body: &Value, field: &str) -> bool {
    match &body[field] {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// A code the store keys can carry: ASCII letters, digits, `-` and `_`, 1 to 64 long.
fn check_code(code: &str) -> Result<(), ApiError> {
    if super::piece::is_code(code) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "code {code:?} must be 1 to 64 ASCII letters, digits, '-' or '_' (it names \
             tapes/{{code}}.mp4)"
        )))
    }
}

/// `POST /bake`: starts a tape bake and answers at once.
#[utoipa::path(
    post,
    path = "/bake",
    tag = "oven",
    request_body(content = Object, description = "`{mongoId, slug, code, zipUrl, callbackUrl, callbackSecret, metadata?}`"),
    responses(
        (status = 200, description = "`{status: \"accepted\", slug, code, message: \"Baking started\"}`; the bake goes on in the background and ends with a POST to `callbackUrl`: `{mongoId, slug, code, secret, mp4Url, thumbnailUrl}` or `{mongoId, slug, code, secret, error}`", body = Object),
        (status = 400, description = "`Missing required fields: …` naming the missing ones, a code that cannot name a key, or a callback URL the host may not POST to", body = crate::api::error::ErrorAnswer),
        (status = 401, description = "`Invalid callback secret`", body = crate::api::error::ErrorAnswer),
        (status = 403, description = "bake.secret is not set: the route is off", body = crate::api::error::ErrorAnswer),
    ),
)]
pub async fn bake(
    State(service): State<Arc<Service>>,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    let settings = service.kiln.config.bake.clone();
    let Some(secret) = settings.secret.clone() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorKind::Denied,
            "tape baking is off: set bake.secret to turn POST /bake on",
        ));
    };
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|f| !present(&body, f))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Missing required fields: {}",
            missing.join(", ")
        )));
    }
    if !body["callbackSecret"]
        .as_str()
        .is_some_and(|given| crate::api::auth::same(given, &secret))
    {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorKind::Denied,
            "Invalid callback secret",
        ));
    }
    let (Some(slug), Some(code), Some(zip_url), Some(callback_url)) = (
        text(&body, "slug"),
        text(&body, "code"),
        text(&body, "zipUrl"),
        text(&body, "callbackUrl"),
    ) else {
        return Err(ApiError::bad_request(
            "slug, code, zipUrl and callbackUrl must be strings",
        ));
    };
    check_code(&code)?;
    webhooks::check_url(&callback_url, service.settings.webhook_allow_private)
        .await
        .map_err(ApiError::bad_request)?;
    let job = uuid::Uuid::new_v4().to_string();
    let started = now();
    let request = Request {
        mongo_id: body["mongoId"].clone(),
        slug: slug.clone(),
        code: code.clone(),
        zip_url,
        callback_url,
        secret,
        job: job.clone(),
    };
    {
        let mut bakes = BAKES.lock().expect("bakes lock");
        if bakes.active.len() >= MAX_ACTIVE {
            let oldest = bakes.active.remove(0);
            bakes.recent.push_front(oldest);
            bakes.recent.truncate(MAX_RECENT);
        }
        bakes.active.push(Bake {
            code: code.clone(),
            slug: slug.clone(),
            mongo_id: request.mongo_id.clone(),
            status: "incoming".into(),
            details: None,
            job: Some(job),
            started_at: started.clone(),
            updated_at: started,
            completed_at: None,
            success: None,
            mp4_url: None,
            thumbnail_url: None,
            atproto_rkey: None,
            error: None,
        });
    }
    tracing::info!(%code, %slug, job = %request.job, "tape bake accepted");
    tokio::spawn(run(service, settings, request));
    Ok(Json(json!({
        "status": "accepted",
        "slug": slug,
        "code": code,
        "message": "Baking started",
    }))
    .into_response())
}

/// What a bake was asked for.
struct Request {
    mongo_id: Value,
    slug: String,
    code: String,
    zip_url: String,
    callback_url: String,
    secret: String,
    job: String,
}

/// Where a baked tape was stored.
struct Stored {
    mp4_url: String,
    thumbnail_url: String,
}

/// The bake in the background, ending with the callback either way.
async fn run(service: Arc<Service>, settings: BakeRouteSettings, request: Request) {
    let outcome = bake_tape(&service, &settings, &request).await;
    let code = request.code.clone();
    let mut body = json!({
        "mongoId": request.mongo_id,
        "slug": request.slug,
        "code": request.code,
        "secret": request.secret,
    });
    let event = match &outcome {
        Ok(stored) => {
            body["mp4Url"] = json!(stored.mp4_url);
            body["thumbnailUrl"] = json!(stored.thumbnail_url);
            tracing::info!(%code, job = %request.job, mp4 = %stored.mp4_url, "tape baked");
            update_active(&code, |bake| {
                bake.status = "complete".into();
                bake.mp4_url = Some(stored.mp4_url.clone());
                bake.thumbnail_url = Some(stored.thumbnail_url.clone());
            });
            EventName::Succeeded
        }
        Err(error) => {
            body["error"] = json!(error);
            tracing::warn!(%code, job = %request.job, "tape bake failed: {error}");
            end(&code, |bake| {
                bake.status = "failed".into();
                bake.success = Some(false);
                bake.error = Some(error.clone());
            });
            EventName::Failed
        }
    };
    let signing = service
        .settings
        .webhook_secret
        .clone()
        .unwrap_or_else(|| request.secret.clone());
    let webhook = webhooks::WebhookSettings {
        secret: signing,
        attempts: service.settings.webhook_attempts.max(1),
        first_backoff: Duration::from_millis(service.settings.webhook_backoff_ms),
        timeout: Duration::from_millis(service.settings.webhook_timeout_ms),
        allow_private: service.settings.webhook_allow_private,
    };
    webhooks::deliver(
        webhooks::client(webhook.allow_private),
        webhook,
        request.callback_url,
        request.job,
        event,
        serde_json::to_vec(&body).unwrap_or_default(),
    );
}

/// Fetches, bakes and stores the tape; the message of what failed.
async fn bake_tape(
    service: &Service,
    settings: &BakeRouteSettings,
    request: &Request,
) -> Result<Stored, String> {
    let code = &request.code;
    set_status(code, "downloading");
    let zip = fetch_zip(settings, &request.zip_url).await?;

    set_status(code, "processing");
    let limits = TapeLimits {
        max_total_bytes: service.kiln.config.jobs.max_read_bytes,
        ..TapeLimits::default()
    };
    let unzipped = zip.clone();
    let thumbnail = tokio::task::spawn_blocking(move || {
        let tape = tape::unzip(&unzipped, &limits)?;
        tape::middle_frame_thumbnail(&tape, SCALE, THUMBNAIL_SIDE, tape::OVEN_THUMBNAIL_QUALITY)
    })
    .await
    .map_err(|e| format!("reading the tape panicked: {e}"))?
    .map_err(|e| format!("the tape at zipUrl cannot be baked: {}", e.message))?;

    let store = &service.kiln.store;
    let zip_key = store
        .put(&request.job, "tape.zip", "application/zip", zip)
        .await
        .map_err(|e| e.message)?
        .key;
    let record = run_job(service, settings, request, &zip_key).await;
    if let Err(err) = store.delete(&zip_key).await {
        tracing::warn!(%code, "could not delete {zip_key}: {}", err.message);
    }
    let record = record?;

    set_status(code, "uploading");
    let video = record
        .artifacts
        .iter()
        .find(|a| a.name == "video.mp4")
        .ok_or_else(|| format!("the bake job {} made no video.mp4", record.id))?;
    let mp4 = store.get(&video.key).await.map_err(|e| e.message)?;
    let mp4 = store
        .put(
            crate::storage::TAPES_SEGMENT,
            &format!("{code}.mp4"),
            "video/mp4",
            mp4,
        )
        .await
        .map_err(|e| e.message)?;
    let thumbnail = store
        .put(
            crate::storage::TAPES_SEGMENT,
            &format!("{code}-thumb.jpg"),
            "image/jpeg",
            thumbnail,
        )
        .await
        .map_err(|e| e.message)?;
    Ok(Stored {
        mp4_url: mp4.url,
        thumbnail_url: thumbnail.url,
    })
}

/// Submits the `video` job that bakes the ZIP at `zip_key` and waits for it; its record once it
/// succeeded.
async fn run_job(
    service: &Service,
    settings: &BakeRouteSettings,
    request: &Request,
    zip_key: &str,
) -> Result<JobRecord, String> {
    let spec = JobSpec {
        id: Some(request.job.clone()),
        job_type: "video".into(),
        input: json!({
            "tape": {"zipKey": zip_key},
            "scale": SCALE,
            "fps": settings.default_fps,
        }),
        callback: None,
    };
    let options = SubmitOptions {
        generated_id: true,
        force: true,
        ..SubmitOptions::default()
    };
    let followed = submit_following(service, spec, options, true)
        .await
        .map_err(|e| format!("the bake job could not be queued: {}", e.message))?;
    let events = followed
        .events
        .ok_or_else(|| format!("the bake job {} could not be followed", request.job))?;
    let wait = Duration::from_secs(settings.job_wait_s);
    let record = wait_for_end(service, &request.job, events, wait)
        .await
        .map_err(|e| e.message)?
        .ok_or_else(|| {
            format!(
                "the bake job {} did not end within bake.job_wait_s ({} s), or the host \
                 stopped first",
                request.job, settings.job_wait_s
            )
        })?;
    if record.status != JobState::Succeeded {
        let why = record
            .error
            .as_ref()
            .map(|e| format!("{}: {}", e.kind.as_str(), e.message))
            .unwrap_or_else(|| format!("{:?}", record.status));
        return Err(format!("the bake job {} failed: {why}", record.id));
    }
    Ok(record)
}

/// Refuses a URL the ZIP may not be fetched from: not http(s), or (unless `allow_private`) an
/// address literal that is not public. Names are checked as they resolve (the client's
/// resolver keeps only public addresses).
fn check_zip_url(url: &url::Url, allow_private: bool) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("zipUrl {url} must be an http or https URL"));
    }
    let ip = match url.host() {
        None => return Err(format!("zipUrl {url} has no host")),
        Some(url::Host::Domain(_)) => return Ok(()),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
    };
    match crate::net::non_public(ip) {
        Some(kind) if !allow_private => {
            Err(private(&ip.to_string(), &format!("leads to {ip}, {kind}")))
        }
        _ => Ok(()),
    }
}

fn private(host: &str, reason: &str) -> String {
    format!(
        "zipUrl host {host:?} {reason}; the host fetches tapes only from public addresses \
         unless bake.allow_private = true"
    )
}

/// Fetches the tape's ZIP: redirects followed (each hop checked again), at most
/// `bake.max_zip_bytes`, within `bake.fetch_timeout_ms` in all.
async fn fetch_zip(settings: &BakeRouteSettings, url: &str) -> Result<Bytes, String> {
    let limit = Duration::from_millis(settings.fetch_timeout_ms);
    tokio::time::timeout(limit, fetch_within(settings, url))
        .await
        .map_err(|_| {
            format!(
                "fetching zipUrl took longer than bake.fetch_timeout_ms ({} ms)",
                settings.fetch_timeout_ms
            )
        })?
}

async fn fetch_within(settings: &BakeRouteSettings, url: &str) -> Result<Bytes, String> {
    let client = webhooks::client(settings.allow_private);
    let mut url = url::Url::parse(url).map_err(|e| format!("zipUrl {url:?} is not a URL: {e}"))?;
    for _ in 0..=MAX_REDIRECTS {
        check_zip_url(&url, settings.allow_private)?;
        let mut response =
            client
                .get(url.clone())
                .send()
                .await
                .map_err(|err| match webhooks::refusal(&err) {
                    Some(refused) => private(&refused.host, &refused.reason),
                    None => format!("fetching zipUrl {url} failed: {err}"),
                })?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| format!("zipUrl {url} answered {status} without a Location"))?;
            url = url
                .join(location)
                .map_err(|e| format!("zipUrl {url} redirects to {location:?}: {e}"))?;
            continue;
        }
        if !status.is_success() {
            return Err(format!("zipUrl {url} answered {status}"));
        }
        let max = settings.max_zip_bytes;
        let over = |size: u64| {
            format!("the ZIP at zipUrl is {size} bytes or more, over bake.max_zip_bytes ({max})")
        };
        if let Some(length) = response.content_length()
            && length > max
        {
            return Err(over(length));
        }
        let mut bytes = bytes::BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("reading the ZIP from zipUrl {url} failed: {e}"))?
        {
            if (bytes.len() + chunk.len()) as u64 > max {
                return Err(over((bytes.len() + chunk.len()) as u64));
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(bytes.freeze());
    }
    Err(format!("zipUrl redirected more than {MAX_REDIRECTS} times"))
}

/// `POST /bake-status`: the site's progress after the callback (`{code, status, details}`).
#[utoipa::path(
    post,
    path = "/bake-status",
    tag = "oven",
    request_body(content = Object, description = "`{code, status, details?}`"),
    responses(
        (status = 200, description = "`{status: \"ok\"}`", body = Object),
        (status = 400, description = "No code", body = crate::api::error::ErrorAnswer),
    ),
)]
pub async fn bake_status(Json(body): Json<Value>) -> Result<Response, ApiError> {
    let Some(code) = text(&body, "code") else {
        return Err(ApiError::bad_request("Missing code"));
    };
    let status = text(&body, "status");
    let details = body.get("details").cloned().filter(|d| !d.is_null());
    update_active(&code, |bake| {
        if let Some(status) = status {
            bake.status = status;
        }
        if details.is_some() {
            bake.details = details;
        }
    });
    Ok(Json(json!({"status": "ok"})).into_response())
}

/// `POST /bake-complete`: the site finished with a bake; it moves to the recent ones.
#[utoipa::path(
    post,
    path = "/bake-complete",
    tag = "oven",
    request_body(content = Object, description = "`{slug, code, success, mp4Url, thumbnailUrl, atprotoRkey}` or `{slug, code, success: false, error}`"),
    responses(
        (status = 200, description = "`{status: \"ok\"}`", body = Object),
        (status = 400, description = "No code", body = crate::api::error::ErrorAnswer),
    ),
)]
pub async fn bake_complete(Json(body): Json<Value>) -> Result<Response, ApiError> {
    let Some(code) = text(&body, "code") else {
        return Err(ApiError::bad_request("Missing code"));
    };
    let success = body["success"].as_bool().unwrap_or(true);
    end(&code, |bake| {
        if let Some(slug) = text(&body, "slug") {
            bake.slug = slug;
        }
        bake.success = Some(success);
        bake.status = if success { "succeeded" } else { "failed" }.into();
        for (field, slot) in [
            ("mp4Url", &mut bake.mp4_url),
            ("thumbnailUrl", &mut bake.thumbnail_url),
            ("atprotoRkey", &mut bake.atproto_rkey),
            ("error", &mut bake.error),
        ] {
            if let Some(value) = text(&body, field) {
                *slot = Some(value);
            }
        }
    });
    Ok(Json(json!({"status": "ok"})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_urls_to_private_literals_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/t.zip",
            "http://[::1]/t.zip",
            "http://169.254.169.254/latest",
            "http://10.0.0.7/t.zip",
        ] {
            let parsed = url::Url::parse(url).unwrap();
            let err = check_zip_url(&parsed, false).unwrap_err();
            assert!(err.contains("bake.allow_private"), "{url}: {err}");
            check_zip_url(&parsed, true).unwrap();
        }
        let err = check_zip_url(&url::Url::parse("file:///etc/passwd").unwrap(), true).unwrap_err();
        assert!(err.contains("http or https"), "{err}");
    }

    #[test]
    fn tapes_are_kept_where_no_job_may_write() {
        use crate::storage::{TAPES_SEGMENT, check_job_id};
        let err = check_job_id(TAPES_SEGMENT, &[]).unwrap_err();
        assert!(err.message.contains("reserved"), "{err}");
    }

    #[test]
    fn ended_bakes_are_kept_up_to_twenty() {
        for i in 0..25 {
            end(&format!("unit{i}"), |bake| bake.success = Some(true));
        }
        let snapshot = bakes_snapshot();
        assert_eq!(snapshot.recent.len(), MAX_RECENT);
        assert_eq!(snapshot.recent[0].code, "unit24");
    }
}
