//! A page slot: one warm page in its own browser context, plus the listeners that route its
//! requests, errors and console to whichever job holds it.

use super::intercept::answer_request;
use super::launch::BrowserProcess;
use super::libraries::Libraries;
use super::origins::OriginRing;
use super::split_job_url;
use crate::jobs::JobLog;
use anyhow::{Context, Result};
use bytes::Bytes;
use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::emulation::SetDocumentCookieDisabledParams;
use chromiumoxide::cdp::browser_protocol::fetch::{
    EnableParams as FetchEnable, EventRequestPaused, RequestPattern, RequestStage,
};
use chromiumoxide::cdp::browser_protocol::inspector::EventTargetCrashed;
use chromiumoxide::cdp::browser_protocol::log::EventEntryAdded;
use chromiumoxide::cdp::browser_protocol::network::EventWebSocketCreated;
use chromiumoxide::cdp::browser_protocol::page::{
    DialogType, EventFrameStartedNavigating, EventJavascriptDialogOpening,
    FrameStartedNavigatingNavigationType as NavigationType, HandleJavaScriptDialogParams,
    ScriptIdentifier,
};
use chromiumoxide::cdp::browser_protocol::target::{
    EventTargetCrashed as EventAnyTargetCrashed, EventTargetDestroyed,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    EventConsoleApiCalled, EventExceptionThrown, ExceptionDetails, RemoteObject,
};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Browser log messages that mean Chromium itself refused a load before interception saw it
/// (a `file:` URL from a web page; plain http from an https job origin).
const BROWSER_REFUSALS: &[&str] = &["Not allowed to load local resource", "Mixed Content:"];

/// Longest dialog message or navigation URL written to a job log line.
const MAX_LOGGED_TEXT: usize = 200;

/// How far back a renderer killed for memory explains a crash.
const MEMORY_KILL_WINDOW: Duration = Duration::from_secs(3);

/// An uncaught error in a page, located in the page's own files where possible.
#[derive(Debug, Clone, PartialEq)]
pub struct PageErrorRecord {
    pub message: String,
    pub source: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl std::fmt::Display for PageErrorRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        match (&self.source, self.line) {
            (Some(source), Some(line)) => write!(
                f,
                " (at {source} line {line}, column {})",
                self.column.unwrap_or(0)
            ),
            (Some(source), None) => write!(f, " (in {source})"),
            _ => Ok(()),
        }
    }
}

/// What the current job has put into, and seen from, its page.
#[derive(Default)]
pub struct SlotJob {
    pub files: HashMap<String, (String, Bytes)>,
    pub errors: Vec<PageErrorRecord>,
    pub console: Vec<(String, String)>,
    pub log: Option<JobLog>,
    /// The page's renderer process is gone.
    pub crashed: bool,
    /// It was killed for holding more than the memory budget; what it held, in MiB.
    pub killed_for_memory: Option<u64>,
    /// A navigation of the page the plugin did not ask for: where to.
    pub navigated_away: Option<String>,
    /// The URL of the navigation the plugin asked for and that has not started yet.
    pub expected_navigation: Option<String>,
    /// The init script installed for this job, removed when the job's page is retired.
    pub init_script: Option<ScriptIdentifier>,
    /// A change of the init script was under way when the job stopped (it was cancelled or
    /// timed out between the command and its answer): Chromium may hold a script the slot has
    /// no identifier for, which would run in the next job's documents, so the page is replaced.
    pub init_script_unsettled: bool,
    /// The origin of this job's document, from its first navigation on. Requests to any other
    /// job origin are stale and refused quietly.
    pub origin: Option<String>,
    /// What the job's pages may reach besides their own files (the plugin's `network` grant).
    pub network: Option<super::NetworkGrant>,
    /// Requests fetched for the job's pages so far, against `pieces.max_requests_per_job`.
    pub network_requests: u32,
}

impl SlotJob {
    /// Whether `url` is on a job origin other than this job's: something the previous document
    /// did while it was being replaced, which must not be blamed on this job.
    pub fn is_earlier_page(&self, url: &str) -> bool {
        split_job_url(url).is_some_and(|(origin, _)| Some(origin) != self.origin.as_deref())
    }
}

/// State shared between the slot's listeners and the job using it.
#[derive(Default)]
pub struct SlotShared {
    pub job: Mutex<SlotJob>,
    /// Signalled on every page error, on a renderer crash and on a navigation away, so waits end
    /// at once.
    pub trouble: Notify,
    /// Console lines kept per job page (`jobs.max_console_lines`).
    pub max_console_lines: usize,
    /// Set when the page's renderer crashed or the page went away: it cannot serve another job.
    pub broken: std::sync::atomic::AtomicBool,
    /// A `Page.navigate` chromiumoxide has not answered yet (see `JobPage::navigate`).
    pub navigation_pending: std::sync::atomic::AtomicBool,
    /// The page's scripts are switched off: a finished job's document lingers (see `retire` in
    /// pool.rs), and the next navigation switches them back on first.
    pub scripts_off: std::sync::atomic::AtomicBool,
    /// The browser, asked whether a crash was its memory watchdog's doing.
    browser: Option<Arc<BrowserProcess>>,
}

