//! Runs one job end to end: resolve the plugin, validate the input, run it, retry what is
//! retryable, and report.

use crate::error::ErrorKind;
use crate::jobs::{JobContext, JobLimits, JobLog, JobObserver, JobOutcome, JobSpec, JobStatus};
use crate::plugins::{HostServices, PluginCatalog, PluginEngine, run_plugin};
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
    pub unavailable_retries: u32,
}

impl JobRunner {
    /// Runs `spec` to completion. Never panics on bad input: every failure is in the outcome.
    pub async fn run(&self, spec: &JobSpec) -> JobOutcome {
        self.run_observed(spec, None).await
    }

    /// Runs `spec`, telling `observer` about attempts and progress.
    pub async fn run_observed(
        &self,
        spec: &JobSpec,
        observer: Option<Arc<dyn JobObserver>>,
    ) -> JobOutcome {
        let id = spec.id_or_new();
        let span = tracing::info_span!("job", id = %id, job_type = %spec.job_type);
        self.run_with_id(id, spec, observer).instrument(span).await
    }

    async fn run_with_id(
        &self,
        id: String,
        spec: &JobSpec,
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
            let plugin = self.plugins.resolve(&spec.job_type)?;
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
                        if err.kind == ErrorKind::Unavailable
                            && outcome.attempts <= self.unavailable_retries =>
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
