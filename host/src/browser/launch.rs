//! Starting one Chromium process: offline, driven over a pipe, as an unprivileged user and in its
//! own sandbox where the machine allows, tied to this process's life.

use super::devtools::PipeBridge;
use super::procfs;
use super::settings::BrowserSettings;
use anyhow::{Context, Result, bail};
use chromiumoxide::Page;
use chromiumoxide::browser::Browser;
use chromiumoxide::cdp::IntoEventKind;
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::storage::ClearCookiesParams;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams, GetTargetsParams, TargetInfo,
};
use chromiumoxide::error::CdpError;
use chromiumoxide::handler::HandlerConfig;
use chromiumoxide::listeners::EventStream;
use futures::StreamExt;
use std::collections::{HashSet, VecDeque};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;
use tokio::sync::watch;

/// How often the watchdog checks that the Chromium process still runs, and measures the memory of
/// its renderers.
const WATCHDOG_INTERVAL: Duration = Duration::from_millis(100);

/// How long a browser gets to exit when closed.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

/// Lines of Chromium's stderr kept to explain a failed start.
const STDERR_LINES: usize = 30;

/// A profile directory no process names, older than this, was left by a killed Kiln.
const STALE_PROFILE_AGE: Duration = Duration::from_secs(30);

/// The prefix of every browser's work directory under the temp dir.
const WORKDIR_PREFIX: &str = "kiln-chromium-";

/// Flags every browser gets. Offline, no background work, no throttling of pages that are not in
/// front (every page in the pool is rendering), no back/forward cache keeping old documents alive,
/// renderer processes kept per site. `--disable-features` appears once: a second copy would
/// replace this one, so `browser.extra_args` must repeat the list to change it.
const FLAGS: &[&str] = &[
    "headless=new",
    "hide-scrollbars",
    "mute-audio",
    "remote-debugging-pipe",
    "disable-gpu",
    "disable-background-networking",
    "disable-component-update",
    "disable-sync",
    "no-first-run",
    // No window of the default context: Kiln opens every page in a context of its own, and the
    // startup window's renderer only held memory (two renderers fewer with the spare one it
    // brought: about 100 MB of the tree's PSS at two pages, docs/benchmarks.md). Playwright
    // launches the same way.
    "no-startup-window",
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
    // Every job gets its own origin on one site, and pages of different browser contexts (job
    // slots) never share a process either way, so site isolation separates nothing Kiln's pages
    // hold; it was measured to cost a third of the throughput (docs/benchmarks.md, "Site
    // isolation"), so it stays off. Per-origin processes would give each job a cold renderer.
    "disable-site-isolation-trials",
    // The omnibox popups are WebUI pages Chromium 156 preloads for every window, in a renderer of
    // their own: one per browser context, so one per page here (about 60 MB and half a CPU-second
    // each, for a popup no one sees; docs/benchmarks.md).
    "disable-features=BackForwardCache,Translate,MediaRouter,OptimizationHints,OriginKeyedProcessesByDefault,WebUIOmniboxPopup,WebUIOmniboxAimPopup",
];

/// Set once a sandboxed start failed for want of a usable sandbox: later browsers of this process
/// start without trying again.
static SANDBOX_UNAVAILABLE: AtomicBool = AtomicBool::new(false);

/// One running Chromium and the task that drives its DevTools connection. Dropping it kills the
/// process.
pub struct BrowserProcess {
    pub index: usize,
    /// Locked only for the duration of one DevTools call.
    browser: tokio::sync::Mutex<Browser>,
    pub pid: Option<u32>,
    /// Whether Chromium's own sandbox is on.
    pub sandboxed: bool,
    /// The user Chromium runs as, when it is not Kiln's own.
    pub user: Option<String>,
    alive: Arc<AtomicBool>,
    /// Set by [`Self::close`], so the end of the connection is not mistaken for a crash.
    closing: Arc<AtomicBool>,
    /// Becomes `true` when the DevTools connection ends (exit or crash); any number of tasks
    /// can wait on it.
    exited: watch::Sender<bool>,
    /// Most memory (KiB, resident and not backed by a file) one renderer may hold; 0: no limit.
    renderer_budget_kib: Arc<AtomicU64>,
    /// Renderers the watchdog killed for memory: when, and how much they held (MiB).
    memory_kills: Arc<Mutex<VecDeque<(Instant, u64)>>>,
    /// The process itself (`kill_on_drop`).
    child: tokio::sync::Mutex<tokio::process::Child>,
    _bridge: PipeBridge,
    /// Holds the launcher script and the profile; removed with the process.
    _workdir: tempfile::TempDir,
    /// When it started, for recycling by age.
    launched: Instant,
    /// Jobs its pages have served, for recycling by jobs.
    jobs_served: AtomicU64,
    /// Pages of it leased to jobs now.
    leased: AtomicU64,
    /// Set when a replacement took over: it takes no new jobs, and closes once its jobs end.
    draining: AtomicBool,
}

