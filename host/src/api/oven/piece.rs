//! A piece as the oven's grab, icon, preview and screenshot routes name it (shared/OVEN.md
//! §2.1), and the job that renders it: `kidlisp` for a `$code`, `url` for a page of the site.

use super::spec;
use crate::api::error::ApiError;
use crate::jobs::JobSpec;

/// Whether `code` (without its `$`) is one a store key can carry: 1–64 ASCII letters, digits,
/// `_` or `-`.
pub(super) fn is_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A piece as the oven's routes name it: a KidLisp `$code`, rendered by the `kidlisp` job type,
/// or any other name, a page of the operator's site (`pieces.base_url`), captured by the `url`
/// job type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Piece {
    /// The code without its `$`.
    Code(String),
    /// The page's name, e.g. `prompt` or `wand~red`.
    Page(String),
}

/// The longest page name the routes take.
const MAX_PAGE_NAME: usize = 100;

impl Piece {
    /// Reads a piece name, refusing URLs, domains and names that cannot be one, naming why.
    pub(super) fn parse(piece: &str) -> Result<Self, ApiError> {
        let piece = piece.trim();
        let lower = piece.to_ascii_lowercase();
        const DOMAINS: [&str; 8] = [".com", ".net", ".org", ".io", ".dev", ".app", ".xyz", ".co"];
        if piece.is_empty()
            || lower.starts_with("http://")
            || lower.starts_with("https://")
            || DOMAINS.iter().any(|d| lower.ends_with(d))
        {
            return Err(ApiError::bad_request(format!(
                "piece {piece:?}: name a piece of this site (a $code such as $roz, or a piece \
                 name such as prompt), not a URL or a domain"
            )));
        }
        match piece.strip_prefix('$') {
            Some(code) if is_code(code) => Ok(Self::Code(code.to_string())),
            Some(_) => Err(ApiError::bad_request(format!(
                "piece {piece:?}: a $code is 1–64 letters, digits, _ or -"
            ))),
            None if is_page_name(piece) => Ok(Self::Page(piece.to_string())),
            None => Err(ApiError::bad_request(format!(
                "piece {piece:?}: a piece name is 1–{MAX_PAGE_NAME} letters, digits and -_~.@, \
                 not starting with . or ~"
            ))),
        }
    }

    /// The name as the oven shows it: `$roz`, `prompt`.
    pub(super) fn name(&self) -> String {
        match self {
            Self::Code(code) => format!("${code}"),
            Self::Page(page) => page.clone(),
        }
    }

    /// The name as a store key's last segment: the code without `$`, a page as `page.{name}`
    /// (codes have no `.`, so the two never meet).
    pub(super) fn key(&self) -> String {
        match self {
            Self::Code(code) => code.clone(),
            Self::Page(page) => format!("page.{page}"),
        }
    }

    /// The job of a still `width`×`height` at `density`: a `$code` after the oven's 500 ms
    /// settle at 60 fps (frame 30); a page after its ready signal and the same settle.
    pub(super) fn still(&self, width: u32, height: u32, density: u32) -> JobSpec {
        match self {
            Self::Code(code) => spec("kidlisp", still_input(code, width, height, density)),
            Self::Page(page) => spec(
                "url",
                serde_json::json!({
                    "piece": page, "width": width, "height": height, "density": density,
                    "formats": ["png"],
                }),
            ),
        }
    }

    /// The job of a recording: `frames` frames captured at `capture_fps`. A `$code` runs at
    /// 60 fps and its frames play at `playback_fps`; a page is recorded on Kiln's virtual clock
    /// at `capture_fps` and plays at that rate (the `url` job type's recordings play at their
    /// capture rate).
    pub(super) fn recording(
        &self,
        size: (u32, u32, u32),
        frames: u32,
        capture_fps: f64,
        playback_fps: f64,
        format: &str,
        quality: Option<u8>,
    ) -> JobSpec {
        let (width, height, density) = size;
        let (job_type, mut input) = match self {
            Self::Code(code) => (
                "kidlisp",
                recording_input(code, size, frames, capture_fps, playback_fps, format),
            ),
            Self::Page(page) => (
                "url",
                // As the oven's grabs: played back at the grab's rate, blank frames left out,
                // and a page that throws still recorded (its errors go to the job's log).
                serde_json::json!({
                    "piece": page, "width": width, "height": height, "density": density,
                    "frames": frames, "fps": capture_fps, "playbackFps": playback_fps,
                    "formats": [format], "dropBlankFrames": true, "toleratePageErrors": true,
                }),
            ),
        };
        if let Some(quality) = quality {
            input["quality"] = quality.into();
        }
        spec(job_type, input)
    }
}

/// Whether `name` is a page name the routes take: 1–100 letters, digits and `-_~.@`, not
/// starting with `.` or `~`.
fn is_page_name(name: &str) -> bool {
    (1..=MAX_PAGE_NAME).contains(&name.len())
        && !name.starts_with(['.', '~'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_~.@".contains(&b))
}

/// The frames a 60 fps piece runs per frame recorded at `capture_fps` (at least 1, at most 60).
pub(super) fn every(capture_fps: f64) -> u32 {
    (60.0 / capture_fps).round().clamp(1.0, 60.0) as u32
}

/// A `$code` still: the frame after the oven's 500 ms settle at 60 fps (frame 30). Like every
/// oven capture, a blank frame (all black or transparent, shared/OVEN.md §3.3) is not a result:
/// the job fails, and a recording leaves blank frames out.
fn still_input(code: &str, width: u32, height: u32, density: u32) -> serde_json::Value {
    serde_json::json!({
        "code": code, "width": width, "height": height, "density": density,
        "frame": 30, "formats": ["png"], "dropBlankFrames": true,
    })
}

/// A `$code` recording: `frames` frames captured at `capture_fps` from the piece running at
/// 60 fps, played back at `playback_fps`.
fn recording_input(
    code: &str,
    size: (u32, u32, u32),
    frames: u32,
    capture_fps: f64,
    playback_fps: f64,
    format: &str,
) -> serde_json::Value {
    let (width, height, density) = size;
    serde_json::json!({
        "code": code, "width": width, "height": height, "density": density,
        "frames": frames, "fps": playback_fps, "every": every(capture_fps),
        "stepMs": 1000.0 / 60.0, "formats": [format], "dropBlankFrames": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_pages_pass_and_urls_are_named() {
        assert_eq!(Piece::parse("$roz").unwrap(), Piece::Code("roz".into()));
        assert_eq!(
            Piece::parse("wand~red").unwrap(),
            Piece::Page("wand~red".into())
        );
        for bad in [
            "",
            "https://x.org/a",
            "evil.com",
            "$",
            "$a b",
            "a/b",
            "../x",
            "~x",
            "a?b",
        ] {
            let err = Piece::parse(bad).unwrap_err();
            assert_eq!(
                err.status,
                axum::http::StatusCode::BAD_REQUEST,
                "{bad}: {}",
                err.message
            );
        }
        let code = Piece::parse("$roz").unwrap();
        let page = Piece::parse("roz").unwrap();
        assert_ne!(
            code.key(),
            page.key(),
            "a code and a page of one name keep apart"
        );
        assert_eq!(code.still(64, 64, 1).job_type, "kidlisp");
        assert_eq!(page.still(64, 64, 1).job_type, "url");
        let recording = page.recording((64, 64, 2), 10, 7.5, 15.0, "webp", Some(80));
        assert_eq!(recording.input["fps"], 7.5);
        assert_eq!(recording.input["density"], 2);
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
