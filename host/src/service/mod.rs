//! The job service: a [`Kiln`] host, a durable queue, and workers that take jobs from the queue
//! and record how they end. The HTTP API (`api/`) and `kiln serve` sit on top.

mod activity;
mod cache;
mod events;
mod limits;
mod metrics;
mod previews;
mod redis_clients;
mod redis_events;
mod schedules;
mod throughput;
pub mod webhooks;
mod workers;

pub use activity::{
    ActiveJob, Activity, ActivitySnapshot, EndedJob, JobLabel, QueuedJob, RECENT_JOBS,
};
pub use events::{EventHub, EventName, JobEvent};
pub use metrics::Metrics;
pub use previews::{Preview, Previews};
pub use schedules::{FireOutcome, ScheduleStatus, Schedules};
pub use throughput::{Minute, Throughput, ThroughputSummary};
pub use webhooks::signature as webhook_signature;

use crate::Kiln;
use crate::config::{Config, QueueSettings, ServiceSettings};
use crate::error::RenderError;
use crate::jobs::JobSpec;
use crate::plugins::LoadedPlugin;
use crate::queue::{
    Cancelled, ClientProtocol, EmbeddedQueue, JobQueue, JobRecord, JobState, Lane, LogEntry,
    QueueError, RedisQueue, Retention, Submitted, Timings,
};
use crate::schedule::{FileStore, RedisStore, ScheduleStore};
use crate::storage;
use anyhow::{Result, bail};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How long workers told to stop (a drain out of time) may take to put their jobs back.
const RELEASE_GRACE: Duration = Duration::from_secs(10);

/// Where a service is in its life; each phase follows the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Taking jobs from the queue and running them.
    Serving,
    /// Stopping: no job is leased any more; running jobs may finish.
    Draining,
    /// The drain ran out of time: running jobs are stopped and put back in the queue.
    Interrupting,
    /// Drained: waiting requests (`?wait`) are answered and event streams end.
    Stopped,
}

/// What a drain came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Jobs running when the drain began.
    pub running: usize,
    /// Of those, the ones stopped and put back in the queue.
    pub put_back: usize,
}

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

/// A refusal of the queue as a submission error.
fn queue_refusal(err: QueueError, retry_after_s: u64) -> SubmitError {
    match err {
        QueueError::Full { .. } => SubmitError::Full {
            message: err.to_string(),
            retry_after_s,
        },
        QueueError::Duplicate(id) => SubmitError::Invalid(RenderError::invalid_input(format!(
            "a job with id {id:?} already exists; ids are unique (GET /jobs/{id})"
        ))),
        err => SubmitError::Unavailable(err.to_string()),
    }
}

