//! The embedded queue: one redb file in the data dir. Every change is one ACID transaction,
//! committed to disk before the call returns, so a job answered `202` survives `kill -9`. On open,
//! jobs that were running when the process died go back to the front of their lane and run again.
//!
//! Ended jobs expire after `queue.record_ttl_s`, as Redis's do ([`EmbeddedQueue::expire_now`],
//! run by the service every few seconds), and a large input is dropped from an ended job's
//! record, so the file stops growing under a steady flow of jobs: redb reuses the pages freed.

use super::record::{JobRecord, JobState, Lane, LaneDepths, now_ms};
use super::{Cancelled, JobQueue, LeaseState, QueueError, Released, Retention, Submitted};
use futures::FutureExt;
use futures::future::BoxFuture;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const JOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("jobs");
const INTERACTIVE: TableDefinition<u64, &str> = TableDefinition::new("lane_interactive");
const BULK: TableDefinition<u64, &str> = TableDefinition::new("lane_bulk");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Idempotency key → job id.
const IDEMPOTENCY: TableDefinition<&str, &str> = TableDefinition::new("idempotency");
/// Job id → when its next attempt is due (Unix ms): jobs backing off before a retry.
const DELAYED: TableDefinition<&str, u64> = TableDefinition::new("delayed");
/// Job id → when it was buried (Unix ms): the dead letters.
const DEAD: TableDefinition<&str, u64> = TableDefinition::new("dead");
/// Result-cache key → (expiry in Unix ms, job id).
const CACHE: TableDefinition<&str, (u64, &str)> = TableDefinition::new("cache");
/// (when it expires in Unix ms, job id) of every ended job: the order they are deleted in.
const EXPIRY: TableDefinition<(u64, &str), ()> = TableDefinition::new("expiry");
/// Job id → its key in `EXPIRY`.
const EXPIRES_AT: TableDefinition<&str, u64> = TableDefinition::new("expires_at");

/// Most records one `expire_now` deletes (one transaction); the rest go next time.
const EXPIRE_BATCH: usize = 2000;

/// New jobs are numbered from here; jobs recovered after a crash get numbers below it, so they
/// run before anything submitted later.
const FIRST_SEQ: u64 = 1 << 40;

/// The redb-backed queue.
pub struct EmbeddedQueue {
    db: Arc<Database>,
    max_queued: u64,
    retention: Retention,
}

fn unavailable(err: impl std::fmt::Display) -> QueueError {
    QueueError::Unavailable(err.to_string())
}

fn lane_table(lane: Lane) -> TableDefinition<'static, u64, &'static str> {
    match lane {
        Lane::Interactive => INTERACTIVE,
        Lane::Bulk => BULK,
    }
}

fn decode(bytes: &[u8]) -> Result<JobRecord, QueueError> {
    serde_json::from_slice(bytes)
        .map_err(|e| unavailable(format!("a stored job record is corrupt: {e}")))
}

fn encode(record: &JobRecord) -> Vec<u8> {
    serde_json::to_vec(record).expect("a job record serializes")
}

impl EmbeddedQueue {
    /// Opens (or creates) the queue file, and puts back jobs that were running when the last
    /// process died. Returns the queue and how many jobs were put back.
    pub fn open(path: &Path, max_queued: u64) -> Result<(Self, usize), QueueError> {
        Self::open_with(path, max_queued, Retention::default())
    }

