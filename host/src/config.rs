//! Configuration: defaults that work on one small machine, a TOML file, and `KILN_*` variables.
//!
//! Every limit Kiln enforces is named here and documented in `docs/operations.md`.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

// Each capability's settings live in its folder; the file and the environment overlay are read
// here.
pub use crate::browser::BrowserSettings;
pub use crate::jobs::JobSettings;
pub use crate::plugins::{PluginOverrides, PluginSettings};
pub use crate::queue::QueueSettings;
pub use crate::storage::StorageSettings;

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
    /// Host names (or `host:port`) clients reach the API by, besides the listen address,
    /// `localhost`, `127.0.0.1` and `[::1]`, which are always allowed. A request whose `Host` or
    /// `Origin` names another host is refused (DNS rebinding); `"*"` turns the check off.
    pub allowed_hosts: Vec<String>,
    /// Time a client has to send a request's headers, in milliseconds (an idle keep-alive
    /// connection is closed after it too).
    pub header_read_timeout_ms: u64,
    /// Time a client has to send a request's body once its headers are in, in milliseconds, in
    /// all (not between bytes); later is answered 408.
    pub body_read_timeout_ms: u64,
    /// Connections open at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// Let callbacks reach loopback, private, link-local (cloud metadata) and other non-public
    /// addresses. Off by default: a callback is a URL a stranger chose.
    pub webhook_allow_private: bool,
    /// On SIGTERM (or Ctrl-C), how long running jobs may take to finish before they are put
    /// back in the queue (without counting the attempt), in seconds. Open `?wait` and event
    /// streams are answered by then too.
    pub drain_timeout_s: u64,
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
            allowed_hosts: Vec::new(),
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 60_000,
            max_connections: 512,
            webhook_allow_private: false,
            drain_timeout_s: 30,
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
        if let Some(v) = var("KILN_ALLOWED_HOSTS") {
            self.service.allowed_hosts = v
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
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
        if let Some(v) = var("KILN_QUEUE_RETRY_MAX_BACKOFF_MS") {
            self.queue.retry_max_backoff_ms = parse("KILN_QUEUE_RETRY_MAX_BACKOFF_MS", v)?;
        }
        if let Some(v) = var("KILN_RECORD_TTL_S") {
            self.queue.record_ttl_s = parse("KILN_RECORD_TTL_S", v)?;
        }
        if let Some(v) = var("KILN_DRAIN_TIMEOUT_S") {
            self.service.drain_timeout_s = parse("KILN_DRAIN_TIMEOUT_S", v)?;
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
            self.queue.retry_max_backoff_ms >= self.queue.retry_backoff_ms,
            "queue.retry_max_backoff_ms ({}) must be at least queue.retry_backoff_ms ({})",
            self.queue.retry_max_backoff_ms,
            self.queue.retry_backoff_ms
        );
        anyhow::ensure!(
            self.queue.lease_ms >= 1000,
            "queue.lease_ms must be at least 1000"
        );
        anyhow::ensure!(
            self.queue.record_ttl_s >= 1,
            "queue.record_ttl_s must be at least 1"
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
            self.service.max_connections >= 1,
            "service.max_connections must be at least 1"
        );
        anyhow::ensure!(
            self.service.header_read_timeout_ms >= 100,
            "service.header_read_timeout_ms must be at least 100"
        );
        anyhow::ensure!(
            self.service.body_read_timeout_ms >= 100,
            "service.body_read_timeout_ms must be at least 100"
        );
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
            for prefix in &overrides.read_prefixes {
                crate::storage::check_read_prefix(prefix)
                    .map_err(|e| anyhow::anyhow!("plugins.per_plugin.{name}.read_prefixes: {e}"))?;
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
    fn read_prefixes_are_granted_per_plugin_and_checked() {
        let config: Config =
            toml::from_str("[plugins.per_plugin.video]\nread_prefixes = [\"shared/\", \"*\"]\n")
                .unwrap();
        config.validate().unwrap();
        assert!(
            Config::default().plugins.per_plugin.is_empty(),
            "granted by default"
        );
        let config: Config =
            toml::from_str("[plugins.per_plugin.video]\nread_prefixes = [\"../jobs\"]\n").unwrap();
        let err = format!("{:#}", config.validate().unwrap_err());
        assert!(
            err.contains("plugins.per_plugin.video.read_prefixes") && err.contains("\"..\""),
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
