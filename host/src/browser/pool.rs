//! The pool: warm browser processes × pages, leased one page per job. A job's document gets an
//! origin from its page's ring (see `origins.rs`); a finished job's page is retired off the job
//! path; a page is replaced when it timed out, crashed, served its quota of jobs, or its browser
//! died; a browser is recycled when `recycle.rs` says it is due, its replacement serving before
//! it stops.

use super::blackhole::BlackholeProxy;
use super::launch::BrowserProcess;
use super::libraries::Libraries;
use super::origins::OriginRing;
use super::recycle;
use super::settings::BrowserSettings;
use super::slot::PageSlot;
use crate::error::RenderError;
use crate::jobs::JobSettings;
use anyhow::{Result, bail};
use chromiumoxide::cdp::browser_protocol::emulation::SetScriptExecutionDisabledParams;
use chromiumoxide::cdp::browser_protocol::page::{
    NavigateParams, RemoveScriptToEvaluateOnNewDocumentParams,
};
use chromiumoxide::cdp::browser_protocol::storage::ClearDataForOriginParams;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};

/// How long retiring a finished job's document may take before the page is replaced instead.
const RETIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a finished job's document may take to switch its scripts off, or to give way to
/// `about:blank` (each takes a few milliseconds). A document whose main thread is stuck in a loop
/// never does: its page is replaced instead, and Chromium kills its renderer half a second later.
/// Together well within a second of the job's end.
const STOP_TIMEOUT: Duration = Duration::from_millis(300);
/// How long retiring waits for chromiumoxide to answer the job's last navigation.
const NAVIGATION_ANSWER_GRACE: Duration = Duration::from_millis(200);
/// Target types Chromium itself keeps in a page's browser context, not the page's doing.
const BROWSER_OWN: &[&str] = &["browser_ui", "tab"];
/// Origins a page's jobs take turns on: two suffice for strict alternation (one live, one being
/// cleared); more are minted only if clearing one failed.
const ORIGINS_PER_PAGE: usize = 2;
/// The longest a recycled browser waits for the jobs on its pages before it is closed anyway
/// (those jobs then fail `unavailable` and are retried, as after a crash).
const DRAIN_LIMIT: Duration = Duration::from_secs(600);
/// Pause between attempts to restart a browser that will not start.
const RESTART_BACKOFF: Duration = Duration::from_secs(1);

/// What the pool enforces on every page, from `[jobs]`.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    /// `jobs.max_page_memory_mib`: a renderer holding more is killed (0: no limit).
    pub memory_mib: u64,
    /// `jobs.max_console_lines`.
    pub console_lines: u32,
}

impl From<&JobSettings> for PageLimits {
    fn from(jobs: &JobSettings) -> Self {
        Self {
            memory_mib: jobs.max_page_memory_mib,
            console_lines: jobs.max_console_lines,
        }
    }
}

/// One running browser, for operators (the dashboard).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrowserReport {
    /// Its slot in the pool (0-based).
    pub index: usize,
    pub pid: Option<u32>,
    /// Whether its DevTools connection is up.
    pub alive: bool,
    /// Being recycled: its pages take no new job.
    pub draining: bool,
    /// Seconds since it started.
    pub age_s: u64,
    /// Jobs its pages have served.
    pub jobs_served: u64,
    /// Its pages (`browser.pages_per_process`).
    pub pages: usize,
    /// Of those, the pages running a job now.
    pub leased: u64,
    /// Memory its processes hold of their own, in MiB: the measure `browser.recycle_above_mib`
    /// is held to (shared memory counted once per process that maps it: an upper bound).
    pub memory_mib: u64,
    /// `jobs.max_page_memory_mib`: the most one renderer may hold (0: no limit).
    pub renderer_budget_mib: u64,
}

