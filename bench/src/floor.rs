//! The floor: the same page work as Kiln's p5 job — a fresh document per sketch, p5 served from
//! memory, the same harness, the canvas read back as PNG — driven by a bare loop over warm
//! chromiumoxide pages, with no plugin, validation, pool, log or storage around it.
//!
//! It runs in two modes: every sketch on one origin (what a bare loop does), and each page taking
//! turns between two origins of its own (the scheme Kiln isolates jobs with, minus clearing), so
//! the report separates the cost of Kiln's machinery from the cost of isolation.

use anyhow::{Context, Result};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::fetch::{
    EnableParams, EventRequestPaused, FulfillRequestParams, HeaderEntry, RequestPattern,
};
use chromiumoxide::cdp::browser_protocol::page::{EventLoadEventFired, NavigateParams};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use futures::StreamExt;
use kiln::Config;
use kiln::browser::Libraries;
use kiln::browser::bare::{BareBrowser, LIBRARY_PATH, job_origin, library_headers};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// The p5 plugin's own page and harness, so the floor's page work is the plugin's.
const PAGE_HTML: &str = include_str!("../../plugins/p5/src/page.html");
const HARNESS_JS: &str = include_str!("../../plugins/p5/src/harness.js");

/// Files a page serves, by full URL.
type Files = Arc<Mutex<HashMap<String, Bytes>>>;

/// Origins the floor uses; numbered far from Kiln's so the two never meet.
static NEXT_ORIGIN: AtomicU64 = AtomicU64::new(1_000_000);

/// One bare browser and its warm pages, each with the files it serves.
pub struct Floor {
    browser: BareBrowser,
    pages: Vec<(Page, Files)>,
    /// p5's root-relative URL, served on each origin as Kiln serves it.
    p5_url: String,
    p5: Bytes,
    size: u32,
}

impl Floor {
    /// One browser with `pages` warm pages, each in its own context (as Kiln's slots are).
    pub async fn start(config: &Config, pages: usize, size: u32) -> Result<Self> {
        let libraries = Arc::new(Libraries::load(&config.libraries_dir)?);
        let p5 = libraries
            .iter()
            .find(|l| l.name == "p5" && l.version.starts_with('2'))
            .context("p5 2.x is not installed")?;
        let browser = BareBrowser::launch(&config.browser).await?;
        let mut opened = Vec::new();
        for _ in 0..pages {
            let page = browser.open_page().await?;
            let files: Files = Arc::new(Mutex::new(HashMap::new()));
            let mut requests = page.event_listener::<EventRequestPaused>().await?;
            let (serve_page, serve_files) = (page.clone(), files.clone());
            tokio::spawn(async move {
                while let Some(event) = requests.next().await {
                    let url = event.request.url.clone();
                    let body = serve_files.lock().unwrap().get(&url).cloned();
                    let (code, body) = match body {
                        Some(body) => (200, body),
                        None => (404, Bytes::new()),
                    };
                    let headers = if url.contains(LIBRARY_PATH) {
                        // Exactly as Kiln serves libraries.
                        library_headers()
                    } else {
                        let content_type = if url.ends_with(".html") {
                            "text/html"
                        } else {
                            "text/javascript"
                        };
                        vec![HeaderEntry::new("Content-Type", content_type)]
                    };
                    // A failure only means the page went away.
                    let _ = fulfil(&serve_page, &event, code, headers, &body).await;
                }
            });
            intercept_every_request(&page).await?;
            page.execute(SetDeviceMetricsOverrideParams::new(
                i64::from(size),
                i64::from(size),
                1.0,
                false,
            ))
            .await?;
            opened.push((page, files));
        }
        Ok(Self {
            browser,
            pages: opened,
            p5_url: p5.url.clone(),
            p5: p5.bytes.clone(),
            size,
        })
    }

