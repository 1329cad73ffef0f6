//! The pool: warm browser processes × pages, leased one page per job, reset between jobs off the
//! job path, replaced when they time out, crash or their browser dies.

use super::blackhole::BlackholeProxy;
use super::launch::BrowserProcess;
use super::libraries::Libraries;
use super::slot::{PageSlot, SlotJob};
use crate::config::BrowserSettings;
use crate::error::RenderError;
use anyhow::Result;
use chromiumoxide::cdp::browser_protocol::page::{NavigateParams, RemoveScriptToEvaluateOnNewDocumentParams};
use chromiumoxide::cdp::browser_protocol::storage::ClearDataForOriginParams;
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long a reset between jobs may take before the page is replaced instead.
const RESET_TIMEOUT: Duration = Duration::from_secs(3);
/// Pause between attempts to restart a browser that will not start.
const RESTART_BACKOFF: Duration = Duration::from_secs(1);

/// Warm Chromium pages, one per job slot.
pub struct BrowserPool {
    settings: BrowserSettings,
    libraries: Arc<Libraries>,
    proxy: BlackholeProxy,
    browsers: Mutex<Vec<Option<Arc<BrowserProcess>>>>,
    ready_tx: mpsc::UnboundedSender<PageSlot>,
    ready_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<PageSlot>>,
    restarts: AtomicU64,
    shutting_down: AtomicBool,
}

impl BrowserPool {
    /// Starts every browser and opens every page before returning.
    pub async fn start(settings: BrowserSettings, libraries: Arc<Libraries>) -> Result<Arc<Self>> {
        let (ready_tx, ready_rx) = mpsc::unbounded_channel();
        let pool = Arc::new(Self {
            browsers: Mutex::new(vec![None; settings.processes]),
            settings,
            libraries,
            proxy: BlackholeProxy::start().await?,
            ready_tx,
            ready_rx: tokio::sync::Mutex::new(ready_rx),
            restarts: AtomicU64::new(0),
            shutting_down: AtomicBool::new(false),
        });
        let launches = (0..pool.settings.processes).map(|index| pool.start_browser(index));
        futures::future::try_join_all(launches).await?;
        Ok(pool)
    }

    /// The libraries pages can load.
    pub fn libraries(&self) -> &Libraries {
        &self.libraries
    }

    /// Process ids of the running browsers (for operators and crash tests).
    pub fn browser_pids(&self) -> Vec<u32> {
        self.browsers.lock().expect("pool lock").iter().flatten().filter_map(|b| b.pid).collect()
    }

