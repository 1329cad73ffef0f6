//! `GET /icon/{W}x{H}/{piece}.png|.webp` and `GET /preview/{W}x{H}/{piece}.png` (shared/OVEN.md
//! §4): small cached renders of a piece (a `$code` or a page of the site), kept in the result cache for its TTL
//! (`queue.cache_ttl_s`, 24 h by default) under the plugin's version and the input, never the
//! deploy (§16.10).
//!
//! Sizes are clamped as the oven clamped them: PNG icons to 512², WebP icons to 128², previews
//! to 1920×1080; a size that does not parse falls back to 128² (icons) or 1200×1200 (previews).
//! An animated icon records `frames` frames (default 30, at most 60) captured at `fps` (default
//! 15, at most 30) from the piece at 60 fps, and plays them at `fps`.

use super::piece::Piece;
use super::{Answer, artifact, render};
use crate::api::error::ApiError;
use crate::service::Service;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;
use std::sync::Arc;

/// The largest PNG icon side.
pub const ICON_PNG_MAX: u32 = 512;
/// The largest animated (WebP) icon side.
pub const ICON_WEBP_MAX: u32 = 128;
/// The largest preview.
pub const PREVIEW_MAX: (u32, u32) = (1920, 1080);

/// `WxH`, each side clamped to 1..=`max`, `fallback` for a side that does not parse.
fn size(text: &str, fallback: u32, max: (u32, u32)) -> (u32, u32) {
    let mut parts = text.split('x');
    let mut side = |max: u32| {
        parts
            .next()
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(fallback)
            .min(max)
    };
    let width = side(max.0);
    (width, side(max.1))
}

/// Splits `$roz.png` into the piece and the extension.
fn file(name: &str) -> Result<(Piece, &str), ApiError> {
    let (piece, ext) = name.rsplit_once('.').ok_or_else(|| {
        ApiError::bad_request(format!(
            "{name:?}: name the piece and the format, e.g. $roz.png"
        ))
    })?;
    Ok((Piece::parse(piece)?, ext))
}

/// Renders (or finds) `spec` and answers with its `artifact_name`; a fresh recording of `note`
/// that came out frozen or a dud is noted.
async fn answer(
    service: &Service,
    spec: crate::jobs::JobSpec,
    note: Option<&Piece>,
    artifact_name: &str,
    what: &str,
    hit_max_age: &'static str,
    miss_max_age: &'static str,
) -> Result<Response, ApiError> {
    let Some((record, cached)) = render(service, spec, false).await? else {
        return Err(ApiError::unavailable(format!(
            "{what} is still rendering; try again shortly"
        )));
    };
    if let Some(piece) = note
        && !cached
    {
        super::frozen::note(service, &record, piece).await;
    }
    let made = artifact(&record, artifact_name, what)?;
    Answer {
        redirect: StatusCode::FOUND,
        always_bytes: !cached,
        cache_control: Some(if cached { hit_max_age } else { miss_max_age }),
        x_cache: if cached { "HIT" } else { "MISS" },
        headers: vec![],
    }
    .send(service, made)
    .await
}

/// `GET /icon/{W}x{H}/{piece}.png|.webp?fps=&frames=`
#[utoipa::path(
    get,
    path = "/icon/{size}/{file}",
    tag = "oven",
    params(
        ("size" = String, Path, description = "WxH: at most 512² for .png, 128² for .webp"),
        ("file" = String, Path, description = "$code.png or $code.webp, or a page: prompt.png"),
        ("fps" = Option<f64>, Query, description = ".webp: capture and playback rate (default 15, at most 30)"),
        ("frames" = Option<u32>, Query, description = ".webp: frames (default 30, at most 60)"),
    ),
    responses(
        (status = 200, description = "Made now (or from the cache without a public URL); X-Cache"),
        (status = 302, description = "From the cache, to its public URL"),
        (status = 400, description = "Not .png or .webp, or not a piece"),
        (status = 500, description = "The render failed; the message says why"),
    ),
)]
pub async fn icon(
    State(service): State<Arc<Service>>,
    Path((size_text, name)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let (piece, ext) = file(&name)?;
    match ext {
        "png" => {
            let (w, h) = size(&size_text, 128, (ICON_PNG_MAX, ICON_PNG_MAX));
            answer(
                &service,
                piece.still(w, h, 1),
                None,
                "image.png",
                "the icon",
                "public, max-age=86400",
                "public, max-age=3600",
            )
            .await
        }
        "webp" => {
            let (w, h) = size(&size_text, 128, (ICON_WEBP_MAX, ICON_WEBP_MAX));
            let fps = query
                .get("fps")
                .and_then(|f| f.parse::<f64>().ok())
                .filter(|f| f.is_finite() && *f > 0.0)
                .unwrap_or(15.0)
                .min(30.0);
            let frames = query
                .get("frames")
                .and_then(|f| f.parse::<u32>().ok())
                .filter(|&f| f > 0)
                .unwrap_or(30)
                .min(60);
            answer(
                &service,
                piece.recording((w, h, 1), frames, fps, fps, "webp", None),
                Some(&piece),
                "video.webp",
                "the animated icon",
                "public, max-age=604800",
                "public, max-age=86400",
            )
            .await
        }
        other => Err(ApiError::bad_request(format!(
            "icons are .png or .webp, not .{other}"
        ))),
    }
}

/// `GET /preview/{W}x{H}/{piece}.png`
#[utoipa::path(
    get,
    path = "/preview/{size}/{file}",
    tag = "oven",
    params(
        ("size" = String, Path, description = "WxH, at most 1920×1080"),
        ("file" = String, Path, description = "$code.png or page.png"),
    ),
    responses(
        (status = 200, description = "Made now (or from the cache without a public URL); X-Cache"),
        (status = 302, description = "From the cache, to its public URL"),
        (status = 400, description = "Not .png, or not a piece"),
        (status = 500, description = "The render failed; the message says why"),
    ),
)]
pub async fn preview(
    State(service): State<Arc<Service>>,
    Path((size_text, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (piece, ext) = file(&name)?;
    if ext != "png" {
        return Err(ApiError::bad_request(format!(
            "previews are .png, not .{ext}"
        )));
    }
    let (w, h) = size(&size_text, 1200, PREVIEW_MAX);
    answer(
        &service,
        piece.still(w, h, 1),
        None,
        "image.png",
        "the preview",
        "public, max-age=86400",
        "public, max-age=3600",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_fall_back_and_clamp_as_the_oven_did() {
        assert_eq!(size("64x32", 128, (512, 512)), (64, 32));
        assert_eq!(size("9000x9000", 128, (512, 512)), (512, 512));
        assert_eq!(size("junk", 128, (128, 128)), (128, 128));
        assert_eq!(size("2000x", 1200, (1920, 1080)), (1920, 1080));
        assert_eq!(size("0x10", 128, (512, 512)), (128, 10));
    }
}
