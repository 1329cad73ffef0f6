//! Configuration: defaults that work on one small machine, a TOML file, and `KILN_*` variables.
//!
//! Every limit Kiln enforces is named here and documented in `docs/operations.md`.

use anyhow::{Context, Result};
use figment::providers::{Format, Toml};
use figment::value::{Dict, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::Deserialize;
use std::path::{Path, PathBuf};

// Each capability's settings live in its folder; the file and the environment overlay are read
// here.
pub use crate::browser::{BrowserSettings, PiecesSettings};
pub use crate::jobs::JobSettings;
pub use crate::media::tape::BakeRouteSettings;
pub use crate::plugins::{PluginOverrides, PluginSettings};
pub use crate::queue::QueueSettings;
pub use crate::schedule::ScheduleSettings;
pub use crate::sources::SourcesSettings;
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
    /// Where piece sources are fetched from, and the limits on fetching.
    pub sources: SourcesSettings,
    /// The site whose pages the `url` job type captures, and the limits on what the host
    /// fetches for pages (`plugins.per_plugin.<name>.network`).
    pub pieces: PiecesSettings,
    /// The oven's tape-baking route (`POST /bake`): its secret and the limits on fetching.
    pub bake: BakeRouteSettings,
    pub service: ServiceSettings,
    pub queue: QueueSettings,
    /// Jobs submitted on a cron schedule (`[[schedules]]`), by every `kiln serve` and `kiln
    /// worker` process, once per fire time across all of them.
    pub schedules: Vec<ScheduleSettings>,
}

/// `kiln serve`: the HTTP API, the queue and the workers.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceSettings {
    /// Address the HTTP API listens on; port 0 picks a free one (printed at start).
    pub listen: String,
    /// Address `kiln worker` serves `/health`, `/ready` and `/metrics` on (it has no API); port
    /// 0 picks a free one (printed at start); empty serves nothing. Give each worker on a
    /// machine its own port for Prometheus to scrape.
    pub worker_listen: String,
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
    /// Who may read the status views (`GET /`, `/dashboard/*`, `/status`, `/grab-status`), which
    /// list job ids and so lead to those jobs' artifacts.
    pub status_views: StatusViews,
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
    /// Finished jobs whose timings the dashboard (`GET /`) keeps for its last hour of throughput
    /// and latency, in memory; beyond it the oldest are dropped and the dashboard says so.
    pub dashboard_timings: usize,
    /// Largest frame, in bytes (PNG), kept as a running recording's live preview on the
    /// dashboard; a larger frame is not kept and the job shows no preview.
    pub dashboard_preview_max_bytes: usize,
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
            sources: SourcesSettings::default(),
            pieces: PiecesSettings::default(),
            bake: BakeRouteSettings::default(),
            service: ServiceSettings::default(),
            queue: QueueSettings::default(),
            schedules: Vec::new(),
        }
    }
}

/// Who may read the status views (`service.status_views`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusViews {
    /// Anyone who reaches the API, as the oven's were (the default).
    Public,
    /// Holders of `service.admin_token`: as `Authorization: Bearer`, or in a browser through the
    /// cookie that opening `/?token=<admin token>` once sets.
    Admin,
}

/// `service.dashboard_timings`' default.
pub const DEFAULT_DASHBOARD_TIMINGS: usize = 10_000;
/// `service.dashboard_preview_max_bytes`' default: 4 MiB.
pub const DEFAULT_DASHBOARD_PREVIEW_MAX_BYTES: usize = 4 << 20;

impl Default for ServiceSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            worker_listen: "127.0.0.1:0".into(),
            workers: 0,
            max_queued: 1000,
            max_body_bytes: 1 << 20,
            max_wait_s: 120,
            retry_after_s: 5,
            max_plugin_bytes: 64 << 20,
            admin_token: None,
            submit_tokens: Vec::new(),
            status_views: StatusViews::Public,
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
            dashboard_timings: DEFAULT_DASHBOARD_TIMINGS,
            dashboard_preview_max_bytes: DEFAULT_DASHBOARD_PREVIEW_MAX_BYTES,
        }
    }
}

/// The prefix of every environment variable Kiln reads its configuration from.
const ENV_PREFIX: &str = "KILN_";

