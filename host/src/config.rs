//! Configuration: defaults that work on one small machine, a TOML file, and `KILN_*` variables.
//!
//! Every limit Kiln enforces is named here and documented in `docs/operations.md`.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Everything `kiln` can be told. Missing keys take the defaults below.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where artifacts (with the default store), the compiled-plugin cache and plugins live.
    pub data_dir: PathBuf,
    /// Directories of plugin `.wasm` files. Default: `<data_dir>/plugins`.
    pub plugin_dirs: Vec<PathBuf>,
    /// The `node_modules` folder holding the page libraries (p5) installed from npm.
    pub libraries_dir: PathBuf,
    pub browser: BrowserSettings,
    pub jobs: JobSettings,
    pub plugins: PluginSettings,
    pub storage: StorageSettings,
    pub service: ServiceSettings,
    pub queue: QueueSettings,
}

/// Where accepted jobs wait: the embedded queue (default) or Redis Streams shared by many
/// machines, and how failed attempts are retried.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueSettings {
    /// `redis://host:port[/db]` to share one queue between `kiln serve` and any number of
    /// `kiln worker` processes; unset, jobs wait in `<data_dir>/queue.redb`.
    pub url: Option<String>,
    /// Prefix of every Redis key Kiln uses (see docs/operations.md for the layout).
    pub prefix: String,
    /// Attempts a job gets, crashes of its worker included; after the last one it fails and is
    /// listed as a dead letter.
    pub max_attempts: u32,
    /// Wait before a job that failed as `unavailable` runs again, in milliseconds; doubled for
    /// each attempt after.
    pub retry_backoff_ms: u64,
    /// A running Redis job whose worker has not renewed its lease for this long is taken over
    /// by another worker, in milliseconds. Workers renew every third of it.
    pub lease_ms: u64,
    /// How often an idle worker looks at Redis for jobs submitted by other processes, in
    /// milliseconds (submissions through this process wake it at once).
    pub poll_ms: u64,
    /// How long Redis keeps a finished job's record and result list, in seconds.
    pub record_ttl_s: u64,
    /// How long a succeeded job's artifacts answer a resubmission of the same
    /// (type, plugin version, input), in seconds; 0 turns the result cache off.
    pub cache_ttl_s: u64,
    /// The Redis list emprops-style clients LPUSH jobs onto (full key; empty turns it off).
    pub emprops_list: String,
}

/// `kiln serve`: the HTTP API, the queue and the workers.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceSettings {
    /// Address the HTTP API listens on; port 0 picks a free one (printed at start).
    pub listen: String,
    /// Jobs this process runs at once; 0 means one per browser page.
    pub workers: usize,
    /// Jobs that may wait in the queue, both lanes together; more are answered 429.
    pub max_queued: u64,
    /// Largest request body in bytes; larger is answered 413.
    pub max_body_bytes: usize,
    /// Longest `?wait=` a request may hold, in seconds.
    pub max_wait_s: u64,
    /// The `Retry-After` a 429 answers with, in seconds.
    pub retry_after_s: u64,
    /// Largest plugin upload (`PUT /plugins/{name}`) in bytes.
    pub max_plugin_bytes: usize,
    /// Bearer token of the admin routes (plugin uploads, dead letters); without it they are
    /// off. It also passes wherever a submit token does.
    pub admin_token: Option<String>,
    /// Bearer tokens that may submit and cancel jobs. Empty (the default): submitting needs no
    /// token.
    pub submit_tokens: Vec<String>,
    /// Key of the HMAC-SHA256 signature on webhook deliveries; without it, jobs with a
    /// `callback` are refused.
    pub webhook_secret: Option<String>,
    /// Deliveries tried per webhook before it is abandoned.
    pub webhook_attempts: u32,
    /// Wait before the second delivery, in milliseconds; doubled for each one after.
    pub webhook_backoff_ms: u64,
    /// Time one delivery may take, in milliseconds.
    pub webhook_timeout_ms: u64,
}

