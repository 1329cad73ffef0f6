//! What each schedule has done, kept where every process sharing the queue sees it: a hash per
//! schedule in Redis, or a JSON file in the data dir beside the embedded queue.

use super::file_store::FileStore;
use super::redis_store::RedisStore;
use serde::{Deserialize, Serialize};

/// One schedule's history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FireState {
    /// When a process first saw the schedule (Unix ms): fire times before it were never due.
    pub since_ms: u64,
    /// The latest fire time whose job was submitted (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_fire_ms: Option<u64>,
    /// That job's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_job: Option<String>,
}

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("schedule state: {0}")]
pub struct StateError(pub String);

/// Where the history is kept.
#[derive(Clone)]
pub enum ScheduleStore {
    /// `<data_dir>/schedules.json`, for the embedded queue (one process per data dir).
    File(FileStore),
    /// `<prefix>:schedule:<name>` hashes, for the Redis queue.
    Redis(Box<RedisStore>),
}

impl ScheduleStore {
    /// The schedule's history, after recording `now_ms` as when it was first seen if it had
    /// none (atomically: the first process to look sets it).
    pub async fn init(&self, name: &str, now_ms: u64) -> Result<FireState, StateError> {
        match self {
            Self::File(store) => store.init(name, now_ms),
            Self::Redis(store) => store.init(name, now_ms).await,
        }
    }

    /// The schedule's history, if it has one.
    pub async fn get(&self, name: &str) -> Result<Option<FireState>, StateError> {
        match self {
            Self::File(store) => store.get(name),
            Self::Redis(store) => store.get(name).await,
        }
    }

    /// Records that the job `job` was submitted for the fire time `fire_ms`, unless a later fire
    /// time is recorded already.
    pub async fn record(&self, name: &str, fire_ms: u64, job: &str) -> Result<(), StateError> {
        match self {
            Self::File(store) => store.record(name, fire_ms, job),
            Self::Redis(store) => store.record(name, fire_ms, job).await,
        }
    }
}
