//! `[queue]`: where accepted jobs wait and how failed attempts are retried.

use serde::Deserialize;

/// Where accepted jobs wait: the embedded queue (default) or Redis Streams shared by many
/// machines, and how failed attempts are retried.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueSettings {
    /// `redis://host:port[/db]` to share one queue between `kiln serve` and any number of
    /// `kiln worker` processes; unset, jobs wait in `<data_dir>/queue.redb`.
    pub url: Option<String>,
    /// Prefix of every Redis key Kiln uses (see docs/operations.md for the layout).
    pub prefix: String,
    /// Attempts a job gets, crashes of its worker included; after the last one it fails and is
    /// listed as a dead letter.
    pub max_attempts: u32,
    /// Wait before a job that failed as `unavailable` runs again, in milliseconds; doubled for
    /// each attempt after.
    pub retry_backoff_ms: u64,
    /// A running Redis job whose worker has not renewed its lease for this long is taken over
    /// by another worker, in milliseconds. Workers renew every third of it.
    pub lease_ms: u64,
    /// How often an idle worker looks at Redis for jobs submitted by other processes, in
    /// milliseconds (submissions through this process wake it at once).
    pub poll_ms: u64,
    /// How long an ended job's record is kept (with its result list and idempotency key), in
    /// seconds; both queues delete it after that.
    pub record_ttl_s: u64,
    /// An input larger than this many bytes (as JSON) is dropped from the record of a job
    /// once it ends (dead letters keep theirs, to run again); the record says it was.
    pub max_kept_input_bytes: u64,
    /// How long a succeeded job's artifacts answer a resubmission of the same
    /// (type, plugin version, input), in seconds; 0 turns the result cache off.
    pub cache_ttl_s: u64,
    /// The Redis list emprops-style clients LPUSH jobs onto (full key; empty turns it off).
    pub emprops_list: String,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            url: None,
            prefix: "kiln".into(),
            max_attempts: 3,
            retry_backoff_ms: 1000,
            lease_ms: 30_000,
            poll_ms: 100,
            record_ttl_s: 7 * 24 * 3600,
            max_kept_input_bytes: 64 << 10,
            cache_ttl_s: 24 * 3600,
            emprops_list: "kiln:emprops:jobs".into(),
        }
    }
}