/// The Chromium pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrowserSettings {
    /// The Chromium binary. Debian's real binary, not the `/usr/bin/chromium` wrapper script.
    pub executable: PathBuf,
    /// Browser processes kept warm.
    pub processes: usize,
    /// Pages per process; each page is one job slot.
    pub pages_per_process: usize,
    /// Jobs one page serves before it is replaced by a fresh page in a fresh context (bounds what
    /// accumulates per page: history entries, cookies of finished jobs' origins).
    pub jobs_per_page: u32,
    /// How long a browser may take to start, in milliseconds.
    pub launch_timeout_ms: u64,
    /// Extra Chromium flags (without the leading `--`).
    pub extra_args: Vec<String>,
    /// The user Chromium runs as when Kiln runs as root: a name from /etc/passwd or `uid:gid`.
    /// Empty keeps root (and then Chromium cannot use its sandbox). Ignored when Kiln is not
    /// root: Chromium runs as Kiln's own user.
    pub run_as: String,
    /// Chromium's own sandbox (namespaces and seccomp-bpf around every renderer). When the machine
    /// cannot give it (no unprivileged user namespaces), browsers start without it and Kiln logs a
    /// warning once; `false` never tries.
    pub sandbox: bool,
}

/// Limits on every job.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobSettings {
    /// Wall-clock budget of one job attempt, in milliseconds.
    pub timeout_ms: u64,
    /// Largest width or height, in CSS pixels.
    pub max_dimension: u32,
    /// Largest width × height × scale² of one capture.
    pub max_pixels: u64,
    /// Extra attempts for a job that failed as `unavailable` (e.g. its browser crashed).
    pub unavailable_retries: u32,
    /// Most frames in one recording or baked tape.
    pub max_frames: u32,
    /// Largest frames × pixels per frame (after scale) of one recording or tape: bounds the
    /// encoders' work, whatever the frame count and size.
    pub max_frame_pixels: u64,
    /// Largest object a plugin may read from the store (`storage.get`), in bytes.
    pub max_read_bytes: u64,
    /// Longest one recorded frame may take (advancing the clock and capturing), in
    /// milliseconds; a frame past it fails the recording as `timeout` naming the frame.
    pub frame_timeout_ms: u64,
    /// Memory one page's renderer process may hold of its own (anonymous and shared resident
    /// memory: the JS heap, array buffers, canvases, workers), in MiB. A renderer over it is
    /// killed and its job fails as `piece-failed`; 0 turns the limit off.
    pub max_page_memory_mib: u64,
    /// Console calls one page document makes that are logged; later ones are dropped in the page
    /// (so a logging loop costs nothing) and one line says so.
    pub max_console_lines: u32,
}

/// How plugins are loaded, what they are granted, and the sandbox limits of every instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginSettings {
    /// Linear memory one plugin instance may grow to, in MiB.
    pub memory_mib: u64,
    /// CPU time the plugin's own code may use per job, in milliseconds (host calls excluded).
    pub cpu_ms: u64,
    /// Bytes one job may store across all its artifacts.
    pub max_artifact_bytes: u64,
    /// Pages one job may have open at once.
    pub max_pages: u32,
    /// How often the plugin directories are scanned for new, changed and removed `.wasm` files,
    /// in milliseconds; 0 turns hot-loading off.
    pub watch_interval_ms: u64,
    /// Capabilities (`browser`, `media`, `storage`) granted to a plugin that neither
    /// `per_plugin` nor the built-in defaults name.
    pub default_grants: Vec<String>,
    /// Grants and limits per plugin name; a key set here replaces the value above for that
    /// plugin.
    pub per_plugin: BTreeMap<String, PluginOverrides>,
}

/// One plugin's own grants and limits. Unset keys fall back to `[plugins]` (and, for `grants`,
/// to the built-in defaults).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginOverrides {
    /// Capabilities granted: any of `browser`, `media`, `storage`.
    pub grants: Option<Vec<String>>,
    /// Directories the plugin may read through WASI, guest path → host path. Read-only,
    /// preopened with cap-std; nothing else of the file system is visible.
    pub dirs: BTreeMap<String, PathBuf>,
    pub memory_mib: Option<u64>,
    pub cpu_ms: Option<u64>,
    /// Wall-clock budget of one attempt of this plugin's jobs, in milliseconds.
    pub timeout_ms: Option<u64>,
    pub max_artifact_bytes: Option<u64>,
    pub max_pages: Option<u32>,
}

