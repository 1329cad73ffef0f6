//! The Redis key layout, one place for every name (docs/operations.md documents it for clients
//! that talk to Redis directly). The Lua scripts build the same names from the prefix.

use crate::queue::Lane;

/// The consumer group every Kiln worker reads the lane streams through.
pub const WORKER_GROUP: &str = "workers";
/// The consumer group Kiln processes read the submission stream through.
pub const INGRESS_GROUP: &str = "ingress";

/// Key names under one prefix (`queue.prefix`, default `kiln`).
#[derive(Debug, Clone)]
pub struct RedisKeys {
    prefix: String,
}

impl RedisKeys {
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_string(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Hash of one job: `record` (JSON), `status`, `attempts`, `lane`, `entry`, `worker`.
    pub fn job(&self, id: &str) -> String {
        format!("{}:job:{id}", self.prefix)
    }

    /// Stream of a lane's waiting jobs (field `id`), read through [`WORKER_GROUP`].
    pub fn lane(&self, lane: Lane) -> String {
        format!("{}:lane:{}", self.prefix, lane.as_str())
    }

    /// Sorted set of jobs backing off before a retry, scored by when they are due (Unix ms).
    pub fn delayed(&self) -> String {
        format!("{}:delayed", self.prefix)
    }

    /// List of dead-letter job ids, newest first.
    pub fn dead(&self) -> String {
        format!("{}:dead", self.prefix)
    }

    /// Job id submitted with an `Idempotency-Key`.
    pub fn idempotency(&self, key: &str) -> String {
        format!("{}:idem:{key}", self.prefix)
    }

    /// Job id holding the result for a result-cache key.
    pub fn cache(&self, key: &str) -> String {
        format!("{}:cache:{key}", self.prefix)
    }

    /// List that receives the job's final public record once (BLPOP it to wait for a job).
    pub fn result(&self, id: &str) -> String {
        format!("{}:result:{id}", self.prefix)
    }

    /// Pub/sub channel: the id of every job that ends.
    pub fn results_channel(&self) -> String {
        format!("{}:results", self.prefix)
    }

    /// Pub/sub channel carrying every job event between Kiln processes (and to anyone who
    /// listens): `{origin, id, event, data}`.
    pub fn events_channel(&self) -> String {
        format!("{}:events", self.prefix)
    }

    /// Hash of one `[[schedules]]` entry's history: `since_ms`, `last_fire_ms`, `last_job`.
    pub fn schedule(&self, name: &str) -> String {
        format!("{}:schedule:{name}", self.prefix)
    }

    /// Stream Redis-only clients XADD jobs to (fields `job`, optional `lane`, `idempotency_key`).
    pub fn submit_stream(&self) -> String {
        format!("{}:submit", self.prefix)
    }

    /// List an emprops-style job is moved to while it is being accepted.
    pub fn emprops_claimed(&self) -> String {
        format!("{}:emprops:claimed", self.prefix)
    }

    /// List that receives an emprops job's `{success, src, …}` result.
    pub fn emprops_result(&self, id: &str) -> String {
        format!("{}:emprops:result:{id}", self.prefix)
    }
}