impl SlotShared {
    fn new(browser: Arc<BrowserProcess>, max_console_lines: u32) -> Self {
        Self {
            max_console_lines: max_console_lines as usize,
            browser: Some(browser),
            ..Self::default()
        }
    }

    /// The state of the job now using the page.
    pub fn current(&self) -> MutexGuard<'_, SlotJob> {
        self.job
            .lock()
            .expect("slot lock poisoned: a listener panicked")
    }

    pub fn log(&self, level: &'static str, source: &'static str, message: String) {
        if let Some(log) = &self.current().log {
            log.push(level, source, message);
        }
    }
}

/// One warm page.
pub struct PageSlot {
    pub browser: Arc<BrowserProcess>,
    pub context_id: BrowserContextId,
    pub page: Page,
    pub shared: Arc<SlotShared>,
    listeners: Vec<JoinHandle<()>>,
    /// Jobs this page has served; at `browser.jobs_per_page` it is replaced.
    pub jobs_served: u32,
    /// The origins this page's jobs take turns on.
    pub origins: Mutex<OriginRing>,
    /// The viewport last set (width, height, scale bits): set again only when a job differs.
    pub viewport: Mutex<Option<(u32, u32, u32)>>,
}

impl PageSlot {
    /// Opens a page in a new browser context of `browser` and starts its listeners.
    pub async fn open(
        browser: Arc<BrowserProcess>,
        libraries: Arc<Libraries>,
        origins: OriginRing,
        max_console_lines: u32,
    ) -> Result<Self> {
        let (context_id, page) = browser.open_isolated_page().await?;
        let shared = Arc::new(SlotShared::new(browser.clone(), max_console_lines));
        let mut listeners = start_listeners(&page, &shared, libraries).await?;
        listeners.extend(start_browser_listeners(&browser, &page, &shared).await?);
        page.execute(FetchEnable {
            patterns: Some(vec![RequestPattern {
                url_pattern: Some("*".into()),
                resource_type: None,
                request_stage: Some(RequestStage::Request),
            }]),
            handle_auth_requests: None,
        })
        .await
        .context("enabling request interception")?;
        // All job origins share one site; cookies are the one thing a site shares, so pages get none.
        page.execute(SetDocumentCookieDisabledParams::new(true))
            .await
            .context("switching off page cookies")?;
        Ok(Self {
            browser,
            context_id,
            page,
            shared,
            listeners,
            jobs_served: 0,
            origins: Mutex::new(origins),
            viewport: Mutex::new(None),
        })
    }

    /// Closes the page by disposing of its browser context, which ends everything in it at once:
    /// the page, its workers and popups, and its renderer process, even one stuck in a loop
    /// (closing the page itself would first run its unload handlers). Best effort: the browser
    /// may be gone.
    pub async fn close(self) {
        for task in &self.listeners {
            task.abort();
        }
        if self.browser.is_alive() {
            let _ = self.browser.dispose_context(self.context_id.clone()).await;
        }
    }
}

impl Drop for PageSlot {
    fn drop(&mut self) {
        for task in &self.listeners {
            task.abort();
        }
    }
}

