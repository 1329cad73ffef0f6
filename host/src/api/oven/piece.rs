//! A piece as the oven's grab, icon and preview routes name it (shared/OVEN.md §2.1), and the
//! `kidlisp` job that renders a `$code`.

use crate::api::error::ApiError;
use axum::http::StatusCode;

/// Whether `code` (without its `$`) is one a store key can carry: 1–64 ASCII letters, digits,
/// `_` or `-`.
pub(super) fn is_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The piece's code when it is a KidLisp `$code`; any other name is refused, naming why.
pub(super) fn kidlisp_code(piece: &str) -> Result<String, ApiError> {
    let piece = piece.trim();
    let lower = piece.to_ascii_lowercase();
    const DOMAINS: [&str; 8] = [".com", ".net", ".org", ".io", ".dev", ".app", ".xyz", ".co"];
    if piece.is_empty()
        || lower.starts_with("http://")
        || lower.starts_with("https://")
        || DOMAINS.iter().any(|d| lower.ends_with(d))
    {
        return Err(ApiError::bad_request(format!(
            "piece {piece:?}: name a piece of this site (a $code such as $roz, or a piece name), \
             not a URL or a domain"
        )));
    }
    match piece.strip_prefix('$') {
        Some(code) if is_code(code) => Ok(code.to_string()),
        Some(_) => Err(ApiError::bad_request(format!(
            "piece {piece:?}: a $code is 1–64 letters, digits, _ or -"
        ))),
        None => Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            crate::error::ErrorKind::InvalidInput,
            format!(
                "piece {piece:?} is a page of the site, not a $code: pages are captured by the \
                 `url` job type, which this host does not have yet; $code pieces render here"
            ),
        )),
    }
}

/// The frames a 60 fps piece runs per frame recorded at `capture_fps` (at least 1, at most 60).
pub(super) fn every(capture_fps: f64) -> u32 {
    (60.0 / capture_fps).round().clamp(1.0, 60.0) as u32
}

/// A `$code` still: the frame after the oven's 500 ms settle at 60 fps (frame 30). Like every
/// oven capture, a blank frame (all black or transparent, shared/OVEN.md §3.3) is not a result:
/// the job fails, and a recording leaves blank frames out.
pub(super) fn still_input(code: &str, width: u32, height: u32, density: u32) -> serde_json::Value {
    serde_json::json!({
        "code": code, "width": width, "height": height, "density": density,
        "frame": 30, "formats": ["png"], "dropBlankFrames": true,
    })
}

/// A `$code` recording: `frames` frames captured at `capture_fps` from the piece running at
/// 60 fps, played back at `playback_fps`.
pub(super) fn recording_input(
    code: &str,
    size: (u32, u32, u32),
    frames: u32,
    capture_fps: f64,
    playback_fps: f64,
    format: &str,
    quality: Option<u8>,
) -> serde_json::Value {
    let (width, height, density) = size;
    let mut input = serde_json::json!({
        "code": code, "width": width, "height": height, "density": density,
        "frames": frames, "fps": playback_fps, "every": every(capture_fps),
        "stepMs": 1000.0 / 60.0, "formats": [format], "dropBlankFrames": true,
    });
    if let Some(quality) = quality {
        input["quality"] = quality.into();
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_pass_and_urls_and_pages_are_named() {
        assert_eq!(kidlisp_code("$roz").unwrap(), "roz");
        for bad in ["", "https://x.org/a", "evil.com", "$", "$a b"] {
            let err = kidlisp_code(bad).unwrap_err();
            assert_eq!(
                err.status,
                StatusCode::BAD_REQUEST,
                "{bad}: {}",
                err.message
            );
        }
        let err = kidlisp_code("prompt").unwrap_err();
        assert_eq!(err.status, StatusCode::NOT_IMPLEMENTED);
        assert!(err.message.contains("`url` job type"), "{}", err.message);
    }

    #[test]
    fn capture_rates_become_frames_run_per_recorded_frame() {
        assert_eq!(every(7.5), 8);
        assert_eq!(every(7.0), 9);
        assert_eq!(every(60.0), 1);
        assert_eq!(every(120.0), 1);
        assert_eq!(every(0.5), 60);
    }
}