/// The plugin a leased job runs on (see [`Service::plugin_for`]).
pub(crate) struct Pinned {
    pub plugin: Arc<LoadedPlugin>,
    /// The `name@version` the job was pinned to at submit, when that version was no longer
    /// loaded and `plugin` (the newest of its type) runs it instead.
    pub replaced: Option<String>,
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
    pub source: Option<ClientProtocol>,
    /// The spec's id was made up by the API, not chosen by the client: a result-cache hit then
    /// answers with the earlier job instead of making a job under that id, and the id is no part
    /// of the request an idempotency key remembers.
    pub generated_id: bool,
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
    /// The `[[schedules]]` this process submits, and their history.
    pub schedules: Schedules,
    /// When this service started (Unix ms).
    pub started_at_ms: u64,
    /// The jobs this process runs at once (0 for `--api-only`).
    pub worker_count: usize,
    /// Stop signals of the jobs this process is running.
    running: Mutex<HashMap<String, Arc<Notify>>>,
    /// Woken on every submission so idle workers start at once.
    wake: Notify,
    /// The job workers.
    workers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Everything else that runs until shutdown (Redis listeners, the record sweeper).
    background: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    phase: watch::Sender<Phase>,
    /// Jobs stopped by a drain that ran out of time and put back in the queue.
    put_back: AtomicUsize,
    /// The webhook client (see `webhooks::client`).
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
                let retention = Retention {
                    record_ttl: Duration::from_secs(queue_settings.record_ttl_s),
                    max_kept_input_bytes: queue_settings.max_kept_input_bytes,
                };
                let (queue, recovered) =
                    EmbeddedQueue::open_with(&queue_path, settings.max_queued, retention)?;
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
        let http = webhooks::client(settings.webhook_allow_private);
        let schedule_store = match &redis {
            Some(redis) => ScheduleStore::Redis(Box::new(RedisStore::new(redis.clone()))),
            None => ScheduleStore::File(FileStore::new(&kiln.config.data_dir)),
        };
        let schedules = Schedules::new(&kiln.config.schedules, schedule_store)?;
        let events = EventHub::default();
        events
            .activity
            .throughput
            .set_kept(settings.dashboard_timings);
        events
            .previews
            .set_max_bytes(settings.dashboard_preview_max_bytes);
        let service = Arc::new(Self {
            kiln,
            queue,
            events,
            metrics: Metrics::default(),
            settings,
            queue_settings,
            role,
            schedules,
            started_at_ms: chrono::Utc::now().timestamp_millis().max(0) as u64,
            worker_count: workers,
            running: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            workers: Mutex::new(Vec::new()),
            background: Mutex::new(Vec::new()),
            phase: watch::Sender::new(Phase::Serving),
            put_back: AtomicUsize::new(0),
            http,
            redis: redis.clone(),
        });
        if let Err(err) = schedules::check(&service) {
            service.shutdown().await;
            return Err(err);
        }
        let handles: Vec<_> = (0..workers)
            .map(|n| tokio::spawn(workers::work(service.clone(), n)))
            .collect();
        *service.workers.lock().expect("workers lock") = handles;
        let mut background = Vec::new();
        match redis {
            Some(redis) => {
                background.extend(redis_events::spawn(service.clone(), redis.clone()));
                background.extend(redis_clients::spawn(service.clone(), redis));
            }
            None => background.push(tokio::spawn(sweep(service.clone()))),
        }
        background.extend(schedules::spawn(service.clone()));
        *service.background.lock().expect("background lock") = background;
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
            generated_id,
        } = options;
        let plugin = self.checked_plugin(&spec)?;
        if let Some(url) = &spec.callback {
            if self.settings.webhook_secret.is_none() {
                return Err(SubmitError::Invalid(RenderError::invalid_input(
                    "callback: this host has no service.webhook_secret, so it sends no webhooks",
                )));
            }
            webhooks::check_url(url, self.settings.webhook_allow_private)
                .await
                .map_err(|e| SubmitError::Invalid(RenderError::invalid_input(e)))?;
        }
        let client_id = spec.id.clone().filter(|_| !generated_id);
        if let Some(id) = &client_id {
            storage::check_job_id(id, &self.granted_read_prefixes())
                .map_err(SubmitError::Invalid)?;
        }
        let request_hash = idempotency_key
            .as_ref()
            .map(|_| cache::request_hash(client_id.as_deref(), &spec));
        let cache_key = (self.queue_settings.cache_ttl_s > 0)
            .then(|| cache::key(&plugin.info.name, &plugin.info.version, &spec.input));
        // An idempotency key names the job itself, so it is looked up (by the queue) instead of
        // the cache; a job with a callback wants its own delivery.
        let use_cache = !force && spec.callback.is_none() && idempotency_key.is_none();
        if let (Some(key), true) = (&cache_key, use_cache) {
            match self.queue.cached(key.clone()).await {
                Ok(Some(mut hit)) => {
                    self.metrics.cache_hit();
                    let Some(id) = client_id else {
                        hit.cached = true;
                        return Ok(Submitted::Cached(hit));
                    };
                    // The client named its job: that job exists, succeeded, with the earlier
                    // job's artifacts.
                    let mut record = JobRecord::new(id, spec.job_type, spec.input, lane);
                    record.status = JobState::Succeeded;
                    record.plugin = hit.plugin.clone();
                    record.artifacts = hit.artifacts.clone();
                    record.started_at = Some(record.submitted_at);
                    record.finished_at = Some(record.submitted_at);
                    record.timings = Timings {
                        queued_ms: Some(0.0),
                        run_ms: Some(0.0),
                        total_ms: Some(0.0),
                    };
                    record.cache_key = Some(key.clone());
                    record.cached = true;
                    record.cached_from = Some(hit.id.clone());
                    record.source = source;
                    record.log = vec![LogEntry {
                        at_ms: 0,
                        level: "info".into(),
                        source: "host".into(),
                        message: format!(
                            "answered from the result cache: the artifacts of job {} (force=true renders again)",
                            hit.id
                        ),
                    }];
                    return match self.queue.store_final(record.clone()).await {
                        Ok(()) => Ok(Submitted::Cached(record)),
                        Err(err) => Err(queue_refusal(err, self.settings.retry_after_s)),
                    };
                }
                Ok(None) => {}
                Err(err) => return Err(SubmitError::Unavailable(err.to_string())),
            }
        }
        let mut record = JobRecord::new(spec.id_or_new(), spec.job_type, spec.input, lane);
        // Pinned: the job runs on the version its input was checked against and its cache key
        // names, whatever is loaded by the time a worker takes it (see `plugin_for`).
        record.plugin = Some(plugin.label());
        record.callback = spec.callback;
        record.idempotency_key = idempotency_key;
        record.request_hash = request_hash;
        record.cache_key = cache_key;
        record.source = source;
        match self.queue.submit(record.clone()).await {
            Ok(Submitted::Cached(record)) => Ok(Submitted::Cached(record)),
            Ok(Submitted::Existing(earlier)) => {
                // Records from before request hashes were kept have none: they replay.
                if let (Some(first), Some(now)) = (&earlier.request_hash, &record.request_hash)
                    && first != now
                {
                    let key = record.idempotency_key.unwrap_or_default();
                    return Err(SubmitError::Invalid(RenderError::invalid_input(format!(
                        "Idempotency-Key {key:?} was already used for a different request (job \
                         {}); a key names one request: send the same body again to get that \
                         job, or use a new key for a new job",
                        earlier.id
                    ))));
                }
                Ok(Submitted::Existing(earlier))
            }
            Ok(Submitted::New(record)) => {
                let label = JobLabel::of(&record.job_type, &record.input);
                self.events
                    .activity
                    .queued(&record.id, label, lane, record.submitted_at);
                self.metrics.submitted(lane);
                self.wake.notify_waiters();
                Ok(Submitted::New(record))
            }
            Err(err) => Err(queue_refusal(err, self.settings.retry_after_s)),
        }
    }

    /// Every prefix any plugin is granted to read (`plugins.per_plugin.<name>.read_prefixes`).
    fn granted_read_prefixes(&self) -> Vec<String> {
        let plugins = &self.kiln.config.plugins.per_plugin;
        plugins
            .values()
            .flat_map(|own| own.read_prefixes.iter().cloned())
            .collect()
    }

    /// The plugin that serves `spec`, once its input has passed the plugin's schema and the host's
    /// limits: what every submission and cache lookup checks first.
    fn checked_plugin(&self, spec: &JobSpec) -> Result<Arc<LoadedPlugin>, SubmitError> {
        let plugin = self
            .kiln
            .plugins
            .resolve(&spec.job_type)
            .map_err(SubmitError::Invalid)?;
        self.check_input(&plugin, &spec.input)
            .map_err(SubmitError::Invalid)?;
        Ok(plugin)
    }

    /// Checks `input` against `plugin`'s schema and this host's limits (`jobs.max_dimension` and
    /// the like).
    fn check_input(
        &self,
        plugin: &LoadedPlugin,
        input: &serde_json::Value,
    ) -> Result<(), RenderError> {
        plugin.validate_input(input)?;
        limits::check(&plugin.info.input_schema, input, &self.kiln.config.jobs)
    }

    /// The plugin a leased job runs on. The version pinned at submit (`record.plugin`) while it
    /// is loaded. Once it is not (replaced or removed after the job was submitted): a job whose
    /// client named that version (`p5@0.1.0`) fails as `invalid-input`, since running another
    /// would not be what was asked for; a job whose client named the type alone runs on the
    /// newest loaded version of it, once its input passes that version's schema and this host's
    /// limits, and [`Pinned::replaced`] says which version it was pinned to. A record without a
    /// pin (queued by an older Kiln) resolves its type as submitted.
    pub(crate) fn plugin_for(&self, record: &JobRecord) -> Result<Pinned, RenderError> {
        let plugins = &self.kiln.plugins;
        let Some(pinned) = record.plugin.as_deref() else {
            return Ok(Pinned {
                plugin: plugins.resolve(&record.job_type)?,
                replaced: None,
            });
        };
        let gone = match plugins.resolve(pinned) {
            Ok(plugin) => {
                return Ok(Pinned {
                    plugin,
                    replaced: None,
                });
            }
            Err(gone) => gone,
        };
        if record.job_type.contains('@') {
            return Err(RenderError::invalid_input(format!(
                "the job asked for {pinned}, which is no longer loaded: it was replaced or \
                 removed after the job was submitted ({}); submit it again naming a loaded \
                 version, or the type alone for the newest",
                gone.message
            )));
        }
        let plugin = plugins.resolve(&record.job_type).map_err(|err| {
            RenderError::invalid_input(format!(
                "the job was pinned at submit to {pinned}, which is no longer loaded, and no \
                 other version of its type is: {}",
                err.message
            ))
        })?;
        self.check_input(&plugin, &record.input).map_err(|err| {
            RenderError::new(
                err.kind,
                format!(
                    "the job was pinned at submit to {pinned}, which is no longer loaded, and its \
                     input does not pass {}, the version loaded now: {}",
                    plugin.label(),
                    err.message
                ),
            )
        })?;
        Ok(Pinned {
            plugin,
            replaced: Some(pinned.to_string()),
        })
    }

    /// The succeeded job the result cache holds for `spec`, if any, without submitting anything
    /// (the input is checked as a submission's is).
    pub async fn cached_result(&self, spec: &JobSpec) -> Result<Option<JobRecord>, SubmitError> {
        let plugin = self.checked_plugin(spec)?;
        if self.queue_settings.cache_ttl_s == 0 {
            return Ok(None);
        }
        let key = cache::key(&plugin.info.name, &plugin.info.version, &spec.input);
        match self.queue.cached(key).await {
            Ok(Some(mut hit)) => {
                self.metrics.cache_hit();
                hit.cached = true;
                Ok(Some(hit))
            }
            Ok(None) => Ok(None),
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
                    self.notify_callback(&record, EventName::Cancelled);
                }
                self.events.publish(
                    id,
                    JobEvent {
                        event: EventName::Cancelled,
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
    pub(crate) fn notify_callback(&self, record: &JobRecord, event: EventName) {
        let (Some(url), Some(secret)) = (&record.callback, &self.settings.webhook_secret) else {
            return;
        };
        let settings = webhooks::WebhookSettings {
            secret: secret.clone(),
            attempts: self.settings.webhook_attempts.max(1),
            first_backoff: std::time::Duration::from_millis(self.settings.webhook_backoff_ms),
            timeout: std::time::Duration::from_millis(self.settings.webhook_timeout_ms),
            allow_private: self.settings.webhook_allow_private,
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

    /// Where the service is in its life.
    pub fn phase(&self) -> Phase {
        *self.phase.borrow()
    }

    /// Resolves once the service has reached `phase` (or is gone).
    pub fn reached(&self, phase: Phase) -> impl Future<Output = ()> + Send + use<> {
        let mut receiver = self.phase.subscribe();
        async move {
            let _ = receiver.wait_for(|now| *now >= phase).await;
        }
    }

    fn enter(&self, phase: Phase) {
        self.phase.send_if_modified(|now| {
            let later = phase > *now;
            if later {
                *now = phase;
            }
            later
        });
    }

    /// Drains the workers: no job is leased any more, and running jobs may finish for up to
    /// `timeout` (less if `hurry` resolves first: a second signal). Jobs still running then are
    /// stopped and put back in the queue without counting the attempt (a clean stop is not a
    /// crash). Ends in [`Phase::Stopped`], which answers waiting requests and ends event
    /// streams, so no client holds the process past the drain.
    pub async fn drain(&self, timeout: Duration, hurry: impl Future<Output = ()>) -> Drained {
        let running = self.running.lock().expect("running lock").len();
        self.enter(Phase::Draining);
        self.wake.notify_waiters();
        let mut workers = std::mem::take(&mut *self.workers.lock().expect("workers lock"));
        let in_time = tokio::select! {
            finished = tokio::time::timeout(timeout, join_all(&mut workers)) => finished.is_ok(),
            _ = hurry => false,
        };
        if !in_time {
            self.enter(Phase::Interrupting);
            workers.retain(|worker| !worker.is_finished());
            if tokio::time::timeout(RELEASE_GRACE, join_all(&mut workers))
                .await
                .is_err()
            {
                tracing::error!(
                    "workers did not stop in time; their jobs run again at the next start"
                );
            }
            for worker in &workers {
                worker.abort();
            }
        }
        self.enter(Phase::Stopped);
        Drained {
            running,
            put_back: self.put_back.load(Ordering::Relaxed),
        }
    }

    /// Stops the workers and the host. Without a [`Self::drain`] first, running jobs are
    /// abandoned (and run again at the next start, as after a crash).
    pub async fn shutdown(&self) {
        self.enter(Phase::Stopped);
        for worker in self.workers.lock().expect("workers lock").drain(..) {
            worker.abort();
        }
        for task in self.background.lock().expect("background lock").drain(..) {
            task.abort();
        }
        self.kiln.shutdown().await;
    }
}

/// Waits for every task in `tasks` (each polled until it ends; a timeout around it leaves the
/// unfinished ones in place).
async fn join_all(tasks: &mut [tokio::task::JoinHandle<()>]) {
    for task in tasks.iter_mut() {
        if !task.is_finished() {
            let _ = task.await;
        }
    }
}

/// Deletes expired records of the embedded queue, at start and then every quarter of
/// `queue.record_ttl_s` (at least every second, at most every minute).
async fn sweep(service: Arc<Service>) {
    let every =
        Duration::from_millis((service.queue_settings.record_ttl_s * 250).clamp(1000, 60_000));
    loop {
        match service.queue.expire().await {
            Ok(0) => {}
            Ok(removed) => tracing::debug!(removed, "expired records of ended jobs"),
            Err(err) => tracing::warn!("cannot delete expired records: {err}"),
        }
        tokio::time::sleep(every).await;
    }
}