    /// As [`Self::open`], keeping ended jobs as `retention` says.
    pub fn open_with(
        path: &Path,
        max_queued: u64,
        retention: Retention,
    ) -> Result<(Self, usize), QueueError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(unavailable)?;
        }
        let db = Database::create(path)
            .map_err(|e| unavailable(format!("opening {}: {e}", path.display())))?;
        let queue = Self {
            db: Arc::new(db),
            max_queued,
            retention,
        };
        let recovered = queue.recover()?;
        Ok((queue, recovered))
    }

    /// When a job that ends now expires (Unix ms).
    fn expires_from_now(&self) -> u64 {
        now_ms().saturating_add(self.retention.record_ttl.as_millis() as u64)
    }

    fn recover(&self) -> Result<usize, QueueError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        let mut recovered = 0;
        {
            let mut jobs = txn.open_table(JOBS).map_err(unavailable)?;
            txn.open_table(INTERACTIVE).map_err(unavailable)?;
            txn.open_table(BULK).map_err(unavailable)?;
            txn.open_table(DELAYED).map_err(unavailable)?;
            txn.open_table(DEAD).map_err(unavailable)?;
            txn.open_table(CACHE).map_err(unavailable)?;
            txn.open_table(EXPIRY).map_err(unavailable)?;
            let expires_at = txn.open_table(EXPIRES_AT).map_err(unavailable)?;
            let mut running = Vec::new();
            // Ended jobs with no expiry (written before records expired): they expire a TTL
            // after they ended.
            let mut unexpiring = Vec::new();
            for entry in jobs.iter().map_err(unavailable)? {
                let Ok((id, value)) = entry else { continue };
                let Ok(record) = decode(value.value()) else {
                    continue;
                };
                if record.status == JobState::Running {
                    running.push(record);
                } else if record.status.is_final()
                    && expires_at.get(id.value()).map_err(unavailable)?.is_none()
                {
                    let ended = record.finished_at.unwrap_or(record.submitted_at);
                    let at = ended.saturating_add(self.retention.record_ttl.as_millis() as u64);
                    unexpiring.push((record.id, at));
                }
            }
            drop(expires_at);
            for (id, at) in unexpiring {
                set_expiry(&txn, &id, at)?;
            }
            let mut meta = txn.open_table(META).map_err(unavailable)?;
            let mut next = meta
                .get("next_recovered_seq")
                .map_err(unavailable)?
                .map(|v| v.value())
                .unwrap_or(0);
            for mut record in running {
                record.status = JobState::Queued;
                record.seq = next;
                next += 1;
                let mut lane = txn
                    .open_table(lane_table(record.lane))
                    .map_err(unavailable)?;
                lane.insert(record.seq, record.id.as_str())
                    .map_err(unavailable)?;
                jobs.insert(record.id.as_str(), encode(&record).as_slice())
                    .map_err(unavailable)?;
                tracing::warn!(job = %record.id, attempts = record.attempts,
                    "job was running when the host stopped; queued again");
                recovered += 1;
            }
            meta.insert("next_recovered_seq", next)
                .map_err(unavailable)?;
        }
        txn.commit().map_err(unavailable)?;
        Ok(recovered)
    }

    fn submit_now(&self, mut record: JobRecord) -> Result<Submitted, QueueError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        {
            let mut jobs = txn.open_table(JOBS).map_err(unavailable)?;
            let mut keys = txn.open_table(IDEMPOTENCY).map_err(unavailable)?;
            if let Some(key) = &record.idempotency_key {
                let earlier = keys
                    .get(key.as_str())
                    .map_err(unavailable)?
                    .map(|id| id.value().to_string());
                if let Some(id) = earlier {
                    let bytes = jobs
                        .get(id.as_str())
                        .map_err(unavailable)?
                        .map(|v| v.value().to_vec())
                        .ok_or_else(|| {
                            unavailable(format!("idempotency key points at missing job {id}"))
                        })?;
                    return Ok(Submitted::Existing(decode(&bytes)?));
                }
                keys.insert(key.as_str(), record.id.as_str())
                    .map_err(unavailable)?;
            }
            if jobs.get(record.id.as_str()).map_err(unavailable)?.is_some() {
                return Err(QueueError::Duplicate(record.id));
            }
            // Jobs backing off before a retry wait too, as on Redis.
            let mut queued = 0;
            for table in [INTERACTIVE, BULK] {
                queued += txn
                    .open_table(table)
                    .map_err(unavailable)?
                    .len()
                    .map_err(unavailable)?;
            }
            queued += txn
                .open_table(DELAYED)
                .map_err(unavailable)?
                .len()
                .map_err(unavailable)?;
            if queued >= self.max_queued {
                return Err(QueueError::Full {
                    queued,
                    limit: self.max_queued,
                });
            }
            let seq = next_seq(&txn)?;
            record.seq = seq;
            record.status = JobState::Queued;
            let mut lane = txn
                .open_table(lane_table(record.lane))
                .map_err(unavailable)?;
            lane.insert(seq, record.id.as_str()).map_err(unavailable)?;
            jobs.insert(record.id.as_str(), encode(&record).as_slice())
                .map_err(unavailable)?;
        }
        txn.commit().map_err(unavailable)?;
        Ok(Submitted::New(record))
    }

    fn store_final_now(&self, record: &JobRecord) -> Result<(), QueueError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        {
            let mut jobs = txn.open_table(JOBS).map_err(unavailable)?;
            if jobs.get(record.id.as_str()).map_err(unavailable)?.is_some() {
                return Err(QueueError::Duplicate(record.id.clone()));
            }
            jobs.insert(record.id.as_str(), encode(record).as_slice())
                .map_err(unavailable)?;
        }
        txn.commit().map_err(unavailable)
    }

    fn lease_now(&self) -> Result<Option<JobRecord>, QueueError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        promote_due(&txn)?;
        let leased = {
            let mut jobs = txn.open_table(JOBS).map_err(unavailable)?;
            let mut next = None;
            for lane in [Lane::Interactive, Lane::Bulk] {
                let mut table = txn.open_table(lane_table(lane)).map_err(unavailable)?;
                let popped = table
                    .pop_first()
                    .map_err(unavailable)?
                    .map(|(_, id)| id.value().to_string());
                if let Some(id) = popped {
                    next = Some(id);
                    break;
                }
            }
            match next {
                None => None,
                Some(id) => {
                    let bytes = jobs
                        .get(id.as_str())
                        .map_err(unavailable)?
                        .map(|v| v.value().to_vec())
                        .ok_or_else(|| unavailable(format!("queued job {id} has no record")))?;
                    let mut record = decode(&bytes)?;
                    record.status = JobState::Running;
                    record.attempts += 1;
                    let now = now_ms();
                    record.started_at = Some(now);
                    record.timings.queued_ms = Some(now.saturating_sub(record.submitted_at) as f64);
                    jobs.insert(id.as_str(), encode(&record).as_slice())
                        .map_err(unavailable)?;
                    Some(record)
                }
            }
        };
        txn.commit().map_err(unavailable)?;
        Ok(leased)
    }

    /// Records a job's final state (finish): it expires `queue.record_ttl_s` from now, and its
    /// input goes if it is large.
    fn put_record(&self, record: &JobRecord) -> Result<(), QueueError> {
        let mut record = record.clone();
        if record.status.is_final() {
            record.drop_large_input(self.retention.max_kept_input_bytes);
        }
        let txn = self.db.begin_write().map_err(unavailable)?;
        txn.open_table(JOBS)
            .map_err(unavailable)?
            .insert(record.id.as_str(), encode(&record).as_slice())
            .map_err(unavailable)?;
        if record.status.is_final() {
            set_expiry(&txn, &record.id, self.expires_from_now())?;
        }
        txn.commit().map_err(unavailable)
    }

    fn get_now(&self, id: &str) -> Result<Option<JobRecord>, QueueError> {
        let txn = self.db.begin_read().map_err(unavailable)?;
        let jobs = match txn.open_table(JOBS) {
            Ok(jobs) => jobs,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(unavailable(e)),
        };
        match jobs.get(id).map_err(unavailable)? {
            Some(value) => Ok(Some(decode(value.value())?)),
            None => Ok(None),
        }
    }

    fn cancel_now(&self, id: &str) -> Result<Cancelled, QueueError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        let result = {
            let mut jobs = txn.open_table(JOBS).map_err(unavailable)?;
            let Some(bytes) = jobs
                .get(id)
                .map_err(unavailable)?
                .map(|v| v.value().to_vec())
            else {
                return Ok(Cancelled::NotFound);
            };
            let mut record = decode(&bytes)?;
            match record.status {
                JobState::Queued => {
                    txn.open_table(lane_table(record.lane))
                        .map_err(unavailable)?
                        .remove(record.seq)
                        .map_err(unavailable)?;
                    txn.open_table(DELAYED)
                        .map_err(unavailable)?
                        .remove(id)
                        .map_err(unavailable)?;
                    record.status = JobState::Cancelled;
                    let now = now_ms();
                    record.finished_at = Some(now);
                    record.timings.total_ms = Some(now.saturating_sub(record.submitted_at) as f64);
                    record.drop_large_input(self.retention.max_kept_input_bytes);
                    jobs.insert(id, encode(&record).as_slice())
                        .map_err(unavailable)?;
                    set_expiry(&txn, id, self.expires_from_now())?;
                    Cancelled::WasQueued
                }
                JobState::Running => Cancelled::IsRunning,
                _ => Cancelled::AlreadyDone,
            }
        };
        txn.commit().map_err(unavailable)?;
        Ok(result)
    }

    fn depths_now(&self) -> Result<LaneDepths, QueueError> {
        let txn = self.db.begin_read().map_err(unavailable)?;
        let len = |lane| match txn.open_table(lane_table(lane)) {
            Ok(table) => table.len().map_err(unavailable),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
            Err(e) => Err(unavailable(e)),
        };
        let retrying = match txn.open_table(DELAYED) {
            Ok(table) => table.len().map_err(unavailable)?,
            Err(redb::TableError::TableDoesNotExist(_)) => 0,
            Err(e) => return Err(unavailable(e)),
        };
        Ok(LaneDepths {
            interactive: len(Lane::Interactive)?,
            bulk: len(Lane::Bulk)?,
            retrying,
        })
    }

    fn retry_now(&self, mut record: JobRecord, delay: Duration) -> Result<(), QueueError> {
        record.status = JobState::Queued;
        record.lease = None;
        let txn = self.db.begin_write().map_err(unavailable)?;
        {
            let due = now_ms() + delay.as_millis() as u64;
            txn.open_table(DELAYED)
                .map_err(unavailable)?
                .insert(record.id.as_str(), due)
                .map_err(unavailable)?;
            txn.open_table(JOBS)
                .map_err(unavailable)?
                .insert(record.id.as_str(), encode(&record).as_slice())
                .map_err(unavailable)?;
        }
        txn.commit().map_err(unavailable)
    }

    /// Dead letters keep their input (they may be requeued) and expire like other ended jobs.
    fn bury_now(&self, record: &JobRecord) -> Result<(), QueueError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        set_expiry(&txn, &record.id, self.expires_from_now())?;
        {
            txn.open_table(DEAD)
                .map_err(unavailable)?
                .insert(record.id.as_str(), now_ms())
                .map_err(unavailable)?;
            txn.open_table(JOBS)
                .map_err(unavailable)?
                .insert(record.id.as_str(), encode(record).as_slice())
                .map_err(unavailable)?;
        }
        txn.commit().map_err(unavailable)
    }

    fn dead_letters_now(&self) -> Result<Vec<JobRecord>, QueueError> {
        let txn = self.db.begin_read().map_err(unavailable)?;
        let (dead, jobs) = match (txn.open_table(DEAD), txn.open_table(JOBS)) {
            (Ok(dead), Ok(jobs)) => (dead, jobs),
            _ => return Ok(Vec::new()),
        };
        let mut buried: Vec<(u64, JobRecord)> = Vec::new();
        for entry in dead.iter().map_err(unavailable)? {
            let (id, at) = entry.map_err(unavailable)?;
            if let Some(bytes) = jobs.get(id.value()).map_err(unavailable)? {
                buried.push((at.value(), decode(bytes.value())?));
            }
        }
        buried.sort_by_key(|b| std::cmp::Reverse(b.0));
        Ok(buried.into_iter().map(|(_, record)| record).collect())
    }

    fn requeue_now(&self, id: &str) -> Result<Option<JobRecord>, QueueError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        let requeued = {
            if txn
                .open_table(DEAD)
                .map_err(unavailable)?
                .remove(id)
                .map_err(unavailable)?
                .is_none()
            {
                return Ok(None);
            }
            let mut jobs = txn.open_table(JOBS).map_err(unavailable)?;
            let bytes = jobs
                .get(id)
                .map_err(unavailable)?
                .map(|v| v.value().to_vec())
                .ok_or_else(|| unavailable(format!("dead letter {id} has no record")))?;
            let mut record = decode(&bytes)?;
            record.requeue();
            record.seq = next_seq(&txn)?;
            clear_expiry(&txn, id)?;
            txn.open_table(lane_table(record.lane))
                .map_err(unavailable)?
                .insert(record.seq, id)
                .map_err(unavailable)?;
            jobs.insert(id, encode(&record).as_slice())
                .map_err(unavailable)?;
            record
        };
        txn.commit().map_err(unavailable)?;
        Ok(Some(requeued))
    }

    fn cached_now(&self, key: &str) -> Result<Option<JobRecord>, QueueError> {
        let id = {
            let txn = self.db.begin_read().map_err(unavailable)?;
            let cache = match txn.open_table(CACHE) {
                Ok(cache) => cache,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(unavailable(e)),
            };
            let Some(entry) = cache.get(key).map_err(unavailable)? else {
                return Ok(None);
            };
            let (expires, id) = entry.value();
            if expires <= now_ms() {
                return Ok(None);
            }
            id.to_string()
        };
        Ok(self
            .get_now(&id)?
            .filter(|record| record.status == JobState::Succeeded))
    }

    fn remember_now(&self, key: &str, id: &str, ttl: Duration) -> Result<(), QueueError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        txn.open_table(CACHE)
            .map_err(unavailable)?
            .insert(key, (now_ms() + ttl.as_millis() as u64, id))
            .map_err(unavailable)?;
        txn.commit().map_err(unavailable)
    }

    /// Puts a running job back at the front of its lane (before anything submitted later, as
    /// after a crash) with the attempt it was on not counted.
    fn release_now(&self, mut record: JobRecord) -> Result<Released, QueueError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        {
            let mut jobs = txn.open_table(JOBS).map_err(unavailable)?;
            let stored = jobs
                .get(record.id.as_str())
                .map_err(unavailable)?
                .map(|v| v.value().to_vec());
            match stored.map(|bytes| decode(&bytes)).transpose()? {
                Some(stored) if stored.status == JobState::Running => {}
                _ => return Err(QueueError::LeaseLost(record.id)),
            }
            record.status = JobState::Queued;
            record.attempts = record.attempts.saturating_sub(1);
            record.lease = None;
            record.worker = None;
            record.started_at = None;
            record.seq = next_recovered_seq(&txn)?;
            txn.open_table(lane_table(record.lane))
                .map_err(unavailable)?
                .insert(record.seq, record.id.as_str())
                .map_err(unavailable)?;
            jobs.insert(record.id.as_str(), encode(&record).as_slice())
                .map_err(unavailable)?;
        }
        txn.commit().map_err(unavailable)?;
        Ok(Released::Queued)
    }

    /// Deletes ended jobs whose time is up (record, idempotency key, dead-letter entry) and
    /// expired result-cache entries; how many jobs went.
    pub fn expire_now(&self) -> Result<u64, QueueError> {
        let now = now_ms();
        let txn = self.db.begin_write().map_err(unavailable)?;
        let mut removed = 0;
        {
            let due: Vec<(u64, String)> = {
                let expiry = txn.open_table(EXPIRY).map_err(unavailable)?;
                let mut due = Vec::new();
                for entry in expiry.iter().map_err(unavailable)? {
                    let (key, _) = entry.map_err(unavailable)?;
                    let (at, id) = key.value();
                    if at > now || due.len() >= EXPIRE_BATCH {
                        break;
                    }
                    due.push((at, id.to_string()));
                }
                due
            };
            let mut expiry = txn.open_table(EXPIRY).map_err(unavailable)?;
            let mut expires_at = txn.open_table(EXPIRES_AT).map_err(unavailable)?;
            let mut jobs = txn.open_table(JOBS).map_err(unavailable)?;
            let mut keys = txn.open_table(IDEMPOTENCY).map_err(unavailable)?;
            let mut dead = txn.open_table(DEAD).map_err(unavailable)?;
            for (at, id) in due {
                expiry.remove((at, id.as_str())).map_err(unavailable)?;
                expires_at.remove(id.as_str()).map_err(unavailable)?;
                let record = jobs
                    .remove(id.as_str())
                    .map_err(unavailable)?
                    .and_then(|bytes| decode(bytes.value()).ok());
                dead.remove(id.as_str()).map_err(unavailable)?;
                if let Some(key) = record.and_then(|r| r.idempotency_key) {
                    let points_here = keys
                        .get(key.as_str())
                        .map_err(unavailable)?
                        .is_some_and(|v| v.value() == id);
                    if points_here {
                        keys.remove(key.as_str()).map_err(unavailable)?;
                    }
                }
                removed += 1;
            }
            txn.open_table(CACHE)
                .map_err(unavailable)?
                .retain(|_, (expires, _)| expires > now)
                .map_err(unavailable)?;
        }
        txn.commit().map_err(unavailable)?;
        Ok(removed)
    }

    /// Runs a blocking database call on the blocking pool (commits wait for the disk).
    fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Self) -> Result<T, QueueError> + Send + 'static,
    ) -> BoxFuture<'_, Result<T, QueueError>> {
        let queue = Self {
            db: self.db.clone(),
            max_queued: self.max_queued,
            retention: self.retention,
        };
        async move {
            tokio::task::spawn_blocking(move || call(&queue))
                .await
                .map_err(|e| unavailable(format!("the queue's thread failed: {e}")))?
        }
        .boxed()
    }
}

