//! Putting artifacts into the configured object store and naming their URLs.

use super::remote::{RemoteKind, RemoteUrl, open_remote};
use super::settings::StorageSettings;
use super::verify::PublicUrlCheck;
use crate::error::RenderError;
use crate::jobs::StoredArtifact;
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where artifacts are written, and how clients reach them.
pub struct ArtifactStore {
    store: Arc<dyn ObjectStore>,
    /// The store's own URL (`file:///dir`, `s3://bucket/prefix`), without a trailing `/`.
    base_url: String,
    public_base_url: Option<String>,
    /// Set with `storage.verify_public_url`: every put waits until its public URL answers 200.
    verify: Option<PublicUrlCheck>,
}

impl ArtifactStore {
    /// Opens the store at `url` with the rest of `settings` (its `url` is ignored). `file://`
    /// creates the directory if missing; `s3://`, `az://`/`azure://` and `gs://` are contacted
    /// only when the first artifact is written.
    pub fn open(url: &str, settings: &StorageSettings) -> Result<Self> {
        let parsed =
            url::Url::parse(url).with_context(|| format!("storage.url {url:?} is not a URL"))?;
        match parsed.scheme() {
            "file" => {
                let root = parsed.to_file_path().map_err(|_| {
                    anyhow::anyhow!("storage.url {url:?} is not an absolute file:// path")
                })?;
                Self::local(&root, settings)
            }
            scheme if RemoteKind::from_scheme(scheme).is_some() => {
                let remote = RemoteUrl::parse(&parsed)?;
                let store = open_remote(&remote, settings)?;
                Self::with_store(store, remote.base, settings)
            }
            other => bail!(
                "storage.url {url:?}: the {other}:// scheme is not supported; use file://<absolute path>, \
                 s3://<bucket>[/<prefix>], az://<container>[/<prefix>] or gs://<bucket>[/<prefix>]"
            ),
        }
    }

    /// A store in a local directory, with the rest of `settings` (its `url` is ignored).
    pub fn local(root: &Path, settings: &StorageSettings) -> Result<Self> {
        if let Some(key) = settings.options.keys().next() {
            bail!(
                "storage.options.{key}: a file:// store takes no options; remove storage.options or use a remote storage.url"
            );
        }
        std::fs::create_dir_all(root)
            .with_context(|| format!("creating artifact directory {}", root.display()))?;
        let root: PathBuf = root
            .canonicalize()
            .with_context(|| format!("resolving {}", root.display()))?;
        let store = LocalFileSystem::new_with_prefix(&root)
            .with_context(|| format!("opening artifact directory {}", root.display()))?;
        Self::with_store(
            Arc::new(store),
            format!("file://{}", root.display()),
            settings,
        )
    }

    fn with_store(
        store: Arc<dyn ObjectStore>,
        base_url: String,
        settings: &StorageSettings,
    ) -> Result<Self> {
        let verify = if settings.verify_public_url {
            Some(PublicUrlCheck::new(settings)?)
        } else {
            None
        };
        Ok(Self {
            store,
            base_url: base_url.trim_end_matches('/').to_string(),
            public_base_url: settings.public_base_url.clone(),
            verify,
        })
    }