/// Warm Chromium pages, one per job slot.
pub struct BrowserPool {
    settings: BrowserSettings,
    limits: PageLimits,
    libraries: Arc<Libraries>,
    proxy: BlackholeProxy,
    browsers: Mutex<Vec<Option<Arc<BrowserProcess>>>>,
    ready_tx: mpsc::UnboundedSender<PageSlot>,
    ready_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<PageSlot>>,
    restarts: AtomicU64,
    /// Browsers replaced by recycling.
    recycles: AtomicU64,
    /// The `n` of the next never-used job origin, `https://j<n>.kiln.invalid`.
    next_origin: AtomicU64,
    shutting_down: AtomicBool,
    /// Jobs waiting in [`Self::acquire`] now: a retired page goes to them at once.
    waiting: AtomicUsize,
    /// Signalled whenever a job starts waiting for a page.
    demand: Notify,
}

impl BrowserPool {
    /// Starts every browser and opens every page before returning. First removes the profile
    /// directories of browsers whose Kiln was killed.
    pub async fn start(
        settings: BrowserSettings,
        limits: PageLimits,
        libraries: Arc<Libraries>,
    ) -> Result<Arc<Self>> {
        tokio::task::spawn_blocking(super::launch::remove_stale_profiles).await?;
        let (ready_tx, ready_rx) = mpsc::unbounded_channel();
        let pool = Arc::new(Self {
            browsers: Mutex::new(vec![None; settings.processes]),
            settings,
            limits,
            libraries,
            proxy: BlackholeProxy::start().await?,
            ready_tx,
            ready_rx: tokio::sync::Mutex::new(ready_rx),
            restarts: AtomicU64::new(0),
            recycles: AtomicU64::new(0),
            next_origin: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
            waiting: AtomicUsize::new(0),
            demand: Notify::new(),
        });
        let launches = (0..pool.settings.processes).map(|index| pool.start_browser(index));
        futures::future::try_join_all(launches).await?;
        pool.watch_vitals();
        Ok(pool)
    }

    /// The libraries pages can load.
    pub fn libraries(&self) -> &Libraries {
        &self.libraries
    }

    /// Process ids of the running browsers (for operators and crash tests).
    pub fn browser_pids(&self) -> Vec<u32> {
        self.browsers
            .lock()
            .expect("pool lock")
            .iter()
            .flatten()
            .filter_map(|b| b.pid)
            .collect()
    }

    /// A job origin no page of this pool has used.
    pub fn fresh_origin(&self) -> String {
        super::job_origin(self.next_origin.fetch_add(1, Ordering::Relaxed))
    }

    /// Opens a page with its own ring of fresh origins.
    async fn open_slot(&self, browser: Arc<BrowserProcess>) -> Result<PageSlot> {
        let origins = (0..ORIGINS_PER_PAGE).map(|_| self.fresh_origin()).collect();
        PageSlot::open(
            browser,
            self.libraries.clone(),
            OriginRing::new(origins),
            self.limits.console_lines,
        )
        .await
    }

    /// How many times a browser was replaced after dying.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// How many browsers were replaced by recycling.
    pub fn recycles(&self) -> u64 {
        self.recycles.load(Ordering::Relaxed)
    }

    /// Pages that take jobs: those of running browsers not being recycled. Below
    /// `processes × pages_per_process` only while a browser that died is being replaced.
    pub fn serving_pages(&self) -> usize {
        let browsers = self.browsers.lock().expect("pool lock");
        let serving = browsers
            .iter()
            .flatten()
            .filter(|b| b.is_alive() && !b.is_draining())
            .count();
        serving * self.settings.pages_per_process
    }

    /// Each running browser as the dashboard shows it: its process, its age, the jobs its pages
    /// served and hold now, and the memory its process tree holds (read from `/proc` now, so
    /// call it seconds apart, not per request burst).
    pub fn browsers(&self) -> Vec<BrowserReport> {
        let browsers: Vec<Arc<BrowserProcess>> = self
            .browsers
            .lock()
            .expect("pool lock")
            .iter()
            .flatten()
            .cloned()
            .collect();
        browsers
            .iter()
            .map(|b| BrowserReport {
                index: b.index,
                pid: b.pid,
                alive: b.is_alive(),
                draining: b.is_draining(),
                age_s: b.age().as_secs(),
                jobs_served: b.jobs_served(),
                pages: self.settings.pages_per_process,
                leased: b.leased(),
                memory_mib: b.tree_memory_mib(),
                renderer_budget_mib: b.renderer_budget_mib(),
            })
            .collect()
    }

