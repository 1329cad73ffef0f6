//! Runs `[[schedules]]`: every process of the service (serve, API-only, worker) runs one task
//! per schedule, which submits the schedule's job at each fire time through [`Service::submit_with`]
//! (the path of `POST /jobs`: plugin, schema and limits checks, then the queue).
//!
//! Exactly once across processes: the job of fire time T goes in under the idempotency key
//! `schedule:<name>:<T>`; the queue checks the key and enqueues in one atomic step (one Lua
//! script in Redis, one write transaction in the embedded queue), so every other process that
//! submits T gets the first job back, and no crash can leave T claimed but not queued. Each
//! schedule's history (first seen, last fire time, its job) is kept beside the queue
//! (`schedule::ScheduleStore`) and decides, at start, whether a run was missed while nothing ran:
//! then the latest missed fire time is submitted once.

use super::{Phase, Service, SubmitError, SubmitOptions};
use crate::jobs::JobSpec;
use crate::queue::{Lane, Submitted};
use crate::schedule::{CronExpr, FireState, ScheduleSettings, ScheduleStore, plan};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// The first wait before submitting a fire time again after the queue was unavailable or full;
/// doubled each time, up to [`MAX_RETRY_WAIT`], and given up when the next fire time comes.
const FIRST_RETRY_WAIT: Duration = Duration::from_secs(1);
const MAX_RETRY_WAIT: Duration = Duration::from_secs(60);

/// One configured schedule, its cron expression parsed.
pub(crate) struct Schedule {
    pub settings: ScheduleSettings,
    pub cron: CronExpr,
}

/// The configured schedules and their history.
pub struct Schedules {
    entries: Vec<Arc<Schedule>>,
    store: ScheduleStore,
}

wire_enum! {
    /// What one attempt to submit a fire time came to (`kiln_schedule_fires_total{outcome}`).
    pub enum FireOutcome {
        /// This process queued the job.
        Submitted = "submitted",
        /// The job was queued already (by another process, or before a restart).
        AlreadySubmitted = "already-submitted",
        /// The job was refused (unknown type, input against the schema): not retried.
        Refused = "refused",
        /// The queue was unavailable or full: tried again after a wait.
        Unavailable = "unavailable",
    }
}

/// A schedule as `GET /schedules` shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ScheduleStatus {
    /// The schedule's name.
    pub name: String,
    /// Its cron expression (UTC), as configured.
    pub cron: String,
    /// The job type it submits.
    #[serde(rename = "type")]
    pub job_type: String,
    /// The lane its jobs wait in.
    pub lane: Lane,
    /// Whether a process that starts submits the run of the period in progress when it has none.
    pub run_at_start: bool,
    /// The next fire time (RFC 3339, UTC).
    pub next_fire: Option<String>,
    /// The latest fire time whose job was submitted, by any process on this queue.
    pub last_fire: Option<String>,
    /// That job's id (`GET /jobs/{id}`).
    pub last_job: Option<String>,
    /// When a process first saw the schedule.
    pub since: Option<String>,
}

fn time(ms: u64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_millis(i64::try_from(ms).ok()?).map(plan::rfc3339)
}

impl Schedules {
    /// The schedules of `settings` (checked by `Config::validate`), with their history in
    /// `store`.
    pub(crate) fn new(settings: &[ScheduleSettings], store: ScheduleStore) -> anyhow::Result<Self> {
        let entries = settings
            .iter()
            .map(|s| {
                let cron = s.parsed_cron().map_err(|e| anyhow::anyhow!(e))?;
                Ok(Arc::new(Schedule {
                    settings: s.clone(),
                    cron,
                }))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { entries, store })
    }

    /// Each schedule with its next fire time and history.
    pub async fn status(&self) -> Result<Vec<ScheduleStatus>, crate::schedule::StateError> {
        let now = Utc::now();
        let mut out = Vec::with_capacity(self.entries.len());
        for entry in &self.entries {
            let state = self.store.get(&entry.settings.name).await?;
            let state = state.unwrap_or_default();
            out.push(ScheduleStatus {
                name: entry.settings.name.clone(),
                cron: entry.settings.cron.clone(),
                job_type: entry.settings.job.job_type.clone(),
                lane: entry.settings.lane,
                run_at_start: entry.settings.run_at_start,
                next_fire: entry.cron.next_after(now).map(plan::rfc3339),
                last_fire: state.last_fire_ms.and_then(time),
                last_job: state.last_job,
                since: (state.since_ms > 0).then(|| time(state.since_ms)).flatten(),
            });
        }
        Ok(out)
    }
}

/// Checks each schedule's job as a submission would be checked (its type is loaded, its input
/// passes the plugin's schema and this host's limits, a callback has a webhook secret); the
/// error names the schedule.
pub(crate) fn check(service: &Service) -> anyhow::Result<()> {
    for entry in &service.schedules.entries {
        let name = &entry.settings.name;
        // Checked as today's fire would submit it (a `{fire_date}` is a date by then).
        let job = &JobSpec {
            input: plan::with_fire_date(&entry.settings.job.input, Utc::now()),
            ..entry.settings.job.clone()
        };
        service.checked_plugin(job).map_err(|err| match err {
            SubmitError::Invalid(err) => anyhow::anyhow!("schedule {name:?}: job: {}", err.message),
            SubmitError::Full { message, .. } | SubmitError::Unavailable(message) => {
                anyhow::anyhow!("schedule {name:?}: {message}")
            }
        })?;
        anyhow::ensure!(
            job.callback.is_none() || service.settings.webhook_secret.is_some(),
            "schedule {name:?}: job.callback needs service.webhook_secret"
        );
    }
    Ok(())
}

/// Starts one task per schedule; they stop when the service drains.
pub(crate) fn spawn(service: Arc<Service>) -> Vec<tokio::task::JoinHandle<()>> {
    service
        .schedules
        .entries
        .iter()
        .map(|entry| tokio::spawn(run(service.clone(), entry.clone())))
        .collect()
}

async fn run(service: Arc<Service>, schedule: Arc<Schedule>) {
    let stop = service.reached(Phase::Draining);
    tokio::select! {
        _ = stop => {}
        _ = fire_forever(&service, &schedule) => {}
    }
}

/// The schedule's history, first recording when it was seen; retried until the store answers.
async fn init(service: &Service, schedule: &Schedule) -> FireState {
    let name = &schedule.settings.name;
    let mut wait = FIRST_RETRY_WAIT;
    loop {
        match service
            .schedules
            .store
            .init(name, plan::ms(Utc::now()))
            .await
        {
            Ok(state) => return state,
            Err(err) => {
                tracing::warn!(schedule = %name, "cannot read the schedule's history ({err}); trying again in {wait:?}");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_RETRY_WAIT);
            }
        }
    }
}