/// Separates the tables of a key in an overlay variable: `KILN_JOBS__TIMEOUT_MS` sets
/// `jobs.timeout_ms`, `KILN_PLUGINS__PER_PLUGIN__VIDEO__MEMORY_MIB` sets
/// `plugins.per_plugin.video.memory_mib`.
const ENV_SEPARATOR: &str = "__";

/// How a variable of the first releases spells its value.
#[derive(Clone, Copy)]
enum Spelling {
    /// The value itself.
    Plain,
    /// Paths separated by `:` (`PATH`-style).
    Paths,
    /// Items separated by `,`; blank items are skipped.
    Commas,
}

/// The variables the first releases documented (docs/operations.md), each with the key it sets.
/// They still work; the overlay (`KILN_SECTION__KEY`) reaches every key and wins when both are
/// set.
const NAMED_ENV: &[(&str, &str, Spelling)] = &[
    ("KILN_DATA_DIR", "data_dir", Spelling::Plain),
    ("KILN_PLUGIN_DIRS", "plugin_dirs", Spelling::Paths),
    ("KILN_LIBRARIES_DIR", "libraries_dir", Spelling::Plain),
    ("KILN_CHROMIUM", "browser.executable", Spelling::Plain),
    (
        "KILN_BROWSER_PROCESSES",
        "browser.processes",
        Spelling::Plain,
    ),
    (
        "KILN_PAGES_PER_PROCESS",
        "browser.pages_per_process",
        Spelling::Plain,
    ),
    ("KILN_JOB_TIMEOUT_MS", "jobs.timeout_ms", Spelling::Plain),
    ("KILN_STORAGE_URL", "storage.url", Spelling::Plain),
    (
        "KILN_STORAGE_PUBLIC_BASE_URL",
        "storage.public_base_url",
        Spelling::Plain,
    ),
    (
        "KILN_STORAGE_VERIFY_PUBLIC_URL",
        "storage.verify_public_url",
        Spelling::Plain,
    ),
    ("KILN_LISTEN", "service.listen", Spelling::Plain),
    ("KILN_ADMIN_TOKEN", "service.admin_token", Spelling::Plain),
    (
        "KILN_WEBHOOK_SECRET",
        "service.webhook_secret",
        Spelling::Plain,
    ),
    ("KILN_WORKERS", "service.workers", Spelling::Plain),
    (
        "KILN_SUBMIT_TOKENS",
        "service.submit_tokens",
        Spelling::Commas,
    ),
    (
        "KILN_ALLOWED_HOSTS",
        "service.allowed_hosts",
        Spelling::Commas,
    ),
    (
        "KILN_DRAIN_TIMEOUT_S",
        "service.drain_timeout_s",
        Spelling::Plain,
    ),
    ("KILN_QUEUE_URL", "queue.url", Spelling::Plain),
    ("KILN_QUEUE_PREFIX", "queue.prefix", Spelling::Plain),
    ("KILN_QUEUE_LEASE_MS", "queue.lease_ms", Spelling::Plain),
    (
        "KILN_QUEUE_MAX_ATTEMPTS",
        "queue.max_attempts",
        Spelling::Plain,
    ),
    (
        "KILN_QUEUE_RETRY_BACKOFF_MS",
        "queue.retry_backoff_ms",
        Spelling::Plain,
    ),
    (
        "KILN_QUEUE_RETRY_MAX_BACKOFF_MS",
        "queue.retry_max_backoff_ms",
        Spelling::Plain,
    ),
    ("KILN_RECORD_TTL_S", "queue.record_ttl_s", Spelling::Plain),
    ("KILN_CACHE_TTL_S", "queue.cache_ttl_s", Spelling::Plain),
];

/// Values from one source, under the name an error shows for them.
struct Source {
    metadata: Metadata,
    data: Result<figment::value::Map<Profile, Dict>, figment::Error>,
}

impl Provider for Source {
    fn metadata(&self) -> Metadata {
        self.metadata.clone()
    }

    fn data(&self) -> Result<figment::value::Map<Profile, Dict>, figment::Error> {
        self.data.clone()
    }
}

