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
    /// The GPU pool for WebGL jobs, when `browser.gpu` and the machine give one.
    pub gpu_pool: Option<Arc<BrowserPool>>,
    /// What GPU detection found at start, in words (`browser.gpu`).
    pub gpu: String,
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
        let libraries_for_gpu = libraries.clone();
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
        let (gpu_pool, gpu) = start_gpu_pool(&config, browsers, &libraries_for_gpu).await?;
        let watch = (config.plugins.watch_interval_ms > 0)
            .then(|| plugins.watch(Duration::from_millis(config.plugins.watch_interval_ms)));
        let store = Arc::new(open_store(&config)?);
        let services = Arc::new(HostServices {
            browser: pool.clone(),
            gpu_browser: gpu_pool.clone(),
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
            gpu_pool,
            gpu,
            store,
            plugins,
            watch: Mutex::new(watch),
        })
    }

    /// Stops watching plugins and closes the browsers. Call before exiting so no Chromium
    /// outlives the process.
    pub async fn shutdown(&self) {
        self.watch.lock().expect("watch lock").take();
        for pool in [&self.pool, &self.gpu_pool].into_iter().flatten() {
            pool.shutdown().await;
        }
    }
}

/// The GPU pool `browser.gpu` asks for on this machine (none in a process without browsers),
/// and what detection found, in words.
async fn start_gpu_pool(
    config: &Config,
    browsers: bool,
    libraries: &Arc<Libraries>,
) -> Result<(Option<Arc<BrowserPool>>, String)> {
    use crate::browser::gpu::{Detection, GpuMode, detect};
    if !browsers {
        return Ok((None, "no browsers in this process".into()));
    }
    let detection = detect(std::path::Path::new("/dev"));
    let device = match (config.browser.gpu, detection) {
        (GpuMode::Off, _) => return Ok((None, "off (browser.gpu = \"off\")".into())),
        (GpuMode::Auto, Detection::None(why)) => {
            tracing::info!("{why}; WebGL renders on SwiftShader in the CPU pool");
            return Ok((None, why));
        }
        (_, Detection::Found(device)) => device,
        (GpuMode::On, Detection::None(why)) => {
            tracing::warn!("browser.gpu = \"on\" but {why}; starting the GPU pool anyway");
            why
        }
    };
    let mut settings = config.browser.clone();
    settings.hardware_gpu = true;
    settings.processes = config.browser.gpu_processes.max(1);
    let pool = BrowserPool::start(settings, PageLimits::from(&config.jobs), libraries.clone())
        .await
        .context("starting the GPU pool (browser.gpu)")?;
    tracing::info!(%device, "GPU pool started: WebGL jobs run on it");
    Ok((Some(pool), format!("GPU pool on {device}")))
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