/// Takes the next sequence number of a lane entry.
fn next_seq(txn: &redb::WriteTransaction) -> Result<u64, QueueError> {
    let mut meta = txn.open_table(META).map_err(unavailable)?;
    let seq = meta
        .get("next_seq")
        .map_err(unavailable)?
        .map(|v| v.value())
        .unwrap_or(FIRST_SEQ);
    meta.insert("next_seq", seq + 1).map_err(unavailable)?;
    Ok(seq)
}

/// Takes a sequence number that goes before every job submitted (for jobs put back: after a
/// crash, or by a worker that stopped cleanly).
fn next_recovered_seq(txn: &redb::WriteTransaction) -> Result<u64, QueueError> {
    let mut meta = txn.open_table(META).map_err(unavailable)?;
    let seq = meta
        .get("next_recovered_seq")
        .map_err(unavailable)?
        .map(|v| v.value())
        .unwrap_or(0);
    meta.insert("next_recovered_seq", seq + 1)
        .map_err(unavailable)?;
    Ok(seq)
}

/// Sets when the ended job `id` expires (replacing an earlier expiry).
fn set_expiry(txn: &redb::WriteTransaction, id: &str, at: u64) -> Result<(), QueueError> {
    clear_expiry(txn, id)?;
    txn.open_table(EXPIRES_AT)
        .map_err(unavailable)?
        .insert(id, at)
        .map_err(unavailable)?;
    txn.open_table(EXPIRY)
        .map_err(unavailable)?
        .insert((at, id), ())
        .map_err(unavailable)?;
    Ok(())
}

