//! `GET /grab/{format}/{width}/{height}/{piece}` and `POST /grab` (shared/OVEN.md §2.2–2.3,
//! §2.8): a piece as a still or a recording, through the result cache: a `$code` by the
//! `kidlisp` job type, a page of the site by the `url` job type.
//!
//! Limits (docs/api.md): sides 16–1000 art pixels (the oven's 100 minimum would refuse the
//! 80×60 gallery thumbnails, §16.9), duration up to 60 s, capture fps up to 60 (a number, not
//! truncated), density a whole number 1–8, quality 1–100; the host's frame and pixel caps apply
//! on top. The piece runs at 60 fps on Kiln's virtual clock; a recording keeps one frame every
//! `round(60 / fps)` and plays them at 15 fps, as the oven's did.

use super::piece::Piece;
use super::{Answer, Started, artifact, finish, may_force, start};
use crate::api::error::ApiError;
use crate::queue::JobRecord;
use crate::service::Service;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// The smallest side of a grab, in art pixels.
pub const GRAB_MIN_SIDE: u32 = 16;
/// The largest side of a grab, in art pixels (the oven's).
pub const GRAB_MAX_SIDE: u32 = 1000;
/// The longest capture, in ms.
pub const GRAB_MAX_DURATION_MS: f64 = 60_000.0;
/// The highest capture rate.
pub const GRAB_MAX_FPS: f64 = 60.0;
/// The highest density.
pub const GRAB_MAX_DENSITY: u32 = 8;
/// The rate a grab's recording plays back at (the oven's `playbackFps`).
pub const GRAB_PLAYBACK_FPS: f64 = 15.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Png,
    Webp,
    Gif,
    Mp4,
}

impl Format {
    fn parse(text: &str) -> Result<Self, ApiError> {
        Ok(match text {
            "png" => Self::Png,
            "webp" => Self::Webp,
            "gif" => Self::Gif,
            "mp4" => Self::Mp4,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "invalid format {text:?}: use \"webp\", \"gif\", \"png\" or \"mp4\""
                )));
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Gif => "gif",
            Self::Mp4 => "mp4",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
            Self::Mp4 => "video/mp4",
        }
    }
}

/// A grab request, read and checked.
#[derive(Debug)]
struct Grab {
    piece: Piece,
    format: Format,
    width: u32,
    height: u32,
    duration_ms: f64,
    fps: f64,
    density: u32,
    quality: u8,
    force: bool,
    nowait: bool,
}

/// A parameter as text, from the query or a JSON body.
fn text(fields: &HashMap<String, serde_json::Value>, name: &str) -> Option<String> {
    match fields.get(name)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn number(
    fields: &HashMap<String, serde_json::Value>,
    name: &str,
    default: f64,
    range: std::ops::RangeInclusive<f64>,
) -> Result<f64, ApiError> {
    let Some(given) = text(fields, name) else {
        return Ok(default);
    };
    given
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && range.contains(n))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{name}={given:?} is not a number in {}..={}",
                range.start(),
                range.end()
            ))
        })
}

fn flag(fields: &HashMap<String, serde_json::Value>, name: &str) -> bool {
    matches!(text(fields, name).as_deref(), Some("" | "1" | "true"))
}

impl Grab {
    fn read(fields: &HashMap<String, serde_json::Value>) -> Result<Self, ApiError> {
        let piece = text(fields, "piece").ok_or_else(|| {
            ApiError::bad_request("piece is missing: name a $code (e.g. $roz) or a page")
        })?;
        let piece = Piece::parse(&piece)?;
        let format = Format::parse(text(fields, "format").as_deref().unwrap_or("webp"))?;
        let side = |name| -> Result<u32, ApiError> {
            let value = number(fields, name, 512.0, 0.0..=f64::MAX)?;
            let side = value as u32;
            if value.fract() != 0.0 || !(GRAB_MIN_SIDE..=GRAB_MAX_SIDE).contains(&side) {
                return Err(ApiError::bad_request(format!(
                    "{name}={value}: dimensions must be whole numbers between {GRAB_MIN_SIDE} and {GRAB_MAX_SIDE}"
                )));
            }
            Ok(side)
        };
        let (width, height) = (side("width")?, side("height")?);
        let density = number(fields, "density", 1.0, 1.0..=f64::from(GRAB_MAX_DENSITY))?;
        if density.fract() != 0.0 {
            return Err(ApiError::bad_request(format!(
                "density={density}: a KidLisp piece's density is a whole number (1–{GRAB_MAX_DENSITY})"
            )));
        }
        Ok(Self {
            piece,
            format,
            width,
            height,
            duration_ms: number(fields, "duration", 12_000.0, 1.0..=GRAB_MAX_DURATION_MS)?,
            fps: number(fields, "fps", 7.5, 0.01..=GRAB_MAX_FPS)?,
            density: density as u32,
            quality: number(fields, "quality", 80.0, 1.0..=100.0)? as u8,
            force: flag(fields, "skipCache") || flag(fields, "force"),
            nowait: flag(fields, "nowait"),
        })
    }