    /// A browser with its pages open, not yet in service.
    async fn launch_with_pages(
        &self,
        index: usize,
    ) -> Result<(Arc<BrowserProcess>, Vec<PageSlot>)> {
        let process =
            BrowserProcess::launch(index, &self.settings, &self.proxy.proxy_url()).await?;
        process.limit_renderer_memory(self.limits.memory_mib);
        let pages = (0..self.settings.pages_per_process).map(|_| self.open_slot(process.clone()));
        let slots = futures::future::try_join_all(pages).await?;
        Ok((process, slots))
    }

    async fn start_browser(self: &Arc<Self>, index: usize) -> Result<()> {
        let (process, slots) = self.launch_with_pages(index).await?;
        self.browsers.lock().expect("pool lock")[index] = Some(process.clone());
        for slot in slots {
            let _ = self.ready_tx.send(slot);
        }
        self.watch(process);
        Ok(())
    }

    /// Looks at every browser each [`recycle::CHECK_EVERY`] and recycles those due, one at a
    /// time, until the pool shuts down.
    fn watch_vitals(self: &Arc<Self>) {
        let pool = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(recycle::CHECK_EVERY).await;
                let Some(pool) = pool.upgrade() else { return };
                if pool.shutting_down.load(Ordering::SeqCst) {
                    return;
                }
                let serving: Vec<Arc<BrowserProcess>> = pool
                    .browsers
                    .lock()
                    .expect("pool lock")
                    .iter()
                    .flatten()
                    .filter(|b| b.is_alive() && !b.is_draining())
                    .cloned()
                    .collect();
                for browser in serving {
                    let vitals = recycle::Vitals::of(&browser, &pool.settings);
                    if let Some(why) = recycle::due(&vitals, &pool.settings) {
                        pool.recycle(browser, &why).await;
                    }
                }
            }
        });
    }

    /// Replaces `old` by a fresh browser: the fresh one's pages go into service first, then
    /// `old` stops taking jobs, and it closes once the jobs on its pages end (at most
    /// [`DRAIN_LIMIT`]). A replacement that fails to start leaves `old` serving; the next check
    /// tries again.
    async fn recycle(self: &Arc<Self>, old: Arc<BrowserProcess>, why: &str) {
        let index = old.index;
        tracing::info!(browser = index, "recycling the browser: {why}");
        let (fresh, slots) = match self.launch_with_pages(index).await {
            Ok(started) => started,
            Err(err) => {
                tracing::warn!(
                    browser = index,
                    "the recycled browser's replacement failed to start; the old one serves on: {err:#}"
                );
                tokio::time::sleep(RESTART_BACKOFF).await;
                return;
            }
        };
        let swapped = {
            let mut browsers = self.browsers.lock().expect("pool lock");
            let still_serving = browsers[index]
                .as_ref()
                .is_some_and(|current| Arc::ptr_eq(current, &old));
            let swap = still_serving && !self.shutting_down.load(Ordering::SeqCst);
            if swap {
                browsers[index] = Some(fresh.clone());
            }
            swap
        };
        if !swapped {
            // It died (and was replaced) or the pool is closing meanwhile.
            drop(slots);
            fresh.close().await;
            return;
        }
        for slot in slots {
            let _ = self.ready_tx.send(slot);
        }
        self.watch(fresh);
        old.drain();
        self.recycles.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let since = Instant::now();
            while old.leased() > 0 && old.is_alive() && since.elapsed() < DRAIN_LIMIT {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            tracing::info!(
                browser = old.index,
                waited_ms = since.elapsed().as_millis() as u64,
                "closing a recycled browser"
            );
            old.close().await;
        });
    }

    /// Replaces the browser when its connection ends, unless the pool is shutting down.
    fn watch(self: &Arc<Self>, process: Arc<BrowserProcess>) {
        let pool = Arc::downgrade(self);
        let index = process.index;
        tokio::spawn(async move {
            process.exited().await;
            if process.is_draining() {
                // Recycled: its replacement is already serving.
                return;
            }
            let Some(pool) = pool.upgrade() else { return };
            if pool.shutting_down.load(Ordering::SeqCst) {
                return;
            }
            pool.restarts.fetch_add(1, Ordering::Relaxed);
            {
                let mut browsers = pool.browsers.lock().expect("pool lock");
                if browsers[index]
                    .as_ref()
                    .is_some_and(|current| Arc::ptr_eq(current, &process))
                {
                    browsers[index] = None;
                }
            }
            drop(process);
            tracing::warn!(browser = index, "browser died; starting a replacement");
            while !pool.shutting_down.load(Ordering::SeqCst) {
                match pool.start_browser(index).await {
                    Ok(()) => break,
                    Err(err) => {
                        tracing::error!(
                            browser = index,
                            "replacement browser failed to start: {err:#}"
                        );
                        tokio::time::sleep(RESTART_BACKOFF).await;
                    }
                }
            }
        });
    }

    /// Waits for a free page until `deadline`.
    pub async fn acquire(self: &Arc<Self>, deadline: Instant) -> Result<PageLease, RenderError> {
        let _waiting = Waiting::new(self);
        // Holding the receiver lock while waiting makes waiters first-come, first-served.
        let mut ready = self.ready_rx.lock().await;
        loop {
            let slot = tokio::time::timeout_at(deadline.into(), ready.recv())
                .await
                .map_err(|_| {
                    RenderError::timeout(
                        "no browser page became free before the job's deadline; raise browser.processes or \
                         browser.pages_per_process, or submit fewer jobs at once",
                    )
                })?
                .ok_or_else(|| RenderError::unavailable("the browser pool is shut down"))?;
            if slot.shared.broken.load(std::sync::atomic::Ordering::SeqCst) {
                // Its renderer died while it waited for a job: replace it, take another.
                tracing::info!("a waiting page lost its renderer; replacing it");
                self.release(slot, false);
                continue;
            }
            if slot.browser.is_alive() && !slot.browser.is_draining() {
                slot.browser.lease_started();
                return Ok(PageLease {
                    slot: Some(slot),
                    pool: self.clone(),
                    tainted: AtomicBool::new(false),
                });
            }
            // A page of a dead or recycled browser: its replacement brought fresh pages.
        }
    }

    /// Takes a page back: retired and reused if clean and under its job quota, else replaced. Runs
    /// off the job path.
    fn release(self: &Arc<Self>, slot: PageSlot, reusable: bool) {
        slot.browser.lease_ended();
        let pool = self.clone();
        tokio::spawn(async move {
            let going_away = |slot: &PageSlot| {
                !slot.browser.is_alive()
                    || slot.browser.is_closing()
                    || slot.browser.is_draining()
                    || pool.shutting_down.load(Ordering::SeqCst)
            };
            if going_away(&slot) {
                return;
            }
            let mut slot = slot;
            slot.jobs_served += 1;
            let reusable =
                reusable && !slot.shared.broken.load(std::sync::atomic::Ordering::SeqCst);
            if reusable && slot.jobs_served < pool.settings.jobs_per_page {
                let started = Instant::now();
                let retired = tokio::time::timeout(RETIRE_TIMEOUT, retire(&slot)).await;
                tracing::debug!(
                    ms = started.elapsed().as_secs_f64() * 1e3,
                    "page: retiring a job's document"
                );
                let retired = match retired {
                    Ok(Ok(())) => pool.linger(&slot).await,
                    other => other,
                };
                match retired {
                    Ok(Ok(())) => {
                        let _ = pool.ready_tx.send(slot);
                        return;
                    }
                    _ if going_away(&slot) => return,
                    Ok(Err(err)) => {
                        tracing::info!("not reusing a job's page: {err:#}")
                    }
                    Err(_) => tracing::warn!("retiring a job's page timed out, replacing the page"),
                }
            }
            let browser = slot.browser.clone();
            slot.close().await;
            for attempt in 1..=3 {
                if !browser.is_alive() {
                    return;
                }
                match pool.open_slot(browser.clone()).await {
                    Ok(fresh) => {
                        let _ = pool.ready_tx.send(fresh);
                        return;
                    }
                    Err(err) => {
                        tracing::error!(attempt, "opening a replacement page failed: {err:#}")
                    }
                }
            }
        });
    }

    /// Holds a retired page until a job waits for one, or for `browser.linger_ms`; then, the pool
    /// being idle, sends the finished document to `about:blank` (within [`RETIRE_TIMEOUT`]), so
    /// that nothing of it (CSS animations, audio) runs on while the page waits. Sending every
    /// finished document to `about:blank` at once was a second navigation per job, a fifth of the
    /// stills' throughput on 2 cores (docs/benchmarks.md).
    async fn linger(&self, slot: &PageSlot) -> Result<Result<()>, tokio::time::error::Elapsed> {
        let wanted = self.demand.notified();
        tokio::pin!(wanted);
        // Registered before the count is read, so a job that starts waiting in between still
        // wakes this page.
        wanted.as_mut().enable();
        let linger = Duration::from_millis(self.settings.linger_ms);
        if !linger.is_zero() {
            let wanted_now = self.waiting.load(Ordering::SeqCst) > 0;
            if wanted_now || tokio::time::timeout(linger, wanted).await.is_ok() {
                return Ok(Ok(()));
            }
        }
        tokio::time::timeout(RETIRE_TIMEOUT, send_to_blank(slot)).await
    }

    /// Stops handing out pages and closes every browser.
    pub async fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        let mut ready = self.ready_rx.lock().await;
        ready.close();
        while let Ok(slot) = ready.try_recv() {
            drop(slot);
        }
        let browsers: Vec<_> = self
            .browsers
            .lock()
            .expect("pool lock")
            .iter_mut()
            .filter_map(Option::take)
            .collect();
        futures::future::join_all(browsers.iter().map(|browser| browser.close())).await;
    }
}