/// Who Chromium runs as.
#[derive(Debug, Clone)]
struct RunAs {
    name: String,
    uid: u32,
    gid: u32,
}

impl BrowserProcess {
    /// Launches Chromium with a fresh user-data-dir, all traffic sent to `proxy_url`. With the
    /// sandbox asked for but unusable on this machine, starts it without and says so once.
    pub async fn launch(
        index: usize,
        settings: &BrowserSettings,
        proxy_url: &str,
    ) -> Result<Arc<Self>> {
        let run_as = run_as(settings)?;
        // Chromium refuses to run sandboxed as root.
        let can_sandbox = settings.sandbox && !(run_as.is_none() && running_as_root());
        if can_sandbox && !SANDBOX_UNAVAILABLE.load(Ordering::SeqCst) {
            match Self::launch_once(index, settings, proxy_url, run_as.clone(), true).await {
                Ok(process) => return Ok(process),
                Err(err) if format!("{err:#}").to_lowercase().contains("sandbox") => {
                    if !SANDBOX_UNAVAILABLE.swap(true, Ordering::SeqCst) {
                        tracing::warn!(
                            "Chromium's sandbox is not usable on this machine, so browsers run \
                             without it (see docs/operations.md, \"Chromium's sandbox\"): {err:#}"
                        );
                    }
                }
                Err(err) => return Err(err),
            }
        } else if settings.sandbox && run_as.is_none() && running_as_root() {
            warn_once(
                "kiln runs as root and browser.run_as is empty: Chromium runs as root, without its sandbox",
            );
        }
        Self::launch_once(index, settings, proxy_url, run_as, false).await
    }

    async fn launch_once(
        index: usize,
        settings: &BrowserSettings,
        proxy_url: &str,
        run_as: Option<RunAs>,
        sandbox: bool,
    ) -> Result<Arc<Self>> {
        let workdir = tempfile::Builder::new().prefix(WORKDIR_PREFIX).tempdir()?;
        let profile = workdir.path().join("profile");
        let home = workdir.path().join("home");
        for dir in [&profile, &home] {
            std::fs::create_dir(dir)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            if let Some(user) = &run_as {
                std::os::unix::fs::chown(dir, Some(user.uid), Some(user.gid))
                    .with_context(|| format!("giving {} to {}", dir.display(), user.name))?;
            }
        }
        if run_as.is_some() {
            // The user may pass through to its own folders, and see nothing else here.
            std::fs::set_permissions(workdir.path(), std::fs::Permissions::from_mode(0o711))?;
        }
        let launcher = launcher(&settings.executable, workdir.path(), run_as.as_ref())?;
        let mut args: Vec<String> = FLAGS
            .iter()
            .filter(|f| !(settings.hardware_gpu && **f == "disable-gpu"))
            .map(|f| format!("--{f}"))
            .collect();
        if settings.hardware_gpu {
            args.extend(super::gpu::GPU_FLAGS.iter().map(|f| format!("--{f}")));
        }
        args.push(format!("--user-data-dir={}", profile.display()));
        args.push(format!("--proxy-server={proxy_url}"));
        if !sandbox {
            args.push("--no-sandbox".into());
        }
        args.extend(settings.extra_args.iter().map(|a| format!("--{a}")));

        let mut command = tokio::process::Command::new(&launcher);
        command
            .args(&args)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = spawn_from_launcher_thread(command)
            .await
            .with_context(|| {
                format!(
                    "starting Chromium at {} (install it with `apt-get install chromium`, or set browser.executable)",
                    settings.executable.display()
                )
            })?;
        let pid = child.id();
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(err) = child.stderr.take() {
            let lines = stderr.clone();
            tokio::spawn(async move {
                let mut reader = tokio::io::BufReader::new(err).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    tracing::trace!(browser = index, "chromium: {line}");
                    let mut lines = lines.lock().expect("stderr lock");
                    if lines.len() == STDERR_LINES {
                        lines.pop_front();
                    }
                    lines.push_back(line);
                }
            });
        }
        let to_browser = child.stdin.take().context("Chromium's command pipe")?;
        let from_browser = child.stdout.take().context("Chromium's reply pipe")?;
        let bridge = PipeBridge::start(index, to_browser, from_browser).await?;
        let handler_config = HandlerConfig {
            viewport: None,
            request_timeout: Duration::from_secs(30),
            ..HandlerConfig::default()
        };
        let (browser, mut handler) = Browser::connect_with_config(&bridge.url, handler_config)
            .await
            .context("connecting to Chromium's DevTools pipe")?;

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

