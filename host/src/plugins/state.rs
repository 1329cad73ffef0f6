//! `JobState`: the data of one job's wasmtime `Store` — its resources, sandbox accounting and the
//! artifacts it stored.

use super::bindings::kiln::render::types::{Artifact, Capability};
use super::limits::{MemoryLimiter, SandboxLimits};
use super::policy::PluginPolicy;
use crate::error::RenderError;
use crate::jobs::JobContext;
use crate::media::HostBlob;
use crate::storage::StoredArtifact;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// How much of the plugin's stderr is kept for error messages (panics print there).
const STDERR_CAPTURE_BYTES: usize = 16 * 1024;

/// Everything a plugin instance can reach, for one job.
pub struct JobState {
    pub table: ResourceTable,
    wasi: WasiCtx,
    pub job: Arc<JobContext>,
    pub limiter: MemoryLimiter,
    pub cpu_ticks_used: u64,
    pub cpu_ticks_budget: u64,
    pub cpu_exceeded: bool,
    pub stderr: MemoryOutputPipe,
    /// What this job stored, in order: the host's record, not the plugin's claim.
    pub stored: Vec<StoredArtifact>,
    capabilities: Vec<Capability>,
    max_artifact_bytes: u64,
    max_pages: u32,
    /// Pages this job has open now.
    pub pages_open: u32,
}

impl JobState {
    /// The state of one job of a plugin: its policy's limits, and the directories it was granted
    /// preopened read-only.
    pub fn new(
        job: Arc<JobContext>,
        policy: &PluginPolicy,
        capabilities: Vec<Capability>,
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
        Ok(Self::with_wasi(
            job,
            policy.sandbox,
            capabilities,
            wasi.build(),
            stderr,
            policy.max_artifact_bytes,
            policy.max_pages,
        ))
    }

    /// The state of a `describe` call at load time: nothing granted.
    pub fn for_describe(job: Arc<JobContext>, limits: SandboxLimits) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPTURE_BYTES);
        let wasi = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            .stdout(stderr.clone())
            .build();
        Self::with_wasi(job, limits, Vec::new(), wasi, stderr, 0, 0)
    }

    fn with_wasi(
        job: Arc<JobContext>,
        limits: SandboxLimits,
        capabilities: Vec<Capability>,
        wasi: WasiCtx,
        stderr: MemoryOutputPipe,
        max_artifact_bytes: u64,
        max_pages: u32,
    ) -> Self {
        Self {
            table: ResourceTable::new(),
            wasi,
            job,
            limiter: MemoryLimiter::new(limits.memory_bytes),
            cpu_ticks_used: 0,
            cpu_ticks_budget: limits.cpu_ticks,
            cpu_exceeded: false,
            stderr,
            stored: Vec::new(),
            capabilities,
            max_artifact_bytes,
            max_pages,
            pages_open: 0,
        }
    }

    /// Fails with `denied` when the job already has as many pages open as its plugin may.
    pub fn reserve_page(&mut self) -> Result<(), RenderError> {
        if self.pages_open >= self.max_pages {
            return Err(RenderError::denied(format!(
                "this job already has {} page(s) open, the most its plugin may have at once \
                 (plugins.max_pages); drop a page before opening another",
                self.pages_open
            )));
        }
        self.pages_open += 1;
        Ok(())
    }

    /// Fails with `denied` unless the plugin declared `capability` in `describe`.
    pub fn require(&self, capability: Capability, interface: &str) -> Result<(), RenderError> {
        if self.capabilities.contains(&capability) {
            Ok(())
        } else {
            Err(RenderError::denied(format!(
                "this plugin called the `{interface}` interface without declaring the `{}` capability in \
                 describe(); add it to the plugin's CAPABILITIES",
                super::policy::capability_name(capability)
            )))
        }
    }

    /// The plugin's captured stderr, lossily decoded and trimmed.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_string()
    }

    /// Reads the stored object `key` (for tape frames and soundtracks), up to
    /// `jobs.max_read_bytes`. The content type is guessed from the key's extension.
    pub async fn read_object(&mut self, key: &str) -> Result<HostBlob, RenderError> {
        self.require(Capability::Storage, "storage")?;
        let services = self.job.services()?;
        let bytes = services.store.get(key).await?;
        let limit = self.job.limits.max_read_bytes;
        if bytes.len() as u64 > limit {
            return Err(RenderError::invalid_input(format!(
                "stored object {key} is {} bytes, over the read limit of {limit} (jobs.max_read_bytes)",
                bytes.len()
            )));
        }
        Ok(HostBlob {
            bytes,
            content_type: mime_guess::from_path(key)
                .first_or_octet_stream()
                .to_string(),
        })
    }

    /// Stores `blob` as artifact `name` of this job, enforcing the per-job byte budget and unique
    /// names.
    pub async fn store_artifact(
        &mut self,
        name: &str,
        blob: HostBlob,
    ) -> Result<Artifact, RenderError> {
        self.require(Capability::Storage, "storage")?;
        let services = self.job.services()?;
        if self.stored.iter().any(|a| a.name == name) {
            return Err(RenderError::invalid_input(format!(
                "artifact {name:?} was already stored by this job"
            )));
        }
        let used: u64 = self.stored.iter().map(|a| a.bytes).sum();
        let size = blob.bytes.len() as u64;
        if used + size > self.max_artifact_bytes {
            return Err(RenderError::invalid_input(format!(
                "storing {name:?} ({size} bytes) would take this job past its artifact budget of {} bytes \
                 (plugins.max_artifact_bytes)",
                self.max_artifact_bytes
            )));
        }
        let stored = services
            .store
            .put(&self.job.id, name, &blob.content_type, blob.bytes)
            .await?;
        self.job.log.info(
            "host",
            format!("stored {} ({} bytes)", stored.key, stored.bytes),
        );
        self.stored.push(stored.clone());
        Ok(stored.into())
    }
}

impl From<StoredArtifact> for Artifact {
    fn from(a: StoredArtifact) -> Self {
        Artifact {
            name: a.name,
            key: a.key,
            url: a.url,
            content_type: a.content_type,
            bytes: a.bytes,
        }
    }
}

impl WasiView for JobState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The `types` interface has no functions; its trait is empty.
impl super::bindings::kiln::render::types::Host for JobState {}
