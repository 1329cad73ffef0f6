//! The job service: a [`Kiln`] host, a durable queue, and workers that take jobs from the queue
//! and record how they end. The HTTP API (`api/`) and `kiln serve` sit on top.

mod cache;
mod events;
mod metrics;
mod redis_clients;
mod redis_events;
mod webhooks;
mod workers;

pub use events::{EventHub, JobEvent};
pub use metrics::Metrics;
pub use webhooks::signature as webhook_signature;

use crate::Kiln;
use crate::config::{Config, QueueSettings, ServiceSettings};
use crate::error::RenderError;
use crate::jobs::JobSpec;
use crate::queue::{
    Cancelled, EmbeddedQueue, JobQueue, JobRecord, Lane, QueueError, RedisQueue, Submitted,
};
use anyhow::{Result, bail};
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

/// What one process of the service does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The API and the workers (`kiln serve`).
    All,
    /// The API only: no browsers, no workers (`kiln serve --api-only`).
    Api,
    /// Workers only, on a shared Redis queue (`kiln worker`).
    Workers,
}

impl Role {
    fn runs_workers(self) -> bool {
        self != Role::Api
    }
}

/// How a job is submitted, besides the job itself.
#[derive(Debug, Clone, Default)]
pub struct SubmitOptions {
    pub lane: Lane,
    /// The client's `Idempotency-Key`: a second submission with it gets the first job back.
    pub idempotency_key: Option<String>,
    /// Render again even if the result cache holds this job's result.
    pub force: bool,
    /// The client protocol (`emprops` jobs also get their result in that shape).
    pub source: Option<String>,
}

/// A running job service.
pub struct Service {
    pub kiln: Kiln,
    pub queue: Arc<dyn JobQueue>,
    pub events: EventHub,
    pub metrics: Metrics,
    pub settings: ServiceSettings,
    pub queue_settings: QueueSettings,
    pub role: Role,
    /// Stop signals of the jobs this process is running.
    running: Mutex<HashMap<String, Arc<Notify>>>,
    /// Woken on every submission so idle workers start at once.
    wake: Notify,
    workers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    http: reqwest::Client,
    /// The Redis queue, when the service shares one.
    redis: Option<RedisQueue>,
}

impl Service {
    /// Starts the host, opens the queue (putting back jobs a crash interrupted) and starts the
    /// workers.
    pub async fn start(config: Config) -> Result<Arc<Self>> {
        Self::start_with(config, Role::All).await
    }

    /// Starts what `role` needs: the API alone starts no browsers and runs no jobs (they wait
    /// in the queue for workers); workers alone need the shared Redis queue.
    pub async fn start_with(config: Config, role: Role) -> Result<Arc<Self>> {
        let settings = config.service.clone();
        let queue_settings = config.queue.clone();
        let queue_path = config.data_dir.join("queue.redb");
        let redis = match &queue_settings.url {
            Some(url) => Some(RedisQueue::connect(
                url,
                &queue_settings,
                settings.max_queued,
            )?),
            None if role == Role::Workers => bail!(
                "kiln worker takes jobs from a shared queue: set queue.url (or KILN_QUEUE_URL) to a redis:// URL, or run `kiln serve`"
            ),
            None => None,
        };
        let kiln = Kiln::start_with(config, role.runs_workers()).await?;
        let queue: Arc<dyn JobQueue> = match &redis {
            Some(redis) => Arc::new(redis.clone()),
            None => {
                let (queue, recovered) = EmbeddedQueue::open(&queue_path, settings.max_queued)?;
                if recovered > 0 {
                    tracing::warn!(
                        recovered,
                        "queued again the jobs a previous run left running"
                    );
                }
                Arc::new(queue)
            }
        };
        let workers = match (role.runs_workers(), settings.workers) {
            (false, _) => 0,
            (true, 0) => kiln.config.browser.processes * kiln.config.browser.pages_per_process,
            (true, n) => n,
        };
        let service = Arc::new(Self {
            kiln,
            queue,
            events: EventHub::default(),
            metrics: Metrics::default(),
            settings,
            queue_settings,
            role,
            running: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            workers: Mutex::new(Vec::new()),
            http: reqwest::Client::new(),
            redis: redis.clone(),
        });
        let mut handles: Vec<_> = (0..workers)
            .map(|n| tokio::spawn(workers::work(service.clone(), n)))
            .collect();
        if let Some(redis) = redis {
            handles.extend(redis_events::spawn(service.clone(), redis.clone()));
            handles.extend(redis_clients::spawn(service.clone(), redis));
        }
        *service.workers.lock().expect("workers lock") = handles;
        Ok(service)
    }

    /// Checks `spec` (plugin, input schema) and queues it. Nothing is queued if it fails.
    pub async fn submit(&self, spec: JobSpec, lane: Lane) -> Result<Submitted, SubmitError> {
        let options = SubmitOptions {
            lane,
            ..SubmitOptions::default()
        };
        self.submit_with(spec, options).await
    }

    /// As [`Self::submit`], with an idempotency key, the result cache (unless `force`) and the
    /// client protocol.
    pub async fn submit_with(
        &self,
        spec: JobSpec,
        options: SubmitOptions,
    ) -> Result<Submitted, SubmitError> {
        let SubmitOptions {
            lane,
            idempotency_key,
            force,
            source,
        } = options;
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
        let cache_key = (self.queue_settings.cache_ttl_s > 0)
            .then(|| cache::key(&plugin.info.name, &plugin.info.version, &spec.input));
        // An idempotency key names the job itself, so it is looked up (by the queue) instead of
        // the cache; a job with a callback wants its own delivery.
        let use_cache = !force && spec.callback.is_none() && idempotency_key.is_none();
        if let (Some(key), true) = (&cache_key, use_cache) {
            match self.queue.cached(key.clone()).await {
                Ok(Some(mut hit)) => {
                    self.metrics.cache_hit();
                    hit.cached = true;
                    return Ok(Submitted::Cached(hit));
                }
                Ok(None) => {}
                Err(err) => return Err(SubmitError::Unavailable(err.to_string())),
            }
        }
        let mut record = JobRecord::new(spec.id_or_new(), spec.job_type, spec.input, lane);
        record.callback = spec.callback;
        record.idempotency_key = idempotency_key;
        record.cache_key = cache_key;
        record.source = source;
        match self.queue.submit(record).await {
            Ok(Submitted::Cached(record)) => Ok(Submitted::Cached(record)),
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

    /// This process's consumer name in the Redis worker group (`None` on the embedded queue).
    pub fn consumer_name(&self) -> Option<&str> {
        self.redis.as_ref().map(|r| r.consumer())
    }

    /// Wakes idle workers of this process (a job was queued by other means than `submit`).
    pub fn wake_workers(&self) {
        self.wake.notify_waiters();
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