/// The job `id` no longer expires (it runs again).
fn clear_expiry(txn: &redb::WriteTransaction, id: &str) -> Result<(), QueueError> {
    let old = txn
        .open_table(EXPIRES_AT)
        .map_err(unavailable)?
        .remove(id)
        .map_err(unavailable)?
        .map(|v| v.value());
    if let Some(at) = old {
        txn.open_table(EXPIRY)
            .map_err(unavailable)?
            .remove((at, id))
            .map_err(unavailable)?;
    }
    Ok(())
}

/// Moves jobs whose retry backoff is over to the back of their lane.
fn promote_due(txn: &redb::WriteTransaction) -> Result<(), QueueError> {
    let now = now_ms();
    let due: Vec<String> = {
        let delayed = txn.open_table(DELAYED).map_err(unavailable)?;
        let mut due = Vec::new();
        for entry in delayed.iter().map_err(unavailable)? {
            let (id, at) = entry.map_err(unavailable)?;
            if at.value() <= now {
                due.push(id.value().to_string());
            }
        }
        due
    };
    for id in due {
        txn.open_table(DELAYED)
            .map_err(unavailable)?
            .remove(id.as_str())
            .map_err(unavailable)?;
        let mut jobs = txn.open_table(JOBS).map_err(unavailable)?;
        let Some(bytes) = jobs
            .get(id.as_str())
            .map_err(unavailable)?
            .map(|v| v.value().to_vec())
        else {
            continue;
        };
        let mut record = decode(&bytes)?;
        if record.status != JobState::Queued {
            continue;
        }
        record.seq = next_seq(txn)?;
        txn.open_table(lane_table(record.lane))
            .map_err(unavailable)?
            .insert(record.seq, id.as_str())
            .map_err(unavailable)?;
        jobs.insert(id.as_str(), encode(&record).as_slice())
            .map_err(unavailable)?;
    }
    Ok(())
}

