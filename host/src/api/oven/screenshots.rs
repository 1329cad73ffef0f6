//! App-store screenshots of a `$code` (shared/OVEN.md §8): one preset as a PNG, all six as a ZIP
//! streamed while it is made, and the presets' metadata.
//!
//! Each screenshot is a `kidlisp` still at the preset's size with density 4 (the piece draws a
//! quarter of the pixels, each shown 4×4, as the oven's `density: 4` capture did), kept in the
//! result cache like the icons. Differences from the oven, on purpose: an unknown preset answers
//! Kiln's error body (its message lists the valid presets), not `{error, valid}`; the metadata
//! has no `dashboardUrl`, since Kiln has no screenshot dashboard; the ZIP's six renders are
//! queued at once and written in preset order as they finish, instead of one after another.

use super::piece::Piece;
use super::{Answer, artifact, may_force, render};
use crate::api::error::ApiError;
use crate::service::Service;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// One of the oven's presets (Google Play's screenshot sizes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    pub key: &'static str,
    pub width: u32,
    pub height: u32,
    pub label: &'static str,
    /// The ZIP's folder: `phone`, `tablet7` or `tablet10`.
    pub category: &'static str,
}

/// The six presets, in the ZIP's order.
pub const PRESETS: [Preset; 6] = [
    Preset {
        key: "phone-portrait",
        width: 1080,
        height: 1920,
        label: "Phone Portrait",
        category: "phone",
    },
    Preset {
        key: "phone-landscape",
        width: 1920,
        height: 1080,
        label: "Phone Landscape",
        category: "phone",
    },
    Preset {
        key: "tablet7-portrait",
        width: 1200,
        height: 1920,
        label: "7\" Tablet Portrait",
        category: "tablet7",
    },
    Preset {
        key: "tablet7-landscape",
        width: 1920,
        height: 1200,
        label: "7\" Tablet Landscape",
        category: "tablet7",
    },
    Preset {
        key: "tablet10-portrait",
        width: 1600,
        height: 2560,
        label: "10\" Tablet Portrait",
        category: "tablet10",
    },
    Preset {
        key: "tablet10-landscape",
        width: 2560,
        height: 1600,
        label: "10\" Tablet Landscape",
        category: "tablet10",
    },
];

/// Art pixels per output pixel side: the oven captured screenshots at `density: 4`.
pub const SCREENSHOT_DENSITY: u32 = 4;

fn preset(key: &str) -> Result<Preset, ApiError> {
    PRESETS
        .iter()
        .find(|p| p.key == key)
        .copied()
        .ok_or_else(|| {
            let valid: Vec<&str> = PRESETS.iter().map(|p| p.key).collect();
            ApiError::bad_request(format!(
                "invalid preset {key:?}: use one of {}",
                valid.join(", ")
            ))
        })
}

/// The still job of one preset: every preset's sides are multiples of the density, so the PNG
/// is exactly the preset's size.
fn screenshot_spec(piece: &Piece, preset: Preset) -> crate::jobs::JobSpec {
    let d = SCREENSHOT_DENSITY;
    piece.still(preset.width / d, preset.height / d, d)
}

