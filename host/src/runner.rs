//! Runs one job end to end: resolve the plugin, validate the input, run it, and report.
//!
//! Who retries a job that failed as `unavailable` (a browser or the store was down) depends on
//! where it runs, and exactly one layer does: in-process for the command line ([`JobRunner::run`],
//! `jobs.unavailable_retries` more attempts), and the queue for the service, which makes one
//! attempt per lease ([`JobRunner::run_once`]) and leases the job again after a backoff
//! (`queue.max_attempts`, `queue.retry_backoff_ms`; see `service/workers.rs`).

use crate::error::ErrorKind;
use crate::jobs::{JobContext, JobLimits, JobLog, JobObserver, JobOutcome, JobSpec, JobStatus};
use crate::plugins::{HostServices, LoadedPlugin, PluginCatalog, PluginEngine, run_plugin};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// Everything needed to run jobs; cheap to share across tasks.
pub struct JobRunner {
    pub engine: Arc<PluginEngine>,
    /// The plugins loaded now; each job resolves its plugin once and keeps it to the end.
    pub plugins: Arc<PluginCatalog>,
    pub services: Arc<HostServices>,
    /// Limits for every job; the plugin's policy sets the timeout.
    pub limits: JobLimits,
    /// Extra in-process attempts [`Self::run`] gives a job that failed as `unavailable`
    /// (`jobs.unavailable_retries`); [`Self::run_once`] gives none.
    pub unavailable_retries: u32,
}

impl JobRunner {
    /// Runs `spec` to completion with the plugin its type resolves to now, retrying in-process
    /// (`unavailable_retries`) what failed as `unavailable`: what `kiln render` and `kiln batch`
    /// run. Never panics on bad input: every failure is in the outcome.
    pub async fn run(&self, spec: &JobSpec) -> JobOutcome {
        self.run_observed(spec, None).await
    }

    /// As [`Self::run`], telling `observer` about attempts and progress.
    pub async fn run_observed(
        &self,
        spec: &JobSpec,
        observer: Option<Arc<dyn JobObserver>>,
    ) -> JobOutcome {
        let id = spec.id_or_new();
        let span = tracing::info_span!("job", id = %id, job_type = %spec.job_type);
        self.run_with_id(id, spec, None, self.unavailable_retries, observer)
            .instrument(span)
            .await
    }

    /// One attempt of `spec` on `plugin` (already resolved by the caller: the version the job
    /// was pinned to), with no retry of any kind: the service's path, whose queue owns retries.
    /// The input is checked against `plugin`'s schema first.
    pub async fn run_once(
        &self,
        spec: &JobSpec,
        plugin: Arc<LoadedPlugin>,
        observer: Option<Arc<dyn JobObserver>>,
    ) -> JobOutcome {
        let id = spec.id_or_new();
        let span = tracing::info_span!("job", id = %id, job_type = %spec.job_type);
        self.run_with_id(id, spec, Some(plugin), 0, observer)
            .instrument(span)
            .await
    }

    /// Runs `spec` on `plugin` (or the one its type resolves to), with up to `retries` more
    /// attempts after an `unavailable` failure.
    async fn run_with_id(
        &self,
        id: String,
        spec: &JobSpec,
        plugin: Option<Arc<LoadedPlugin>>,
        retries: u32,
        observer: Option<Arc<dyn JobObserver>>,
    ) -> JobOutcome {
        let started = Instant::now();
        let log = match &observer {
            Some(observer) => JobLog::observed(observer.clone()),
            None => JobLog::default(),
        };
        let mut outcome = JobOutcome {
            id: id.clone(),
            job_type: spec.job_type.clone(),
            plugin: None,
            status: JobStatus::Failed,
            attempts: 0,
            artifacts: Vec::new(),
            error: None,
            elapsed_ms: 0.0,
            log: Vec::new(),
        };

        let result = async {
            let plugin = match plugin {
                Some(plugin) => plugin,
                None => self.plugins.resolve(&spec.job_type)?,
            };
            outcome.plugin = Some(plugin.label());
            plugin.validate_input(&spec.input)?;
            let input_json = spec.input.to_string();
            loop {
                outcome.attempts += 1;
                if let Some(observer) = &observer {
                    observer.attempt_started(outcome.attempts);
                }
                let limits = JobLimits {
                    timeout: plugin.policy.timeout,
                    ..self.limits
                };
                let job = Arc::new(JobContext::new(id.clone(), log.clone(), limits));
                let result = run_plugin(
                    self.engine.engine(),
                    &plugin,
                    job,
                    &self.services,
                    input_json.clone(),
                )
                .await;
                match result {
                    Err(err)
                        if err.kind == ErrorKind::Unavailable && outcome.attempts <= retries =>
                    {
                        log.warn(
                            "host",
                            format!(
                                "attempt {} failed, retrying: {}",
                                outcome.attempts, err.message
                            ),
                        );
                        tracing::warn!("retrying after: {err}");
                    }
                    other => return other,
                }
            }
        }
        .await;

        match result {
            Ok(artifacts) => {
                outcome.status = JobStatus::Succeeded;
                outcome.artifacts = artifacts;
                tracing::info!(ms = started.elapsed().as_secs_f64() * 1e3, "job succeeded");
            }
            Err(err) => {
                tracing::info!(kind = %err.kind, "job failed: {}", err.message);
                outcome.error = Some(err);
            }
        }
        outcome.elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
        outcome.log = log.lines();
        outcome
    }

    /// Parses and runs one job given as JSON text; a malformed envelope becomes a failed outcome.
    pub async fn run_json(&self, text: &str) -> JobOutcome {
        match JobSpec::from_json(text) {
            Ok(spec) => self.run(&spec).await,
            Err(err) => JobOutcome::from_error(err),
        }
    }
}