    /// Frames recorded: `ceil(duration / 1000 × fps)`, as the oven counted them.
    fn frames(&self) -> u32 {
        (self.duration_ms / 1000.0 * self.fps).ceil().max(1.0) as u32
    }

    fn spec(&self) -> crate::jobs::JobSpec {
        match self.format {
            Format::Png => self.piece.still(self.width, self.height, self.density),
            format => self.piece.recording(
                (self.width, self.height, self.density),
                self.frames(),
                self.fps,
                GRAB_PLAYBACK_FPS,
                format.name(),
                (format != Format::Gif).then_some(self.quality),
            ),
        }
    }

    /// The artifact the job makes for this format.
    fn artifact_name(&self) -> String {
        match self.format {
            Format::Png => "image.png".into(),
            format => format!("video.{}", format.name()),
        }
    }
}

/// `GET /grab/{format}/{width}/{height}/{piece}?duration=&fps=&density=&quality=&skipCache=&nowait=&source=&keepId=`
#[utoipa::path(
    get,
    path = "/grab/{format}/{width}/{height}/{piece}",
    tag = "oven",
    params(
        ("format" = String, Path, description = "png, webp, gif or mp4"),
        ("width" = u32, Path, description = "Art pixels, 16–1000"),
        ("height" = u32, Path, description = "Art pixels, 16–1000"),
        ("piece" = String, Path, description = "A $code (e.g. $roz) or a page of the site (e.g. prompt)"),
        ("duration" = Option<f64>, Query, description = "Capture length in ms (default 12000, at most 60000)"),
        ("fps" = Option<f64>, Query, description = "Capture rate (default 7.5, at most 60)"),
        ("density" = Option<u32>, Query, description = "Nearest-neighbour scale, 1–8 (default 1)"),
        ("quality" = Option<u8>, Query, description = "1–100 (default 80)"),
        ("skipCache" = Option<bool>, Query, description = "Render again (a submit token when service.submit_tokens are set)"),
        ("nowait" = Option<bool>, Query, description = "While the same grab renders, answer with a placeholder image at once"),
    ),
    responses(
        (status = 200, description = "The image or video; X-Grab-Id, X-Cache"),
        (status = 301, description = "From the cache, to its public URL"),
        (status = 400, description = "A bad parameter, named"),
        (status = 500, description = "The grab failed; the message says why"),
    ),
)]
pub async fn grab_get(
    State(service): State<Arc<Service>>,
    Path((format, width, height, piece)): Path<(String, String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mut fields: HashMap<String, serde_json::Value> = query
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    for (name, value) in [
        ("format", format),
        ("width", width),
        ("height", height),
        ("piece", piece),
    ] {
        fields.insert(name.into(), value.into());
    }
    grab(&service, &fields, &headers, true).await
}

/// `POST /grab` with `{piece, format?, width?, height?, duration?, fps?, density?, quality?, skipCache?, source?, keepId?}`.
#[utoipa::path(
    post,
    path = "/grab",
    tag = "oven",
    request_body(content = Object, content_type = "application/json", description = "{piece, format?, width?, height?, duration?, fps?, density?, quality?, skipCache?, source?, keepId?}"),
    responses(
        (status = 200, description = "The image or video; X-Grab-Id, X-Grab-Duration, X-Cache"),
        (status = 301, description = "From the cache, to its public URL"),
        (status = 400, description = "A bad parameter or body, named"),
        (status = 500, description = "The grab failed; the message says why"),
    ),
)]
pub async fn grab_post(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields: HashMap<String, serde_json::Value> = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not a JSON object: {e}")))?;
    grab(&service, &fields, &headers, false).await
}