/// Where artifacts go, how storage requests are bounded, and whether public URLs are checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    /// Store URL: `file:///dir`, `s3://bucket[/prefix]`, `az://container[/prefix]` (or
    /// `azure://`), `gs://bucket[/prefix]`. Default: `file://<data_dir>/artifacts`.
    pub url: Option<String>,
    /// Public base URL that clients fetch artifacts from (a CDN); `<base>/<key>`.
    pub public_base_url: Option<String>,
    /// Options for a remote store's client, on top of its standard environment variables
    /// (`AWS_*`, `AZURE_*`, `GOOGLE_*`): e.g. `aws_endpoint`, `aws_region`, `aws_allow_http`,
    /// `aws_access_key_id`. An unknown key is an error that names it.
    pub options: BTreeMap<String, String>,
    /// Time one request to a remote store may take, in milliseconds.
    pub request_timeout_ms: u64,
    /// Extra tries of a remote storage request after a connection error, a 5xx or a 429.
    pub max_retries: usize,
    /// Wait before the first retry of a storage request, in milliseconds; doubled after each.
    pub retry_backoff_ms: u64,
    /// Longest wait between retries of a storage request, in milliseconds.
    pub retry_max_backoff_ms: u64,
    /// No retry of a storage request starts this long after its first try, in milliseconds.
    pub retry_timeout_ms: u64,
    /// After each put, `HEAD <public_base_url>/<key>` until it answers 200 before the artifact
    /// is reported (a CDN serves it). Needs `public_base_url`.
    pub verify_public_url: bool,
    /// HEAD requests tried per artifact before the put fails as `unavailable`.
    pub verify_attempts: u32,
    /// Wait before the second HEAD, in milliseconds; doubled after each.
    pub verify_backoff_ms: u64,
    /// Longest wait between two HEADs, in milliseconds.
    pub verify_max_backoff_ms: u64,
    /// Time one HEAD may take, in milliseconds.
    pub verify_timeout_ms: u64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            url: None,
            public_base_url: None,
            options: BTreeMap::new(),
            request_timeout_ms: 20_000,
            max_retries: 2,
            retry_backoff_ms: 100,
            retry_max_backoff_ms: 1000,
            retry_timeout_ms: 5000,
            verify_public_url: false,
            verify_attempts: 10,
            verify_backoff_ms: 100,
            verify_max_backoff_ms: 1000,
            verify_timeout_ms: 1000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from(".kiln"),
            plugin_dirs: Vec::new(),
            libraries_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/web/node_modules")),
            browser: BrowserSettings::default(),
            jobs: JobSettings::default(),
            plugins: PluginSettings::default(),
            storage: StorageSettings::default(),
            service: ServiceSettings::default(),
            queue: QueueSettings::default(),
        }
    }
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            url: None,
            prefix: "kiln".into(),
            max_attempts: 3,
            retry_backoff_ms: 1000,
            lease_ms: 30_000,
            poll_ms: 100,
            record_ttl_s: 7 * 24 * 3600,
            cache_ttl_s: 24 * 3600,
            emprops_list: "kiln:emprops:jobs".into(),
        }
    }
}

impl Default for ServiceSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            workers: 0,
            max_queued: 1000,
            max_body_bytes: 1 << 20,
            max_wait_s: 120,
            retry_after_s: 5,
            max_plugin_bytes: 64 << 20,
            admin_token: None,
            submit_tokens: Vec::new(),
            webhook_secret: None,
            webhook_attempts: 5,
            webhook_backoff_ms: 1000,
            webhook_timeout_ms: 10_000,
        }
    }
}

impl Default for BrowserSettings {
    fn default() -> Self {
        Self {
            executable: PathBuf::from("/usr/lib/chromium/chromium"),
            processes: 1,
            pages_per_process: 2,
            jobs_per_page: 200,
            launch_timeout_ms: 20_000,
            extra_args: Vec::new(),
            run_as: "nobody".into(),
            sandbox: true,
        }
    }
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            timeout_ms: 30_000,
            max_dimension: 8192,
            max_pixels: 16_777_216,
            unavailable_retries: 1,
            max_frames: 3600,
            max_frame_pixels: 2_000_000_000,
            max_read_bytes: 256 << 20,
            frame_timeout_ms: 10_000,
            max_page_memory_mib: 512,
            max_console_lines: 200,
        }
    }
}

