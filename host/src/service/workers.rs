//! A worker: lease a job, run one attempt of it on the plugin version it was pinned to while
//! renewing the lease, publish its events, and record how it ended: done, put back to retry after
//! a backoff, or buried as a dead letter once it has used up its attempts. The queue is the one
//! retry owner here: the runner makes exactly one attempt per lease (`JobRunner::run_once`), so
//! `jobs.unavailable_retries`, the command line's in-process retries, never stacks on it. A drain
//! (SIGTERM) stops the leasing; one that runs out of time stops the running job and puts it back
//! without counting its attempt.

use super::metrics::Stage;
use super::{EventName, JobEvent, Phase, Pinned, Service, cache};
use crate::error::{ErrorKind, RenderError};
use crate::jobs::{JobObserver, JobOutcome, JobSpec};
use crate::queue::{JobRecord, JobState, LeaseState, LogEntry, QueueError, Released, capped_log};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long an idle worker on the embedded queue sleeps before looking again when no
/// submission woke it (jobs whose retry backoff ended). Redis workers use `queue.poll_ms`.
const EMBEDDED_IDLE_POLL: Duration = Duration::from_millis(500);
/// Pause after the queue itself failed, before trying again.
const QUEUE_RETRY: Duration = Duration::from_secs(1);
/// The `source` of the lines a worker writes into a job's record between attempts (a retry, a
/// pinned plugin version that was gone). They are kept from one attempt to the next, while each
/// attempt's own log replaces the one before.
const NOTE_SOURCE: &str = "queue";

/// Worker `n`'s loop; runs until the service drains (or aborts it).
pub async fn work(service: Arc<Service>, n: usize) {
    let idle_poll = match service.queue_settings.url {
        Some(_) => Duration::from_millis(service.queue_settings.poll_ms),
        None => EMBEDDED_IDLE_POLL,
    };
    let draining = service.reached(Phase::Draining);
    tokio::pin!(draining);
    loop {
        if service.phase() >= Phase::Draining {
            return;
        }
        let woken = service.wake.notified();
        match service.queue.lease().await {
            // Leased as the drain began: back it goes, unstarted and uncounted.
            Ok(Some(record)) if service.phase() >= Phase::Draining => {
                let _ = put_back(&service, record).await;
                return;
            }
            Ok(Some(record)) => run_one(&service, record).await,
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::timeout(idle_poll, woken) => {}
                    _ = &mut draining => return,
                }
            }
            Err(err) => {
                tracing::error!(worker = n, "cannot lease a job: {err}");
                tokio::select! {
                    _ = tokio::time::sleep(QUEUE_RETRY) => {}
                    _ = &mut draining => return,
                }
            }
        }
    }
}

/// Publishes a running job's attempt and progress.
struct Publisher {
    service: Arc<Service>,
    id: String,
    /// The attempt the queue counts: the runner makes one attempt per lease and numbers it 1.
    attempt: u32,
}

impl JobObserver for Publisher {
    fn attempt_started(&self, _runner_attempt: u32) {
        self.service.events.publish(
            &self.id,
            JobEvent {
                event: EventName::Started,
                data: serde_json::json!({ "id": self.id, "attempt": self.attempt }),
            },
        );
    }

    fn progress(&self, fraction: f32, stage: &str) {
        self.service.events.publish(
            &self.id,
            JobEvent {
                event: EventName::Progress,
                data: serde_json::json!({ "id": self.id, "fraction": fraction, "stage": stage }),
            },
        );
    }

    fn preview(&self, png: &bytes::Bytes) {
        self.service.events.previews.set(&self.id, png.clone());
    }
}

/// Why a run stopped before its plugin finished.
enum Interrupted {
    Cancelled,
    LeaseLost,
    /// The process is stopping and the drain ran out of time.
    Shutdown,
}

/// How a leased job ends in the queue.
enum Ending {
    Finish,
    Retry(Duration),
    Bury,
}

