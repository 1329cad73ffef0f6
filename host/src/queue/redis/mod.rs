//! The Redis backend: Redis Streams with one consumer group, shared by every `kiln serve` and
//! `kiln worker` pointed at the same Redis.
//!
//! Each lane is a stream of job ids; a job's record lives in a hash whose `status` field is the
//! authority. A worker leases an entry through the `workers` group and renews the lease while it
//! runs (`heartbeat`); an entry idle for longer than `queue.lease_ms` belongs to a worker that
//! died and is claimed by the next worker that looks. Every transition is one Lua script, so a
//! crash or a lost connection never leaves a job half-moved. Redis must persist (AOF) for an
//! accepted job to survive a restart of Redis itself: see docs/operations.md.

mod keys;
mod scripts;

pub use keys::{INGRESS_GROUP, RedisKeys, WORKER_GROUP};

use super::record::{ClientProtocol, JobRecord, JobState, LaneDepths, now_ms};
use super::{Cancelled, JobQueue, LeaseState, QueueError, Released, Submitted};
use crate::queue::QueueSettings;
use futures::FutureExt;
use futures::future::BoxFuture;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use scripts::Scripts;
use std::sync::Arc;
use std::time::Duration;

/// How long one Redis command may take before the call fails as `unavailable`.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long connecting to Redis may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The Redis Streams queue.
#[derive(Clone)]
pub struct RedisQueue {
    client: redis::Client,
    conn: ConnectionManager,
    keys: RedisKeys,
    /// This process's consumer name in the worker group.
    consumer: String,
    max_queued: u64,
    lease_ms: u64,
    record_ttl_s: u64,
    max_kept_input_bytes: u64,
    scripts: Arc<Scripts>,
}

fn unavailable(err: impl std::fmt::Display) -> QueueError {
    QueueError::Unavailable(format!("Redis: {err}"))
}

fn encode(record: &JobRecord) -> String {
    serde_json::to_string(record).expect("a job record serializes")
}

fn decode(text: &str) -> Result<JobRecord, QueueError> {
    serde_json::from_str(text)
        .map_err(|e| unavailable(format!("a stored job record is corrupt: {e}")))
}

/// The job hash's `record`, `status`, `attempts`, `started_at` and `worker` fields.
type JobHashFields = (
    Option<String>,
    Option<String>,
    Option<u32>,
    Option<u64>,
    Option<String>,
);

/// The lease a worker holds: `<lane> <entry>`.
fn lease_parts(record: &JobRecord) -> Result<(&str, &str), QueueError> {
    record
        .lease
        .as_deref()
        .and_then(|lease| lease.split_once(' '))
        .ok_or_else(|| QueueError::LeaseLost(record.id.clone()))
}

impl RedisQueue {
    /// Connects lazily to `url`: a Redis that is down now fails the calls (as `unavailable`)
    /// until it is back, and the connection is re-made by itself.
    pub fn connect(url: &str, settings: &QueueSettings, max_queued: u64) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("queue.url {url:?} is not a usable Redis URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| anyhow::anyhow!("connecting to Redis at {url}: {e}"))?;
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "host".into());
        Ok(Self {
            client,
            conn,
            keys: RedisKeys::new(&settings.prefix),
            consumer: format!(
                "{host}-{}-{}",
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            max_queued,
            lease_ms: settings.lease_ms,
            record_ttl_s: settings.record_ttl_s,
            max_kept_input_bytes: settings.max_kept_input_bytes,
            scripts: Arc::new(Scripts::new()),
        })
    }

    /// The key layout.
    pub fn keys(&self) -> &RedisKeys {
        &self.keys
    }

    /// A connection handle (shared, multiplexed, reconnecting) for the Redis client protocols.
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// The client, for connections of their own (pub/sub).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// This process's consumer name in the worker group.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// Pushes the final record of a job that never entered the queue (refused, or answered from
    /// the cache under another id) to its result lists, as finishing a job does.
    pub async fn publish_result(&self, record: &JobRecord) {
        let ttl = self.record_ttl_s as i64;
        let mut pipe = redis::pipe();
        let key = self.keys.result(&record.id);
        pipe.lpush(&key, record.public_json().to_string())
            .expire(&key, ttl);
        if record.source == Some(ClientProtocol::Emprops) {
            let reply = self.keys.emprops_result(&record.id);
            pipe.lpush(&reply, emprops_result(record).to_string())
                .expire(&reply, ttl);
        }
        pipe.publish(self.keys.results_channel(), &record.id);
        if let Err(err) = pipe.query_async::<()>(&mut self.conn.clone()).await {
            tracing::warn!(job = %record.id, "cannot publish the result through Redis: {err}");
        }
    }

