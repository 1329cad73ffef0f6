//! Starting one Chromium process.

use super::settings::BrowserSettings;
use anyhow::{Context, Result};
use chromiumoxide::Page;
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::storage::ClearCookiesParams;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::error::CdpError;
use futures::StreamExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// How often the watchdog checks that the Chromium process still runs.
const WATCHDOG_INTERVAL: Duration = Duration::from_millis(250);

/// How long a browser gets to exit when closed.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

/// Flags every browser gets. Offline, no background work, no throttling of pages that are not in
/// front (every page in the pool is rendering), no back/forward cache keeping old documents alive,
/// renderer processes kept per site. `--disable-features` appears once: a second copy would
/// replace this one, so `browser.extra_args` must repeat the list to change it.
const FLAGS: &[&str] = &[
    "disable-gpu",
    "disable-background-networking",
    "disable-component-update",
    "disable-sync",
    "no-first-run",
    "no-default-browser-check",
    "disable-dev-shm-usage",
    "disable-background-timer-throttling",
    "disable-renderer-backgrounding",
    "disable-backgrounding-occluded-windows",
    "disable-breakpad",
    "disable-extensions",
    "metrics-recording-only",
    "password-store=basic",
    "use-mock-keychain",
    "force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "proxy-bypass-list=<-loopback>",
    // Every job gets its own origin on one site; per-origin and per-site process models would give
    // each job a cold renderer process (measured: +45–70 ms a job). Pages of different browser
    // contexts (job slots) never share a process either way. See docs/architecture.md.
    "disable-site-isolation-trials",
    "disable-features=BackForwardCache,Translate,MediaRouter,OptimizationHints,OriginKeyedProcessesByDefault",
];

/// One running Chromium and the task that drives its DevTools connection. Dropping it kills the
/// process (chromiumoxide spawns it with `kill_on_drop`).
pub struct BrowserProcess {
    pub index: usize,
    /// Locked only for the duration of one DevTools call.
    browser: tokio::sync::Mutex<Browser>,
    pub pid: Option<u32>,
    alive: Arc<AtomicBool>,
    /// Set by [`Self::close`], so the end of the connection is not mistaken for a crash.
    closing: Arc<AtomicBool>,
    /// Becomes `true` when the DevTools connection ends (exit or crash); any number of tasks
    /// can wait on it.
    exited: watch::Sender<bool>,
    /// Holds the launcher script and the profile; removed with the process.
    _workdir: tempfile::TempDir,
}

impl BrowserProcess {
    /// Launches Chromium with a fresh user-data-dir, all traffic sent to `proxy_url`.
    pub async fn launch(
        index: usize,
        settings: &BrowserSettings,
        proxy_url: &str,
    ) -> Result<Arc<Self>> {
        let workdir = tempfile::Builder::new()
            .prefix("kiln-chromium-")
            .tempdir()?;
        let profile = workdir.path().join("profile");
        let executable = tied_to_this_process(&settings.executable, workdir.path())?;
        let mut args: Vec<String> = FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("proxy-server={proxy_url}"));
        args.extend(settings.extra_args.iter().cloned());
        let config = BrowserConfig::builder()
            .chrome_executable(&executable)
            .disable_default_args()
            .new_headless_mode()
            .no_sandbox()
            .viewport(None)
            .user_data_dir(&profile)
            .launch_timeout(Duration::from_millis(settings.launch_timeout_ms))
            .request_timeout(Duration::from_secs(30))
            .args(args)
            .build()
            .map_err(|e| anyhow::anyhow!("invalid browser configuration: {e}"))?;
        let (mut browser, mut handler) = Browser::launch(config).await.with_context(|| {
            format!(
                "starting Chromium at {} (install it with `apt-get install chromium`, or set browser.executable)",
                settings.executable.display()
            )
        })?;
        let pid = browser
            .get_mut_child()
            .and_then(|child| child.as_mut_inner().id());