async fn run_one(service: &Arc<Service>, mut record: JobRecord) {
    let started = Instant::now();
    service.metrics.started();
    if let Some(queued) = record.timings.queued_ms {
        service.metrics.observe(Stage::Queued, queued / 1e3);
    }
    let max_attempts = service.queue_settings.max_attempts;
    // What earlier attempts noted stays; each attempt's own log replaces the one before.
    let mut notes: Vec<LogEntry> = record
        .log
        .iter()
        .filter(|line| line.source == NOTE_SOURCE)
        .cloned()
        .collect();
    let result = if record.attempts > max_attempts {
        // Every earlier attempt ended with its worker gone (a crash, or a lease that ran out):
        // running it again would likely take this worker down too.
        Ok(JobOutcome::from_error(RenderError::unavailable(format!(
            "the job was started {} times and its worker stopped each time (it crashed or lost its lease); it is a dead letter: GET /dead-letters, and POST /dead-letters/{}/requeue to run it again",
            record.attempts - 1,
            record.id
        ))))
    } else {
        match service.plugin_for(&record) {
            Ok(Pinned { plugin, replaced }) => {
                if let Some(pinned) = replaced {
                    let label = plugin.label();
                    tracing::warn!(job = %record.id, pinned = %pinned, running = %label, "the plugin version the job was pinned to is no longer loaded; running the newest");
                    notes.push(note(
                        &record,
                        "warn",
                        format!(
                            "{pinned}, which the job was pinned to at submit, is no longer \
                             loaded: running {label}, the newest version of {}",
                            plugin.info.name
                        ),
                    ));
                    // The result cache must name the plugin that ran.
                    if record.cache_key.is_some() {
                        record.cache_key = Some(cache::key(
                            &plugin.info.name,
                            &plugin.info.version,
                            &record.input,
                        ));
                    }
                }
                run_leased(service, &record, plugin).await
            }
            Err(err) => Ok(JobOutcome::from_error(err)),
        }
    };

    let now = crate::queue::record_now_ms();
    let outcome = match result {
        Err(Interrupted::LeaseLost) => {
            service.metrics.lease_lost();
            tracing::warn!(job = %record.id, "lease lost: another worker has taken the job over; dropping this run's result");
            return;
        }
        Err(Interrupted::Shutdown) => {
            record.timings.run_ms =
                Some(record.timings.run_ms.unwrap_or(0.0) + started.elapsed().as_secs_f64() * 1e3);
            if !put_back(service, record.clone()).await {
                return;
            }
            // A client cancelled it meanwhile.
            None
        }
        Err(Interrupted::Cancelled) => None,
        Ok(outcome) => Some(outcome),
    };
    record.finished_at = Some(now);
    record.timings.run_ms =
        Some(record.timings.run_ms.unwrap_or(0.0) + started.elapsed().as_secs_f64() * 1e3);
    record.timings.total_ms = Some(now.saturating_sub(record.submitted_at) as f64);
    let mut ending = Ending::Finish;
    match outcome {
        None => {
            record.status = JobState::Cancelled;
            tracing::info!(job = %record.id, "cancelled while running");
        }
        Some(outcome) => {
            let jobs = &service.kiln.config.jobs;
            record.log = std::mem::take(&mut notes);
            record.log.extend(capped_log(
                &outcome.log,
                jobs.max_log_lines,
                jobs.max_log_bytes,
            ));
            // The plugin that ran; a job that never reached one keeps the version it was
            // pinned to, so its record says which.
            if outcome.plugin.is_some() {
                record.plugin = outcome.plugin.clone();
            }
            record.status = if outcome.succeeded() {
                JobState::Succeeded
            } else {
                JobState::Failed
            };
            record.artifacts = outcome.artifacts;
            if let Some(err) = &outcome.error
                && err.kind == ErrorKind::Unavailable
            {
                ending = if record.attempts < max_attempts {
                    let delay = service.queue_settings.retry_backoff(record.attempts);
                    let retrying = note(
                        &record,
                        "warn",
                        format!(
                            "attempt {} of {max_attempts} failed, retrying in {} ms: {}",
                            record.attempts,
                            delay.as_millis(),
                            err.message
                        ),
                    );
                    // After the earlier attempts' notes, before this attempt's own lines.
                    let at = notes_end(&record.log);
                    record.log.insert(at, retrying);
                    Ending::Retry(delay)
                } else {
                    Ending::Bury
                };
            }
            record.error = outcome.error;
        }
    }

    if let Ending::Retry(delay) = ending {
        record.finished_at = None;
        retry(service, record, delay).await;
        return;
    }
    if let Ending::Finish = ending {
        // What the record keeps of an ended job is bounded (dead letters keep their input, to
        // run again).
        record.drop_large_input(service.queue_settings.max_kept_input_bytes);
    }
    // A job that ends here has a final state; anything else is recorded as failed.
    let status = match record.status {
        JobState::Succeeded | JobState::Cancelled => record.status,
        _ => JobState::Failed,
    };
    let event = EventName::for_state(status);
    service
        .metrics
        .finished(status, record.error.as_ref().map(|e| e.kind));
    service
        .metrics
        .observe(Stage::Run, started.elapsed().as_secs_f64());
    if let Some(total) = record.timings.total_ms {
        service.metrics.observe(Stage::Total, total / 1e3);
    }
    // Remembered before the end is recorded: a client that sees the job succeed and sends the
    // same job again must find it. The cache answers only for a record that has succeeded, so
    // an entry written first never serves a job that has not.
    if let (JobState::Succeeded, Some(key)) = (record.status, &record.cache_key) {
        let ttl = Duration::from_secs(service.queue_settings.cache_ttl_s);
        if let Err(err) = service
            .queue
            .remember(key.clone(), record.id.clone(), ttl)
            .await
        {
            tracing::warn!(job = %record.id, "cannot remember the result in the cache: {err}");
        }
    }
    let recorded = match ending {
        Ending::Bury => {
            service.metrics.buried();
            tracing::warn!(job = %record.id, attempts = record.attempts, "job used up its attempts; listed as a dead letter");
            service.queue.bury(record.clone()).await
        }
        _ => service.queue.finish(record.clone()).await,
    };
    match recorded {
        Ok(()) => {}
        Err(QueueError::LeaseLost(_)) => {
            tracing::warn!(job = %record.id, "lease lost before the end was recorded; another worker runs the job");
            return;
        }
        // The record stays `running`, so the job runs again (after a restart, or once its lease
        // runs out).
        Err(err) => tracing::error!(job = %record.id, "cannot record the job's end: {err}"),
    }
    service.notify_callback(&record, event);
    service.events.publish(
        &record.id,
        JobEvent {
            event,
            data: record.public_json(),
        },
    );
}

