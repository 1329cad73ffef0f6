//! The artifact store: the `storage` capability.
//!
//! Objects are written through `object_store` (a local directory, S3, Azure Blob Storage or
//! Google Cloud Storage, chosen by `storage.url`), keyed `<job-id>/<name>` under the store's
//! prefix; a plugin can only name the artifact, never the key, so it cannot write outside its
//! own job. With `storage.verify_public_url`, a put also waits until the artifact's public (CDN)
//! URL serves it. Reads are checked against the job's [`ReadScope`] (its own keys and the
//! prefixes granted to its plugin) and sized before they are fetched
//! ([`ArtifactStore::read_within`]).

mod binding;
mod context;
mod read_scope;
mod remote;
mod settings;
mod store;
mod verify;

pub use crate::jobs::StoredArtifact;
pub use context::{StorageAccess, StorageCtx, StorageReader, StorageView};
pub use read_scope::{
    EVERY_KEY, HOST_SEGMENT, ReadScope, TAPES_SEGMENT, check_job_id,
    check_prefix as check_read_prefix,
};
pub use remote::{RemoteKind, RemoteUrl};
pub use settings::{StorageSettings, check_settings};
pub use store::{ArtifactStore, check_artifact_name};
pub use verify::PublicUrlCheck;

/// An error with the sources its message does not already show, so "connection refused" is
/// not hidden behind "error sending request". Shared with the piece-source client.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