    /// The store's URL, e.g. `s3://bucket/prefix` (for logs and messages).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Writes `bytes` as `<job_id>/<name>`.
    pub async fn put(
        &self,
        job_id: &str,
        name: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<StoredArtifact, RenderError> {
        check_artifact_name(name)?;
        let key = format!("{job_id}/{name}");
        let size = bytes.len() as u64;
        let path = ObjectPath::parse(&key).map_err(|e| {
            RenderError::internal(format!(
                "artifact key {key:?} is not a valid object path: {e}"
            ))
        })?;
        self.store
            .put(&path, PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| {
                RenderError::unavailable(format!(
                    "storing {key} in {} failed: {}; check that the store is up and reachable \
                     and that storage.url, storage.options and the credentials are right",
                    self.base_url,
                    super::error_chain(&e)
                ))
            })?;
        let url = self.url_for(&key);
        if let Some(verify) = &self.verify {
            verify
                .wait_until_served(&url)
                .await
                .map_err(|e| RenderError::unavailable(format!("storing {key}: {}", e.message)))?;
        }
        Ok(StoredArtifact {
            name: name.to_string(),
            url,
            key,
            content_type: content_type.to_string(),
            bytes: size,
        })
    }

    /// Reads the object at `key` back (the API serves artifacts with it).
    pub async fn get(&self, key: &str) -> Result<Bytes, RenderError> {
        let path = ObjectPath::parse(key).map_err(|e| {
            RenderError::invalid_input(format!("{key:?} is not a valid artifact key: {e}"))
        })?;
        let result = self.store.get(&path).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => {
                RenderError::invalid_input(format!("no stored object {key}"))
            }
            other => self.read_failed(key, other),
        })?;
        result.bytes().await.map_err(|e| self.read_failed(key, e))
    }

    /// Reads the object at `key` for a job, if it is at most `limit` bytes: its size is asked
    /// first (a HEAD), so an object over the limit is refused before any of its bytes are
    /// fetched, and the body is read with the same cap (an object replaced by a larger one in
    /// between is refused too, having read at most `limit` bytes). Check the key against the
    /// job's [`super::ReadScope`] before calling this.
    pub async fn read_within(&self, key: &str, limit: u64) -> Result<Bytes, RenderError> {
        let path = ObjectPath::parse(key).map_err(|e| {
            RenderError::invalid_input(format!("{key:?} is not a valid storage key: {e}"))
        })?;
        let not_found_or = |e: object_store::Error| match e {
            object_store::Error::NotFound { .. } => {
                RenderError::invalid_input(format!("no stored object {key}"))
            }
            other => self.read_failed(key, other),
        };
        let over = |size: u64| {
            RenderError::invalid_input(format!(
                "stored object {key} is {size} bytes, over the read limit of {limit} (jobs.max_read_bytes)"
            ))
        };
        let meta = self.store.head(&path).await.map_err(not_found_or)?;
        if meta.size > limit {
            return Err(over(meta.size));
        }
        let result = self.store.get(&path).await.map_err(not_found_or)?;
        let mut body = result.into_stream();
        let mut bytes = bytes::BytesMut::with_capacity(meta.size as usize);
        while let Some(chunk) = futures::StreamExt::next(&mut body).await {
            let chunk = chunk.map_err(|e| self.read_failed(key, e))?;
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(over((bytes.len() + chunk.len()) as u64));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes.freeze())
    }

    /// The keys of the objects under `prefix` (a folder, e.g. `oven/frozen`), in no order.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, RenderError> {
        let path = ObjectPath::parse(prefix).map_err(|e| {
            RenderError::invalid_input(format!("{prefix:?} is not a valid storage prefix: {e}"))
        })?;
        let mut listing = self.store.list(Some(&path));
        let mut keys = Vec::new();
        while let Some(meta) = futures::StreamExt::next(&mut listing).await {
            let meta = meta.map_err(|e| self.read_failed(prefix, e))?;
            keys.push(meta.location.to_string());
        }
        Ok(keys)
    }

    /// Deletes the object at `key`; `false` when there was none.
    pub async fn delete(&self, key: &str) -> Result<bool, RenderError> {
        let path = ObjectPath::parse(key).map_err(|e| {
            RenderError::invalid_input(format!("{key:?} is not a valid storage key: {e}"))
        })?;
        if let Err(err) = self.store.head(&path).await {
            return match err {
                object_store::Error::NotFound { .. } => Ok(false),
                other => Err(self.read_failed(key, other)),
            };
        }
        self.store.delete(&path).await.map_err(|e| {
            RenderError::unavailable(format!(
                "deleting {key} from {} failed: {}; check that the store is up and reachable",
                self.base_url,
                super::error_chain(&e)
            ))
        })?;
        Ok(true)
    }

    fn read_failed(&self, key: &str, err: object_store::Error) -> RenderError {
        RenderError::unavailable(format!(
            "reading {key} from {} failed: {}; check that the store is up and reachable",
            self.base_url,
            super::error_chain(&err)
        ))
    }

    /// Whether clients are sent to a public base URL (a CDN) rather than served by the API.
    pub fn has_public_base_url(&self) -> bool {
        self.public_base_url.is_some()
    }

    /// The URL clients use for `key`: `<public_base_url>/<key>`, or else the store's own URL
    /// (`file:///dir/<key>`, `s3://bucket/prefix/<key>`).
    pub fn url_for(&self, key: &str) -> String {
        match &self.public_base_url {
            Some(base) => format!("{}/{key}", base.trim_end_matches('/')),
            None => format!("{}/{key}", self.base_url),
        }
    }
}

