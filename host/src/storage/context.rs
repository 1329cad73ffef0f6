//! The `storage` capability's per-job state: what the job stored, its byte budget, and what it
//! may read.

use super::read_scope::ReadScope;
use super::store::ArtifactStore;
use crate::error::RenderError;
use crate::jobs::JobContext;
use crate::jobs::StoredArtifact;
use crate::media::{HostBlob, ObjectReader};
use std::sync::Arc;
use wasmtime::component::{HasData, ResourceTable};

/// Reads objects from the store for one job, under that job's read rules: the `storage`
/// capability, the keys its [`ReadScope`] allows, and `jobs.max_read_bytes`. Shared with the media
/// capability, which reads tape frames through it.
pub struct StorageReader {
    job: Arc<JobContext>,
    store: Option<Arc<ArtifactStore>>,
    granted: bool,
    scope: ReadScope,
}

impl StorageReader {
    /// `store` is `None` for a job that has no store (a `describe` call); `scope` says which keys
    /// beyond its own the job may read.
    pub fn new(
        job: Arc<JobContext>,
        store: Option<Arc<ArtifactStore>>,
        granted: bool,
        scope: ReadScope,
    ) -> Self {
        Self {
            job,
            store,
            granted,
            scope,
        }
    }

    fn store(&self) -> Result<&Arc<ArtifactStore>, RenderError> {
        RenderError::require_capability(self.granted, "storage", "storage")?;
        self.job.check_services_allowed()?;
        self.store
            .as_ref()
            .ok_or_else(|| RenderError::unavailable("this job has no artifact store"))
    }
}

#[async_trait::async_trait]
impl ObjectReader for StorageReader {
    /// Reads the stored object `key` (tape frames, soundtracks) if the job's scope allows it, up to
    /// `jobs.max_read_bytes` (the size is asked before the bytes are fetched). The content type is
    /// guessed from the key's extension.
    async fn read(&self, key: &str) -> Result<HostBlob, RenderError> {
        let store = self.store()?;
        self.scope.check(key)?;
        let bytes = store
            .read_within(key, self.job.limits.max_read_bytes)
            .await?;
        Ok(HostBlob {
            bytes,
            content_type: mime_guess::from_path(key)
                .first_or_octet_stream()
                .to_string(),
        })
    }
}

/// One job's use of the artifact store.
pub struct StorageCtx {
    reader: Arc<StorageReader>,
    max_artifact_bytes: u64,
    /// What this job stored, in order: the host's record, not the plugin's claim.
    stored: Vec<StoredArtifact>,
}

impl StorageCtx {
    /// The context of one job; it may store up to `max_artifact_bytes` in all.
    pub fn new(reader: Arc<StorageReader>, max_artifact_bytes: u64) -> Self {
        Self {
            reader,
            max_artifact_bytes,
            stored: Vec::new(),
        }
    }

    /// The reader the media capability uses for tapes of stored frames.
    pub fn reader(&self) -> Arc<StorageReader> {
        self.reader.clone()
    }

    /// What the job stored so far.
    pub fn stored(&self) -> &[StoredArtifact] {
        &self.stored
    }

    /// Stores `blob` as artifact `name` of this job, enforcing the per-job byte budget and unique
    /// names.
    pub async fn store_artifact(
        &mut self,
        name: &str,
        blob: HostBlob,
    ) -> Result<StoredArtifact, RenderError> {
        let store = self.reader.store()?.clone();
        self.check_budget(name, blob.bytes.len() as u64)?;
        let job = &self.reader.job;
        let stored = store
            .put(&job.id, name, &blob.content_type, blob.bytes)
            .await?;
        job.log.info(
            "host",
            format!("stored {} ({} bytes)", stored.key, stored.bytes),
        );
        self.stored.push(stored.clone());
        Ok(stored)
    }

    /// Refuses a second artifact of one name and one that would take the job past its budget.
    fn check_budget(&self, name: &str, size: u64) -> Result<(), RenderError> {
        if self.stored.iter().any(|a| a.name == name) {
            return Err(RenderError::invalid_input(format!(
                "artifact {name:?} was already stored by this job"
            )));
        }
        let used: u64 = self.stored.iter().map(|a| a.bytes).sum();
        if used + size > self.max_artifact_bytes {
            return Err(RenderError::invalid_input(format!(
                "storing {name:?} ({size} bytes) would take this job past its artifact budget of {} bytes \
                 (plugins.max_artifact_bytes)",
                self.max_artifact_bytes
            )));
        }
        Ok(())
    }

    /// Reads an object for the plugin (`storage.get`).
    pub async fn read_object(&self, key: &str) -> Result<HostBlob, RenderError> {
        self.reader.read(key).await
    }
}

