//! `PluginStore`: the data of one job's wasmtime `Store`. It only composes: the sandbox's own
//! accounting, WASI, the resource table every interface shares, and one per-job context per
//! capability, each in its own folder and linked to its own interface (`engine.rs`).

use super::limits::{MemoryLimiter, SandboxLimits};
use super::policy::PluginPolicy;
use crate::browser::{BrowserCtx, BrowserPool, BrowserView};
use crate::contract::latest::kiln::render::types::Capability;
use crate::error::RenderError;
use crate::jobs::{JobContext, JobHost};
use crate::media::{MediaCtx, MediaView, ObjectReader};
use crate::sources::{SourceClient, SourcesCtx, SourcesGrant};
use crate::storage::{
    ArtifactStore, ReadScope, StorageCtx, StorageReader, StorageView, StoredArtifact,
};
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// How much of the plugin's stderr is kept for error messages (panics print there).
const STDERR_CAPTURE_BYTES: usize = 16 * 1024;

/// The host services jobs reach through their capabilities.
pub struct HostServices {
    /// `None` in a process started without browsers.
    pub browser: Option<Arc<BrowserPool>>,
    /// The GPU pool, where WebGL jobs' pages open (`browser/gpu.rs`); `None` without one.
    pub gpu_browser: Option<Arc<BrowserPool>>,
    pub store: Arc<ArtifactStore>,
    /// The piece store's client, shared by every job (its cache with them).
    pub sources: Arc<SourceClient>,
    /// The client pages' granted requests are fetched with (`[pieces]`), shared by every job.
    pub site: Arc<crate::browser::SiteFetcher>,
}

/// The sandbox's accounting for one instance: memory, CPU ticks, captured stderr.
pub struct Sandbox {
    pub limiter: MemoryLimiter,
    pub cpu_ticks_used: u64,
    pub cpu_ticks_budget: u64,
    pub cpu_exceeded: bool,
    pub stderr: MemoryOutputPipe,
}

impl Sandbox {
    fn new(limits: SandboxLimits, stderr: MemoryOutputPipe) -> Self {
        Self {
            limiter: MemoryLimiter::new(limits.memory_bytes),
            cpu_ticks_used: 0,
            cpu_ticks_budget: limits.cpu_ticks,
            cpu_exceeded: false,
            stderr,
        }
    }

    /// The plugin's captured stderr, lossily decoded and trimmed.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_string()
    }
}

/// Everything a plugin instance can reach, for one job.
pub struct PluginStore {
    table: ResourceTable,
    wasi: WasiCtx,
    pub sandbox: Sandbox,
    host: JobHost,
    browser: BrowserCtx,
    media: MediaCtx,
    storage: StorageCtx,
    sources: SourcesCtx,
}

impl PluginStore {
    /// The store of one job of a plugin: its policy's limits, the capabilities it declared (all
    /// granted, or it would not have loaded, except `sources`, which a plugin may declare without
    /// the grant and is then denied at each call), and the directories it was granted preopened
    /// read-only.
    pub fn new(
        job: Arc<JobContext>,
        services: &HostServices,
        plugin: &str,
        policy: &PluginPolicy,
        capabilities: &[Capability],
        wants_gpu: bool,
    ) -> Result<Self, RenderError> {
        let stderr = MemoryOutputPipe::new(STDERR_CAPTURE_BYTES);
        let mut wasi = WasiCtxBuilder::new();
        // No network (wasmtime-wasi refuses every socket address by default), no inherited
        // environment or stdio, and only the directories config grants, read-only.
        wasi.stderr(stderr.clone()).stdout(stderr.clone());
        for (guest, host) in &policy.dirs {
            wasi.preopened_dir(host, guest, FsPerms::ReadOnly)
                .map_err(|e| {
                    RenderError::internal(format!(
                        "opening granted directory {} as {guest}: {e}",
                        host.display()
                    ))
                })?;
        }
        let has = |c: Capability| capabilities.contains(&c);
        let sources_grant = if !policy.grants.contains(&Capability::Sources) {
            SourcesGrant::NotGranted {
                plugin: plugin.to_string(),
            }
        } else if has(Capability::Sources) {
            SourcesGrant::Granted
        } else {
            SourcesGrant::NotDeclared
        };
        let reader = Arc::new(StorageReader::new(
            job.clone(),
            Some(services.store.clone()),
            has(Capability::Storage),
            policy.read_scope(plugin, &job.id),
        ));
        let pool = match (&services.gpu_browser, wants_gpu) {
            (Some(gpu), true) => {
                job.log.push(
                    "info",
                    "host",
                    "the job uses WebGL: its pages open in the GPU pool",
                );
                Some(gpu.clone())
            }
            _ => services.browser.clone(),
        };
        Ok(Self {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            sandbox: Sandbox::new(policy.sandbox, stderr),
            host: JobHost::new(job.clone()),
            browser: BrowserCtx::new(
                job.clone(),
                pool,
                has(Capability::Browser),
                has(Capability::Media),
                policy.max_pages,
            )
            .with_network(crate::browser::NetworkGrant::new(
                services.site.clone(),
                &policy.network,
            )),
            media: MediaCtx::new(
                job.clone(),
                has(Capability::Media),
                Some(reader.clone() as Arc<dyn ObjectReader>),
            ),
            storage: StorageCtx::new(reader, policy.max_artifact_bytes),
            sources: SourcesCtx::new(job, Some(services.sources.clone()), sources_grant),
        })
    }

    /// The store of a `describe` call at load time: nothing granted, no services.
    pub fn for_describe(job: Arc<JobContext>, limits: SandboxLimits) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPTURE_BYTES);
        let wasi = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            .stdout(stderr.clone())
            .build();
        let scope = ReadScope::new(job.id.clone(), "(describe)", Vec::new());
        let reader = Arc::new(StorageReader::new(job.clone(), None, false, scope));
        Self {
            table: ResourceTable::new(),
            wasi,
            sandbox: Sandbox::new(limits, stderr),
            host: JobHost::new(job.clone()),
            browser: BrowserCtx::new(job.clone(), None, false, false, 0),
            media: MediaCtx::new(job.clone(), false, None),
            storage: StorageCtx::new(reader, 0),
            sources: SourcesCtx::new(job, None, SourcesGrant::NotDeclared),
        }
    }

    /// What the job stored: the host's record, not the plugin's claim.
    pub fn stored(&self) -> &[StoredArtifact] {
        self.storage.stored()
    }

    pub(super) fn host(&mut self) -> &mut JobHost {
        &mut self.host
    }

    pub(super) fn sources(&mut self) -> &mut SourcesCtx {
        &mut self.sources
    }

    pub(super) fn browser(&mut self) -> BrowserView<'_> {
        BrowserView {
            ctx: &mut self.browser,
            table: &mut self.table,
        }
    }

    pub(super) fn media(&mut self) -> MediaView<'_> {
        MediaView {
            ctx: &mut self.media,
            table: &mut self.table,
        }
    }

    pub(super) fn storage(&mut self) -> StorageView<'_> {
        StorageView {
            ctx: &mut self.storage,
            table: &mut self.table,
        }
    }
}

impl WasiView for PluginStore {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
