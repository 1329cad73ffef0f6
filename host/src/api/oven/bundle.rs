//! `GET /bundle-html` (shared/OVEN.md §9.1): a `$code` piece as one self-contained HTML file that
//! plays offline, made by the `bundle` job type (its own renderer compiled to WebAssembly, not
//! aesthetic.computer's runtime) and kept in the result cache under the plugin's version and the
//! input, as every oven route's renders are.
//!
//! `format=html` answers the file, `json` (and the oven's alias `base64`) the file in base64 with
//! its name and figures, `stream` Server-Sent Events: `progress` (`stage`, `message`) as the job
//! reports its stages, then `complete` (`filename`, `content`, `sizeKB`) or `error`, and `m4d` the
//! file inside a Max for Live device (`amxd.rs`).
//!
//! What differs from the oven: `piece=` (a JS piece of aesthetic.computer's source tree, which
//! this host does not have) is `501`; `mode=device` and `nocache` are not read; errors are Kiln's
//! `{error: {kind, message}}`.

use super::amxd;
use super::piece::is_code;
use super::{artifact, finish, spec, start};
use crate::api::error::ApiError;
use crate::error::ErrorKind;
use crate::queue::JobRecord;
use crate::service::{EventName, Service};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use futures::StreamExt;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

/// The largest `density` (CSS pixels per art pixel) the route passes on, the plugin's own bound.
pub const MAX_DENSITY: u32 = 16;

/// What the route answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Html,
    Json,
    Stream,
    /// The Max for Live device.
    M4d,
}

/// A made bundle, read back from the store.
struct Made {
    html: Vec<u8>,
    report: serde_json::Value,
    cached: bool,
}

impl Made {
    fn filename(&self) -> String {
        self.report["filename"]
            .as_str()
            .unwrap_or("bundle.lisp.html")
            .to_string()
    }

    fn size_kb(&self) -> u64 {
        (self.html.len() as f64 / 1024.0).round() as u64
    }

    fn content(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.html)
    }
}

/// Whether a flag (`nocompress`, `nominify`, `inline`) is on: `1` or `true`, as the oven reads them.
fn flag(query: &HashMap<String, String>, name: &str) -> bool {
    matches!(query.get(name).map(String::as_str), Some("1" | "true"))
}

/// The bundle job's input for the query, and the format asked for.
fn request(query: &HashMap<String, String>) -> Result<(serde_json::Value, Format), ApiError> {
    let given = |name: &str| query.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    if given("piece").is_some() {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            ErrorKind::InvalidInput,
            "piece= bundles one of aesthetic.computer's JS pieces from its source tree, which \
             this host does not have; bundle a $code with code=, or a page of your own with a \
             `bundle` job (kind js) through POST /jobs",
        ));
    }
    let Some(code) = given("code") else {
        return Err(ApiError::bad_request(
            "Missing 'code' or 'piece' parameter: /bundle-html?code=39j bundles the KidLisp \
             piece $39j",
        ));
    };
    let code = code.trim_start_matches('$');
    if !is_code(code) {
        return Err(ApiError::bad_request(format!(
            "code {code:?}: a $code is 1–64 letters, digits, _ or -"
        )));
    }
    let format = match given("format").unwrap_or("html") {
        "html" => Format::Html,
        "json" | "base64" => Format::Json,
        "stream" => Format::Stream,
        "m4d" => Format::M4d,
        other => {
            return Err(ApiError::bad_request(format!(
                "format {other:?}: use html, json (or base64), stream or m4d"
            )));
        }
    };
    let mut input = serde_json::json!({
        "kind": "kidlisp",
        "code": format!("${code}"),
        "compress": if flag(query, "nocompress") { "none" } else { "gzip" },
        "minify": !flag(query, "nominify"),
    });
    if let Some(density) = given("density") {
        let density = density
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=MAX_DENSITY).contains(d))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "density {density:?}: a whole number of CSS pixels per art pixel, 1–{MAX_DENSITY}"
                ))
            })?;
        input["density"] = density.into();
    }
    Ok((input, format))
}

/// Reads the finished job's `index.html` and `bundle.json`. A job that failed on its input (an
/// unknown code, an embed the store does not have) is the request's `422`, naming why.
async fn read_made(service: &Service, record: &JobRecord, cached: bool) -> Result<Made, ApiError> {
    if let Some(error) = &record.error
        && error.kind == ErrorKind::InvalidInput
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::InvalidInput,
            format!(
                "the piece cannot be bundled (job {}): {}",
                record.id, error.message
            ),
        ));
    }
    let html = artifact(record, "index.html", "the bundle")?;
    let report = artifact(record, "bundle.json", "the bundle")?;
    let html = service.kiln.store.get(&html.key).await?.to_vec();
    let report = service.kiln.store.get(&report.key).await?;
    let report = serde_json::from_slice(&report).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Internal,
            format!("job {}: bundle.json is not JSON: {e}", record.id),
        )
    })?;
    Ok(Made {
        html,
        report,
        cached,
    })
}

