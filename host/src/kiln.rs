//! `Kiln`: the services of one process, started together and shut down together.

use crate::browser::{BrowserPool, Libraries, PageLimits, SiteFetcher};
use crate::config::Config;
use crate::jobs::JobLimits;
use crate::plugins::HostServices;
use crate::plugins::{LoadPolicy, PluginCatalog, PluginEngine, WatchHandle};
use crate::runner::JobRunner;
use crate::sources::SourceClient;
use crate::storage::ArtifactStore;
use anyhow::{Context, Result};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running host: plugins loaded (and watched), browsers warm, storage open.
pub struct Kiln {
    pub config: Config,
    pub runner: Arc<JobRunner>,
    /// The browsers; `None` in a process that only accepts jobs (`kiln serve --api-only`).
    pub pool: Option<Arc<BrowserPool>>,
    pub store: Arc<ArtifactStore>,
    pub plugins: Arc<PluginCatalog>,
    watch: Mutex<Option<WatchHandle>>,
}

impl Kiln {
    /// Starts everything; plugin loading and browser start-up overlap. With
    /// `plugins.watch_interval_ms` above 0, the plugin directories are watched from then on.
    pub async fn start(config: Config) -> Result<Self> {
        Self::start_with(config, true).await
    }

    /// As [`Self::start`]; without `browsers` no Chromium is started, and jobs that open a page
    /// fail as `unavailable` (for a process that only validates and queues jobs).
    pub async fn start_with(config: Config, browsers: bool) -> Result<Self> {
        config.validate()?;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data_dir {}", config.data_dir.display()))?;
        let libraries = Arc::new(Libraries::load(&config.libraries_dir)?);
        let engine = Arc::new(open_engine(&config)?);
        let (plugins, pool) = tokio::try_join!(
            PluginCatalog::open(
                engine.clone(),
                config.plugin_dirs(),
                LoadPolicy::new(&config.plugins, &config.jobs)
            ),
            async {
                match browsers {
                    true => BrowserPool::start(
                        config.browser.clone(),
                        PageLimits::from(&config.jobs),
                        libraries,
                    )
                    .await
                    .map(Some),
                    false => Ok(None),
                }
            },
        )?;
        let watch = (config.plugins.watch_interval_ms > 0)
            .then(|| plugins.watch(Duration::from_millis(config.plugins.watch_interval_ms)));
        let store = Arc::new(open_store(&config)?);
        let services = Arc::new(HostServices {
            browser: pool.clone(),
            store: store.clone(),
            sources: Arc::new(SourceClient::new(&config.sources)),
            site: Arc::new(SiteFetcher::new(&config.pieces)),
        });
        let runner = Arc::new(JobRunner {
            engine,
            plugins: plugins.clone(),
            services,
            limits: JobLimits::from(&config.jobs),
            unavailable_retries: config.jobs.unavailable_retries,
        });
        Ok(Self {
            config,
            runner,
            pool,
            store,
            plugins,
            watch: Mutex::new(watch),
        })
    }

    /// Stops watching plugins and closes the browsers. Call before exiting so no Chromium
    /// outlives the process.
    pub async fn shutdown(&self) {
        self.watch.lock().expect("watch lock").take();
        if let Some(pool) = &self.pool {
            pool.shutdown().await;
        }
    }
}

/// The plugin engine with its compile cache under the data dir.
pub fn open_engine(config: &Config) -> Result<PluginEngine> {
    PluginEngine::new(&config.data_dir.join("cache").join("components"))
}

/// Loads the plugins once, without browsers or watching (for `kiln plugins`).
pub async fn load_plugins(config: &Config) -> Result<Arc<PluginCatalog>> {
    PluginCatalog::open(
        Arc::new(open_engine(config)?),
        config.plugin_dirs(),
        LoadPolicy::new(&config.plugins, &config.jobs),
    )
    .await
}

/// The artifact store `[storage]` names; `<data_dir>/artifacts` without a `storage.url`.
fn open_store(config: &Config) -> Result<ArtifactStore> {
    let store = match &config.storage.url {
        Some(url) => ArtifactStore::open(url, &config.storage)?,
        None => ArtifactStore::local(&config.data_dir.join("artifacts"), &config.storage)?,
    };
    tracing::info!(store = store.base_url(), "artifact store opened");
    Ok(store)
}