    async fn submit_now(&self, mut record: JobRecord) -> Result<Submitted, QueueError> {
        record.status = JobState::Queued;
        let reply: Vec<String> = self
            .scripts
            .submit
            .arg(self.keys.prefix())
            .arg(&record.id)
            .arg(record.lane.as_str())
            .arg(encode(&record))
            .arg(record.idempotency_key.as_deref().unwrap_or(""))
            .arg(self.max_queued)
            .arg(self.record_ttl_s)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        match reply.first().map(String::as_str) {
            Some("new") => Ok(Submitted::New(record)),
            Some("existing") => {
                let id = reply.get(1).cloned().unwrap_or_default();
                match self.get_now(&id).await? {
                    Some(earlier) => Ok(Submitted::Existing(earlier)),
                    None => Err(unavailable(format!(
                        "idempotency key points at job {id}, whose record has expired"
                    ))),
                }
            }
            Some("duplicate") => Err(QueueError::Duplicate(record.id)),
            Some("full") => Err(QueueError::Full {
                queued: reply.get(1).and_then(|n| n.parse().ok()).unwrap_or(0),
                limit: self.max_queued,
            }),
            _ => Err(unavailable(format!("unexpected submit reply {reply:?}"))),
        }
    }

    async fn store_final_now(&self, record: JobRecord) -> Result<(), QueueError> {
        let emprops = match record.source {
            Some(ClientProtocol::Emprops) => {
                serde_json::to_string(&emprops_result(&record)).unwrap_or_default()
            }
            _ => String::new(),
        };
        let reply: String = self
            .scripts
            .store_final
            .arg(self.keys.prefix())
            .arg(&record.id)
            .arg(record.lane.as_str())
            .arg(encode(&record))
            .arg(record.status.as_str())
            .arg(self.record_ttl_s)
            .arg(record.public_json().to_string())
            .arg(emprops)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        match reply.as_str() {
            "stored" => Ok(()),
            _ => Err(QueueError::Duplicate(record.id)),
        }
    }

    async fn lease_now(&self) -> Result<Option<JobRecord>, QueueError> {
        let now = now_ms();
        let reply: Vec<String> = self
            .scripts
            .lease
            .arg(self.keys.prefix())
            .arg(&self.consumer)
            .arg(now)
            .arg(self.lease_ms)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        let [id, entry, lane, attempts, record] = reply.as_slice() else {
            return Ok(None);
        };
        let mut record = decode(record)?;
        if record.id != *id {
            return Err(unavailable(format!(
                "job hash {id} holds job {}",
                record.id
            )));
        }
        record.status = JobState::Running;
        record.attempts = attempts.parse().unwrap_or(1);
        record.started_at = Some(now);
        record.timings.queued_ms = Some(now.saturating_sub(record.submitted_at) as f64);
        record.lease = Some(format!("{lane} {entry}"));
        record.worker = Some(self.consumer.clone());
        Ok(Some(record))
    }