        let alive = Arc::new(AtomicBool::new(true));
        let closing = Arc::new(AtomicBool::new(false));
        let exited = watch::Sender::new(false);
        let (alive_flag, closing_flag, exited_signal) =
            (alive.clone(), closing.clone(), exited.clone());
        let mark_dead = move |why: &str| {
            if alive_flag.swap(false, Ordering::SeqCst) {
                exited_signal.send_replace(true);
                if closing_flag.load(Ordering::SeqCst) {
                    tracing::debug!(browser = index, "browser closed");
                } else {
                    tracing::warn!(browser = index, "browser lost: {why}");
                }
            }
        };
        let on_handler_end = mark_dead.clone();
        tokio::spawn(async move {
            // chromiumoxide 0.9.1 never ends this stream when the socket closes (it returns
            // Pending); a connection error is the signal instead, and the watchdog below the
            // backstop. Unparseable CDP messages are skipped.
            while let Some(event) = handler.next().await {
                match event {
                    Ok(()) | Err(CdpError::InvalidMessage(..)) => {}
                    Err(err) => {
                        on_handler_end(&format!("DevTools connection error: {err}"));
                        return;
                    }
                }
            }
            on_handler_end("DevTools connection closed");
        });
        if let Some(pid) = pid {
            let alive = alive.clone();
            tokio::spawn(async move {
                while alive.load(Ordering::SeqCst) {
                    tokio::time::sleep(WATCHDOG_INTERVAL).await;
                    if !process_running(pid) {
                        mark_dead("the Chromium process exited");
                    }
                }
            });
        }
        tracing::info!(browser = index, pid, "browser started");
        Ok(Arc::new(Self {
            index,
            browser: tokio::sync::Mutex::new(browser),
            pid,
            alive,
            closing,
            exited,
            _workdir: workdir,
        }))
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Resolves once the browser's connection has ended (at once if it already has).
    pub async fn exited(&self) {
        let mut exited = self.exited.subscribe();
        let _ = exited.wait_for(|gone| *gone).await;
    }

    /// Whether [`Self::close`] was called: its pages are going away on purpose.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Opens a blank page in a new browser context of its own (own cookies, storage, cache).
    pub async fn open_isolated_page(&self) -> Result<(BrowserContextId, Page)> {
        let browser = self.browser.lock().await;
        let context_id = browser
            .create_browser_context(CreateBrowserContextParams::default())
            .await
            .context("creating a browser context")?;
        let target = CreateTargetParams::builder()
            .url("about:blank")
            .browser_context_id(context_id.clone())
            .build()
            .map_err(anyhow::Error::msg)?;
        let page = browser.new_page(target).await.context("opening a page")?;
        Ok((context_id, page))
    }

    /// Disposes a browser context and everything in it.
    pub async fn dispose_context(&self, context_id: BrowserContextId) -> Result<()> {
        self.browser
            .lock()
            .await
            .dispose_browser_context(context_id)
            .await?;
        Ok(())
    }

    /// Clears the cookies of one browser context.
    pub async fn clear_cookies(&self, context_id: BrowserContextId) -> Result<()> {
        let params = ClearCookiesParams::builder()
            .browser_context_id(context_id)
            .build();
        self.browser.lock().await.execute(params).await?;
        Ok(())
    }

    /// Closes the browser and waits for the process to exit (killing it if it will not).
    pub async fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        let mut browser = self.browser.lock().await;
        if tokio::time::timeout(CLOSE_TIMEOUT, browser.close())
            .await
            .is_err()
        {
            tracing::warn!(
                browser = self.index,
                "browser did not close in time; killing it"
            );
        }
        if tokio::time::timeout(CLOSE_TIMEOUT, browser.wait())
            .await
            .is_err()
        {
            let _ = browser.kill().await;
        }
    }
}

/// A launcher that runs `chromium` with a parent-death signal (`setpriv --pdeathsig KILL`, from
/// util-linux), so the kernel kills the browser whenever this process dies, however it dies —
/// `kill -9` and test binaries that never drop their pools included. Each step `exec`s, so the
/// pid chromiumoxide sees is Chromium's. Without setpriv, Chromium is started directly and a
/// warning says what is lost.
fn tied_to_this_process(chromium: &Path, workdir: &Path) -> Result<PathBuf> {
    let Some(setpriv) = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())
    else {
        tracing::warn!(
            "setpriv (util-linux) not found: browsers will outlive a killed kiln process"
        );
        return Ok(chromium.to_path_buf());
    };
    let quoted = format!(
        "'{}'",
        chromium.display().to_string().replace('\'', r"'\''")
    );
    let script = format!(
        "#!/bin/sh\nexec {} --pdeathsig KILL -- {quoted} \"$@\"\n",
        setpriv.display()
    );
    let launcher = workdir.join("chromium");
    std::fs::write(&launcher, script).with_context(|| format!("writing {}", launcher.display()))?;
    std::fs::set_permissions(&launcher, std::fs::Permissions::from_mode(0o755))?;
    Ok(launcher)
}

/// Whether `pid` is a live process (not gone, not a zombie). Linux: reads `/proc/<pid>/stat`.
fn process_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the parenthesised command name.
        Ok(stat) => {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                != Some("Z")
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::process_running;

    #[test]
    fn this_process_runs_and_a_reaped_child_does_not() {
        assert!(process_running(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!process_running(pid));
    }
}