impl JobQueue for EmbeddedQueue {
    fn submit(&self, job: JobRecord) -> BoxFuture<'_, Result<Submitted, QueueError>> {
        self.blocking(move |q| q.submit_now(job))
    }

    fn store_final(&self, job: JobRecord) -> BoxFuture<'_, Result<(), QueueError>> {
        self.blocking(move |q| q.store_final_now(&job))
    }

    fn lease(&self) -> BoxFuture<'_, Result<Option<JobRecord>, QueueError>> {
        self.blocking(|q| q.lease_now())
    }

    fn finish(&self, record: JobRecord) -> BoxFuture<'_, Result<(), QueueError>> {
        self.blocking(move |q| q.put_record(&record))
    }

    fn get(&self, id: String) -> BoxFuture<'_, Result<Option<JobRecord>, QueueError>> {
        self.blocking(move |q| q.get_now(&id))
    }

    fn cancel(&self, id: String) -> BoxFuture<'_, Result<Cancelled, QueueError>> {
        self.blocking(move |q| q.cancel_now(&id))
    }

    fn depths(&self) -> BoxFuture<'_, Result<LaneDepths, QueueError>> {
        self.blocking(|q| q.depths_now())
    }

    fn retry(&self, record: JobRecord, delay: Duration) -> BoxFuture<'_, Result<(), QueueError>> {
        self.blocking(move |q| q.retry_now(record, delay))
    }

    fn bury(&self, record: JobRecord) -> BoxFuture<'_, Result<(), QueueError>> {
        self.blocking(move |q| q.bury_now(&record))
    }

    fn release(&self, record: JobRecord) -> BoxFuture<'_, Result<Released, QueueError>> {
        self.blocking(move |q| q.release_now(record))
    }

    fn expire(&self) -> BoxFuture<'_, Result<u64, QueueError>> {
        self.blocking(|q| q.expire_now())
    }

    fn dead_letters(&self) -> BoxFuture<'_, Result<Vec<JobRecord>, QueueError>> {
        self.blocking(|q| q.dead_letters_now())
    }

    fn requeue(&self, id: String) -> BoxFuture<'_, Result<Option<JobRecord>, QueueError>> {
        self.blocking(move |q| q.requeue_now(&id))
    }

    /// One process owns the file and cancels its running jobs itself, so a lease is always held.
    fn heartbeat(&self, _record: &JobRecord) -> BoxFuture<'_, Result<LeaseState, QueueError>> {
        async { Ok(LeaseState::Held) }.boxed()
    }

    fn cached(&self, key: String) -> BoxFuture<'_, Result<Option<JobRecord>, QueueError>> {
        self.blocking(move |q| q.cached_now(&key))
    }

    fn remember(
        &self,
        key: String,
        id: String,
        ttl: Duration,
    ) -> BoxFuture<'_, Result<(), QueueError>> {
        self.blocking(move |q| q.remember_now(&key, &id, ttl))
    }
}

