//! Answers every request a page makes. Only the job's own origin is served — the host's libraries
//! under `/.kiln/lib/`, then the job's files; an earlier job's origin is refused quietly; what the
//! plugin's `network` grant allows (its site behind the job origin, granted origins) is fetched by
//! the host (`network.rs`); everything else is refused and written to the job's log.

use super::libraries::Libraries;
use super::slot::{SlotJob, SlotShared};
use super::{LIBRARY_PATH, split_job_url};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::fetch::{
    EventRequestPaused, FailRequestParams, FulfillRequestParams, HeaderEntry,
};
use chromiumoxide::cdp::browser_protocol::network::ErrorReason;
use chromiumoxide::error::CdpError;
use std::sync::Arc;

/// Longest URL written to a job log line.
const MAX_LOGGED_URL: usize = 200;

/// What to do with one request.
#[derive(Debug, PartialEq)]
enum Route {
    Serve {
        content_type: String,
        body: bytes::Bytes,
    },
    /// A library: immutable, so it may be cached.
    Library {
        body: bytes::Bytes,
    },
    NotFound(String),
    /// Fetched by the host: the plugin's `network` grant allows it.
    Fetch(url::Url),
    /// The grant allows it, but the job's pages made `pieces.max_requests_per_job` fetches.
    OverBudget(u32),
    Refuse,
    /// A request to an earlier job's origin, made by its document while it was being replaced.
    Stale,
}

pub async fn answer_request(
    page: &Page,
    shared: &Arc<SlotShared>,
    libraries: &Libraries,
    event: &Arc<EventRequestPaused>,
) {
    let url = event.request.url.as_str();
    let result = match route(url, shared, libraries) {
        Route::Serve { content_type, body } => {
            let headers = vec![
                HeaderEntry::new("Content-Type", content_type),
                HeaderEntry::new("Cache-Control", "no-store"),
            ];
            fulfil(page, event, 200, headers, &body).await
        }
        Route::Library { body } => {
            tracing::debug!("library served: {url}");
            fulfil(page, event, 200, library_headers(), &body).await
        }
        Route::NotFound(path) => {
            shared.log(
                "warn",
                "network",
                format!("404 {path}: nothing is served at this path"),
            );
            let body = format!("Kiln serves nothing at {path}");
            let headers = vec![HeaderEntry::new("Content-Type", "text/plain")];
            fulfil(page, event, 404, headers, body.as_bytes()).await
        }
        Route::Fetch(target) => {
            // Fetches take network time: answered on their own task, so the page's other
            // requests are not held behind them.
            let (page, shared, event) = (page.clone(), shared.clone(), event.clone());
            tokio::spawn(async move {
                if let Err(err) = fetch_for_page(&page, &shared, &event, target).await {
                    tracing::debug!("answering a fetched request: {err}");
                }
            });
            Ok(())
        }
        Route::OverBudget(limit) => {
            let shown: String = url.chars().take(MAX_LOGGED_URL).collect();
            shared.log(
                "warn",
                "network",
                format!(
                    "refused {shown}: this job's pages already made {limit} requests \
                     (pieces.max_requests_per_job)"
                ),
            );
            fail(page, event).await
        }
        Route::Stale => {
            tracing::debug!("refused {url}: an earlier job's origin");
            fail(page, event).await
        }
        Route::Refuse => {
            let shown: String = url.chars().take(MAX_LOGGED_URL).collect();
            let method = &event.request.method;
            shared.log(
                "warn",
                "network",
                format!("refused {method} {shown} (pages may only load from their own job origin)"),
            );
            fail(page, event).await
        }
    };
    if let Err(err) = result {
        // The page may have navigated away or closed meanwhile; nothing to answer then.
        tracing::debug!("answering intercepted request {url}: {err}");
    }
}

/// Fetches `target` with the job's grant and answers the page with what came back; a fetch
/// that fails is refused in the page and written to the job's log.
async fn fetch_for_page(
    page: &Page,
    shared: &SlotShared,
    event: &EventRequestPaused,
    target: url::Url,
) -> Result<(), CdpError> {
    let grant = shared.current().network.clone();
    let Some(grant) = grant else {
        // The job ended while the request waited; nothing of it is answered any more.
        return fail(page, event).await;
    };
    let method = event.request.method.as_str();
    match grant.fetch(method, &target).await {
        Ok(fetched) => {
            tracing::debug!(url = %target, status = fetched.status, "fetched for a page");
            let mut headers: Vec<HeaderEntry> = fetched
                .headers
                .iter()
                .map(|(name, value)| HeaderEntry::new(name.clone(), value.clone()))
                .collect();
            headers.push(HeaderEntry::new("Cache-Control", "no-store"));
            fulfil(
                page,
                event,
                i64::from(fetched.status),
                headers,
                &fetched.body,
            )
            .await
        }
        Err(why) => {
            let shown: String = target.as_str().chars().take(MAX_LOGGED_URL).collect();
            shared.log(
                "warn",
                "network",
                format!("could not fetch {method} {shown}: {why}"),
            );
            fail(page, event).await
        }
    }
}

/// How libraries are served: immutable, so Blink's memory cache keeps them (and their compiled
/// code) for the next job on the same origin.
pub(super) fn library_headers() -> Vec<HeaderEntry> {
    vec![
        HeaderEntry::new("Content-Type", "text/javascript"),
        HeaderEntry::new("Cache-Control", "public, max-age=31536000, immutable"),
    ]
}

