//! The schedules' history in Redis, shared by every process on the queue: one hash per schedule,
//! `<prefix>:schedule:<name>` with `since_ms`, `last_fire_ms` and `last_job`, kept without
//! expiry. Each change is one atomic command or script.

use super::state::{FireState, StateError};
use crate::queue::RedisQueue;
use redis::AsyncCommands;
use std::collections::HashMap;

/// Sets `last_fire_ms` and `last_job` unless a later fire is recorded; sets `since_ms` if unset.
/// KEYS: the hash. ARGV: fire time (ms), job id.
const RECORD: &str = r#"
local last = redis.call('HGET', KEYS[1], 'last_fire_ms')
if not last or tonumber(ARGV[1]) > tonumber(last) then
  redis.call('HSET', KEYS[1], 'last_fire_ms', ARGV[1], 'last_job', ARGV[2])
end
redis.call('HSETNX', KEYS[1], 'since_ms', ARGV[1])
return 1
"#;

/// The hashes, over the queue's connection.
#[derive(Clone)]
pub struct RedisStore {
    queue: RedisQueue,
}

fn failed(err: redis::RedisError) -> StateError {
    StateError(format!("Redis: {err}"))
}

impl RedisStore {
    /// The history kept beside `queue`'s keys.
    pub fn new(queue: RedisQueue) -> Self {
        Self { queue }
    }

    fn key(&self, name: &str) -> String {
        self.queue.keys().schedule(name)
    }

    pub(super) async fn init(&self, name: &str, now_ms: u64) -> Result<FireState, StateError> {
        let mut conn = self.queue.connection();
        let _: bool = conn
            .hset_nx(self.key(name), "since_ms", now_ms)
            .await
            .map_err(failed)?;
        Ok(self.get(name).await?.unwrap_or(FireState {
            since_ms: now_ms,
            ..FireState::default()
        }))
    }

    pub(super) async fn get(&self, name: &str) -> Result<Option<FireState>, StateError> {
        let mut conn = self.queue.connection();
        let fields: HashMap<String, String> = conn.hgetall(self.key(name)).await.map_err(failed)?;
        if fields.is_empty() {
            return Ok(None);
        }
        let number = |field: &str| fields.get(field).and_then(|v| v.parse::<u64>().ok());
        Ok(Some(FireState {
            since_ms: number("since_ms").unwrap_or(0),
            last_fire_ms: number("last_fire_ms"),
            last_job: fields.get("last_job").cloned(),
        }))
    }

    pub(super) async fn record(
        &self,
        name: &str,
        fire_ms: u64,
        job: &str,
    ) -> Result<(), StateError> {
        let mut conn = self.queue.connection();
        let _: i64 = redis::Script::new(RECORD)
            .key(self.key(name))
            .arg(fire_ms)
            .arg(job)
            .invoke_async(&mut conn)
            .await
            .map_err(failed)?;
        Ok(())
    }
}
