//! The artifact store: the `storage` capability.
//!
//! Objects are written through `object_store`, keyed `<job-id>/<name>`; a plugin can only name the
//! artifact, never the key, so it cannot write outside its own job.

mod binding;
mod store;

pub use store::{ArtifactStore, StoredArtifact, check_artifact_name};
