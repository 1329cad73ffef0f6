//! What a job leaves behind: its stored artifacts, as clients see them.

use serde::{Deserialize, Serialize};

/// One stored object, as reported to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredArtifact {
    pub name: String,
    pub key: String,
    pub url: String,
    pub content_type: String,
    pub bytes: u64,
}