/// Artifact names are one path segment of letters, digits, `.`, `-` and `_`, at most 128 long.
pub fn check_artifact_name(name: &str) -> Result<(), RenderError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(RenderError::invalid_input(format!(
            "artifact name {name:?} is not allowed: use 1–128 letters, digits, '.', '-' or '_', not starting with '.'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_job() {
        for bad in ["", "../x", "a/b", ".hidden", "a b", &"x".repeat(129)] {
            assert!(check_artifact_name(bad).is_err(), "{bad:?} was accepted");
        }
        check_artifact_name("image.png").unwrap();
    }

    #[tokio::test]
    async fn put_writes_under_the_job_and_reports_a_file_url() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::open(
            &format!("file://{}", dir.path().display()),
            &StorageSettings::default(),
        )
        .unwrap();
        let stored = store
            .put("job-1", "a.txt", "text/plain", Bytes::from_static(b"hi"))
            .await
            .unwrap();
        assert_eq!(stored.key, "job-1/a.txt");
        assert_eq!(stored.bytes, 2);
        let on_disk = std::fs::read(dir.path().join("job-1/a.txt")).unwrap();
        assert_eq!(on_disk, b"hi");
        assert!(
            stored.url.starts_with("file:///") && stored.url.ends_with("/job-1/a.txt"),
            "{}",
            stored.url
        );
    }

    fn s3_settings(endpoint: &str) -> StorageSettings {
        let mut settings = StorageSettings::default();
        for (k, v) in [
            ("aws_endpoint", endpoint),
            ("aws_allow_http", "true"),
            ("aws_region", "us-east-1"),
            ("aws_access_key_id", "test"),
            ("aws_secret_access_key", "test"),
        ] {
            settings.options.insert(k.into(), v.into());
        }
        settings
    }

    #[test]
    fn remote_urls_name_the_store_unless_a_public_base_is_set() {
        let mut settings = s3_settings("http://127.0.0.1:9");
        let store = ArtifactStore::open("s3://renders/kiln/", &settings).unwrap();
        assert_eq!(store.base_url(), "s3://renders/kiln");
        assert_eq!(
            store.url_for("j/image.png"),
            "s3://renders/kiln/j/image.png"
        );
        assert!(!store.has_public_base_url());

        settings.public_base_url = Some("https://cdn.example/kiln/".into());
        let store = ArtifactStore::open("s3://renders/kiln", &settings).unwrap();
        assert_eq!(
            store.url_for("j/image.png"),
            "https://cdn.example/kiln/j/image.png"
        );
    }

    #[test]
    fn a_file_store_refuses_options() {
        let dir = tempfile::tempdir().unwrap();
        let err = ArtifactStore::local(dir.path(), &s3_settings("http://x"))
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("a file:// store takes no options"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_store_that_is_down_fails_the_put_as_unavailable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut settings = s3_settings(&format!("http://127.0.0.1:{port}"));
        settings.max_retries = 1;
        settings.retry_backoff_ms = 10;
        let store = ArtifactStore::open("s3://renders/p", &settings).unwrap();
        let started = std::time::Instant::now();
        let err = store
            .put("job-1", "a.txt", "text/plain", Bytes::from_static(b"hi"))
            .await
            .unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Unavailable, "{err}");
        assert!(
            err.message
                .starts_with("storing job-1/a.txt in s3://renders/p failed:")
                && err.message.contains("check that the store is up"),
            "{}",
            err.message
        );
        assert!(
            err.message.to_lowercase().contains("connection refused"),
            "{}",
            err.message
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let err = store.get("job-1/a.txt").await.unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Unavailable, "{err}");
    }

    #[test]
    fn unsupported_schemes_say_so() {
        let err = ArtifactStore::open("ftp://x/y", &StorageSettings::default())
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("ftp:// scheme is not supported"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod read_tests {
    use super::*;
    use futures::stream::BoxStream;
    use object_store::memory::InMemory;
    use object_store::{
        CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta,
        PutMultipartOptions, PutOptions, PutResult,
    };
    use std::sync::Mutex;

    /// An in-memory store that records each read: `head` or `get`.
    #[derive(Debug, Default)]
    struct Recording {
        inner: InMemory,
        reads: Mutex<Vec<&'static str>>,
    }

    impl std::fmt::Display for Recording {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "Recording")
        }
    }

    #[async_trait::async_trait]
    impl ObjectStore for Recording {
        async fn put_opts(
            &self,
            location: &ObjectPath,
            payload: PutPayload,
            opts: PutOptions,
        ) -> object_store::Result<PutResult> {
            self.inner.put_opts(location, payload, opts).await
        }

        async fn put_multipart_opts(
            &self,
            location: &ObjectPath,
            opts: PutMultipartOptions,
        ) -> object_store::Result<Box<dyn MultipartUpload>> {
            self.inner.put_multipart_opts(location, opts).await
        }

        async fn get_opts(
            &self,
            location: &ObjectPath,
            options: GetOptions,
        ) -> object_store::Result<GetResult> {
            self.reads
                .lock()
                .unwrap()
                .push(if options.head { "head" } else { "get" });
            self.inner.get_opts(location, options).await
        }

        fn delete_stream(
            &self,
            locations: BoxStream<'static, object_store::Result<ObjectPath>>,
        ) -> BoxStream<'static, object_store::Result<ObjectPath>> {
            self.inner.delete_stream(locations)
        }

        fn list(
            &self,
            prefix: Option<&ObjectPath>,
        ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
            self.inner.list(prefix)
        }

        async fn list_with_delimiter(
            &self,
            prefix: Option<&ObjectPath>,
        ) -> object_store::Result<ListResult> {
            self.inner.list_with_delimiter(prefix).await
        }

        async fn copy_opts(
            &self,
            from: &ObjectPath,
            to: &ObjectPath,
            options: CopyOptions,
        ) -> object_store::Result<()> {
            self.inner.copy_opts(from, to, options).await
        }
    }

    #[tokio::test]
    async fn an_object_over_the_limit_is_refused_before_its_bytes_are_fetched() {
        let recording = Arc::new(Recording::default());
        let store = ArtifactStore::with_store(
            recording.clone(),
            "memory://".into(),
            &StorageSettings::default(),
        )
        .unwrap();
        store
            .put(
                "job-1",
                "big.png",
                "image/png",
                Bytes::from(vec![7u8; 2000]),
            )
            .await
            .unwrap();

        let err = store.read_within("job-1/big.png", 1000).await.unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::InvalidInput);
        assert!(
            err.message
                .contains("2000 bytes, over the read limit of 1000"),
            "{}",
            err.message
        );
        assert_eq!(
            *recording.reads.lock().unwrap(),
            ["head"],
            "the body was fetched"
        );

        recording.reads.lock().unwrap().clear();
        let bytes = store.read_within("job-1/big.png", 2000).await.unwrap();
        assert_eq!(bytes.len(), 2000);
        assert_eq!(*recording.reads.lock().unwrap(), ["head", "get"]);

        let err = store
            .read_within("job-1/missing.png", 10)
            .await
            .unwrap_err();
        assert!(
            err.message.contains("no stored object job-1/missing.png"),
            "{}",
            err.message
        );
    }
}
