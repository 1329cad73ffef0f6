//! `GET /render/{type}.{ext}?…`: a render in one request that answers with the image itself,
//! served from the result cache when it can be: the shape of the old `/grab` and `/icon` routes.
//!
//! Query parameters are the job's input, each converted to the type the plugin's input schema
//! gives the property (`width=800` becomes a number); `force`, `wait` and `lane` are the
//! route's own.

use super::auth::require_submit;
use super::error::{ApiError, ErrorAnswer};
use super::jobs::{
    body_bytes, mark_cached, require_json, submit_error, submit_following, wait_for_end,
};
use crate::error::ErrorKind;
use crate::jobs::JobSpec;
use crate::queue::{JobRecord, JobState, Submitted};
use crate::service::{Service, SubmitOptions};
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;

/// The header that lets `GET /render` start a render (as `Authorization` does): a web page on
/// another site cannot send it without the browser asking first, and this server says no.
const RENDER_HEADER: &str = "kiln-render";

/// `GET /render/{type}.{ext}`: answers from the result cache; renders only for a request that
/// carries `Kiln-Render` or `Authorization`, so an `<img>` or a link on another site cannot make
/// this host render.
#[utoipa::path(
    get,
    path = "/render/{target}",
    tag = "render",
    params(
        ("target" = String, Path, description = "`<type>.<ext>`, e.g. `p5.png`: the artifact whose name ends in `.<ext>` is returned"),
        ("force" = Option<bool>, Query, description = "Render even on a cache hit"),
        ("wait" = Option<u64>, Query, description = "Seconds to wait (at most service.max_wait_s)"),
        ("Kiln-Render" = Option<String>, Header, description = "Any value: lets the request start a render (a web page elsewhere cannot send it)"),
    ),
    responses(
        (status = 200, description = "The artifact's bytes; headers Kiln-Job and, from the cache, Kiln-Cache: hit"),
        (status = 400, description = "A query value does not match the schema's type", body = ErrorAnswer),
        (status = 401, description = "No submit token", body = ErrorAnswer),
        (status = 404, description = "The job made no artifact with that extension", body = ErrorAnswer),
        (status = 422, description = "Unknown type, or input against the schema or this host's job limits", body = ErrorAnswer),
        (status = 428, description = "Not in the cache, and the request carries neither Kiln-Render nor Authorization", body = ErrorAnswer),
        (status = 504, description = "Not finished within wait", body = ErrorAnswer),
    ),
)]
pub async fn render(
    State(service): State<Arc<Service>>,
    Path(target): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_submit(&service, &headers)?;
    let may_render =
        headers.contains_key(header::AUTHORIZATION) || headers.contains_key(RENDER_HEADER);
    render_with(&service, &target, raw, None, may_render).await
}

/// `POST /render/{type}.{ext}`: the same, with the input as a JSON object in the body (query
/// parameters add to it; the body wins).
#[utoipa::path(
    post,
    path = "/render/{target}",
    tag = "render",
    params(
        ("target" = String, Path, description = "`<type>.<ext>`, e.g. `p5.png`"),
        ("force" = Option<bool>, Query, description = "Render even on a cache hit"),
        ("wait" = Option<u64>, Query, description = "Seconds to wait (at most service.max_wait_s)"),
    ),
    request_body(content = Object, content_type = "application/json", description = "The job's input (query parameters add to it; the body wins)"),
    responses(
        (status = 200, description = "The artifact's bytes"),
        (status = 400, description = "The body is not a JSON object", body = ErrorAnswer),
        (status = 415, description = "Content-Type is not application/json", body = ErrorAnswer),
        (status = 422, description = "Unknown type, or input against the schema or this host's job limits", body = ErrorAnswer),
        (status = 504, description = "Not finished within wait", body = ErrorAnswer),
    ),
)]
pub async fn render_post(
    State(service): State<Arc<Service>>,
    Path(target): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_submit(&service, &headers)?;
    require_json(&headers, "POST /render")?;
    let body = body_bytes(body)?;
    let input: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "the body is not a JSON object (the job's input): {e}"
            ))
        })?;
    render_with(&service, &target, raw, Some(input), true).await
}