impl Source {
    /// The TOML file at `path`; an error names the file and the key as the file spells it.
    fn file(path: &Path) -> Self {
        Self {
            metadata: Metadata::from(
                "(TOML config file)",
                figment::Source::File(path.to_path_buf()),
            )
            .interpolater(|_: &Profile, keys: &[&str]| keys.join(".")),
            data: Toml::file_exact(path).data(),
        }
    }

    /// One variable's `value` set at `key` (a dotted path); an error names the variable.
    fn variable(name: &str, key: &str, value: Value) -> Self {
        let name = name.to_string();
        let dict = figment::util::nest(key, value)
            .into_dict()
            .expect("a non-empty key nests into a dict");
        Self {
            metadata: Metadata::named(format!("environment variable {name}"))
                .interpolater(move |_: &Profile, _: &[&str]| name.clone()),
            data: Ok(Profile::Default.collect(dict)),
        }
    }
}

/// An overlay variable's value: `[...]` and `{...}` are read as figment's lists and tables, and
/// anything else as text, which becomes a number or a boolean where the key wants one (so a token
/// of digits stays as written).
fn overlay_value(text: &str) -> Value {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        text.parse().unwrap_or_else(|never| match never {})
    } else {
        Value::from(text.to_string())
    }
}

/// The config key an overlay variable sets: `KILN_JOBS__TIMEOUT_MS` → `jobs.timeout_ms`; `None`
/// for variables that are not overlay variables (no `__`, like `KILN_CONFIG` or the named ones).
fn overlay_key(name: &str) -> Option<String> {
    let rest = name.strip_prefix(ENV_PREFIX)?;
    if !rest.contains(ENV_SEPARATOR) {
        return None;
    }
    let parts: Vec<String> = rest
        .split(ENV_SEPARATOR)
        .map(|part| part.to_ascii_lowercase())
        .collect();
    // `KILN_JOBS____X` or a trailing `__` names no key; figment would nest an empty name.
    parts
        .iter()
        .all(|part| !part.is_empty())
        .then(|| parts.join("."))
}

impl Config {
    /// Defaults, then the TOML file (if given), then `KILN_*` environment variables: first the
    /// named ones of the first releases (`KILN_LISTEN`, ...), then the overlay
    /// (`KILN_SECTION__KEY`), which can set every key. An error names where the bad value came
    /// from: the file and the key, or the variable.
    pub fn load(file: Option<&Path>) -> Result<Self> {
        Self::from_sources(file, std::env::vars())
    }