async fn fire_forever(service: &Service, schedule: &Schedule) {
    let state = init(service, schedule).await;
    let mut after = Utc::now();
    if let Some(slot) = plan::due_at_start(
        &schedule.cron,
        &state,
        after,
        schedule.settings.run_at_start,
    ) {
        tracing::info!(schedule = %schedule.settings.name, fire = %plan::rfc3339(slot), "submitting the run due at start");
        fire(service, schedule, slot).await;
        after = after.max(slot);
    }
    loop {
        let Some(next) = schedule.cron.next_after(after) else {
            tracing::warn!(schedule = %schedule.settings.name, "the schedule fires no more");
            return;
        };
        sleep_until(next).await;
        let now = Utc::now();
        let Some(slot) = plan::due_now(&schedule.cron, after, now) else {
            continue;
        };
        fire(service, schedule, slot).await;
        after = slot;
    }
}

/// Sleeps until the wall clock reads `t` (a timer can wake early; the clock can be set).
async fn sleep_until(t: DateTime<Utc>) {
    loop {
        let left = (t - Utc::now()).to_std().unwrap_or_default();
        if left.is_zero() {
            return;
        }
        tokio::time::sleep(left.min(Duration::from_secs(60))).await;
    }
}

/// Submits the job of fire time `slot` once: retried while the queue is unavailable or full,
/// until the next fire time comes (which then stands for it).
async fn fire(service: &Service, schedule: &Schedule, slot: DateTime<Utc>) {
    let settings = &schedule.settings;
    let name = &settings.name;
    let key = plan::idempotency_key(name, slot);
    let next = schedule.cron.next_after(slot);
    let mut wait = FIRST_RETRY_WAIT;
    loop {
        let spec = JobSpec {
            id: None,
            input: plan::with_fire_date(&settings.job.input, slot),
            ..settings.job.clone()
        };
        let options = SubmitOptions {
            lane: settings.lane,
            idempotency_key: Some(key.clone()),
            force: true,
            source: None,
            generated_id: true,
        };
        let (outcome, job) = match service.submit_with(spec, options).await {
            Ok(Submitted::New(record)) => (FireOutcome::Submitted, Some(record.id)),
            Ok(Submitted::Existing(record) | Submitted::Cached(record)) => {
                (FireOutcome::AlreadySubmitted, Some(record.id))
            }
            Err(SubmitError::Invalid(err)) => {
                tracing::error!(schedule = %name, fire = %plan::rfc3339(slot), "the scheduled job was refused: {}", err.message);
                (FireOutcome::Refused, None)
            }
            Err(SubmitError::Full { message, .. } | SubmitError::Unavailable(message)) => {
                tracing::warn!(schedule = %name, fire = %plan::rfc3339(slot), "cannot submit the scheduled job ({message}); trying again in {wait:?}");
                (FireOutcome::Unavailable, None)
            }
        };
        service.metrics.schedule_fire(name, outcome);
        if let Some(job) = job {
            if outcome == FireOutcome::Submitted {
                tracing::info!(schedule = %name, fire = %plan::rfc3339(slot), job = %job, "submitted the scheduled job");
            }
            if let Err(err) = service
                .schedules
                .store
                .record(name, plan::ms(slot), &job)
                .await
            {
                // The job is queued; the history only decides what a later start submits, and
                // the idempotency key keeps that from submitting this fire time again.
                tracing::warn!(schedule = %name, job = %job, "cannot record the fire: {err}");
            }
            return;
        }
        if outcome == FireOutcome::Refused {
            return;
        }
        let retry_at = Utc::now() + chrono::TimeDelta::from_std(wait).unwrap_or_default();
        if next.is_some_and(|next| retry_at >= next) {
            tracing::error!(schedule = %name, fire = %plan::rfc3339(slot), "gave up on the fire time: the next one is due first");
            return;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_RETRY_WAIT);
    }
}
