//! A worker: lease a job, run it through the `JobRunner`, publish its events, record its end.

use super::{JobEvent, Service};
use crate::jobs::{JobObserver, JobSpec};
use crate::queue::{JobRecord, JobState};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long an idle worker sleeps before looking again when no submission woke it (jobs put
/// back by another process, or a missed wake-up).
const IDLE_POLL: Duration = Duration::from_millis(500);
/// Pause after the queue itself failed, before trying again.
const QUEUE_RETRY: Duration = Duration::from_secs(1);

/// Worker `n`'s loop; runs until the service aborts it.
pub async fn work(service: Arc<Service>, n: usize) {
    loop {
        let woken = service.wake.notified();
        match service.queue.lease().await {
            Ok(Some(record)) => run_one(&service, record).await,
            Ok(None) => {
                let _ = tokio::time::timeout(IDLE_POLL, woken).await;
            }
            Err(err) => {
                tracing::error!(worker = n, "cannot lease a job: {err}");
                tokio::time::sleep(QUEUE_RETRY).await;
            }
        }
    }
}

/// Publishes a running job's attempts and progress.
struct Publisher {
    service: Arc<Service>,
    id: String,
}

impl JobObserver for Publisher {
    fn attempt_started(&self, attempt: u32) {
        self.service.events.publish(
            &self.id,
            JobEvent {
                event: "started",
                data: serde_json::json!({ "id": self.id, "attempt": attempt }),
            },
        );
    }

    fn progress(&self, fraction: f32, stage: &str) {
        self.service.events.publish(
            &self.id,
            JobEvent {
                event: "progress",
                data: serde_json::json!({ "id": self.id, "fraction": fraction, "stage": stage }),
            },
        );
    }
}

async fn run_one(service: &Arc<Service>, mut record: JobRecord) {
    let started = Instant::now();
    let stop = Arc::new(Notify::new());
    service
        .running
        .lock()
        .expect("running lock")
        .insert(record.id.clone(), stop.clone());
    service.metrics.started();
    if let Some(queued) = record.timings.queued_ms {
        service.metrics.observe("queued", queued / 1e3);
    }

    let spec = JobSpec {
        id: Some(record.id.clone()),
        job_type: record.job_type.clone(),
        input: record.input.clone(),
        callback: None,
    };
    let publisher: Arc<dyn JobObserver> = Arc::new(Publisher {
        service: service.clone(),
        id: record.id.clone(),
    });
    let outcome = tokio::select! {
        outcome = service.kiln.runner.run_observed(&spec, Some(publisher)) => Some(outcome),
        _ = stop.notified() => None,
    };
    service
        .running
        .lock()
        .expect("running lock")
        .remove(&record.id);

    let now = crate::queue::record_now_ms();
    record.finished_at = Some(now);
    record.timings.run_ms = Some(started.elapsed().as_secs_f64() * 1e3);
    record.timings.total_ms = Some(now.saturating_sub(record.submitted_at) as f64);
    match outcome {
        None => {
            record.status = JobState::Cancelled;
            tracing::info!(job = %record.id, "cancelled while running");
        }
        Some(outcome) => {
            record.plugin = outcome.plugin.clone();
            record.status = if outcome.succeeded() {
                JobState::Succeeded
            } else {
                JobState::Failed
            };
            record.artifacts = outcome.artifacts;
            record.error = outcome.error;
        }
    }
    let (status, event) = match record.status {
        JobState::Succeeded => ("succeeded", "succeeded"),
        JobState::Cancelled => ("cancelled", "cancelled"),
        _ => ("failed", "failed"),
    };
    service
        .metrics
        .finished(status, record.error.as_ref().map(|e| e.kind.to_string()));
    service
        .metrics
        .observe("run", started.elapsed().as_secs_f64());
    if let Some(total) = record.timings.total_ms {
        service.metrics.observe("total", total / 1e3);
    }
    if let Err(err) = service.queue.finish(record.clone()).await {
        // The record stays `running` on disk, so the job runs again after a restart.
        tracing::error!(job = %record.id, "cannot record the job's end: {err}");
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