async fn render_with(
    service: &Arc<Service>,
    target: &str,
    raw: Option<String>,
    body: Option<serde_json::Map<String, serde_json::Value>>,
    may_render: bool,
) -> Result<Response, ApiError> {
    let (job_type, ext) = target.rsplit_once('.').ok_or_else(|| {
        ApiError::bad_request(format!(
            "/render/{target}: name the job type and the file extension, e.g. /render/p5.png"
        ))
    })?;
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let plugin = service.kiln.plugins.resolve(job_type)?;
    let mut input = serde_json::Map::new();
    let mut force = false;
    let mut wait = service.settings.max_wait_s;
    for (name, value) in pairs {
        match name.as_str() {
            "force" => force = matches!(value.as_str(), "" | "1" | "true"),
            "wait" => {
                wait = value.parse().map_err(|_| {
                    ApiError::bad_request(format!("wait={value:?} is not a number of seconds"))
                })?
            }
            // Every render here has someone waiting: it always takes the interactive lane.
            "lane" => {}
            _ => {
                let typed = typed_value(&plugin.info.input_schema, &name, &value)?;
                input.insert(name, typed);
            }
        }
    }
    input.extend(body.unwrap_or_default());
    let spec = JobSpec {
        id: None,
        job_type: job_type.to_string(),
        input: serde_json::Value::Object(input),
        callback: None,
    };
    if !may_render {
        let cached = match force {
            true => None,
            false => service.cached_result(&spec).await.map_err(submit_error)?,
        };
        return match cached {
            Some(record) => respond(service, &record, ext, true).await,
            None => Err(ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                ErrorKind::Denied,
                format!(
                    "GET /render answers from the result cache, and renders only for a request with a Kiln-Render header (any value) or Authorization, which a web page elsewhere cannot send: add `Kiln-Render: 1`, or POST the input as JSON to /render/{target}"
                ),
            )),
        };
    }
    let options = SubmitOptions {
        force,
        ..SubmitOptions::default()
    };
    let followed = submit_following(service, spec, options, true).await?;
    let (record, cached) = match (followed.submitted, followed.events) {
        (Submitted::Cached(record), _) => (record, true),
        (Submitted::New(record) | Submitted::Existing(record), Some(events)) => {
            let id = record.id;
            let wait = Duration::from_secs(wait.min(service.settings.max_wait_s));
            let record = wait_for_end(service, &id, events, wait)
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::GATEWAY_TIMEOUT,
                        ErrorKind::Timeout,
                        format!(
                            "job {id} did not finish within {}s; GET /jobs/{id} follows it",
                            wait.as_secs()
                        ),
                    )
                })?;
            (record, false)
        }
        (Submitted::New(record) | Submitted::Existing(record), None) => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorKind::Internal,
                format!(
                    "job {} was queued but its events could not be followed",
                    record.id
                ),
            ));
        }
    };
    respond(service, &record, ext, cached).await
}

/// The artifact of `record` whose name ends in `.ext`, as the response.
async fn respond(
    service: &Service,
    record: &JobRecord,
    ext: &str,
    cached: bool,
) -> Result<Response, ApiError> {
    if record.status != JobState::Succeeded {
        return Err(match &record.error {
            Some(err) => err.clone().into(),
            None => ApiError::unavailable(format!("job {} was {:?}", record.id, record.status)),
        });
    }
    let suffix = format!(".{ext}");
    let artifact = record
        .artifacts
        .iter()
        .find(|a| a.name.ends_with(&suffix))
        .ok_or_else(|| {
            let names: Vec<&str> = record.artifacts.iter().map(|a| a.name.as_str()).collect();
            ApiError::not_found(format!(
                "job {} made no .{ext} artifact (it made {names:?}); ask for one of those extensions",
                record.id
            ))
        })?;
    let bytes = service.kiln.store.get(&artifact.key).await?;
    let mut response = (
        [(header::CONTENT_TYPE, artifact.content_type.clone())],
        Body::from(bytes),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&record.id) {
        response.headers_mut().insert("kiln-job", value);
    }
    if cached {
        mark_cached(&mut response);
    }
    Ok(response)
}

/// `value` as the type the schema gives property `name`; a string when it names no type.
fn typed_value(
    schema: &serde_json::Value,
    name: &str,
    value: &str,
) -> Result<serde_json::Value, ApiError> {
    let declared = schema
        .pointer(&format!("/properties/{name}/type"))
        .and_then(|t| match t {
            serde_json::Value::String(t) => Some(t.as_str()),
            // `["integer", "null"]` and the like: the first non-null type.
            serde_json::Value::Array(types) => types
                .iter()
                .filter_map(|t| t.as_str())
                .find(|t| *t != "null"),
            _ => None,
        });
    let bad = |what: &str| {
        ApiError::bad_request(format!("query parameter {name}={value:?} is not {what}"))
    };
    Ok(match declared {
        Some("integer") => value
            .parse::<i64>()
            .map(Into::into)
            .map_err(|_| bad("an integer"))?,
        Some("number") => value
            .parse::<f64>()
            .ok()
            .and_then(|n| serde_json::Number::from_f64(n).map(serde_json::Value::Number))
            .ok_or_else(|| bad("a number"))?,
        Some("boolean") => match value {
            "true" | "1" => true.into(),
            "false" | "0" => false.into(),
            _ => return Err(bad("true or false")),
        },
        Some("object" | "array") => serde_json::from_str(value).map_err(|_| bad("JSON"))?,
        _ => value.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_values_take_the_schema_types() {
        let schema = json!({"properties": {
            "width": {"type": "integer"}, "scale": {"type": "number"},
            "seed": {"type": ["integer", "null"]}, "code": {"type": "string"}
        }});
        assert_eq!(typed_value(&schema, "width", "800").unwrap(), json!(800));
        assert_eq!(typed_value(&schema, "scale", "1.5").unwrap(), json!(1.5));
        assert_eq!(typed_value(&schema, "seed", "7").unwrap(), json!(7));
        assert_eq!(typed_value(&schema, "code", "1").unwrap(), json!("1"));
        let err = typed_value(&schema, "width", "wide").unwrap_err();
        assert!(
            err.message.contains("width=\"wide\" is not an integer"),
            "{}",
            err.message
        );
    }
}
