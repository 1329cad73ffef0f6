//! The job queue: where accepted jobs wait, durably, until a worker leases them.
//!
//! [`JobQueue`] is the one interface, with two backends: [`EmbeddedQueue`] (a redb file in the
//! data dir, the default) and [`RedisQueue`] (Redis Streams with a consumer group, shared by
//! processes on many machines). Jobs wait in two lanes, and workers always take `interactive`
//! before `bulk`, so a burst of bulk jobs cannot starve a request someone is waiting on.

mod embedded;
mod record;
mod redis;
mod settings;

pub use embedded::EmbeddedQueue;
pub use record::{
    ClientProtocol, DroppedInput, JobRecord, JobState, Lane, LaneDepths, LogEntry, Timings,
    capped_log, now_ms as record_now_ms,
};
pub use redis::{INGRESS_GROUP, RedisKeys, RedisQueue, WORKER_GROUP, emprops_result};
pub use settings::QueueSettings;

use crate::error::RenderError;
use futures::future::BoxFuture;
use std::time::Duration;

/// Why the queue refused or failed an operation.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue holds `max_queued` jobs already; try again later.
    #[error("the queue is full ({queued} jobs waiting, limit {limit}); retry later")]
    Full { queued: u64, limit: u64 },
    /// A job with this id exists.
    #[error("a job with id {0:?} already exists")]
    Duplicate(String),
    /// The backend itself failed (disk, connection).
    #[error("the job queue is unavailable: {0}")]
    Unavailable(String),
    /// This worker's lease on the job ran out and another worker took it over (or the job was
    /// cancelled); its result is dropped.
    #[error("the lease on job {0} was lost: another worker has taken it over")]
    LeaseLost(String),
}

impl From<QueueError> for RenderError {
    fn from(err: QueueError) -> Self {
        match err {
            QueueError::Duplicate(_) => RenderError::invalid_input(err.to_string()),
            _ => RenderError::unavailable(err.to_string()),
        }
    }
}

/// What `submit` did.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// A new job, queued.
    New(JobRecord),
    /// A job was already submitted with the same idempotency key: this one.
    Existing(JobRecord),
    /// The result cache holds a succeeded job of the same type, plugin version and input.
    Cached(JobRecord),
}

/// What `cancel` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// It was waiting and is now removed from its lane.
    WasQueued,
    /// It is running; the worker running it must stop it.
    IsRunning,
    /// It had already finished (or was cancelled); nothing changed.
    AlreadyDone,
    NotFound,
}

/// Whether a worker still holds the job it is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// Yes; the lease is renewed.
    Held,
    /// A client cancelled the job: stop it.
    CancelRequested,
    /// Another worker has taken it over: stop it and record nothing.
    Lost,
}

/// How long ended jobs are kept, and how much of them.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// An ended job's record (and its idempotency key, and its place among the dead letters)
    /// is deleted this long after it ended (`queue.record_ttl_s`).
    pub record_ttl: Duration,
    /// An input larger than this (as JSON) is dropped from the record of a job that ended,
    /// dead letters excepted (`queue.max_kept_input_bytes`).
    pub max_kept_input_bytes: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            record_ttl: Duration::from_secs(7 * 24 * 3600),
            max_kept_input_bytes: 64 << 10,
        }
    }
}

/// What `release` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    /// The job waits again, its attempt not counted.
    Queued,
    /// A client asked to cancel it meanwhile: record it as cancelled instead.
    CancelRequested,
}

/// A durable queue of jobs with their records.
pub trait JobQueue: Send + Sync {
    /// Stores `job` as queued in its lane, or returns the job submitted earlier with the same
    /// idempotency key; fails when full or when its id is taken.
    fn submit(&self, job: JobRecord) -> BoxFuture<'_, Result<Submitted, QueueError>>;
    /// Stores a job that is final from the start (a result-cache hit under the id its client
    /// chose), without queueing it; fails with `Duplicate` when its id is taken.
    fn store_final(&self, job: JobRecord) -> BoxFuture<'_, Result<(), QueueError>>;
    /// Takes the next queued job (interactive first) and marks it running; `None` if empty.
    fn lease(&self) -> BoxFuture<'_, Result<Option<JobRecord>, QueueError>>;
    /// Records a job's final state; fails with `LeaseLost` if another worker holds it now.
    fn finish(&self, record: JobRecord) -> BoxFuture<'_, Result<(), QueueError>>;
    /// Puts a running job back, to be leased again after `delay` (its attempt failed in a way
    /// that may pass: storage or a browser was unavailable).
    fn retry(&self, record: JobRecord, delay: Duration) -> BoxFuture<'_, Result<(), QueueError>>;
    /// Puts a running job back to wait, without counting the attempt it was on: its worker is
    /// stopping cleanly (a drain that ran out of time), not crashing. Fails with `LeaseLost` if
    /// another worker holds it now.
    fn release(&self, record: JobRecord) -> BoxFuture<'_, Result<Released, QueueError>>;
    /// Deletes what outlived `queue.record_ttl_s`; how many records went. Redis expires its
    /// keys itself, so there it does nothing.
    fn expire(&self) -> BoxFuture<'_, Result<u64, QueueError>> {
        Box::pin(async { Ok(0) })
    }
    /// Records the final state of a job that used up its attempts, and lists it as a dead
    /// letter.
    fn bury(&self, record: JobRecord) -> BoxFuture<'_, Result<(), QueueError>>;
    /// The dead letters, newest first.
    fn dead_letters(&self) -> BoxFuture<'_, Result<Vec<JobRecord>, QueueError>>;
    /// Queues a dead letter again with fresh attempts; `None` if `id` is not a dead letter.
    fn requeue(&self, id: String) -> BoxFuture<'_, Result<Option<JobRecord>, QueueError>>;
    /// Renews the lease on a running job and says whether to go on.
    fn heartbeat(&self, record: &JobRecord) -> BoxFuture<'_, Result<LeaseState, QueueError>>;
    /// The succeeded job stored under the result-cache `key`, if it has not expired.
    fn cached(&self, key: String) -> BoxFuture<'_, Result<Option<JobRecord>, QueueError>>;
    /// Remembers that job `id` holds the result for `key`, for `ttl`.
    fn remember(
        &self,
        key: String,
        id: String,
        ttl: Duration,
    ) -> BoxFuture<'_, Result<(), QueueError>>;
    /// The job's record.
    fn get(&self, id: String) -> BoxFuture<'_, Result<Option<JobRecord>, QueueError>>;
    /// Cancels a queued job, or reports that a running one must be stopped.
    fn cancel(&self, id: String) -> BoxFuture<'_, Result<Cancelled, QueueError>>;
    /// Jobs waiting per lane.
    fn depths(&self) -> BoxFuture<'_, Result<LaneDepths, QueueError>>;
}
