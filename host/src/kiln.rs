//! `Kiln`: the services of one process, started together and shut down together.

use crate::browser::{BrowserPool, Libraries};
use crate::config::Config;
use crate::jobs::{JobLimits, JobRunner, Services};
use crate::plugins::{PluginEngine, PluginRegistry, SandboxLimits};
use crate::storage::ArtifactStore;
use anyhow::{Context, Result};
use std::sync::Arc;

/// A running host: plugins loaded, browsers warm, storage open.
pub struct Kiln {
    pub config: Config,
    pub runner: Arc<JobRunner>,
    pub pool: Arc<BrowserPool>,
}

impl Kiln {
    /// Starts everything; plugin loading and browser start-up overlap.
    pub async fn start(config: Config) -> Result<Self> {
        config.validate()?;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data_dir {}", config.data_dir.display()))?;
        let libraries = Arc::new(Libraries::load(&config.libraries_dir)?);
        let engine = Arc::new(open_engine(&config)?);
        let sandbox = SandboxLimits::from_settings(&config.plugins);
        let plugin_dirs = config.plugin_dirs();
        let (registry, pool) = tokio::try_join!(
            PluginRegistry::load_dirs(&engine, &plugin_dirs, sandbox),
            BrowserPool::start(config.browser.clone(), libraries),
        )?;
        let store = Arc::new(open_store(&config)?);
        let services = Arc::new(Services {
            browser: pool.clone(),
            store,
            max_artifact_bytes: config.plugins.max_artifact_bytes,
        });
        let runner = Arc::new(JobRunner {
            engine,
            registry: Arc::new(registry),
            services,
            limits: JobLimits::from(&config.jobs),
            sandbox,
            unavailable_retries: config.jobs.unavailable_retries,
        });
        Ok(Self {
            config,
            runner,
            pool,
        })
    }

    /// Closes the browsers. Call before exiting so no Chromium outlives the process.
    pub async fn shutdown(&self) {
        self.pool.shutdown().await;
    }
}

/// The plugin engine with its compile cache under the data dir.
pub fn open_engine(config: &Config) -> Result<PluginEngine> {
    PluginEngine::new(&config.data_dir.join("cache").join("components"))
}

/// Loads the plugins without starting browsers (for `kiln plugins`).
pub async fn load_plugins(config: &Config) -> Result<PluginRegistry> {
    let engine = open_engine(config)?;
    PluginRegistry::load_dirs(
        &engine,
        &config.plugin_dirs(),
        SandboxLimits::from_settings(&config.plugins),
    )
    .await
}

fn open_store(config: &Config) -> Result<ArtifactStore> {
    let public = config.storage.public_base_url.clone();
    match &config.storage.url {
        Some(url) => ArtifactStore::open(url, public),
        None => ArtifactStore::local(&config.data_dir.join("artifacts"), public),
    }
}