async fn start_listeners(
    page: &Page,
    shared: &Arc<SlotShared>,
    libraries: Arc<Libraries>,
) -> Result<Vec<JoinHandle<()>>> {
    let mut tasks = Vec::new();

    let mut requests = page.event_listener::<EventRequestPaused>().await?;
    let (req_page, req_shared) = (page.clone(), shared.clone());
    tasks.push(tokio::spawn(async move {
        while let Some(event) = requests.next().await {
            answer_request(&req_page, &req_shared, &libraries, &event).await;
        }
    }));

    let mut exceptions = page.event_listener::<EventExceptionThrown>().await?;
    let exc_shared = shared.clone();
    tasks.push(tokio::spawn(async move {
        while let Some(event) = exceptions.next().await {
            let details = &event.exception_details;
            let mut locations = details.url.iter().map(String::as_str).chain(
                details
                    .stack_trace
                    .iter()
                    .flat_map(|st| st.call_frames.iter().map(|f| f.url.as_str())),
            );
            let earlier = {
                let job = exc_shared.current();
                locations.any(|url| job.is_earlier_page(url))
            };
            if earlier {
                tracing::debug!(
                    "ignoring an error thrown by the previous job's document while it unloaded"
                );
                continue;
            }
            let record = describe_exception(details);
            exc_shared.log("error", "page", format!("uncaught: {record}"));
            exc_shared.current().errors.push(record);
            exc_shared.trouble.notify_waiters();
        }
    }));

    let mut console = page.event_listener::<EventConsoleApiCalled>().await?;
    let con_shared = shared.clone();
    tasks.push(tokio::spawn(async move {
        while let Some(event) = console.next().await {
            // The first frame with a URL: the shim's console wrapper (see shim.rs) has none.
            let caller = event
                .stack_trace
                .as_ref()
                .and_then(|st| st.call_frames.iter().find(|f| !f.url.is_empty()))
                .map(|f| f.url.as_str());
            if caller.is_some_and(|url| con_shared.current().is_earlier_page(url)) {
                continue;
            }
            let level = format!("{:?}", event.r#type).to_lowercase();
            let text = event
                .args
                .iter()
                .map(remote_object_text)
                .collect::<Vec<_>>()
                .join(" ");
            push_console(&con_shared, level, text);
        }
    }));

    let mut browser_log = page.event_listener::<EventEntryAdded>().await?;
    let log_shared = shared.clone();
    tasks.push(tokio::spawn(async move {
        while let Some(event) = browser_log.next().await {
            let text = event.entry.text.clone();
            if BROWSER_REFUSALS.iter().any(|marker| text.contains(marker)) {
                log_shared.log("warn", "network", format!("refused: {text}"));
            }
            push_console(
                &log_shared,
                format!("{:?}", event.entry.level).to_lowercase(),
                text,
            );
        }
    }));

    let mut sockets = page.event_listener::<EventWebSocketCreated>().await?;
    let ws_shared = shared.clone();
    tasks.push(tokio::spawn(async move {
        while let Some(event) = sockets.next().await {
            ws_shared.log(
                "warn",
                "network",
                format!(
                    "refused WebSocket {} (pages may only load from their own job origin)",
                    event.url
                ),
            );
        }
    }));

    let mut crashes = page.event_listener::<EventTargetCrashed>().await?;
    let crash_shared = shared.clone();
    tasks.push(tokio::spawn(async move {
        if crashes.next().await.is_some() {
            crash_shared.renderer_gone("crashed");
        }
    }));

    // Navigations: the plugin's own are expected; any other of the main frame that leaves the
    // document is the piece's doing, and fails its job (see `page.rs`).
    let mut navigations = page.event_listener::<EventFrameStartedNavigating>().await?;
    let (nav_shared, main_frame) = (shared.clone(), page.target_id().inner().clone());
    tasks.push(tokio::spawn(async move {
        while let Some(event) = navigations.next().await {
            if event.frame_id.inner() != &main_frame
                || matches!(
                    event.navigation_type,
                    NavigationType::SameDocument | NavigationType::HistorySameDocument
                )
            {
                continue;
            }
            let mut job = nav_shared.current();
            if job
                .expected_navigation
                .as_deref()
                .is_some_and(|expected| same_url(expected, &event.url))
            {
                job.expected_navigation = None;
                continue;
            }
            // Only while a job holds the page and has its document.
            if job.log.is_none() || job.origin.is_none() || job.navigated_away.is_some() {
                continue;
            }
            let url: String = event.url.chars().take(MAX_LOGGED_TEXT).collect();
            if let Some(log) = &job.log {
                log.push(
                    "error",
                    "page",
                    format!("the piece tried to navigate to {url}"),
                );
            }
            job.navigated_away = Some(url);
            drop(job);
            nav_shared.trouble.notify_waiters();
        }
    }));

    // Dialogs would hold the page until someone answers: answer at once (as a user pressing
    // Cancel) and log what the piece asked.
    let mut dialogs = page
        .event_listener::<EventJavascriptDialogOpening>()
        .await?;
    let (dialog_page, dialog_shared) = (page.clone(), shared.clone());
    tasks.push(tokio::spawn(async move {
        while let Some(event) = dialogs.next().await {
            // Leaving the page must not be held by a beforeunload dialog either.
            let leave = event.r#type == DialogType::Beforeunload;
            let kind = format!("{:?}", event.r#type).to_lowercase();
            let message: String = event.message.chars().take(MAX_LOGGED_TEXT).collect();
            dialog_shared.log(
                "warn",
                "page",
                format!(
                    "the piece opened a dialog, {kind}({message:?}); dismissed (pages cannot show dialogs)"
                ),
            );
            if let Err(err) = dialog_page
                .execute(HandleJavaScriptDialogParams::new(leave))
                .await
            {
                tracing::debug!("dismissing a dialog: {err}");
            }
        }
    }));
    Ok(tasks)
}

/// Listeners on the browser's own session for events about this page's target: its renderer
/// crashed (also reported on the page's session, as `Inspector.targetCrashed`, which a renderer
/// killed outright may not send) or the page is gone.
async fn start_browser_listeners(
    browser: &BrowserProcess,
    page: &Page,
    shared: &Arc<SlotShared>,
) -> Result<Vec<JoinHandle<()>>> {
    let target = page.target_id().clone();
    let mut crashed = browser.event_listener::<EventAnyTargetCrashed>().await?;
    let mut destroyed = browser.event_listener::<EventTargetDestroyed>().await?;
    let shared = shared.clone();
    Ok(vec![tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(event) = crashed.next() => {
                    if event.target_id == target {
                        shared.renderer_gone(&format!("ended ({}, code {})", event.status, event.error_code));
                        return;
                    }
                }
                Some(event) = destroyed.next() => {
                    if event.target_id == target {
                        shared.renderer_gone("closed");
                        return;
                    }
                }
                else => return,
            }
        }
    })])
}