/// Retires a finished job's page, off the job path, so that nothing the job started outlives it:
///
/// 0. A page whose last navigation chromiumoxide still tracks (a frame never loaded) is replaced:
///    chromiumoxide would hold its next navigation back until its own 30 s timeout.
/// 1. A page whose browser context holds anything besides the page itself (workers, a popup,
///    a frame in another process) is not reused: it is replaced, which kills its renderer. Dedicated
///    workers outlive their document by up to two seconds (Chromium lets a busy worker run that
///    long before forcing it to stop), so navigating away is not enough for them.
/// 2. The job's init script is removed and the document's scripts are switched off
///    (`Emulation.setScriptExecutionDisabled`): no timer, animation frame, event handler or
///    promise of the job runs again. A document that does not answer within [`STOP_TIMEOUT`] (its
///    main thread loops) has its page replaced. The document itself stays until the next job's
///    navigation replaces it (that navigation switches scripts back on first), or until the page
///    has waited `browser.linger_ms` for a job and is sent to `about:blank`.
/// 3. The storage of every origin whose document is gone is cleared (see `origins.rs`), so a later
///    job can reuse it: the previous job's origin, whose document this job's navigation replaced.
///    (sessionStorage belongs to the tab and can only be cleared from a live document of its
///    origin: the next job's shim empties it, see `shim.rs`.)
async fn retire(slot: &PageSlot) -> Result<()> {
    // chromiumoxide's answer may trail the load event the job waited for by a moment.
    let pending = || {
        slot.shared
            .navigation_pending
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    let since = Instant::now();
    while pending() && since.elapsed() < NAVIGATION_ANSWER_GRACE {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if pending() {
        bail!("a frame of the job's document never finished loading; replacing its page");
    }
    let others: Vec<String> = slot
        .browser
        .targets_in(&slot.context_id)
        .await?
        .into_iter()
        // Headless Chromium may keep WebUI of its own in a window (launch.rs switches off the
        // omnibox popups, the ones Chromium 156 preloads).
        .filter(|t| {
            &t.target_id != slot.page.target_id() && !BROWSER_OWN.contains(&t.r#type.as_str())
        })
        .map(|t| format!("{} {}", t.r#type, t.url))
        .collect();
    if !others.is_empty() {
        bail!(
            "the job left {} running ({}); replacing its page",
            others.len(),
            others.join(", ")
        );
    }
    let job = std::mem::take(&mut *slot.shared.current());
    if job.init_script_unsettled {
        bail!(
            "the job stopped while its page shim was being installed, so the page may hold a \
             script of it; replacing its page"
        );
    }
    let init_script = job.init_script;
    if let Some(identifier) = init_script {
        slot.page
            .execute(RemoveScriptToEvaluateOnNewDocumentParams::new(identifier))
            .await?;
    }
    let stopped = tokio::time::timeout(
        STOP_TIMEOUT,
        slot.page
            .execute(SetScriptExecutionDisabledParams::new(true)),
    )
    .await;
    match stopped {
        Ok(result) => {
            result?;
            slot.shared.scripts_off.store(true, Ordering::SeqCst);
        }
        Err(_) => bail!(
            "the job's document did not stop its scripts within {} ms (it loops); replacing its \
             page",
            STOP_TIMEOUT.as_millis()
        ),
    }
    clear_dirty_origins(slot).await
}

/// Sends a retired page's document to `about:blank` and clears its origin, so that nothing of it
/// stays while the page waits for a job.
async fn send_to_blank(slot: &PageSlot) -> Result<()> {
    // chromiumoxide answers a `Page.navigate` once every frame of the new document has loaded.
    let stopped = tokio::time::timeout(
        STOP_TIMEOUT,
        slot.page.execute(NavigateParams::new("about:blank")),
    )
    .await;
    match stopped {
        Ok(result) => {
            result?;
        }
        Err(_) => bail!(
            "a finished job's document did not give way to about:blank within {} ms; replacing \
             its page",
            STOP_TIMEOUT.as_millis()
        ),
    }
    slot.origins.lock().expect("origin ring lock").leave();
    clear_dirty_origins(slot).await
}

/// Clears the storage of every origin of the page whose document is gone (see `origins.rs`).
async fn clear_dirty_origins(slot: &PageSlot) -> Result<()> {
    let dirty = slot.origins.lock().expect("origin ring lock").dirty();
    for origin in dirty {
        slot.page
            .execute(ClearDataForOriginParams::new(origin.clone(), "all"))
            .await?;
        slot.origins
            .lock()
            .expect("origin ring lock")
            .cleared(&origin);
    }
    Ok(())
}

/// Counts a job waiting in [`BrowserPool::acquire`] for as long as it waits, and wakes the pages
/// that linger after their jobs.
struct Waiting<'a>(&'a BrowserPool);

impl<'a> Waiting<'a> {
    fn new(pool: &'a BrowserPool) -> Self {
        pool.waiting.fetch_add(1, Ordering::SeqCst);
        pool.demand.notify_waiters();
        Self(pool)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A page held by one job. Dropping it gives the page back to the pool.
pub struct PageLease {
    slot: Option<PageSlot>,
    pool: Arc<BrowserPool>,
    tainted: AtomicBool,
}

impl PageLease {
    /// The pool the page belongs to.
    pub fn pool(&self) -> &Arc<BrowserPool> {
        &self.pool
    }

    pub fn slot(&self) -> &PageSlot {
        self.slot
            .as_ref()
            .expect("a lease holds its slot until dropped")
    }

    /// Marks the page as not safe to reuse (it timed out or misbehaved): it is replaced.
    pub fn taint(&self) {
        self.tainted.store(true, Ordering::SeqCst);
    }
}

impl Drop for PageLease {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.pool
                .release(slot, !self.tainted.load(Ordering::SeqCst));
        }
    }
}
