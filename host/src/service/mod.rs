//! The job service: a [`Kiln`] host, a durable queue, and workers that take jobs from the queue
//! and record how they end. The HTTP API (`api/`) and `kiln serve` sit on top.

mod events;
mod metrics;
mod webhooks;
mod workers;

pub use events::{EventHub, JobEvent};
pub use metrics::Metrics;
pub use webhooks::signature as webhook_signature;

use crate::Kiln;
use crate::config::{Config, ServiceSettings};
use crate::error::RenderError;
use crate::jobs::JobSpec;
use crate::queue::{Cancelled, EmbeddedQueue, JobQueue, JobRecord, Lane, QueueError, Submitted};
use anyhow::Result;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Why a submission was not accepted.
#[derive(Debug)]
pub enum SubmitError {
    /// The job itself is wrong (unknown type, input against the schema, a taken id).
    Invalid(RenderError),
    /// The queue is full: try again after `retry_after_s`.
    Full { message: String, retry_after_s: u64 },
    /// The queue cannot be reached; nothing was written.
    Unavailable(String),
}

/// A running job service.
pub struct Service {
    pub kiln: Kiln,
    pub queue: Arc<dyn JobQueue>,
    pub events: EventHub,
    pub metrics: Metrics,
    pub settings: ServiceSettings,
    /// Stop signals of the jobs this process is running.
    running: Mutex<HashMap<String, Arc<Notify>>>,
    /// Woken on every submission so idle workers start at once.
    wake: Notify,
    workers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    http: reqwest::Client,
}

impl Service {
    /// Starts the host, opens the queue (putting back jobs a crash interrupted) and starts the
    /// workers.
    pub async fn start(config: Config) -> Result<Arc<Self>> {
        Self::start_with(config, true).await
    }

    /// As [`Self::start`]; without `run_workers` the service only accepts jobs (they wait in the
    /// queue for a later start, or another process on the same data dir).
    pub async fn start_with(config: Config, run_workers: bool) -> Result<Arc<Self>> {
        let settings = config.service.clone();
        let queue_path = config.data_dir.join("queue.redb");
        let kiln = Kiln::start(config).await?;
        let (queue, recovered) = EmbeddedQueue::open(&queue_path, settings.max_queued)?;
        if recovered > 0 {
            tracing::warn!(
                recovered,
                "queued again the jobs a previous run left running"
            );
        }
        let workers = match (run_workers, settings.workers) {
            (false, _) => 0,
            (true, 0) => kiln.config.browser.processes * kiln.config.browser.pages_per_process,
            (true, n) => n,
        };
        let service = Arc::new(Self {
            kiln,
            queue: Arc::new(queue),
            events: EventHub::default(),
            metrics: Metrics::default(),
            settings,
            running: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            workers: Mutex::new(Vec::new()),
            http: reqwest::Client::new(),
        });
        let handles = (0..workers)
            .map(|n| tokio::spawn(workers::work(service.clone(), n)))
            .collect();
        *service.workers.lock().expect("workers lock") = handles;
        Ok(service)
    }

    /// Checks `spec` (plugin, input schema) and queues it. Nothing is queued if it fails.
    pub async fn submit(&self, spec: JobSpec, lane: Lane) -> Result<Submitted, SubmitError> {
        self.submit_keyed(spec, lane, None).await
    }

    /// As [`Self::submit`], with the client's idempotency key: a second submission with the same
    /// key gets the first job back instead of a new one.
    pub async fn submit_keyed(
        &self,
        spec: JobSpec,
        lane: Lane,
        idempotency_key: Option<String>,
    ) -> Result<Submitted, SubmitError> {
        let plugin = self
            .kiln
            .plugins
            .resolve(&spec.job_type)
            .map_err(SubmitError::Invalid)?;
        plugin
            .validate_input(&spec.input)
            .map_err(SubmitError::Invalid)?;
        if let Some(url) = &spec.callback {
            if self.settings.webhook_secret.is_none() {
                return Err(SubmitError::Invalid(RenderError::invalid_input(
                    "callback: this host has no service.webhook_secret, so it sends no webhooks",
                )));
            }
            webhooks::check_url(url)
                .map_err(|e| SubmitError::Invalid(RenderError::invalid_input(e)))?;
        }
        let mut record = JobRecord::new(spec.id_or_new(), spec.job_type, spec.input, lane);
        record.callback = spec.callback;
        record.idempotency_key = idempotency_key;
        match self.queue.submit(record).await {
            Ok(Submitted::Existing(record)) => Ok(Submitted::Existing(record)),
            Ok(Submitted::New(record)) => {
                self.metrics.submitted(match lane {
                    Lane::Interactive => "interactive",
                    Lane::Bulk => "bulk",
                });
                self.wake.notify_waiters();
                Ok(Submitted::New(record))
            }
            Err(err @ QueueError::Full { .. }) => Err(SubmitError::Full {
                message: err.to_string(),
                retry_after_s: self.settings.retry_after_s,
            }),
            Err(QueueError::Duplicate(id)) => {
                Err(SubmitError::Invalid(RenderError::invalid_input(format!(
                    "a job with id {id:?} already exists; ids are unique (GET /jobs/{id})"
                ))))
            }
            Err(err) => Err(SubmitError::Unavailable(err.to_string())),
        }
    }

    /// Cancels `id`: a queued job is removed; a running one is stopped (its plugin instance and
    /// page are dropped).
    pub async fn cancel(&self, id: &str) -> Result<Cancelled, QueueError> {
        let result = self.queue.cancel(id.to_string()).await?;
        match result {
            Cancelled::WasQueued => {
                self.metrics.cancelled_while_queued();
                if let Ok(Some(record)) = self.queue.get(id.to_string()).await {
                    self.notify_callback(&record, "cancelled");
                }
                self.events.publish(
                    id,
                    JobEvent {
                        event: "cancelled",
                        data: serde_json::json!({ "id": id }),
                    },
                )
            }
            Cancelled::IsRunning => {
                if let Some(stop) = self.running.lock().expect("running lock").get(id) {
                    stop.notify_one();
                }
            }
            Cancelled::AlreadyDone | Cancelled::NotFound => {}
        }
        Ok(result)
    }

    /// POSTs the ended `record` to its callback, if it has one (in the background).
    pub(crate) fn notify_callback(&self, record: &JobRecord, event: &'static str) {
        let (Some(url), Some(secret)) = (&record.callback, &self.settings.webhook_secret) else {
            return;
        };
        let settings = webhooks::WebhookSettings {
            secret: secret.clone(),
            attempts: self.settings.webhook_attempts.max(1),
            first_backoff: std::time::Duration::from_millis(self.settings.webhook_backoff_ms),
            timeout: std::time::Duration::from_millis(self.settings.webhook_timeout_ms),
        };
        let body = record.public_json();
        webhooks::deliver(
            self.http.clone(),
            settings,
            url.clone(),
            record.id.clone(),
            event,
            serde_json::to_vec(&body).unwrap_or_default(),
        );
    }

    /// Stops the workers (running jobs are abandoned and run again at the next start) and the
    /// host.
    pub async fn shutdown(&self) {
        for worker in self.workers.lock().expect("workers lock").drain(..) {
            worker.abort();
        }
        self.kiln.shutdown().await;
    }
}