/// What a progress stage of the bundle job means, for the oven's `message`.
fn stage_message(stage: &str) -> String {
    match stage {
        "cache-hit" => "Found in the cache".to_string(),
        "fetch" => "Fetched the piece and its embeds".to_string(),
        "deps" => "Checked every embed and stamp it needs".to_string(),
        "generate" => "Built the page: player, renderer and piece".to_string(),
        "compress" => "Packed the page".to_string(),
        "stored" => "Stored the bundle".to_string(),
        other => other.to_string(),
    }
}

/// Makes (or finds) the bundle, calling `progress` with each stage as the job reports it.
async fn make(
    service: &Service,
    input: serde_json::Value,
    mut progress: impl FnMut(&str),
) -> Result<Made, ApiError> {
    let spec = spec("bundle", input);
    let (record, ending) = match start(service, spec, false).await? {
        super::Started::Cached(record) => {
            progress("cache-hit");
            return read_made(service, &record, true).await;
        }
        super::Started::Running { record, events, .. } => (record, events),
    };
    // A second subscription for the stages: `finish` reads its own to the end.
    let id = record.id.clone();
    let mut events = Some(service.events.subscribe(&id));
    let finished = finish(service, &record, ending);
    tokio::pin!(finished);
    let done = loop {
        let next = async {
            match events.as_mut() {
                Some(stages) => Some(stages.recv().await),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            done = &mut finished => break done,
            got = next => match got {
                Some(Ok(event)) if event.event == EventName::Progress => {
                    if let Some(stage) = event.data["stage"].as_str() {
                        progress(stage);
                    }
                }
                Some(Ok(_)) | Some(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Some(Err(broadcast::error::RecvError::Closed)) | None => events = None,
            },
        }
    };
    drop(events);
    service.events.release(&id);
    let Some(record) = done? else {
        return Err(ApiError::unavailable(
            "the bundle is still being made; try again shortly",
        ));
    };
    read_made(service, &record, false).await
}

/// `GET /bundle-html?code=&format=html|json|stream|m4d&density=&nocompress=&nominify=&inline=`
#[utoipa::path(
    get,
    path = "/bundle-html",
    tag = "oven",
    params(
        ("code" = Option<String>, Query, description = "The KidLisp piece, $code ($ optional)"),
        ("piece" = Option<String>, Query, description = "An aesthetic.computer JS piece: 501, this host has no such source tree"),
        ("format" = Option<String>, Query, description = "html (default), json (or base64), stream (Server-Sent Events), m4d (a Max for Live device)"),
        ("density" = Option<u32>, Query, description = "CSS pixels per art pixel, 1–16 (default: the canvas fills the window)"),
        ("nocompress" = Option<String>, Query, description = "1 or true: the plain page, not self-extracting"),
        ("nominify" = Option<String>, Query, description = "1 or true: scripts as written"),
        ("inline" = Option<String>, Query, description = "1 or true (html): no Content-Disposition attachment"),
    ),
    responses(
        (status = 200, description = "html: the file (text/html; Content-Disposition attachment unless inline; X-Cache HIT or MISS); json: {filename, content (base64), sizeKB, progress, sourceCode, authorHandle, packDate, depCount, bytes, bytesUncompressed, minified, compressor}; stream: text/event-stream of progress {stage, message}, then complete {filename, content, sizeKB} or error {error}; m4d: the file in a Max for Live device (application/octet-stream, Content-Disposition attachment \"AC $code (offline).amxd\")"),
        (status = 400, description = "No code, a malformed code, density or format"),
        (status = 422, description = "The piece cannot be bundled (unknown code, a missing embed or stamp); the message says which"),
        (status = 500, description = "The bundle job failed; the message says why"),
        (status = 501, description = "piece="),
        (status = 503, description = "Still being made after service.max_wait_s"),
    ),
)]
pub async fn bundle_html(
    State(service): State<Arc<Service>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let (input, format) = request(&query)?;
    match format {
        Format::Html => {
            let made = make(&service, input, |_| {}).await?;
            let mut response = (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                made.html.clone(),
            )
                .into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            headers.insert(
                "x-cache",
                HeaderValue::from_static(if made.cached { "HIT" } else { "MISS" }),
            );
            if !flag(&query, "inline")
                && let Ok(value) = HeaderValue::from_str(&format!(
                    "attachment; filename=\"{}\"",
                    made.filename().replace(['"', '\\'], "_")
                ))
            {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            Ok(response)
        }
        Format::Json => {
            let mut stages = Vec::new();
            let made = make(&service, input, |stage| stages.push(stage_message(stage))).await?;
            let report = &made.report;
            let body = serde_json::json!({
                "filename": made.filename(),
                "content": made.content(),
                "sizeKB": made.size_kb(),
                "progress": stages,
                "sourceCode": report["source"],
                "authorHandle": report["author"],
                "packDate": report["packTime"],
                "depCount": report["embeds"],
                "bytes": report["bytes"],
                "bytesUncompressed": report["bytesUncompressed"],
                "minified": report["minified"],
                "compressor": report["compressor"],
            });
            Ok(([(header::CACHE_CONTROL, "no-cache")], axum::Json(body)).into_response())
        }
        Format::Stream => Ok(stream(service, input).into_response()),
        Format::M4d => {
            let piece = input["code"].as_str().unwrap_or_default().to_string();
            let made = make(&service, input, |_| {}).await?;
            let device = amxd::device(&made.html).ok_or_else(|| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorKind::Internal,
                    "the bundle is too large for a Max for Live device (4 GiB)",
                )
            })?;
            let mut response =
                ([(header::CONTENT_TYPE, "application/octet-stream")], device).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert(
                "x-cache",
                HeaderValue::from_static(if made.cached { "HIT" } else { "MISS" }),
            );
            if let Ok(value) = HeaderValue::from_str(&format!(
                "attachment; filename=\"{}\"",
                amxd::file_name(&piece).replace(['"', '\\'], "_")
            )) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            Ok(response)
        }
    }
}