/// What is the embedded queue's own: reopening its file after a crash, records from older
/// files, and the file's size. The behaviour both queues share is tested once for both, in
/// tests/e2e/queue_conformance.rs.
#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, lane: Lane) -> JobRecord {
        JobRecord::new(id.into(), "p5".into(), serde_json::json!({}), lane)
    }

    #[test]
    fn running_jobs_come_back_first_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.redb");
        {
            let (queue, recovered) = EmbeddedQueue::open(&path, 10).unwrap();
            assert_eq!(recovered, 0);
            queue.submit_now(job("bulk-1", Lane::Bulk)).unwrap();
            queue.submit_now(job("fast-1", Lane::Interactive)).unwrap();
            queue.submit_now(job("bulk-2", Lane::Bulk)).unwrap();
            assert_eq!(queue.lease_now().unwrap().unwrap().id, "fast-1");
            assert_eq!(queue.lease_now().unwrap().unwrap().id, "bulk-1");
            // The process "dies" here with fast-1 and bulk-1 running.
        }
        let (queue, recovered) = EmbeddedQueue::open(&path, 10).unwrap();
        assert_eq!(recovered, 2);
        assert_eq!(
            queue.depths_now().unwrap(),
            LaneDepths {
                interactive: 1,
                bulk: 2,
                retrying: 0
            }
        );
        let again = queue.lease_now().unwrap().unwrap();
        assert_eq!((again.id.as_str(), again.attempts), ("fast-1", 2));
        let next = queue.lease_now().unwrap().unwrap();
        assert_eq!(next.id, "bulk-1", "recovered jobs run before later ones");
    }

    fn ended(mut record: JobRecord, status: JobState) -> JobRecord {
        record.status = status;
        record.finished_at = Some(now_ms());
        record
    }

    #[test]
    fn records_written_before_expiry_existed_expire_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.redb");
        {
            let (queue, _) = EmbeddedQueue::open(&path, 10).unwrap();
            queue.submit_now(job("old", Lane::Bulk)).unwrap();
            let mut old = queue.lease_now().unwrap().unwrap();
            old.status = JobState::Succeeded;
            old.finished_at = Some(now_ms() - 10_000);
            // Written as an older Kiln did: the record alone.
            let txn = queue.db.begin_write().unwrap();
            txn.open_table(JOBS)
                .unwrap()
                .insert("old", encode(&old).as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        let retention = Retention {
            record_ttl: Duration::from_secs(5),
            ..Retention::default()
        };
        let (queue, _) = EmbeddedQueue::open_with(&path, 10, retention).unwrap();
        assert_eq!(queue.expire_now().unwrap(), 1, "ended 10 s ago, kept 5 s");
        assert!(queue.get_now("old").unwrap().is_none());
    }

    #[test]
    fn a_flood_of_large_failing_jobs_leaves_the_file_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.redb");
        let retention = Retention {
            record_ttl: Duration::from_millis(1),
            ..Retention::default()
        };
        let (queue, _) = EmbeddedQueue::open_with(&path, 100, retention).unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let code = "z".repeat(500_000);
        let mut after_warm_up = 0;
        for n in 0..300 {
            let mut record = job(&format!("flood-{n}"), Lane::Bulk);
            record.input = serde_json::json!({ "code": format!("{code}{n}") });
            queue.submit_now(record).unwrap();
            let leased = queue.lease_now().unwrap().unwrap();
            queue.put_record(&ended(leased, JobState::Failed)).unwrap();
            if n % 10 == 9 {
                queue.expire_now().unwrap();
            }
            if n == 49 {
                after_warm_up = size();
            }
        }
        queue.expire_now().unwrap();
        let end = size();
        eprintln!("queue.redb: {after_warm_up} bytes after 50 jobs, {end} after 300");
        // 150 MB of inputs went through; the file holds what a few of them need.
        assert!(end < 40 << 20, "queue.redb grew to {end} bytes");
        assert!(
            end <= after_warm_up + (8 << 20),
            "still growing: {after_warm_up} bytes after 50 jobs, {end} after 300"
        );
    }
}