/// What the `storage` interface's host functions see: this job's storage state and the store's
/// resource table (the blobs put and got).
pub struct StorageView<'a> {
    pub ctx: &'a mut StorageCtx,
    pub table: &'a mut ResourceTable,
}

/// Links the `storage` interface to [`StorageView`] (wasmtime's `HasData` pattern).
pub struct StorageAccess;

impl HasData for StorageAccess {
    type Data<'a> = StorageView<'a>;
}

crate::impl_wit_types!(StorageView<'_>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::jobs::{JobLimits, JobLog, JobSettings};
    use crate::storage::StorageSettings;
    use std::time::Duration;

    fn job(id: &str) -> Arc<JobContext> {
        let limits = JobLimits {
            max_read_bytes: 10,
            ..JobLimits::from(&JobSettings::default())
        };
        Arc::new(JobContext::new(id.into(), JobLog::default(), limits))
    }

    fn blob(bytes: &[u8]) -> HostBlob {
        HostBlob {
            bytes: bytes.to_vec().into(),
            content_type: "text/plain".into(),
        }
    }

    fn ctx(dir: &std::path::Path, id: &str, granted: bool, budget: u64) -> StorageCtx {
        scoped(dir, id, granted, budget, &[])
    }

    fn scoped(
        dir: &std::path::Path,
        id: &str,
        granted: bool,
        budget: u64,
        prefixes: &[&str],
    ) -> StorageCtx {
        let store = ArtifactStore::local(dir, &StorageSettings::default()).unwrap();
        let prefixes = prefixes.iter().map(|p| p.to_string()).collect();
        let scope = ReadScope::new(id, "test", prefixes);
        let reader = StorageReader::new(job(id), Some(Arc::new(store)), granted, scope);
        StorageCtx::new(Arc::new(reader), budget)
    }

    #[tokio::test]
    async fn artifacts_are_kept_under_the_job_within_its_budget_and_names_are_unique() {
        let dir = tempfile::tempdir().unwrap();
        let mut storage = ctx(dir.path(), "job-a", true, 8);
        let stored = storage
            .store_artifact("a.txt", blob(b"12345"))
            .await
            .unwrap();
        assert_eq!(stored.key, "job-a/a.txt");
        assert_eq!(
            std::fs::read(dir.path().join("job-a/a.txt")).unwrap(),
            b"12345"
        );

        let again = storage
            .store_artifact("a.txt", blob(b"1"))
            .await
            .unwrap_err();
        assert!(
            again.message.contains("already stored"),
            "{}",
            again.message
        );
        let over = storage
            .store_artifact("b.txt", blob(b"1234"))
            .await
            .unwrap_err();
        assert_eq!(over.kind, ErrorKind::InvalidInput);
        assert!(
            over.message.contains("plugins.max_artifact_bytes"),
            "{}",
            over.message
        );
        storage.store_artifact("c.txt", blob(b"123")).await.unwrap();
        assert_eq!(storage.stored().len(), 2);
    }

    #[tokio::test]
    async fn reads_need_the_capability_and_stay_under_the_read_limit() {
        let dir = tempfile::tempdir().unwrap();
        let mut storage = ctx(dir.path(), "job-a", true, 100);
        storage
            .store_artifact("small.txt", blob(b"1234"))
            .await
            .unwrap();
        storage
            .store_artifact("big.txt", blob(b"12345678901"))
            .await
            .unwrap();

        let read = storage.read_object("job-a/small.txt").await.unwrap();
        assert_eq!(&read.bytes[..], b"1234");
        assert_eq!(read.content_type, "text/plain");
        let big = storage.read_object("job-a/big.txt").await.unwrap_err();
        assert!(
            big.message.contains("jobs.max_read_bytes"),
            "{}",
            big.message
        );
        let missing = storage.read_object("job-a/none.txt").await.unwrap_err();
        assert_eq!(missing.kind, ErrorKind::InvalidInput);

        let ungranted = ctx(dir.path(), "job-b", false, 100);
        let err = ungranted.read_object("job-a/small.txt").await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Denied);
        assert!(
            err.message.contains("`storage` capability"),
            "{}",
            err.message
        );
    }

    #[tokio::test]
    async fn nothing_is_stored_or_read_inside_describe() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::local(dir.path(), &StorageSettings::default()).unwrap();
        let describe = Arc::new(JobContext::for_describe(Duration::from_secs(1)));
        let scope = ReadScope::new("describe", "test", Vec::new());
        let reader = StorageReader::new(describe, Some(Arc::new(store)), true, scope);
        let mut storage = StorageCtx::new(Arc::new(reader), 100);
        let err = storage
            .store_artifact("a.txt", blob(b"1"))
            .await
            .unwrap_err();
        assert!(err.message.contains("describe()"), "{}", err.message);
    }
}