/// A line the worker writes into the job's record, timed from the start of the attempt it
/// follows (as that attempt's own lines are).
fn note(record: &JobRecord, level: &str, message: String) -> LogEntry {
    let since = record.started_at.unwrap_or(record.submitted_at);
    LogEntry {
        at_ms: crate::queue::record_now_ms().saturating_sub(since),
        level: level.into(),
        source: NOTE_SOURCE.into(),
        message,
    }
}

/// Where the worker's notes end in a record's log (they come first).
fn notes_end(log: &[LogEntry]) -> usize {
    log.iter()
        .position(|line| line.source != NOTE_SOURCE)
        .unwrap_or(log.len())
}

/// Runs one attempt of the job on `plugin` until it ends, the client cancels it, or another
/// worker takes it over.
async fn run_leased(
    service: &Arc<Service>,
    record: &JobRecord,
    plugin: Arc<crate::plugins::LoadedPlugin>,
) -> Result<JobOutcome, Interrupted> {
    let stop = Arc::new(Notify::new());
    service
        .running
        .lock()
        .expect("running lock")
        .insert(record.id.clone(), stop.clone());
    let spec = JobSpec {
        id: Some(record.id.clone()),
        job_type: record.job_type.clone(),
        input: record.input.clone(),
        callback: None,
    };
    let publisher: Arc<dyn JobObserver> = Arc::new(Publisher {
        service: service.clone(),
        id: record.id.clone(),
        attempt: record.attempts,
    });
    let result = tokio::select! {
        outcome = service.kiln.runner.run_once(&spec, plugin, Some(publisher)) => Ok(outcome),
        _ = stop.notified() => Err(Interrupted::Cancelled),
        interrupted = keep_lease(service, record) => Err(interrupted),
        _ = service.reached(Phase::Interrupting) => Err(Interrupted::Shutdown),
    };
    service
        .running
        .lock()
        .expect("running lock")
        .remove(&record.id);
    result
}

/// Renews the lease every third of `queue.lease_ms`; returns when the job must stop.
async fn keep_lease(service: &Arc<Service>, record: &JobRecord) -> Interrupted {
    let every = Duration::from_millis(service.queue_settings.lease_ms / 3);
    loop {
        tokio::time::sleep(every).await;
        match service.queue.heartbeat(record).await {
            Ok(LeaseState::Held) => {}
            Ok(LeaseState::CancelRequested) => return Interrupted::Cancelled,
            Ok(LeaseState::Lost) => return Interrupted::LeaseLost,
            // Redis is briefly away: keep running; the lease is renewed once it is back, and
            // finishing checks the lease anyway.
            Err(err) => tracing::warn!(job = %record.id, "cannot renew the lease: {err}"),
        }
    }
}

/// Puts a job stopped by a drain back in the queue without counting its attempt, and tells its
/// watchers; `false` when nothing more is to be done, `true` when a client cancelled it
/// meanwhile (it is to be recorded as cancelled).
async fn put_back(service: &Arc<Service>, record: JobRecord) -> bool {
    let id = record.id.clone();
    match service.queue.release(record).await {
        Ok(Released::Queued) => {
            service
                .put_back
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(job = %id, "the host is stopping: job put back in the queue (this attempt does not count)");
            service.events.publish(
                &id,
                JobEvent {
                    event: EventName::Queued,
                    data: serde_json::json!({ "id": id, "reason": "the host stopped" }),
                },
            );
            false
        }
        Ok(Released::CancelRequested) => true,
        Err(QueueError::LeaseLost(_)) => {
            tracing::warn!(job = %id, "lease lost before the job was put back; another worker runs it");
            false
        }
        // The record stays `running`: it runs again at the next start (or once its lease runs
        // out), with the attempt counted.
        Err(err) => {
            tracing::error!(job = %id, "cannot put the stopped job back: {err}");
            false
        }
    }
}

/// Puts the job back to run again after `delay`, and tells its watchers.
async fn retry(service: &Arc<Service>, record: JobRecord, delay: Duration) {
    service.metrics.retried();
    let message = record
        .error
        .as_ref()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    tracing::warn!(job = %record.id, attempt = record.attempts, delay_ms = delay.as_millis() as u64, "attempt failed as unavailable; retrying: {message}");
    let id = record.id.clone();
    let attempt = record.attempts;
    match service.queue.retry(record, delay).await {
        Ok(()) => service.events.publish(
            &id,
            JobEvent {
                event: EventName::Retrying,
                data: serde_json::json!({
                    "id": id, "attempt": attempt, "delay_ms": delay.as_millis() as u64, "error": message
                }),
            },
        ),
        Err(err) => tracing::error!(job = %id, "cannot put the job back for a retry: {err}"),
    }
}