/// Answers one paused request with `status`, `headers` and `body`.
pub(super) async fn fulfil(
    page: &Page,
    event: &EventRequestPaused,
    status: i64,
    headers: Vec<HeaderEntry>,
    body: &[u8],
) -> Result<(), CdpError> {
    let params = FulfillRequestParams::builder()
        .request_id(event.request_id.clone())
        .response_code(status)
        .response_headers(headers)
        .body(BASE64.encode(body))
        .build()
        .map_err(CdpError::msg)?;
    page.execute(params).await.map(|_| ())
}

async fn fail(page: &Page, event: &EventRequestPaused) -> Result<(), CdpError> {
    let params = FailRequestParams::new(event.request_id.clone(), ErrorReason::BlockedByClient);
    page.execute(params).await.map(|_| ())
}

fn route(url: &str, shared: &SlotShared, libraries: &Libraries) -> Route {
    let mut job = shared.current();
    let Some((_, rest)) = split_job_url(url) else {
        let granted = match &job.network {
            Some(grant) if job.origin.is_some() => grant.elsewhere(url),
            _ => None,
        };
        return match granted {
            Some(target) => count_fetch(&mut job, target),
            None => Route::Refuse,
        };
    };
    if job.is_earlier_page(url) || job.origin.is_none() {
        return Route::Stale;
    }
    let path = rest
        .split(['?', '#'])
        .next()
        .filter(|p| !p.is_empty())
        .unwrap_or("/");
    if path.starts_with(LIBRARY_PATH) {
        return match libraries.by_path(path) {
            Some(lib) => Route::Library {
                body: lib.bytes.clone(),
            },
            None => Route::NotFound(path.to_string()),
        };
    }
    if let Some((content_type, body)) = job.files.get(path) {
        return Route::Serve {
            content_type: content_type.clone(),
            body: body.clone(),
        };
    }
    if path == "/favicon.ico" {
        // Chromium asks for this on its own; it is not the page's request, so it is not logged.
        return Route::Serve {
            content_type: "image/x-icon".into(),
            body: bytes::Bytes::new(),
        };
    }
    let from_site = job
        .network
        .as_ref()
        .and_then(|grant| grant.on_job_origin(rest));
    match from_site {
        Some(target) => count_fetch(&mut job, target),
        None => Route::NotFound(path.to_string()),
    }
}

/// A fetch for the job's pages, counted against `pieces.max_requests_per_job`.
fn count_fetch(job: &mut SlotJob, target: url::Url) -> Route {
    let limit = job.network.as_ref().map_or(0, |g| g.max_requests());
    if job.network_requests >= limit {
        return Route::OverBudget(limit);
    }
    job.network_requests += 1;
    Route::Fetch(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared_with(origin: &str, path: &str) -> SlotShared {
        let shared = SlotShared::default();
        let mut job = shared.job.lock().unwrap();
        job.origin = Some(origin.into());
        job.files.insert(
            path.into(),
            ("text/html".into(), bytes::Bytes::from_static(b"x")),
        );
        drop(job);
        shared
    }

    #[test]
    fn only_the_jobs_own_origin_is_served() {
        let shared = shared_with("https://j5.kiln.invalid", "/index.html");
        let libs = Libraries::default();
        assert!(matches!(
            route("https://j5.kiln.invalid/index.html?x=1", &shared, &libs),
            Route::Serve { .. }
        ));
        assert_eq!(
            route("https://j5.kiln.invalid/other.js", &shared, &libs),
            Route::NotFound("/other.js".into())
        );
        assert_eq!(
            route("https://j4.kiln.invalid/index.html", &shared, &libs),
            Route::Stale
        );
        for url in [
            "http://example.com/",
            "file:///etc/passwd",
            "https://j5.kiln.invalid.evil.com/index.html",
            "https://j5.kiln.invalid@evil.com/index.html",
            "http://j5.kiln.invalid/index.html",
        ] {
            assert_eq!(route(url, &shared, &libs), Route::Refuse, "{url}");
        }
    }

    #[test]
    fn libraries_are_served_on_the_jobs_own_origin_only() {
        let shared = shared_with("https://j5.kiln.invalid", "/index.html");
        let libs = Libraries::from_items(vec![crate::browser::Library {
            name: "p5".into(),
            version: "2.3.4".into(),
            url: "/.kiln/lib/p5@2.3.4/p5.min.js".into(),
            bytes: bytes::Bytes::from_static(b"// p5"),
            license: "LGPL-2.1".into(),
            license_file: None,
        }]);
        assert!(matches!(
            route(
                "https://j5.kiln.invalid/.kiln/lib/p5@2.3.4/p5.min.js",
                &shared,
                &libs
            ),
            Route::Library { .. }
        ));
        assert_eq!(
            route(
                "https://j5.kiln.invalid/.kiln/lib/p5@9.9.9/p5.min.js",
                &shared,
                &libs
            ),
            Route::NotFound("/.kiln/lib/p5@9.9.9/p5.min.js".into())
        );
        assert_eq!(
            route(
                "https://j4.kiln.invalid/.kiln/lib/p5@2.3.4/p5.min.js",
                &shared,
                &libs
            ),
            Route::Stale
        );
        assert_eq!(
            route(
                "https://lib.kiln.invalid/.kiln/lib/p5@2.3.4/p5.min.js",
                &shared,
                &libs
            ),
            Route::Refuse
        );
    }

    #[test]
    fn nothing_is_served_between_jobs() {
        let shared = shared_with("https://j5.kiln.invalid", "/index.html");
        shared.job.lock().unwrap().origin = None;
        assert_eq!(
            route(
                "https://j5.kiln.invalid/index.html",
                &SlotShared::default(),
                &Libraries::default()
            ),
            Route::Stale
        );
        let _ = shared;
    }
}
