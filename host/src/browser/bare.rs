//! A bare Chromium to measure Kiln against: the one public way into this module's browsers that
//! is not a job's.
//!
//! [`BareBrowser`] is launched exactly as the pool launches its processes (the same flags, the
//! DevTools pipe, the user and sandbox, every request sent to a black-hole proxy), and hands out
//! plain chromiumoxide pages, each in a browser context of its own as the pool's page slots are.
//! Nothing of the pool is around them: no interception, origin ring, retiring, watchdog or limits.
//! `kiln-bench` runs its "floor" (a bare page loop) and its frame-capture measurements on it, so
//! that what it compares Kiln with differs from Kiln by Kiln's machinery alone
//! (docs/benchmarks.md). The rest here is what such a loop needs to serve pages as Kiln does: the
//! job origin scheme, the library path and headers, and the script a job's page starts with.
//!
//! Jobs never use it: their pages come from [`super::BrowserPool`].

use super::blackhole::BlackholeProxy;
use super::launch::BrowserProcess;
use super::settings::BrowserSettings;
use anyhow::Result;
use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::fetch::HeaderEntry;
use std::sync::Arc;

pub use super::libraries::LIBRARY_PATH;
pub use super::origins::{job_origin, split_job_url};

/// Bare browsers are numbered from here in logs, far from the pool's `0..processes`.
const BARE_INDEX: usize = 900;

/// One Chromium launched as the pool launches its processes, without the pool.
pub struct BareBrowser {
    process: Arc<BrowserProcess>,
    /// Where the browser's traffic goes; it lives as long as the browser.
    _proxy: BlackholeProxy,
}

impl BareBrowser {
    /// Launches Chromium with `settings` (`[browser]`: executable, user, sandbox, extra flags),
    /// as the pool would.
    pub async fn launch(settings: &BrowserSettings) -> Result<Self> {
        let proxy = BlackholeProxy::start().await?;
        let process = BrowserProcess::launch(BARE_INDEX, settings, &proxy.proxy_url()).await?;
        Ok(Self {
            process,
            _proxy: proxy,
        })
    }

    /// A blank page in a new browser context of its own (its own cookies, storage and cache).
    pub async fn open_page(&self) -> Result<Page> {
        let (_context, page) = self.process.open_isolated_page().await?;
        Ok(page)
    }

    /// Closes the browser and waits for its process to exit (dropping it kills the process).
    pub async fn close(self) {
        self.process.close().await;
    }
}

/// The script Kiln installs in a job's page before any script of the page runs: `Math.random`
/// seeded with `seed` (when given), the refusals and switches every job page gets, and with
/// `virtual_clock` the clock recordings step (`window.__kilnClock`), held at 0 until advanced.
/// Console lines are capped at `jobs.max_console_lines`' default.
pub fn page_script(seed: Option<u64>, virtual_clock: bool) -> String {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let console_lines = crate::jobs::JobSettings::default().max_console_lines;
    super::shim::init_script(seed, &nonce, virtual_clock, console_lines)
}

/// The response headers Kiln serves a library with (immutable, so Blink's memory cache keeps it
/// and its compiled code for the next document on the same origin).
pub fn library_headers() -> Vec<HeaderEntry> {
    super::intercept::library_headers()
}