/// The `stream` answer: the job runs in a task that sends the events as they happen, so the
/// client sees each stage when the job reports it.
fn stream(service: Arc<Service>, input: serde_json::Value) -> impl IntoResponse {
    let (sender, mut receiver) = mpsc::unbounded_channel::<Event>();
    tokio::spawn(async move {
        let json_event = |name: &str, data: serde_json::Value| {
            Event::default().event(name).data(data.to_string())
        };
        let progress = sender.clone();
        let made = make(&service, input, move |stage| {
            let _ = progress.send(json_event(
                "progress",
                serde_json::json!({"stage": stage, "message": stage_message(stage)}),
            ));
        })
        .await;
        let last = match made {
            Ok(made) => json_event(
                "complete",
                serde_json::json!({
                    "filename": made.filename(),
                    "content": made.content(),
                    "sizeKB": made.size_kb(),
                }),
            ),
            Err(error) => json_event("error", serde_json::json!({"error": error.message})),
        };
        let _ = sender.send(last);
    });
    let events =
        futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).map(Ok::<Event, Infallible>);
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_query_becomes_the_bundle_input() {
        let (input, format) = request(&query(&[
            ("code", "$39j"),
            ("nocompress", "1"),
            ("nominify", "true"),
            ("density", "3"),
            ("format", "stream"),
        ]))
        .unwrap();
        assert_eq!(format, Format::Stream);
        assert_eq!(
            input,
            serde_json::json!({"kind": "kidlisp", "code": "$39j", "compress": "none", "minify": false, "density": 3})
        );
        let (input, format) = request(&query(&[("code", "roz"), ("nocompress", "0")])).unwrap();
        assert_eq!(format, Format::Html);
        assert_eq!(input["compress"], "gzip");
        assert_eq!(input["minify"], true);
        assert_eq!(
            request(&query(&[("code", "a"), ("format", "base64")]))
                .unwrap()
                .1,
            Format::Json
        );
        assert_eq!(
            request(&query(&[("code", "a"), ("format", "m4d")]))
                .unwrap()
                .1,
            Format::M4d
        );
    }

    #[test]
    fn what_the_route_refuses() {
        let status = |pairs: &[(&str, &str)]| request(&query(pairs)).unwrap_err().status;
        assert_eq!(status(&[]), StatusCode::BAD_REQUEST);
        assert_eq!(status(&[("piece", "notepat")]), StatusCode::NOT_IMPLEMENTED);
        assert_eq!(
            status(&[("code", "a"), ("format", "png")]),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(&[("code", "a"), ("density", "0")]),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(status(&[("code", "a b")]), StatusCode::BAD_REQUEST);
        let missing = request(&query(&[])).unwrap_err().message;
        assert!(
            missing.starts_with("Missing 'code' or 'piece' parameter"),
            "{missing}"
        );
    }
}
