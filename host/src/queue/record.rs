//! A job as the queue keeps it: what was submitted, where it stands, and how it ended.

use crate::error::RenderError;
use crate::jobs::LogLine;
use crate::storage::StoredArtifact;
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

wire_enum! {
    /// Which lane a job waits in. Workers drain `interactive` first.
    #[derive(Default)]
    pub enum Lane {
        /// Someone is waiting for it (the default, and every `?wait` request).
        #[default]
        Interactive = "interactive",
        /// Batches and backfills.
        Bulk = "bulk",
    }
}

wire_enum! {
    /// Where a job stands.
    pub enum JobState {
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

wire_enum! {
    /// Which client protocol submitted a job, when it was not Kiln's own HTTP API or Redis
    /// stream: its result is answered in that protocol's shape too.
    pub enum ClientProtocol {
        /// emprops-style clients: jobs LPUSHed onto `queue.emprops_list`.
        Emprops = "emprops",
    }
}

impl JobState {
    /// Whether the job will not change any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// Time spent per stage, in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Timings {
    /// From acceptance to a worker taking it.
    pub queued_ms: Option<f64>,
    /// The run, all attempts.
    pub run_ms: Option<f64>,
    /// From acceptance to the final state.
    pub total_ms: Option<f64>,
}

/// One job.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Job)]
pub struct JobRecord {
    pub id: String,
    #[serde(rename = "type")]
    pub job_type: String,
    pub input: serde_json::Value,
    pub lane: Lane,
    pub status: JobState,
    /// Attempts started: runs interrupted by a crash of the host count too, clean stops (a
    /// drain that ran out of time, `release`) do not.
    pub attempts: u32,
    /// The worker that ran (or runs) its last attempt: its Redis consumer name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// `name@version` of the plugin the job is pinned to from its submission (the version its
    /// input was checked against and its cache key names), and once it has run, of the plugin
    /// that ran it: the same, unless the pinned version was gone by then (see
    /// `Service::plugin_for`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// Unix milliseconds.
    pub submitted_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<u64>,
    pub timings: Timings,
    pub artifacts: Vec<StoredArtifact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RenderError>,
    /// The client's `Idempotency-Key`: a second submission with it gets this job back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Where the finished job is POSTed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<String>,
    /// The result-cache key: type, plugin version and input, hashed; it names the plugin that
    /// ran the job (a job run on another version than the one pinned at submit gets that
    /// version's key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_key: Option<String>,
    /// Set when the record was answered from the result cache instead of a new render.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
    /// For a job made from a result-cache hit: the earlier job whose artifacts it points at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_from: Option<String>,
    /// The hash of the submitted envelope (type, input, the client's id, callback), kept with an
    /// idempotency key so that the key reused for another request is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub request_hash: Option<String>,
    /// The job's log (plugin, page, network and host lines), capped by `jobs.max_log_lines` and
    /// `jobs.max_log_bytes`; filled when the job ends.
    #[serde(default)]
    pub log: Vec<LogEntry>,
    /// Which client protocol submitted it: `emprops` jobs get their result in that shape too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ClientProtocol>,
    /// Position in its lane (the queue's own bookkeeping).
    #[serde(default)]
    #[schema(ignore)]
    pub seq: u64,
    /// The queue's handle on a leased job (Redis: its lane and stream entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub lease: Option<String>,
    /// Set when the input was larger than `queue.max_kept_input_bytes` and was dropped from
    /// the record once the job ended (`input` is then `null`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_dropped: Option<DroppedInput>,
}

/// What is left of an input dropped from an ended job's record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct DroppedInput {
    /// Its size as JSON.
    pub bytes: u64,
    /// SHA-256 of that JSON, hex.
    pub sha256: String,
}

impl JobRecord {
    /// A new, queued job.
    pub fn new(id: String, job_type: String, input: serde_json::Value, lane: Lane) -> Self {
        Self {
            id,
            job_type,
            input,
            lane,
            status: JobState::Queued,
            attempts: 0,
            worker: None,
            plugin: None,
            submitted_at: now_ms(),
            started_at: None,
            finished_at: None,
            timings: Timings::default(),
            artifacts: Vec::new(),
            error: None,
            idempotency_key: None,
            callback: None,
            cache_key: None,
            cached: false,
            cached_from: None,
            request_hash: None,
            log: Vec::new(),
            source: None,
            seq: 0,
            lease: None,
            input_dropped: None,
        }
    }
}

impl JobRecord {
    /// Resets a dead letter to run again from its first attempt.
    pub fn requeue(&mut self) {
        self.status = JobState::Queued;
        self.attempts = 0;
        self.started_at = None;
        self.finished_at = None;
        self.timings = Timings::default();
        self.artifacts.clear();
        self.error = None;
        self.lease = None;
        self.worker = None;
        self.log.clear();
    }

    /// Drops the input of an ended job when its JSON is larger than `limit` bytes (what Kiln
    /// keeps of a job it has run is bounded, however large the inputs it accepted).
    pub fn drop_large_input(&mut self, limit: u64) {
        if self.input.is_null() {
            return;
        }
        let json = serde_json::to_vec(&self.input).expect("a JSON value serializes");
        if json.len() as u64 <= limit {
            return;
        }
        use sha2::Digest;
        self.input_dropped = Some(DroppedInput {
            bytes: json.len() as u64,
            sha256: hex::encode(sha2::Sha256::digest(&json)),
        });
        self.input = serde_json::Value::Null;
    }

    /// The record as clients see it (API, events, webhooks): without the queue's bookkeeping.
    pub fn public_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("a job record serializes");
        if let Some(object) = value.as_object_mut() {
            object.remove("seq");
            object.remove("lease");
            object.remove("request_hash");
        }
        value
    }
}

