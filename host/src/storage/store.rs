//! Putting artifacts into the configured object store and naming their URLs.

use crate::error::RenderError;
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where artifacts are written, and how clients reach them.
pub struct ArtifactStore {
    store: Arc<dyn ObjectStore>,
    /// Local root for `file://` stores (for `file://` URLs when no public base is set).
    local_root: Option<PathBuf>,
    public_base_url: Option<String>,
}

/// One stored object, as reported to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredArtifact {
    pub name: String,
    pub key: String,
    pub url: String,
    pub content_type: String,
    pub bytes: u64,
}

impl ArtifactStore {
    /// Opens the store at `url`. `file://` is built in; the directory is created if missing.
    pub fn open(url: &str, public_base_url: Option<String>) -> Result<Self> {
        let parsed =
            url::Url::parse(url).with_context(|| format!("storage.url {url:?} is not a URL"))?;
        match parsed.scheme() {
            "file" => {
                let root = parsed.to_file_path().map_err(|_| {
                    anyhow::anyhow!("storage.url {url:?} is not an absolute file:// path")
                })?;
                Self::local(&root, public_base_url)
            }
            other => bail!(
                "storage.url {url:?}: the {other}:// scheme is not supported by this build; use file://<absolute path>"
            ),
        }
    }

    /// A store in a local directory.
    pub fn local(root: &Path, public_base_url: Option<String>) -> Result<Self> {
        std::fs::create_dir_all(root)
            .with_context(|| format!("creating artifact directory {}", root.display()))?;
        let root = root
            .canonicalize()
            .with_context(|| format!("resolving {}", root.display()))?;
        let store = LocalFileSystem::new_with_prefix(&root)
            .with_context(|| format!("opening artifact directory {}", root.display()))?;
        Ok(Self {
            store: Arc::new(store),
            local_root: Some(root),
            public_base_url,
        })
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
            .map_err(|e| RenderError::unavailable(format!("storing {key} failed: {e}")))?;
        Ok(StoredArtifact {
            name: name.to_string(),
            url: self.url_for(&key),
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
            other => RenderError::unavailable(format!("reading {key} failed: {other}")),
        })?;
        result
            .bytes()
            .await
            .map_err(|e| RenderError::unavailable(format!("reading {key} failed: {e}")))
    }

    /// Whether clients are sent to a public base URL (a CDN) rather than served by the API.
    pub fn has_public_base_url(&self) -> bool {
        self.public_base_url.is_some()
    }

    /// The URL clients use for `key`.
    pub fn url_for(&self, key: &str) -> String {
        match (&self.public_base_url, &self.local_root) {
            (Some(base), _) => format!("{}/{key}", base.trim_end_matches('/')),
            (None, Some(root)) => format!("file://{}/{key}", root.display()),
            (None, None) => key.to_string(),
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
        let store = ArtifactStore::open(&format!("file://{}", dir.path().display()), None).unwrap();
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

    #[test]
    fn unsupported_schemes_say_so() {
        let err = ArtifactStore::open("ftp://x/y", None).err().unwrap();
        assert!(
            err.to_string().contains("ftp:// scheme is not supported"),
            "{err}"
        );
    }
}