    /// [`Self::load`] with the environment given as `vars`.
    fn from_sources(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            // figment takes a missing file for an empty one; a file named on purpose must exist.
            anyhow::ensure!(
                path.is_file(),
                "config file {} does not exist (given by --config or KILN_CONFIG)",
                path.display()
            );
            figment = figment.merge(Source::file(path));
        }
        let mut vars: Vec<(String, String)> = vars
            .into_iter()
            .filter(|(name, _)| name.starts_with(ENV_PREFIX))
            .collect();
        // Sorted, so that the order in which variables are merged (and errors listed) is stable.
        vars.sort();
        for (name, key, spelling) in NAMED_ENV {
            let Some((_, text)) = vars.iter().find(|(n, _)| n == name) else {
                continue;
            };
            let value = match spelling {
                Spelling::Plain => Value::from(text.clone()),
                Spelling::Paths => Value::from(
                    std::env::split_paths(text)
                        .map(|p| p.to_string_lossy().into_owned())
                        .collect::<Vec<_>>(),
                ),
                Spelling::Commas => Value::from(
                    text.split(',')
                        .map(str::trim)
                        .filter(|item| !item.is_empty())
                        .map(String::from)
                        .collect::<Vec<_>>(),
                ),
            };
            figment = figment.merge(Source::variable(name, key, value));
        }
        for (name, text) in &vars {
            if let Some(key) = overlay_key(name) {
                figment = figment.merge(Source::variable(name, &key, overlay_value(text)));
            }
        }
        // Lossy: text from the environment becomes the number or boolean its key wants.
        figment.extract_lossy().map_err(|err| {
            let errors: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
            anyhow::anyhow!(
                "invalid configuration: {}; see docs/operations.md for the keys and their types",
                errors.join("; ")
            )
        })
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
        crate::schedule::validate(&self.schedules).map_err(|e| anyhow::anyhow!(e))?;
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
            if let Some(network) = &overrides.network {
                crate::browser::check_network_grant(network)
                    .with_context(|| format!("plugins.per_plugin.{name}.network"))?;
            }
            for guest in overrides.dirs.keys() {
                anyhow::ensure!(
                    guest.starts_with('/'),
                    "plugins.per_plugin.{name}.dirs: guest path {guest:?} must be absolute"
                );
            }
        }
        crate::storage::check_settings(&self.storage)?;
        crate::sources::check_settings(&self.sources)?;
        crate::browser::check_pieces_settings(&self.pieces)?;
        crate::media::tape::check_settings(&self.bake)?;
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

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn config_file(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn the_env_overlay_overrides_a_file_key_and_reaches_nested_tables() {
        let file = config_file("[jobs]\ntimeout_ms = 5000\nmax_frames = 10\n");
        let config = Config::from_sources(
            Some(file.path()),
            vars(&[
                ("KILN_JOBS__TIMEOUT_MS", "7000"),
                ("KILN_SERVICE__ADMIN_TOKEN", "0123"),
                ("KILN_SERVICE__SUBMIT_TOKENS", "[a, b]"),
                ("KILN_STORAGE__OPTIONS__AWS_REGION", "eu-west-1"),
                ("KILN_PLUGINS__PER_PLUGIN__VIDEO__MEMORY_MIB", "64"),
                ("KILN_BROWSER__SANDBOX", "false"),
                // Not config: Kiln's other variables are left alone.
                ("KILN_CONFIG", "elsewhere.toml"),
                ("KILN_TEST_MOTO_SERVER", "/bin/true"),
            ]),
        )
        .unwrap();
        assert_eq!(
            config.jobs.timeout_ms, 7000,
            "the variable wins over the file"
        );
        assert_eq!(config.jobs.max_frames, 10, "the file's other keys stay");
        assert_eq!(config.service.admin_token.as_deref(), Some("0123"));
        assert_eq!(config.service.submit_tokens, ["a", "b"]);
        assert_eq!(config.storage.options["aws_region"], "eu-west-1");
        assert_eq!(config.plugins.per_plugin["video"].memory_mib, Some(64));
        assert!(!config.browser.sandbox);
    }

    #[test]
    fn the_named_variables_still_work_and_the_overlay_wins() {
        let config = Config::from_sources(
            None,
            vars(&[
                ("KILN_BROWSER_PROCESSES", "3"),
                ("KILN_PLUGIN_DIRS", "/a:/b"),
                ("KILN_SUBMIT_TOKENS", "x, ,y"),
                ("KILN_LISTEN", "0.0.0.0:1"),
                ("KILN_SERVICE__LISTEN", "127.0.0.1:2"),
            ]),
        )
        .unwrap();
        assert_eq!(config.browser.processes, 3);
        assert_eq!(
            config.plugin_dirs,
            [PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert_eq!(config.service.submit_tokens, ["x", "y"]);
        assert_eq!(config.service.listen, "127.0.0.1:2");
    }

    #[test]
    fn a_bad_value_names_its_source() {
        let err = Config::from_sources(None, vars(&[("KILN_JOB_TIMEOUT_MS", "soon")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("KILN_JOB_TIMEOUT_MS"), "{err}");

        let err = Config::from_sources(None, vars(&[("KILN_JOBS__MAX_FRAMES", "many")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("KILN_JOBS__MAX_FRAMES") && err.contains("\"many\""),
            "{err}"
        );

        let file = config_file("[queue]\nmax_attempts = \"thrice\"\n");
        let err = Config::from_sources(Some(file.path()), Vec::new())
            .unwrap_err()
            .to_string();
        let path = file.path().display().to_string();
        assert!(
            err.contains("queue.max_attempts") && err.contains(&path),
            "{err}"
        );

        let err = Config::from_sources(None, vars(&[("KILN_JOBS__TIMEOUT", "5")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("timeout") && err.contains("KILN_JOBS__TIMEOUT"),
            "{err}"
        );

        let err = Config::from_sources(Some(Path::new("/nonexistent/kiln.toml")), Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/kiln.toml"), "{err}");
    }
}