        // Ready once it answers; a browser that exits first (no usable sandbox, a bad flag) says
        // why on stderr.
        let started = tokio::time::timeout(
            Duration::from_millis(settings.launch_timeout_ms),
            async {
                tokio::select! {
                    version = browser.version() => version.map(|_| ()).map_err(anyhow::Error::from),
                    status = child.wait() => {
                        // Let the stderr reader catch up with the last lines.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        let tail = stderr.lock().expect("stderr lock").iter().cloned().collect::<Vec<_>>().join("\n");
                        Err(anyhow::anyhow!(
                            "Chromium exited while starting ({}):\n{tail}",
                            status.map(|s| s.to_string()).unwrap_or_default()
                        ))
                    }
                }
            },
        )
        .await;
        match started {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                return Err(err.context(format!(
                    "starting Chromium at {}",
                    settings.executable.display()
                )));
            }
            Err(_) => bail!(
                "Chromium at {} did not answer within {} ms (browser.launch_timeout_ms)",
                settings.executable.display(),
                settings.launch_timeout_ms
            ),
        }

        let renderer_budget_kib = Arc::new(AtomicU64::new(0));
        let memory_kills = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(pid) = pid {
            let alive = alive.clone();
            let budget = renderer_budget_kib.clone();
            let kills = memory_kills.clone();
            tokio::spawn(async move {
                let mut renderers = RendererWatch::default();
                while alive.load(Ordering::SeqCst) {
                    tokio::time::sleep(WATCHDOG_INTERVAL).await;
                    if !procfs::process_running(pid) {
                        mark_dead("the Chromium process exited");
                        return;
                    }
                    let budget = budget.load(Ordering::Relaxed);
                    if budget > 0 {
                        for (renderer, kib) in renderers.over_budget(pid, budget) {
                            tracing::warn!(
                                browser = index,
                                renderer,
                                mib = kib >> 10,
                                "a renderer went over its memory budget; killing it"
                            );
                            kills
                                .lock()
                                .expect("memory kills lock")
                                .push_back((Instant::now(), kib >> 10));
                            procfs::kill(renderer);
                        }
                    }
                }
            });
        }
        tracing::info!(
            browser = index,
            pid,
            sandboxed = sandbox,
            user = run_as.as_ref().map(|u| u.name.as_str()),
            "browser started"
        );
        Ok(Arc::new(Self {
            index,
            browser: tokio::sync::Mutex::new(browser),
            pid,
            sandboxed: sandbox,
            user: run_as.map(|u| u.name),
            alive,
            closing,
            exited,
            renderer_budget_kib,
            memory_kills,
            child: tokio::sync::Mutex::new(child),
            _bridge: bridge,
            _workdir: workdir,
            launched: Instant::now(),
            jobs_served: AtomicU64::new(0),
            leased: AtomicU64::new(0),
            draining: AtomicBool::new(false),
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

    /// How long it has been running.
    pub fn age(&self) -> Duration {
        self.launched.elapsed()
    }

    /// Jobs its pages have served.
    pub fn jobs_served(&self) -> u64 {
        self.jobs_served.load(Ordering::Relaxed)
    }

    /// Counts a page leased to a job.
    pub fn lease_started(&self) {
        self.leased.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a page given back by a job, and the job served.
    pub fn lease_ended(&self) {
        self.leased.fetch_sub(1, Ordering::SeqCst);
        self.jobs_served.fetch_add(1, Ordering::Relaxed);
    }

    /// Pages of it leased to jobs now.
    pub fn leased(&self) -> u64 {
        self.leased.load(Ordering::SeqCst)
    }

    /// Takes it out of service: its pages take no new job, and it is closed once the jobs on
    /// it end (see `pool.rs`, recycling).
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether a replacement took over from it.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Memory its processes hold of their own, in MiB: the sum of each process's resident
    /// anonymous and shared memory (shared memory counted once per process that maps it, so an
    /// upper bound).
    pub fn tree_memory_mib(&self) -> u64 {
        let Some(pid) = self.pid else { return 0 };
        let mut pids = super::procfs::descendants(pid);
        pids.insert(pid);
        let kib: u64 = pids
            .into_iter()
            .filter_map(super::procfs::private_memory_kib)
            .sum();
        kib >> 10
    }

    /// Kills any renderer that holds more than `mib` MiB of its own memory (0: no limit).
    pub fn limit_renderer_memory(&self, mib: u64) {
        self.renderer_budget_kib.store(mib << 10, Ordering::Relaxed);
    }

    /// The renderer memory budget, in MiB (0: none).
    pub fn renderer_budget_mib(&self) -> u64 {
        self.renderer_budget_kib.load(Ordering::Relaxed) >> 10
    }

    /// If the watchdog killed a renderer for memory since `since`, takes that record and returns
    /// what the renderer held, in MiB.
    pub fn memory_kill_since(&self, since: Instant) -> Option<u64> {
        let mut kills = self.memory_kills.lock().expect("memory kills lock");
        while kills.front().is_some_and(|(at, _)| *at < since) {
            kills.pop_front();
        }
        kills.pop_front().map(|(_, mib)| mib)
    }

    /// Events of type `T` on the browser's own session (`Target.*` events about every target).
    pub async fn event_listener<T: IntoEventKind>(&self) -> Result<EventStream<T>> {
        Ok(self.browser.lock().await.event_listener::<T>().await?)
    }

    /// The ids of the targets (pages, workers, frames in other processes) in `context`.
    pub async fn targets_in(&self, context: &BrowserContextId) -> Result<Vec<TargetInfo>> {
        let targets = self
            .browser
            .lock()
            .await
            .execute(GetTargetsParams::default())
            .await?;
        Ok(targets
            .result
            .target_infos
            .into_iter()
            .filter(|t| t.browser_context_id.as_ref() == Some(context))
            .collect())
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
        {
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
        }
        let mut child = self.child.lock().await;
        if tokio::time::timeout(CLOSE_TIMEOUT, child.wait())
            .await
            .is_err()
        {
            let _ = child.kill().await;
        }
    }
}

/// Memory of a browser's renderers, measured each watchdog tick.
#[derive(Default)]
struct RendererWatch {
    /// Processes under the browser known to be renderers. Other processes are looked at again each
    /// tick: a renderer forked from the zygote shows the zygote's command line until it rewrites
    /// its own.
    renderers: HashSet<u32>,
}

impl RendererWatch {
    /// Renderers under `browser` holding more than `budget_kib` of anonymous and shared memory,
    /// with what they hold.
    fn over_budget(&mut self, browser: u32, budget_kib: u64) -> Vec<(u32, u64)> {
        let tree = procfs::descendants(browser);
        self.renderers.retain(|pid| tree.contains(pid));
        let mut over = Vec::new();
        for pid in tree {
            if !self.renderers.contains(&pid) {
                if !procfs::cmdline(pid).contains("--type=renderer") {
                    continue;
                }
                self.renderers.insert(pid);
            }
            if let Some(kib) = procfs::private_memory_kib(pid)
                && kib > budget_kib
            {
                over.push((pid, kib));
            }
        }
        over
    }
}

/// The user Chromium should run as: `browser.run_as` when Kiln runs as root, else none (it runs
/// as Kiln's own user).
fn run_as(settings: &BrowserSettings) -> Result<Option<RunAs>> {
    let name = settings.run_as.trim();
    if name.is_empty() || !running_as_root() {
        return Ok(None);
    }
    let user = lookup_user(name).with_context(|| {
        format!(
            "browser.run_as = {name:?}: no such user (create one, e.g. `useradd --system kiln-browser`, \
             or give uid:gid)"
        )
    })?;
    if user.uid == 0 {
        bail!("browser.run_as = {name:?} is root; name an unprivileged user");
    }
    Ok(Some(user))
}

/// `name` from /etc/passwd, or a numeric `uid[:gid]`.
fn lookup_user(name: &str) -> Result<RunAs> {
    if let Some((uid, gid)) = name
        .split_once(':')
        .map(|(u, g)| (u.parse().ok(), g.parse().ok()))
        .or_else(|| Some((name.parse().ok(), name.parse().ok())))
        && let (Some(uid), Some(gid)) = (uid, gid)
    {
        return Ok(RunAs {
            name: name.to_string(),
            uid,
            gid,
        });
    }
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.len() >= 4 && fields[0] == name)
        .and_then(|fields| {
            Some(RunAs {
                name: name.to_string(),
                uid: fields[2].parse().ok()?,
                gid: fields[3].parse().ok()?,
            })
        })
        .context("not in /etc/passwd")
}

/// Whether this process's effective user is root (Linux: `/proc/self/status`).
pub(crate) fn running_as_root() -> bool {
    procfs::status_field(std::process::id(), "Uid")
        .and_then(|uids| uids.split_whitespace().nth(1).map(|e| e == "0"))
        .unwrap_or(false)
}

fn warn_once(message: &str) {
    static WARNED: OnceLock<()> = OnceLock::new();
    WARNED.get_or_init(|| tracing::warn!("{message}"));
}

/// Starts `command` from one thread that lives as long as this process. The parent-death signal
/// (see [`launcher`]) fires when the *thread* that started a child ends, not the process: a browser
/// started from a test's thread, or a runtime thread that winds down, would be killed with it.
async fn spawn_from_launcher_thread(
    command: tokio::process::Command,
) -> std::io::Result<tokio::process::Child> {
    type Request = (
        tokio::process::Command,
        tokio::runtime::Handle,
        tokio::sync::oneshot::Sender<std::io::Result<tokio::process::Child>>,
    );
    static LAUNCHER: OnceLock<Mutex<std::sync::mpsc::Sender<Request>>> = OnceLock::new();
    let sender = LAUNCHER.get_or_init(|| {
        let (sender, requests) = std::sync::mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("kiln-browser-launcher".into())
            .spawn(move || {
                for (mut command, runtime, reply) in requests {
                    // tokio's process support needs the caller's runtime.
                    let _entered = runtime.enter();
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("starting the browser launcher thread");
        Mutex::new(sender)
    });
    let (reply, spawned) = tokio::sync::oneshot::channel();
    sender
        .lock()
        .expect("launcher lock")
        .send((command, tokio::runtime::Handle::current(), reply))
        .map_err(|_| std::io::Error::other("the browser launcher thread is gone"))?;
    spawned
        .await
        .map_err(|_| std::io::Error::other("the browser launcher thread is gone"))?
}

/// A launcher script that gives Chromium its DevTools pipe (our stdin as its fd 3, our stdout as
/// its fd 4), drops to `run_as`, and sets a parent-death signal (`setpriv`, from util-linux), so
/// the kernel kills the browser whenever this process dies, however it dies — `kill -9` and test
/// binaries that never drop their pools included. Each step `exec`s, so the pid Kiln sees is
/// Chromium's.
fn launcher(chromium: &Path, workdir: &Path, run_as: Option<&RunAs>) -> Result<PathBuf> {
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists());
    let quoted = format!(
        "'{}'",
        chromium.display().to_string().replace('\'', r"'\''")
    );
    let prefix = match (setpriv, run_as) {
        (Some(setpriv), Some(user)) => format!(
            "{} --reuid={} --regid={} --clear-groups --pdeathsig KILL --",
            setpriv.display(),
            user.uid,
            user.gid
        ),
        (Some(setpriv), None) => format!("{} --pdeathsig KILL --", setpriv.display()),
        (None, Some(user)) => bail!(
            "running Chromium as {} (browser.run_as) needs setpriv from util-linux",
            user.name
        ),
        (None, None) => {
            warn_once(
                "setpriv (util-linux) not found: browsers will outlive a killed kiln process",
            );
            String::new()
        }
    };
    let script =
        format!("#!/bin/sh\nexec {prefix} {quoted} \"$@\" 3<&0 4>&1 </dev/null >/dev/null\n");
    let launcher = workdir.join("chromium");
    std::fs::write(&launcher, script).with_context(|| format!("writing {}", launcher.display()))?;
    std::fs::set_permissions(&launcher, std::fs::Permissions::from_mode(0o700))?;
    Ok(launcher)
}

/// Removes browser work directories (`<tmp>/kiln-chromium-*`) that no running process uses: what
/// a Kiln killed with `kill -9` left behind. A directory is in use while some process's command
/// line names it (its Chromium's `--user-data-dir`); one younger than a few seconds may be a
/// browser of another Kiln still starting, and is left alone.
pub fn remove_stale_profiles() {
    let tmp = std::env::temp_dir();
    let Ok(entries) = std::fs::read_dir(&tmp) else {
        return;
    };
    let candidates: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(WORKDIR_PREFIX))
        .map(|e| e.path())
        .filter(|path| {
            std::fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age > STALE_PROFILE_AGE)
        })
        .collect();
    if candidates.is_empty() {
        return;
    }
    let in_use = procfs::all_cmdlines();
    for dir in candidates {
        let name = dir.display().to_string();
        if in_use.iter().any(|cmdline| cmdline.contains(&name)) {
            continue;
        }
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => tracing::info!("removed {name}, left by a browser whose Kiln was killed"),
            Err(err) => tracing::debug!("could not remove stale {name}: {err}"),
        }
    }
}