/// `GET /app-screenshots/{preset}/{piece}.png?force=true`
#[utoipa::path(
    get,
    path = "/app-screenshots/{preset}/{file}",
    tag = "oven",
    params(
        ("preset" = String, Path, description = "phone-portrait, phone-landscape, tablet7-portrait, tablet7-landscape, tablet10-portrait or tablet10-landscape"),
        ("file" = String, Path, description = "$code.png or page.png"),
        ("force" = Option<bool>, Query, description = "Render again (a submit token when service.submit_tokens are set)"),
    ),
    responses(
        (status = 200, description = "Made now (X-Cache MISS or REGENERATED), or from the cache without a public URL (HIT); X-Screenshot-Preset, X-Screenshot-Dimensions"),
        (status = 302, description = "From the cache, to its public URL"),
        (status = 400, description = "An unknown preset (the message lists the valid ones), or not a piece"),
        (status = 500, description = "The render failed; the message says why"),
        (status = 503, description = "Still rendering after service.max_wait_s"),
    ),
)]
pub async fn screenshot(
    State(service): State<Arc<Service>>,
    Path((preset_key, file)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let preset = preset(&preset_key)?;
    let piece = file.strip_suffix(".png").ok_or_else(|| {
        ApiError::bad_request(format!("{file:?}: screenshots are .png, e.g. $roz.png"))
    })?;
    let piece = Piece::parse(piece)?;
    let force = may_force(&service, query.get("force").map(String::as_str), &headers)?;
    let Some((record, cached)) = render(&service, screenshot_spec(&piece, preset), force).await?
    else {
        return Err(ApiError::unavailable(
            "the screenshot is still rendering; try again shortly",
        ));
    };
    let made = artifact(&record, "image.png", "the screenshot")?;
    Answer {
        redirect: StatusCode::FOUND,
        always_bytes: !cached,
        cache_control: Some(match (cached, force) {
            (true, _) => "public, max-age=604800",
            (false, true) => "no-store, no-cache, must-revalidate",
            (false, false) => "public, max-age=86400",
        }),
        x_cache: match (cached, force) {
            (true, _) => "HIT",
            (false, true) => "REGENERATED",
            (false, false) => "MISS",
        },
        headers: vec![
            ("x-screenshot-preset", preset.key.to_string()),
            (
                "x-screenshot-dimensions",
                format!("{}x{}", preset.width, preset.height),
            ),
        ],
    }
    .send(&service, made)
    .await
}

/// The ZIP's bytes so far; the writer appends, the streaming task takes them after each entry.
#[derive(Clone, Default)]
struct Pending(Arc<Mutex<Vec<u8>>>);

impl Pending {
    fn take(&self) -> Bytes {
        Bytes::from(std::mem::take(
            &mut *self.0.lock().expect("zip buffer lock"),
        ))
    }
}

impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("zip buffer lock")
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One preset's PNG, or why it is missing.
async fn screenshot_bytes(
    service: &Service,
    piece: &Piece,
    preset: Preset,
) -> Result<Bytes, String> {
    let rendered = render(service, screenshot_spec(piece, preset), false)
        .await
        .map_err(|e| e.message)?;
    let Some((record, _)) = rendered else {
        return Err(format!(
            "still rendering after service.max_wait_s ({} s)",
            service.settings.max_wait_s
        ));
    };
    let made = artifact(&record, "image.png", "the screenshot").map_err(|e| e.message)?;
    service
        .kiln
        .store
        .get(&made.key)
        .await
        .map_err(|e| e.to_string())
}

/// `GET /app-screenshots/download/{piece}`
#[utoipa::path(
    get,
    path = "/app-screenshots/download/{piece}",
    tag = "oven",
    params(("piece" = String, Path, description = "A $code or a page of the site")),
    responses(
        (status = 200, description = "application/zip, streamed: {category}/{piece}-{preset}.png for each preset that rendered, and missing.txt naming those that did not", content_type = "application/zip"),
        (status = 400, description = "Not a piece"),
    ),
)]
pub async fn download(
    State(service): State<Arc<Service>>,
    Path(piece): Path<String>,
) -> Result<Response, ApiError> {
    let parsed = Piece::parse(&piece)?;
    let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(2);
    let name = piece.clone();
    tokio::spawn(async move {
        // All six are queued now (the workers take them as they can); the entries are written
        // in preset order as each finishes.
        let mut renders = PRESETS
            .iter()
            .map(|&preset| {
                let service = service.clone();
                let piece = parsed.clone();
                async move { (preset, screenshot_bytes(&service, &piece, preset).await) }
            })
            .collect::<futures::stream::FuturesOrdered<_>>();
        let pending = Pending::default();
        let mut zip = zip::ZipWriter::new_stream(pending.clone());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(9));
        let mut missing = Vec::new();
        while let Some((preset, made)) = renders.next().await {
            let png = match made {
                Ok(png) => png,
                Err(why) => {
                    tracing::warn!(piece = %name, preset = preset.key, "app screenshot skipped: {why}");
                    missing.push(format!("{}: {why}", preset.key));
                    continue;
                }
            };
            let entry = format!("{}/{}-{}.png", preset.category, name, preset.key);
            let written = zip
                .start_file(entry, options)
                .map_err(std::io::Error::other)
                .and_then(|()| zip.write_all(&png));
            if let Err(err) = written {
                let _ = sender.send(Err(err)).await;
                return;
            }
            if sender.send(Ok(pending.take())).await.is_err() {
                return; // The client went away.
            }
        }
        let ended = (|| -> std::io::Result<()> {
            if !missing.is_empty() {
                zip.start_file("missing.txt", options)
                    .map_err(std::io::Error::other)?;
                zip.write_all((missing.join("\n") + "\n").as_bytes())?;
            }
            zip.finish().map_err(std::io::Error::other)?;
            Ok(())
        })();
        let last = ended.map(|()| pending.take());
        let _ = sender.send(last).await;
    });
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    let disposition = format!("attachment; filename=\"{piece}-app-screenshots.zip\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// One preset in the metadata.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PresetInfo {
    pub width: u32,
    pub height: u32,
    pub label: &'static str,
    pub category: &'static str,
    /// `/app-screenshots/{preset}/{piece}.png`.
    pub url: String,
    /// The same with `?download=true` (the oven's; the flag changes nothing).
    pub download_url: String,
}

/// `GET /api/app-screenshots/{piece}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScreenshotsInfo {
    pub piece: String,
    #[schema(value_type = Object)]
    pub presets: serde_json::Map<String, serde_json::Value>,
    /// `/app-screenshots/download/{piece}`.
    pub zip_url: String,
}

/// `GET /api/app-screenshots/{piece}`
#[utoipa::path(
    get,
    path = "/api/app-screenshots/{piece}",
    tag = "oven",
    params(("piece" = String, Path, description = "A $code or a page of the site")),
    responses(
        (status = 200, description = "The presets, their sizes and URLs", body = ScreenshotsInfo),
        (status = 400, description = "Not a piece"),
    ),
)]
pub async fn info(Path(piece): Path<String>) -> Result<Response, ApiError> {
    Piece::parse(&piece)?;
    let presets = PRESETS
        .iter()
        .map(|p| {
            let url = format!("/app-screenshots/{}/{piece}.png", p.key);
            let info = PresetInfo {
                width: p.width,
                height: p.height,
                label: p.label,
                category: p.category,
                download_url: format!("{url}?download=true"),
                url,
            };
            let value = serde_json::to_value(info).unwrap_or_default();
            (p.key.to_string(), value)
        })
        .collect();
    let info = ScreenshotsInfo {
        zip_url: format!("/app-screenshots/download/{piece}"),
        piece,
        presets,
    };
    Ok(axum::Json(info).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_a_whole_number_of_art_pixels() {
        for p in PRESETS {
            assert_eq!(p.width % SCREENSHOT_DENSITY, 0, "{}", p.key);
            assert_eq!(p.height % SCREENSHOT_DENSITY, 0, "{}", p.key);
        }
    }

    #[test]
    fn an_unknown_preset_lists_the_valid_ones() {
        let err = preset("watch").unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(
            err.message.contains("phone-portrait") && err.message.contains("tablet10-landscape"),
            "{}",
            err.message
        );
    }
}
