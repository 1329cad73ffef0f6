//! Answers every request a page makes. Only the virtual origin is served — the job's own files,
//! then the host's libraries; everything else is refused and written to the job's log.

use super::VIRTUAL_ORIGIN;
use super::libraries::Libraries;
use super::slot::SlotShared;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::fetch::{EventRequestPaused, FailRequestParams, FulfillRequestParams, HeaderEntry};
use chromiumoxide::cdp::browser_protocol::network::ErrorReason;

/// Longest URL written to a job log line.
const MAX_LOGGED_URL: usize = 200;

/// What to do with one request.
#[derive(Debug, PartialEq)]
enum Route {
    Serve { content_type: String, body: bytes::Bytes },
    NotFound(String),
    Refuse,
}

pub async fn answer_request(page: &Page, shared: &SlotShared, libraries: &Libraries, event: &EventRequestPaused) {
    let url = event.request.url.as_str();
    let route = route(url, shared, libraries);
    let result = match route {
        Route::Serve { content_type, body } => {
            let params = FulfillRequestParams::builder()
                .request_id(event.request_id.clone())
                .response_code(200)
                .response_headers(vec![
                    HeaderEntry::new("Content-Type", content_type),
                    HeaderEntry::new("Cache-Control", "no-store"),
                ])
                .body(BASE64.encode(&body))
                .build();
            match params {
                Ok(params) => page.execute(params).await.map(|_| ()),
                Err(e) => {
                    tracing::error!("building a fulfil request: {e}");
                    return;
                }
            }
        }
        Route::NotFound(path) => {
            shared.log("warn", "network", format!("404 {path}: nothing is served at this path"));
            let params = FulfillRequestParams::builder()
                .request_id(event.request_id.clone())
                .response_code(404)
                .response_headers(vec![HeaderEntry::new("Content-Type", "text/plain")])
                .body(BASE64.encode(format!("Kiln serves nothing at {path}")))
                .build();
            match params {
                Ok(params) => page.execute(params).await.map(|_| ()),
                Err(_) => return,
            }
        }
        Route::Refuse => {
            let shown: String = url.chars().take(MAX_LOGGED_URL).collect();
            shared.log(
                "warn",
                "network",
                format!("refused {} {shown} (pages may only load from {VIRTUAL_ORIGIN})", event.request.method),
            );
            page.execute(FailRequestParams::new(event.request_id.clone(), ErrorReason::BlockedByClient))
                .await
                .map(|_| ())
        }
    };
    if let Err(err) = result {
        // The page may have navigated away or closed meanwhile; nothing to answer then.
        tracing::debug!("answering intercepted request {url}: {err}");
    }
}

fn route(url: &str, shared: &SlotShared, libraries: &Libraries) -> Route {
    let Some(rest) = url.strip_prefix(VIRTUAL_ORIGIN) else {
        return Route::Refuse;
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        // e.g. https://kiln.invalid.evil.com/
        return Route::Refuse;
    }
    let path = rest.split(['?', '#']).next().filter(|p| !p.is_empty()).unwrap_or("/");
    if let Some((content_type, body)) = shared.job.lock().expect("slot lock").files.get(path) {
        return Route::Serve { content_type: content_type.clone(), body: body.clone() };
    }
    if let Some(lib) = libraries.by_path(path) {
        return Route::Serve { content_type: "text/javascript".into(), body: lib.bytes.clone() };
    }
    if path == "/favicon.ico" {
        // Chromium asks for this on its own; it is not the page's request, so it is not logged.
        return Route::Serve { content_type: "image/x-icon".into(), body: bytes::Bytes::new() };
    }
    Route::NotFound(path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared_with(path: &str) -> SlotShared {
        let shared = SlotShared::default();
        shared.job.lock().unwrap().files.insert(path.into(), ("text/html".into(), bytes::Bytes::from_static(b"x")));
        shared
    }

    #[test]
    fn only_the_virtual_origin_is_served() {
        let shared = shared_with("/index.html");
        let libs = Libraries::default();
        assert!(matches!(route("https://kiln.invalid/index.html?x=1", &shared, &libs), Route::Serve { .. }));
        assert_eq!(route("https://kiln.invalid/other.js", &shared, &libs), Route::NotFound("/other.js".into()));
        for url in [
            "http://example.com/",
            "file:///etc/passwd",
            "https://kiln.invalid.evil.com/index.html",
            "https://kiln.invalid@evil.com/index.html",
            "http://kiln.invalid/index.html",
        ] {
            assert_eq!(route(url, &shared, &libs), Route::Refuse, "{url}");
        }
    }
}