    /// How many times a browser was replaced after dying.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    async fn start_browser(self: &Arc<Self>, index: usize) -> Result<()> {
        let process = BrowserProcess::launch(index, &self.settings, &self.proxy.proxy_url()).await?;
        self.browsers.lock().expect("pool lock")[index] = Some(process.clone());
        let pages = (0..self.settings.pages_per_process).map(|_| PageSlot::open(process.clone(), self.libraries.clone()));
        for slot in futures::future::try_join_all(pages).await? {
            let _ = self.ready_tx.send(slot);
        }
        self.watch(process);
        Ok(())
    }

    /// Replaces the browser when its connection ends, unless the pool is shutting down.
    fn watch(self: &Arc<Self>, process: Arc<BrowserProcess>) {
        let pool = Arc::downgrade(self);
        let index = process.index;
        tokio::spawn(async move {
            process.exited().await;
            drop(process);
            let Some(pool) = pool.upgrade() else { return };
            if pool.shutting_down.load(Ordering::SeqCst) {
                return;
            }
            pool.restarts.fetch_add(1, Ordering::Relaxed);
            pool.browsers.lock().expect("pool lock")[index] = None;
            tracing::warn!(browser = index, "browser died; starting a replacement");
            while !pool.shutting_down.load(Ordering::SeqCst) {
                match pool.start_browser(index).await {
                    Ok(()) => break,
                    Err(err) => {
                        tracing::error!(browser = index, "replacement browser failed to start: {err:#}");
                        tokio::time::sleep(RESTART_BACKOFF).await;
                    }
                }
            }
        });
    }

    /// Waits for a free page until `deadline`.
    pub async fn acquire(self: &Arc<Self>, deadline: Instant) -> Result<PageLease, RenderError> {
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
            if slot.browser.is_alive() {
                return Ok(PageLease { slot: Some(slot), pool: self.clone(), tainted: AtomicBool::new(false) });
            }
            // A page of a dead browser: its replacement brings fresh pages.
        }
    }

    /// Takes a page back: reset and reused if clean, else replaced. Runs off the job path.
    fn release(self: &Arc<Self>, slot: PageSlot, reusable: bool) {
        let pool = self.clone();
        tokio::spawn(async move {
            let going_away = |slot: &PageSlot| {
                !slot.browser.is_alive() || slot.browser.is_closing() || pool.shutting_down.load(Ordering::SeqCst)
            };
            if going_away(&slot) {
                return;
            }
            if reusable {
                match tokio::time::timeout(RESET_TIMEOUT, reset(&slot)).await {
                    Ok(Ok(())) => {
                        let _ = pool.ready_tx.send(slot);
                        return;
                    }
                    _ if going_away(&slot) => return,
                    Ok(Err(err)) => tracing::warn!("page reset failed, replacing the page: {err:#}"),
                    Err(_) => tracing::warn!("page reset timed out, replacing the page"),
                }
            }
            let browser = slot.browser.clone();
            slot.close().await;
            for attempt in 1..=3 {
                if !browser.is_alive() {
                    return;
                }
                match PageSlot::open(browser.clone(), pool.libraries.clone()).await {
                    Ok(fresh) => {
                        let _ = pool.ready_tx.send(fresh);
                        return;
                    }
                    Err(err) => tracing::error!(attempt, "opening a replacement page failed: {err:#}"),
                }
            }
        });
    }

    /// Stops handing out pages and closes every browser.
    pub async fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        let mut ready = self.ready_rx.lock().await;
        ready.close();
        while let Ok(slot) = ready.try_recv() {
            drop(slot);
        }
        let browsers: Vec<_> = self.browsers.lock().expect("pool lock").iter_mut().filter_map(Option::take).collect();
        futures::future::join_all(browsers.iter().map(|browser| browser.close())).await;
    }
}

/// Returns a page to a state in which nothing of the last job is visible: a new document (no
/// globals, timers or DOM), the virtual origin's storage and the context's cookies cleared.
async fn reset(slot: &PageSlot) -> Result<()> {
    let init_script = {
        let mut job = slot.shared.job.lock().expect("slot lock");
        job.log = None;
        job.init_script.take()
    };
    if let Some(identifier) = init_script {
        slot.page.execute(RemoveScriptToEvaluateOnNewDocumentParams::new(identifier)).await?;
    }
    slot.page.execute(NavigateParams::new("about:blank")).await?;
    // A round trip through the new document proves the renderer answers before reuse.
    let href = slot.page.execute(EvaluateParams::builder().expression("location.href").return_by_value(true).build().map_err(anyhow::Error::msg)?).await?;
    anyhow::ensure!(
        href.result.result.value.as_ref().and_then(|v| v.as_str()) == Some("about:blank"),
        "page did not return to about:blank"
    );
    slot.page.execute(ClearDataForOriginParams::new(super::VIRTUAL_ORIGIN, "all")).await?;
    slot.browser.clear_cookies(slot.context_id.clone()).await?;
    *slot.shared.job.lock().expect("slot lock") = SlotJob::default();
    Ok(())
}

/// A page held by one job. Dropping it gives the page back to the pool.
pub struct PageLease {
    slot: Option<PageSlot>,
    pool: Arc<BrowserPool>,
    tainted: AtomicBool,
}

impl PageLease {
    pub fn slot(&self) -> &PageSlot {
        self.slot.as_ref().expect("a lease holds its slot until dropped")
    }

    /// Marks the page as not safe to reuse (it timed out or misbehaved): it is replaced.
    pub fn taint(&self) {
        self.tainted.store(true, Ordering::SeqCst);
    }
}

impl Drop for PageLease {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.pool.release(slot, !self.tainted.load(Ordering::SeqCst));
        }
    }
}