    /// Renders `codes` over the first `concurrency` pages, all on one origin or each page
    /// alternating between two of its own (`ring`); returns each sketch's latency.
    pub async fn run(
        &self,
        codes: &[String],
        concurrency: usize,
        ring: bool,
    ) -> Result<Vec<Duration>> {
        let mint = || job_origin(NEXT_ORIGIN.fetch_add(1, Ordering::Relaxed));
        let shared_origin = mint();
        let shared_origin = shared_origin.as_str();
        let queue = Arc::new(Mutex::new(codes.iter().enumerate().collect::<Vec<_>>()));
        let workers = self.pages.iter().take(concurrency).map(|(page, files)| {
            let queue = queue.clone();
            let own_origins = [mint(), mint()];
            async move {
                let mut latencies = Vec::new();
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some((i, code)) = next else { break };
                    let started = Instant::now();
                    let origin = if ring {
                        own_origins[latencies.len() % 2].as_str()
                    } else {
                        shared_origin
                    };
                    self.render(page, files, origin, code, i as u64).await?;
                    latencies.push(started.elapsed());
                }
                anyhow::Ok(latencies)
            }
        });
        let per_worker = futures::future::try_join_all(workers).await?;
        Ok(per_worker.into_iter().flatten().collect())
    }

    async fn render(
        &self,
        page: &Page,
        files: &Files,
        origin: &str,
        code: &str,
        seed: u64,
    ) -> Result<Vec<u8>> {
        let html = PAGE_HTML
            .replace("{{p5_src}}", &self.p5_url)
            .replace("{{frames}}", "1")
            .replace("{{seed}}", &seed.to_string())
            .replace("{{harness}}", HARNESS_JS);
        {
            let mut files = files.lock().unwrap();
            files.clear();
            files.insert(format!("{origin}{}", self.p5_url), self.p5.clone());
            files.insert(format!("{origin}/index.html"), html.into());
            files.insert(
                format!("{origin}/sketch.js"),
                code.replace("{W}", &self.size.to_string()).into(),
            );
        }
        let mut loaded = page.event_listener::<EventLoadEventFired>().await?;
        page.execute(NavigateParams::new(format!("{origin}/index.html")))
            .await?;
        loaded.next().await.context("page closed while loading")?;
        let wait = "new Promise(r => { const c = () => (window.__kilnP5 && window.__kilnP5.done) ? r(true) : setTimeout(c, 4); c(); })";
        page.execute(evaluation(wait)?).await?;
        let read = "document.querySelector('canvas[data-kiln-main]').toDataURL('image/png')";
        let response = page.execute(evaluation(read)?).await?;
        let url = response
            .result
            .result
            .value
            .as_ref()
            .and_then(|v| v.as_str())
            .context("no canvas")?;
        Ok(BASE64.decode(url.trim_start_matches("data:image/png;base64,"))?)
    }

    /// Closes the browser.
    pub async fn shutdown(self) {
        self.browser.close().await;
    }
}

/// Answers one paused request with `status`, `headers` and `body` (`Fetch.fulfillRequest`).
pub async fn fulfil(
    page: &Page,
    event: &EventRequestPaused,
    status: i64,
    headers: Vec<HeaderEntry>,
    body: &[u8],
) -> Result<()> {
    let params = FulfillRequestParams::builder()
        .request_id(event.request_id.clone())
        .response_code(status)
        .response_headers(headers)
        .body(BASE64.encode(body))
        .build()
        .map_err(anyhow::Error::msg)?;
    page.execute(params).await?;
    Ok(())
}

/// `Runtime.evaluate` of `expression`, promises awaited, the value returned as JSON.
pub fn evaluation(expression: &str) -> Result<EvaluateParams> {
    EvaluateParams::builder()
        .expression(expression)
        .await_promise(true)
        .return_by_value(true)
        .build()
        .map_err(anyhow::Error::msg)
}

/// Pauses every request of `page` (the Fetch domain), so a bench answers them from memory.
pub async fn intercept_every_request(page: &Page) -> Result<()> {
    page.execute(EnableParams {
        patterns: Some(vec![RequestPattern {
            url_pattern: Some("*".into()),
            resource_type: None,
            request_stage: None,
        }]),
        handle_auth_requests: None,
    })
    .await?;
    Ok(())
}
