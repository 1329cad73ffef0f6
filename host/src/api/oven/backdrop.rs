//! `/kidlisp-backdrop.webp` and `/kidlisp-backdrop` (shared/OVEN.md §7): the day's animated
//! WebP of one of `@jeffrey`'s most-played pieces, through the `kidlisp` job type.

use super::{Answer, artifact, cached, may_force, render, report_field, spec, today_utc};
use crate::api::error::ApiError;
use crate::queue::JobRecord;
use crate::service::Service;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use std::sync::Arc;

/// Whose pieces the backdrop shows (the oven's choice).
pub const BACKDROP_HANDLE: &str = "@jeffrey";

/// The day's backdrop job (§7): of the handle's pieces among the top 50, index
/// `dayOfYear mod min(count, 10)`; 256² art pixels at density 4 (1024² out), 90 frames played
/// at 15 fps, WebP at quality 85.
fn backdrop_spec(date: &str) -> crate::jobs::JobSpec {
    spec(
        "kidlisp",
        serde_json::json!({
            "top": {"handle": BACKDROP_HANDLE, "limit": 50, "rotate": 10, "date": date},
            "width": 256, "height": 256, "density": 4,
            "frames": 90, "fps": 15, "formats": ["webp"], "quality": 85, "dropBlankFrames": true,
        }),
    )
}

/// The piece a backdrop job rendered, from its `recording.json`.
async fn piece(service: &Service, record: &JobRecord) -> Option<String> {
    report_field(service, record, "recording.json", "code").await
}

/// Notes a fresh backdrop that came out frozen or a dud, under the piece it picked.
async fn note_frozen(service: &Service, record: &JobRecord) {
    if let Some(code) = piece(service, record).await {
        let piece = super::piece::Piece::Code(code.trim_start_matches('$').to_string());
        super::frozen::note(service, record, &piece).await;
    }
}

async fn answer(
    service: &Service,
    record: &JobRecord,
    redirect: StatusCode,
    x_cache: &'static str,
) -> Result<Response, ApiError> {
    let video = artifact(record, "video.webp", "the KidLisp backdrop")?;
    let headers = piece(service, record)
        .await
        .map(|code| vec![("x-backdrop-piece", code)])
        .unwrap_or_default();
    Answer {
        redirect,
        always_bytes: false,
        cache_control: Some("public, max-age=3600"),
        x_cache,
        headers,
    }
    .send(service, video)
    .await
}

/// `GET /kidlisp-backdrop.webp`: today's backdrop from the cache → 301 to it (or its bytes),
/// `X-Cache: CDN`; else rendered while the request waits → 302 (or the bytes), `X-Cache: MISS`;
/// 503 when it is still rendering after `service.max_wait_s`.
#[utoipa::path(
    get,
    path = "/kidlisp-backdrop.webp",
    tag = "oven",
    responses(
        (status = 200, description = "The animated WebP (a store without a public URL)", content_type = "image/webp"),
        (status = 301, description = "Today's backdrop, at its public URL"),
        (status = 302, description = "Today's backdrop, just made, at its public URL"),
        (status = 500, description = "The job failed; the message says why"),
        (status = 503, description = "Still rendering; try again shortly"),
    ),
)]
pub async fn backdrop_webp(State(service): State<Arc<Service>>) -> Result<Response, ApiError> {
    let today = backdrop_spec(&today_utc());
    if let Some(record) = cached(&service, &today).await? {
        return answer(&service, &record, StatusCode::MOVED_PERMANENTLY, "CDN").await;
    }
    match render(&service, today, false).await? {
        Some((record, _)) => {
            note_frozen(&service, &record).await;
            answer(&service, &record, StatusCode::FOUND, "MISS").await
        }
        None => Err(ApiError::unavailable(
            "backdrop generation in progress, try again shortly",
        )),
    }
}

/// `GET /kidlisp-backdrop?force=`: today's backdrop → 302 to it (or its bytes), with
/// `X-Backdrop-Piece` and `X-Cache: HIT|MISS`. `force=true` renders again (a submit token when
/// `service.submit_tokens` are set).
#[utoipa::path(
    get,
    path = "/kidlisp-backdrop",
    tag = "oven",
    params(("force" = Option<bool>, Query, description = "Render again even when today's is cached")),
    responses(
        (status = 200, description = "The animated WebP (a store without a public URL)", content_type = "image/webp"),
        (status = 302, description = "Today's backdrop, at its public URL"),
        (status = 401, description = "force without a submit token"),
        (status = 500, description = "The job failed; the message says why"),
        (status = 503, description = "Still rendering; try again shortly"),
    ),
)]
pub async fn backdrop(
    State(service): State<Arc<Service>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let force = may_force(&service, query.get("force").map(String::as_str), &headers)?;
    match render(&service, backdrop_spec(&today_utc()), force).await? {
        Some((record, was_cached)) => {
            if !was_cached {
                note_frozen(&service, &record).await;
            }
            let x_cache = if was_cached { "HIT" } else { "MISS" };
            answer(&service, &record, StatusCode::FOUND, x_cache).await
        }
        None => Err(ApiError::unavailable(
            "backdrop generation in progress, try again shortly",
        )),
    }
}
