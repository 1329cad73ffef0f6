//! `[queue]`: where accepted jobs wait and how failed attempts are retried.

use serde::Deserialize;
use std::time::Duration;

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
    /// listed as a dead letter. The queue is the service's one retry owner: a worker makes one
    /// attempt per lease (`jobs.unavailable_retries` is the command line's).
    pub max_attempts: u32,
    /// Wait before a job that failed as `unavailable` runs again, in milliseconds; doubled for
    /// each attempt after.
    pub retry_backoff_ms: u64,
    /// The longest wait before a retry, however many attempts came before, in milliseconds.
    pub retry_max_backoff_ms: u64,
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
            retry_max_backoff_ms: 300_000,
            lease_ms: 30_000,
            poll_ms: 100,
            record_ttl_s: 7 * 24 * 3600,
            max_kept_input_bytes: 64 << 10,
            cache_ttl_s: 24 * 3600,
            emprops_list: "kiln:emprops:jobs".into(),
        }
    }
}

impl QueueSettings {
    /// The wait before the attempt after attempt `attempt` (1-based) failed as `unavailable`:
    /// `retry_backoff_ms`, doubled for each attempt after the first, at most
    /// `retry_max_backoff_ms`.
    pub fn retry_backoff(&self, attempt: u32) -> Duration {
        Duration::from_millis(self.retry_backoff_ms)
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(Duration::from_millis(self.retry_max_backoff_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_per_attempt_up_to_its_cap() {
        let settings = QueueSettings {
            retry_backoff_ms: 100,
            retry_max_backoff_ms: 1000,
            ..QueueSettings::default()
        };
        let waits: Vec<u128> = (1..=6)
            .map(|attempt| settings.retry_backoff(attempt).as_millis())
            .collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(settings.retry_backoff(u32::MAX).as_millis(), 1000);
    }
}
