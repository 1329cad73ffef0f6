//! What a job run produces: the result JSON that `kiln render` prints.

use super::artifact::StoredArtifact;
use super::log::LogLine;
use crate::error::RenderError;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Succeeded,
    Failed,
}

/// The result of one job, after all its attempts.
#[derive(Debug, Clone, Serialize)]
pub struct JobOutcome {
    pub id: String,
    #[serde(rename = "type")]
    pub job_type: String,
    /// `name@version` of the plugin that ran it, when one was resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    pub status: JobStatus,
    pub attempts: u32,
    pub artifacts: Vec<StoredArtifact>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RenderError>,
    /// Wall time of the whole job, all attempts, in milliseconds.
    pub elapsed_ms: f64,
    pub log: Vec<LogLine>,
}

impl JobOutcome {
    pub fn succeeded(&self) -> bool {
        self.status == JobStatus::Succeeded
    }
}

impl JobOutcome {
    /// The outcome of a job that failed before it could start (e.g. a malformed envelope).
    pub fn from_error(error: RenderError) -> Self {
        Self {
            id: String::new(),
            job_type: String::new(),
            plugin: None,
            status: JobStatus::Failed,
            attempts: 0,
            artifacts: Vec::new(),
            error: Some(error),
            elapsed_ms: 0.0,
            log: Vec::new(),
        }
    }
}
