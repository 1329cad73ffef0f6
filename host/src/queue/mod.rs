//! The job queue: where accepted jobs wait, durably, until a worker leases them.
//!
//! [`JobQueue`] is the one interface; [`EmbeddedQueue`] (a redb file in the data dir) is the
//! default backend. Jobs wait in two lanes, and workers always take `interactive` before `bulk`,
//! so a burst of bulk jobs cannot starve a request someone is waiting on.

mod embedded;
mod record;

pub use embedded::EmbeddedQueue;
pub use record::{JobRecord, JobState, Lane, LaneDepths, Timings, now_ms as record_now_ms};

use crate::error::RenderError;
use futures::future::BoxFuture;

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

/// A durable queue of jobs with their records.
pub trait JobQueue: Send + Sync {
    /// Stores `job` as queued in its lane, or returns the job submitted earlier with the same
    /// idempotency key; fails when full or when its id is taken.
    fn submit(&self, job: JobRecord) -> BoxFuture<'_, Result<Submitted, QueueError>>;
    /// Takes the next queued job (interactive first) and marks it running; `None` if empty.
    fn lease(&self) -> BoxFuture<'_, Result<Option<JobRecord>, QueueError>>;
    /// Records a job's final state.
    fn finish(&self, record: JobRecord) -> BoxFuture<'_, Result<(), QueueError>>;
    /// The job's record.
    fn get(&self, id: String) -> BoxFuture<'_, Result<Option<JobRecord>, QueueError>>;
    /// Cancels a queued job, or reports that a running one must be stopped.
    fn cancel(&self, id: String) -> BoxFuture<'_, Result<Cancelled, QueueError>>;
    /// Jobs waiting per lane.
    fn depths(&self) -> BoxFuture<'_, Result<LaneDepths, QueueError>>;
}