    /// Runs one of the scripts that need the lease, with `extra` arguments after the lease's.
    async fn leased_call<T: redis::FromRedisValue>(
        &self,
        script: &redis::Script,
        record: &JobRecord,
        extra: Vec<String>,
    ) -> Result<T, QueueError> {
        let (lane, entry) = lease_parts(record)?;
        let mut call = script.prepare_invoke();
        call.arg(self.keys.prefix())
            .arg(&record.id)
            .arg(&self.consumer)
            .arg(entry)
            .arg(lane);
        for arg in extra {
            call.arg(arg);
        }
        call.invoke_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)
    }

    async fn finish_now(&self, record: JobRecord, bury: bool) -> Result<(), QueueError> {
        let mut stored = record.clone();
        stored.lease = None;
        if !bury {
            stored.drop_large_input(self.max_kept_input_bytes);
        }
        let emprops = match stored.source {
            Some(ClientProtocol::Emprops) => {
                serde_json::to_string(&emprops_result(&stored)).unwrap_or_default()
            }
            _ => String::new(),
        };
        let done: i64 = self
            .leased_call(
                &self.scripts.finish,
                &record,
                vec![
                    encode(&stored),
                    stored.status.as_str().to_string(),
                    self.record_ttl_s.to_string(),
                    stored.public_json().to_string(),
                    if bury { "1" } else { "0" }.to_string(),
                    emprops,
                ],
            )
            .await?;
        if done == 1 {
            Ok(())
        } else {
            Err(QueueError::LeaseLost(record.id))
        }
    }

    async fn retry_now(&self, record: JobRecord, delay: Duration) -> Result<(), QueueError> {
        let mut stored = record.clone();
        stored.lease = None;
        stored.status = JobState::Queued;
        let due = now_ms() + delay.as_millis() as u64;
        let done: i64 = self
            .leased_call(
                &self.scripts.retry,
                &record,
                vec![encode(&stored), due.to_string()],
            )
            .await?;
        if done == 1 {
            Ok(())
        } else {
            Err(QueueError::LeaseLost(record.id))
        }
    }

    async fn release_now(&self, record: JobRecord) -> Result<Released, QueueError> {
        let mut stored = record.clone();
        stored.lease = None;
        stored.worker = None;
        stored.started_at = None;
        stored.status = JobState::Queued;
        stored.attempts = stored.attempts.saturating_sub(1);
        let done: i64 = self
            .leased_call(&self.scripts.release, &record, vec![encode(&stored)])
            .await?;
        match done {
            1 => Ok(Released::Queued),
            2 => Ok(Released::CancelRequested),
            _ => Err(QueueError::LeaseLost(record.id)),
        }
    }

    async fn get_now(&self, id: &str) -> Result<Option<JobRecord>, QueueError> {
        let (record, status, attempts, started, worker): JobHashFields = redis::cmd("HMGET")
            .arg(self.keys.job(id))
            .arg("record")
            .arg("status")
            .arg("attempts")
            .arg("started_at")
            .arg("worker")
            .query_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        let Some(record) = record else {
            return Ok(None);
        };
        let mut record = decode(&record)?;
        // The hash's own fields move on without rewriting the record.
        if let Some(state) = status.as_deref().and_then(JobState::from_wire) {
            record.status = state;
        }
        if let Some(attempts) = attempts {
            record.attempts = attempts;
        }
        if record.status == JobState::Running {
            record.started_at = started.or(record.started_at);
            record.worker = worker.or(record.worker);
        }
        Ok(Some(record))
    }

    async fn cancel_now(&self, id: &str) -> Result<Cancelled, QueueError> {
        let Some(mut record) = self.get_now(id).await? else {
            return Ok(Cancelled::NotFound);
        };
        let now = now_ms();
        record.status = JobState::Cancelled;
        record.finished_at = Some(now);
        record.timings.total_ms = Some(now.saturating_sub(record.submitted_at) as f64);
        record.drop_large_input(self.max_kept_input_bytes);
        let reply: String = self
            .scripts
            .cancel
            .arg(self.keys.prefix())
            .arg(id)
            .arg(encode(&record))
            .arg(record.public_json().to_string())
            .arg(self.record_ttl_s)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        Ok(match reply.as_str() {
            "was_queued" => Cancelled::WasQueued,
            "is_running" => Cancelled::IsRunning,
            "already_done" => Cancelled::AlreadyDone,
            _ => Cancelled::NotFound,
        })
    }

    async fn depths_now(&self) -> Result<LaneDepths, QueueError> {
        let counts: Vec<i64> = self
            .scripts
            .depths
            .arg(self.keys.prefix())
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        let at = |i: usize| counts.get(i).copied().unwrap_or(0).max(0) as u64;
        Ok(LaneDepths {
            interactive: at(0),
            bulk: at(1),
            retrying: at(2),
        })
    }

    async fn dead_letters_now(&self) -> Result<Vec<JobRecord>, QueueError> {
        let ids: Vec<String> = self
            .conn
            .clone()
            .lrange(self.keys.dead(), 0, -1)
            .await
            .map_err(unavailable)?;
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(record) = self.get_now(&id).await? {
                records.push(record);
            }
        }
        Ok(records)
    }

    async fn requeue_now(&self, id: &str) -> Result<Option<JobRecord>, QueueError> {
        let Some(mut record) = self.get_now(id).await? else {
            return Ok(None);
        };
        record.requeue();
        let entry: Option<String> = self
            .scripts
            .requeue
            .arg(self.keys.prefix())
            .arg(id)
            .arg(encode(&record))
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        Ok(entry.map(|_| record))
    }

    async fn heartbeat_now(&self, record: &JobRecord) -> Result<LeaseState, QueueError> {
        let reply: String = self
            .leased_call(&self.scripts.heartbeat, record, Vec::new())
            .await?;
        Ok(match reply.as_str() {
            "held" => LeaseState::Held,
            "cancel" => LeaseState::CancelRequested,
            _ => LeaseState::Lost,
        })
    }

    async fn cached_now(&self, key: &str) -> Result<Option<JobRecord>, QueueError> {
        let id: Option<String> = self
            .conn
            .clone()
            .get(self.keys.cache(key))
            .await
            .map_err(unavailable)?;
        match id {
            Some(id) => Ok(self
                .get_now(&id)
                .await?
                .filter(|r| r.status == JobState::Succeeded)),
            None => Ok(None),
        }
    }

    async fn remember_now(&self, key: &str, id: &str, ttl: Duration) -> Result<(), QueueError> {
        let _: () = self
            .conn
            .clone()
            .set_ex(self.keys.cache(key), id, ttl.as_secs().max(1))
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

/// The result shape emprops-style clients read: `{success, src, htmlSrc?, mimeType, error?}`.
pub fn emprops_result(record: &JobRecord) -> serde_json::Value {
    let succeeded = record.status == JobState::Succeeded;
    let main = record
        .artifacts
        .iter()
        .find(|a| a.content_type != "text/html")
        .or(record.artifacts.first());
    let html = record
        .artifacts
        .iter()
        .find(|a| a.content_type == "text/html");
    let mut result = serde_json::json!({
        "id": record.id,
        "success": succeeded,
        "src": main.map(|a| a.url.clone()),
        "mimeType": main.map(|a| a.content_type.clone()),
    });
    if let Some(html) = html {
        result["htmlSrc"] = html.url.clone().into();
    }
    if !succeeded {
        result["error"] = match &record.error {
            Some(err) => format!("{}: {}", err.kind, err.message).into(),
            None => format!("the job was {}", record.status.as_str()).into(),
        };
    }
    result
}

impl JobQueue for RedisQueue {
    fn submit(&self, job: JobRecord) -> BoxFuture<'_, Result<Submitted, QueueError>> {
        self.submit_now(job).boxed()
    }

    fn store_final(&self, job: JobRecord) -> BoxFuture<'_, Result<(), QueueError>> {
        self.store_final_now(job).boxed()
    }

    fn lease(&self) -> BoxFuture<'_, Result<Option<JobRecord>, QueueError>> {
        self.lease_now().boxed()
    }

    fn finish(&self, record: JobRecord) -> BoxFuture<'_, Result<(), QueueError>> {
        self.finish_now(record, false).boxed()
    }

    fn get(&self, id: String) -> BoxFuture<'_, Result<Option<JobRecord>, QueueError>> {
        async move { self.get_now(&id).await }.boxed()
    }

    fn cancel(&self, id: String) -> BoxFuture<'_, Result<Cancelled, QueueError>> {
        async move { self.cancel_now(&id).await }.boxed()
    }

    fn depths(&self) -> BoxFuture<'_, Result<LaneDepths, QueueError>> {
        self.depths_now().boxed()
    }

    fn retry(&self, record: JobRecord, delay: Duration) -> BoxFuture<'_, Result<(), QueueError>> {
        self.retry_now(record, delay).boxed()
    }

    fn bury(&self, record: JobRecord) -> BoxFuture<'_, Result<(), QueueError>> {
        self.finish_now(record, true).boxed()
    }

    fn release(&self, record: JobRecord) -> BoxFuture<'_, Result<Released, QueueError>> {
        self.release_now(record).boxed()
    }

    fn dead_letters(&self) -> BoxFuture<'_, Result<Vec<JobRecord>, QueueError>> {
        self.dead_letters_now().boxed()
    }

    fn requeue(&self, id: String) -> BoxFuture<'_, Result<Option<JobRecord>, QueueError>> {
        async move { self.requeue_now(&id).await }.boxed()
    }

    fn heartbeat(&self, record: &JobRecord) -> BoxFuture<'_, Result<LeaseState, QueueError>> {
        let record = record.clone();
        async move { self.heartbeat_now(&record).await }.boxed()
    }

    fn cached(&self, key: String) -> BoxFuture<'_, Result<Option<JobRecord>, QueueError>> {
        async move { self.cached_now(&key).await }.boxed()
    }

    fn remember(
        &self,
        key: String,
        id: String,
        ttl: Duration,
    ) -> BoxFuture<'_, Result<(), QueueError>> {
        async move { self.remember_now(&key, &id, ttl).await }.boxed()
    }
}