async fn grab(
    service: &Service,
    fields: &HashMap<String, serde_json::Value>,
    headers: &HeaderMap,
    is_get: bool,
) -> Result<Response, ApiError> {
    let mut grab = Grab::read(fields)?;
    grab.force = may_force(service, grab.force.then_some("true"), headers)?;
    tracing::info!(
        piece = %grab.piece.name(),
        source = text(fields, "source").as_deref().unwrap_or("manual"),
        keep_id = text(fields, "keepId").as_deref().unwrap_or(""),
        "grab"
    );
    let (record, cached) = match start(service, grab.spec(), grab.force).await? {
        Started::Cached(record) => (record, true),
        Started::Running {
            record,
            joined: true,
            ..
        } if grab.nowait => return placeholder(&grab, &record),
        Started::Running { record, events, .. } => match finish(service, &record, events).await? {
            Some(record) => (record, false),
            None => {
                return Err(ApiError::unavailable(format!(
                    "grab {} is still rendering after {}s; GET /jobs/{} follows it",
                    record.id, service.settings.max_wait_s, record.id
                )));
            }
        },
    };
    if !cached && grab.format != Format::Png {
        super::frozen::note(service, &record, &grab.piece).await;
    }
    let made = artifact(
        &record,
        &grab.artifact_name(),
        &format!("the grab of {}", grab.piece.name()),
    )?;
    // A page on another origin (an `Origin` header) cannot read the CDN's bytes (no CORS
    // there), so it gets them from here; so does a fresh grab.
    let mut extra = vec![("x-grab-id", record.id.clone())];
    let always_bytes = !cached || headers.contains_key(header::ORIGIN);
    if cached && always_bytes && service.kiln.store.has_public_base_url() {
        extra.push(("x-proxy", "CDN".into()));
    }
    if let Some(ms) = record.timings.total_ms
        && !cached
    {
        extra.push(("x-grab-duration", format!("{}", ms.round() as u64)));
    }
    Answer {
        redirect: StatusCode::MOVED_PERMANENTLY,
        always_bytes,
        cache_control: is_get.then_some("public, max-age=3600"),
        x_cache: if cached { "HIT" } else { "MISS" },
        headers: extra,
    }
    .send(service, made)
    .await
}

/// The "baking" answer while the same grab renders: an image of the requested format and size
/// (a dark gradient, the oven's colours), never cached.
fn placeholder(grab: &Grab, record: &JobRecord) -> Result<Response, ApiError> {
    let (width, height) = (grab.width * grab.density, grab.height * grab.density);
    let image = image::RgbaImage::from_fn(width, height, |x, y| {
        let t = (f64::from(x) / f64::from(width) + f64::from(y) / f64::from(height)) / 2.0;
        let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
        image::Rgba([mix(30.0, 50.0), mix(30.0, 50.0), mix(40.0, 70.0), 255])
    });
    let mut bytes = Vec::new();
    let encoded = match grab.format {
        Format::Png => image.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        ),
        Format::Webp => image.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::WebP,
        ),
        Format::Gif => image.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Gif,
        ),
        Format::Mp4 => {
            // No placeholder video: say where the grab stands instead.
            let mut response = (
                StatusCode::ACCEPTED,
                axum::Json(serde_json::json!({"status": "baking", "grabId": record.id})),
            )
                .into_response();
            baking_headers(&mut response, record);
            return Ok(response);
        }
    };
    encoded.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::error::ErrorKind::Internal,
            format!("the placeholder image could not be encoded: {e}"),
        )
    })?;
    let mut response = (
        [(header::CONTENT_TYPE, grab.format.content_type())],
        Body::from(bytes),
    )
        .into_response();
    baking_headers(&mut response, record);
    Ok(response)
}

fn baking_headers(response: &mut Response, record: &JobRecord) {
    let out = response.headers_mut();
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    out.insert("x-oven-status", HeaderValue::from_static("baking"));
    if let Ok(id) = HeaderValue::from_str(&record.id) {
        out.insert("x-grab-id", id);
    }
}