impl SlotShared {
    /// Records that the page's renderer is gone (`how`), blaming the memory budget when the
    /// browser's watchdog just killed a renderer for it, and wakes every wait.
    fn renderer_gone(&self, how: &str) {
        if self.broken.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let now = Instant::now();
        let since = now.checked_sub(MEMORY_KILL_WINDOW).unwrap_or(now);
        let for_memory = self
            .browser
            .as_ref()
            .and_then(|browser| browser.memory_kill_since(since));
        let mut job = self.current();
        job.crashed = true;
        job.killed_for_memory = for_memory;
        if let Some(log) = &job.log {
            let message = match for_memory {
                Some(mib) => format!(
                    "the page's renderer process held {mib} MiB, over the memory budget, and was killed"
                ),
                None => format!("the page's renderer process {how}"),
            };
            log.push("error", "host", message);
        }
        drop(job);
        self.trouble.notify_waiters();
    }
}

/// Whether two URLs are the same once parsed (Chromium reports the URL it normalised).
fn same_url(a: &str, b: &str) -> bool {
    a == b || matches!((url::Url::parse(a), url::Url::parse(b)), (Ok(a), Ok(b)) if a == b)
}

/// Keeps a console line for `page.console()` and copies it into the job's log.
fn push_console(shared: &SlotShared, level: String, text: String) {
    let mut job = shared.current();
    // One more than the cap, so the shim's "console output stopped" line is kept.
    if job.console.len() <= shared.max_console_lines {
        if let Some(log) = &job.log {
            let level = if level == "error" || level == "warning" {
                "warn"
            } else {
                "info"
            };
            log.push(level, "page", format!("console: {text}"));
        }
        job.console.push((level, text));
    }
}

/// A readable one-line rendering of a console argument.
fn remote_object_text(object: &RemoteObject) -> String {
    match &object.value {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(value) => value.to_string(),
        None => object
            .description
            .clone()
            .unwrap_or_else(|| format!("{:?}", object.r#type).to_lowercase()),
    }
}

/// The error's own message, located at the innermost frame in a file served on the job's origin
/// that is not a library (so a mistake in a sketch points at the sketch, not inside p5).
fn describe_exception(details: &ExceptionDetails) -> PageErrorRecord {
    let description = details
        .exception
        .as_ref()
        .and_then(|e| {
            e.description
                .clone()
                .or_else(|| e.value.as_ref().map(|v| v.to_string()))
        })
        .unwrap_or_else(|| details.text.clone());
    let first_line = description.lines().next().unwrap_or_default().to_string();
    let message = if details.text.starts_with("Uncaught (in promise)")
        && !first_line.starts_with("Uncaught")
    {
        format!("Uncaught (in promise) {first_line}")
    } else {
        first_line
    };

    let own_path = |url: &str| {
        split_job_url(url)
            .map(|(_, path)| path)
            .filter(|path| !path.starts_with(super::LIBRARY_PATH))
            .map(str::to_string)
    };
    let frame = details.stack_trace.as_ref().and_then(|st| {
        st.call_frames
            .iter()
            .find_map(|f| own_path(&f.url).map(|p| (p, f.line_number, f.column_number)))
    });
    let (source, line, column) = match frame {
        Some((path, line, column)) => (Some(path), Some(line), Some(column)),
        None => match details.url.as_deref().and_then(own_path) {
            Some(path) => (
                Some(path),
                Some(details.line_number),
                Some(details.column_number),
            ),
            None => (details.url.clone(), None, None),
        },
    };
    PageErrorRecord {
        message,
        source,
        line: line.map(|l| (l + 1) as u32),
        column: column.map(|c| (c + 1) as u32),
    }
}