impl Default for PluginSettings {
    fn default() -> Self {
        Self {
            memory_mib: 256,
            cpu_ms: 10_000,
            max_artifact_bytes: 256 << 20,
            max_pages: 4,
            watch_interval_ms: 250,
            default_grants: vec!["media".into(), "storage".into()],
            per_plugin: BTreeMap::new(),
        }
    }
}

impl Config {
    /// Defaults, then the TOML file (if given), then `KILN_*` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Self> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("parsing config file {}", path.display()))?
            }
            None => Config::default(),
        };
        config.apply_env(|key| std::env::var(key).ok())?;
        Ok(config)
    }

    /// Applies `KILN_*` overrides read through `var`.
    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<()> {
        fn parse<T: std::str::FromStr>(key: &str, value: String) -> Result<T>
        where
            T::Err: std::fmt::Display,
        {
            value
                .parse()
                .map_err(|e| anyhow::anyhow!("{key}={value:?} is not valid: {e}"))
        }
        if let Some(v) = var("KILN_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = var("KILN_PLUGIN_DIRS") {
            self.plugin_dirs = std::env::split_paths(&v).collect();
        }
        if let Some(v) = var("KILN_LIBRARIES_DIR") {
            self.libraries_dir = v.into();
        }
        if let Some(v) = var("KILN_CHROMIUM") {
            self.browser.executable = v.into();
        }
        if let Some(v) = var("KILN_BROWSER_PROCESSES") {
            self.browser.processes = parse("KILN_BROWSER_PROCESSES", v)?;
        }
        if let Some(v) = var("KILN_PAGES_PER_PROCESS") {
            self.browser.pages_per_process = parse("KILN_PAGES_PER_PROCESS", v)?;
        }
        if let Some(v) = var("KILN_JOB_TIMEOUT_MS") {
            self.jobs.timeout_ms = parse("KILN_JOB_TIMEOUT_MS", v)?;
        }
        if let Some(v) = var("KILN_STORAGE_URL") {
            self.storage.url = Some(v);
        }
        if let Some(v) = var("KILN_STORAGE_PUBLIC_BASE_URL") {
            self.storage.public_base_url = Some(v);
        }
        if let Some(v) = var("KILN_STORAGE_VERIFY_PUBLIC_URL") {
            self.storage.verify_public_url = parse("KILN_STORAGE_VERIFY_PUBLIC_URL", v)?;
        }
        if let Some(v) = var("KILN_LISTEN") {
            self.service.listen = v;
        }
        if let Some(v) = var("KILN_ADMIN_TOKEN") {
            self.service.admin_token = Some(v);
        }
        if let Some(v) = var("KILN_WEBHOOK_SECRET") {
            self.service.webhook_secret = Some(v);
        }
        if let Some(v) = var("KILN_WORKERS") {
            self.service.workers = parse("KILN_WORKERS", v)?;
        }
        if let Some(v) = var("KILN_SUBMIT_TOKENS") {
            self.service.submit_tokens = v
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect();
        }
        if let Some(v) = var("KILN_QUEUE_URL") {
            self.queue.url = Some(v);
        }
        if let Some(v) = var("KILN_QUEUE_PREFIX") {
            self.queue.prefix = v;
        }
        if let Some(v) = var("KILN_QUEUE_LEASE_MS") {
            self.queue.lease_ms = parse("KILN_QUEUE_LEASE_MS", v)?;
        }
        if let Some(v) = var("KILN_QUEUE_MAX_ATTEMPTS") {
            self.queue.max_attempts = parse("KILN_QUEUE_MAX_ATTEMPTS", v)?;
        }
        if let Some(v) = var("KILN_QUEUE_RETRY_BACKOFF_MS") {
            self.queue.retry_backoff_ms = parse("KILN_QUEUE_RETRY_BACKOFF_MS", v)?;
        }
        if let Some(v) = var("KILN_CACHE_TTL_S") {
            self.queue.cache_ttl_s = parse("KILN_CACHE_TTL_S", v)?;
        }
        Ok(())
    }

    /// The plugin directories in force.
    pub fn plugin_dirs(&self) -> Vec<PathBuf> {
        if self.plugin_dirs.is_empty() {
            vec![self.data_dir.join("plugins")]
        } else {
            self.plugin_dirs.clone()
        }
    }

    /// Checks values that would make the service unusable, naming the key.
    pub fn validate(&self) -> Result<()> {
        anyhow::ensure!(
            self.browser.processes >= 1,
            "browser.processes must be at least 1"
        );
        anyhow::ensure!(
            self.browser.pages_per_process >= 1,
            "browser.pages_per_process must be at least 1"
        );
        anyhow::ensure!(
            self.queue.max_attempts >= 1,
            "queue.max_attempts must be at least 1"
        );
        anyhow::ensure!(
            self.queue.lease_ms >= 1000,
            "queue.lease_ms must be at least 1000"
        );
        anyhow::ensure!(
            self.queue.poll_ms >= 10,
            "queue.poll_ms must be at least 10"
        );
        if let Some(url) = &self.queue.url {
            anyhow::ensure!(
                url.starts_with("redis://") || url.starts_with("rediss://"),
                "queue.url {url:?} must be a redis:// or rediss:// URL (leave it unset for the embedded queue)"
            );
        }
        anyhow::ensure!(
            self.jobs.timeout_ms >= 100,
            "jobs.timeout_ms must be at least 100"
        );
        anyhow::ensure!(
            self.plugins.memory_mib >= 16,
            "plugins.memory_mib must be at least 16"
        );
        crate::plugins::check_grant_names(&self.plugins.default_grants)
            .context("plugins.default_grants")?;
        for (name, overrides) in &self.plugins.per_plugin {
            if let Some(grants) = &overrides.grants {
                crate::plugins::check_grant_names(grants)
                    .with_context(|| format!("plugins.per_plugin.{name}.grants"))?;
            }
            if let Some(memory) = overrides.memory_mib {
                anyhow::ensure!(
                    memory >= 16,
                    "plugins.per_plugin.{name}.memory_mib must be at least 16"
                );
            }
            if let Some(timeout) = overrides.timeout_ms {
                anyhow::ensure!(
                    timeout >= 100,
                    "plugins.per_plugin.{name}.timeout_ms must be at least 100"
                );
            }
            for guest in overrides.dirs.keys() {
                anyhow::ensure!(
                    guest.starts_with('/'),
                    "plugins.per_plugin.{name}.dirs: guest path {guest:?} must be absolute"
                );
            }
        }
        crate::storage::check_settings(&self.storage)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_only_what_it_names() {
        let config: Config = toml::from_str("[jobs]\ntimeout_ms = 5000\n").unwrap();
        assert_eq!(config.jobs.timeout_ms, 5000);
        assert_eq!(config.jobs.max_dimension, 8192);
    }

    #[test]
    fn per_plugin_grants_and_limits_parse_and_bad_grants_are_named() {
        let config: Config = toml::from_str(
            "[plugins.per_plugin.poster-card]\ngrants = [\"browser\", \"storage\"]\nmemory_mib = 64\n\
             dirs = { \"/fonts\" = \"/usr/share/fonts\" }\n",
        )
        .unwrap();
        let poster = &config.plugins.per_plugin["poster-card"];
        assert_eq!(poster.memory_mib, Some(64));
        assert_eq!(poster.dirs["/fonts"], PathBuf::from("/usr/share/fonts"));
        config.validate().unwrap();

        let config: Config =
            toml::from_str("[plugins.per_plugin.x]\ngrants = [\"network\"]\n").unwrap();
        let err = format!("{:#}", config.validate().unwrap_err());
        assert!(
            err.contains("plugins.per_plugin.x.grants") && err.contains("network"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<Config>("[jobs]\ntimeout = 5\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `timeout`"), "{err}");
    }

    #[test]
    fn env_overrides_file_and_bad_values_name_the_variable() {
        let mut config = Config::default();
        config
            .apply_env(|k| (k == "KILN_BROWSER_PROCESSES").then(|| "3".to_string()))
            .unwrap();
        assert_eq!(config.browser.processes, 3);
        let err = config
            .apply_env(|k| (k == "KILN_JOB_TIMEOUT_MS").then(|| "soon".to_string()))
            .unwrap_err();
        assert!(err.to_string().contains("KILN_JOB_TIMEOUT_MS"), "{err}");
    }
}