/// One line of a job's log as the record keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct LogEntry {
    /// Milliseconds since the job started.
    pub at_ms: u64,
    /// `debug`, `info`, `warn` or `error`.
    pub level: String,
    /// `plugin`, `page`, `network` or `host`; and `queue` for what the service's worker noted
    /// between attempts (a retry, a pinned plugin version that was gone), kept from one attempt
    /// to the next.
    pub source: String,
    pub message: String,
}

impl From<&LogLine> for LogEntry {
    fn from(line: &LogLine) -> Self {
        Self {
            at_ms: line.at_ms,
            level: line.level.to_string(),
            source: line.source.to_string(),
            message: line.message.clone(),
        }
    }
}

/// A job's log lines as its record keeps them: the first `max_lines` lines and at most
/// `max_bytes` of messages, then one `host` line saying how many more were left out.
pub fn capped_log(lines: &[LogLine], max_lines: usize, max_bytes: usize) -> Vec<LogEntry> {
    let mut kept = Vec::with_capacity(lines.len().min(max_lines));
    let mut bytes = 0;
    for line in lines {
        if kept.len() >= max_lines || bytes + line.message.len() > max_bytes {
            break;
        }
        bytes += line.message.len();
        kept.push(LogEntry::from(line));
    }
    let left_out = lines.len() - kept.len();
    if left_out > 0 {
        kept.push(LogEntry {
            at_ms: lines.last().map(|l| l.at_ms).unwrap_or(0),
            level: "warn".into(),
            source: "host".into(),
            message: format!(
                "{left_out} more log lines are not kept in the job's record (jobs.max_log_lines = \
                 {max_lines}, jobs.max_log_bytes = {max_bytes})"
            ),
        });
    }
    kept
}

/// Jobs waiting per lane.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct LaneDepths {
    pub interactive: u64,
    pub bulk: u64,
    /// Jobs waiting out the backoff before their next attempt.
    pub retrying: u64,
}

impl LaneDepths {
    pub fn total(&self) -> u64 {
        self.interactive + self.bulk + self.retrying
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(message: &str) -> LogLine {
        LogLine {
            at_ms: 1,
            level: "info",
            source: "page",
            message: message.into(),
        }
    }

    #[test]
    fn the_record_keeps_the_first_lines_within_both_caps_and_says_what_it_left_out() {
        let lines: Vec<LogLine> = (0..10).map(|i| line(&format!("line {i}"))).collect();
        let kept = capped_log(&lines, 100, 10_000);
        assert_eq!(kept.len(), 10);
        assert_eq!(kept[3].message, "line 3");

        let kept = capped_log(&lines, 4, 10_000);
        assert_eq!(kept.len(), 5);
        assert_eq!(kept[3].message, "line 3");
        assert!(kept[4].message.starts_with("6 more log lines"), "{kept:?}");
        assert_eq!(
            (kept[4].source.as_str(), kept[4].level.as_str()),
            ("host", "warn")
        );

        // "line N" is 6 bytes: 20 bytes hold three lines.
        let kept = capped_log(&lines, 100, 20);
        assert_eq!(kept.len(), 4);
        assert!(
            kept[3].message.contains("jobs.max_log_bytes = 20"),
            "{kept:?}"
        );
    }
}
