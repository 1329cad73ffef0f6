//! Counters, gauges and histograms for `GET /metrics`, kept in a `prometheus-client` registry and
//! exposed in Prometheus' text format (0.0.4).
//!
//! The names and labels are part of the API (docs/api.md lists them, dashboards query them); the
//! label values are the protocol's own enums, so a lane or a status has one spelling everywhere.

use crate::error::ErrorKind;
use crate::queue::{JobState, Lane, LaneDepths};
use crate::service::FireOutcome;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

wire_enum! {
    /// A stage of a job's life that `kiln_job_stage_seconds` times.
    pub enum Stage {
        /// From acceptance to a worker taking it.
        Queued = "queued",
        /// One attempt's run in this process.
        Run = "run",
        /// From acceptance to the final state.
        Total = "total",
    }
}

/// What `kiln_queue_depth` counts: the jobs waiting in a lane, or those backing off before a
/// retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Waiting {
    Lane(Lane),
    Retrying,
}

// Label values are written as the enums' wire strings: one spelling in JSON, SSE and metrics.
macro_rules! label_value {
    ($($ty:ty),+) => {$(
        impl EncodeLabelValue for $ty {
            fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
                encoder.write_str(self.as_str())
            }
        }
    )+};
}
label_value!(Lane, JobState, ErrorKind, Stage, FireOutcome);

impl EncodeLabelValue for Waiting {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(match self {
            Waiting::Lane(lane) => lane.as_str(),
            Waiting::Retrying => "retrying",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DepthLabels {
    lane: Waiting,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LaneLabels {
    lane: Lane,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StatusLabels {
    status: JobState,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct KindLabels {
    kind: ErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StageLabels {
    stage: Stage,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FireLabels {
    schedule: String,
    outcome: FireOutcome,
}

fn stage_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    queue_depth: Family<DepthLabels, Gauge>,
    in_flight: Gauge,
    submitted: Family<LaneLabels, Counter>,
    finished: Family<StatusLabels, Counter>,
    failures: Family<KindLabels, Counter>,
    cache_hits: Counter,
    retries: Counter,
    dead_letters: Counter,
    browser_restarts: Counter,
    stages: Family<StageLabels, Histogram, fn() -> Histogram>,
    schedule_fires: Family<FireLabels, Counter>,
    /// Held while a scrape brings the gauges read at scrape time up to date and encodes them, so
    /// two scrapes at once do not both add the browser restarts they saw.
    scrape: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        let metrics = Self {
            registry: Registry::default(),
            queue_depth: Family::default(),
            in_flight: Gauge::default(),
            submitted: Family::default(),
            finished: Family::default(),
            failures: Family::default(),
            cache_hits: Counter::default(),
            retries: Counter::default(),
            dead_letters: Counter::default(),
            browser_restarts: Counter::default(),
            stages: Family::new_with_constructor(stage_histogram),
            schedule_fires: Family::default(),
            scrape: Mutex::new(()),
        };
        let mut registry = Registry::default();
        // Counters are registered without `_total`: the encoder adds it.
        registry.register(
            "kiln_queue_depth",
            "Jobs waiting, per lane",
            metrics.queue_depth.clone(),
        );
        registry.register(
            "kiln_cache_hits",
            "Submissions answered from the result cache",
            metrics.cache_hits.clone(),
        );
        registry.register(
            "kiln_job_retries",
            "Failed attempts put back to run again",
            metrics.retries.clone(),
        );
        registry.register(
            "kiln_dead_letters",
            "Jobs that used up their attempts",
            metrics.dead_letters.clone(),
        );
        registry.register(
            "kiln_jobs_in_flight",
            "Jobs running in this process",
            metrics.in_flight.clone(),
        );
        registry.register(
            "kiln_jobs_submitted",
            "Jobs accepted, per lane",
            metrics.submitted.clone(),
        );
        registry.register(
            "kiln_jobs_finished",
            "Jobs that ended, per status",
            metrics.finished.clone(),
        );
        registry.register(
            "kiln_job_failures",
            "Failed jobs, per error kind",
            metrics.failures.clone(),
        );
        registry.register(
            "kiln_browser_restarts",
            "Browsers replaced after dying",
            metrics.browser_restarts.clone(),
        );
        registry.register(
            "kiln_job_stage_seconds",
            "Time per job stage",
            metrics.stages.clone(),
        );
        registry.register(
            "kiln_schedule_fires",
            "Attempts to submit a schedule's job for a fire time, per schedule and outcome",
            metrics.schedule_fires.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }
}

impl Metrics {
    /// A job was accepted into `lane`.
    pub fn submitted(&self, lane: Lane) {
        self.submitted.get_or_create(&LaneLabels { lane }).inc();
    }

    /// A worker of this process started a job.
    pub fn started(&self) {
        self.in_flight.inc();
    }

    /// A job ended with `status`; `failure` is the error kind when it failed.
    pub fn finished(&self, status: JobState, failure: Option<ErrorKind>) {
        self.in_flight.dec();
        self.finished.get_or_create(&StatusLabels { status }).inc();
        if let Some(kind) = failure {
            self.failures.get_or_create(&KindLabels { kind }).inc();
        }
    }

    /// A submission was answered from the result cache.
    pub fn cache_hit(&self) {
        self.cache_hits.inc();
    }

    /// A failed attempt was put back to run again after a backoff.
    pub fn retried(&self) {
        self.in_flight.dec();
        self.retries.inc();
    }

    /// A job used up its attempts and became a dead letter (counted in `finished` too).
    pub fn buried(&self) {
        self.dead_letters.inc();
    }

    /// A job this process was running was taken over by another worker.
    pub fn lease_lost(&self) {
        self.in_flight.dec();
    }

    /// A job was cancelled before it started.
    pub fn cancelled_while_queued(&self) {
        self.finished
            .get_or_create(&StatusLabels {
                status: JobState::Cancelled,
            })
            .inc();
    }

    /// This process tried to submit schedule `schedule`'s job for a fire time.
    pub fn schedule_fire(&self, schedule: &str, outcome: FireOutcome) {
        self.schedule_fires
            .get_or_create(&FireLabels {
                schedule: schedule.to_string(),
                outcome,
            })
            .inc();
    }

    /// Time spent in `stage`.
    pub fn observe(&self, stage: Stage, seconds: f64) {
        self.stages
            .get_or_create(&StageLabels { stage })
            .observe(seconds);
    }

    /// The exposition text, with the queue depths and the pool's browser restarts read now.
    pub fn render(&self, depths: LaneDepths, browser_restarts: u64) -> String {
        let _scrape = self.scrape.lock().expect("metrics scrape lock");
        for (lane, depth) in [
            (Waiting::Lane(Lane::Interactive), depths.interactive),
            (Waiting::Lane(Lane::Bulk), depths.bulk),
            (Waiting::Retrying, depths.retrying),
        ] {
            self.queue_depth
                .get_or_create(&DepthLabels { lane })
                .set(i64::try_from(depth).unwrap_or(i64::MAX));
        }
        // The pool counts its restarts; the counter follows it (it never goes down).
        let seen = self.browser_restarts.get();
        if browser_restarts > seen {
            self.browser_restarts.inc_by(browser_restarts - seen);
        }
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
            .expect("writing metrics to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_keeps_the_documented_names_and_labels() {
        let metrics = Metrics::default();
        metrics.submitted(Lane::Bulk);
        metrics.started();
        metrics.finished(JobState::Failed, Some(ErrorKind::PieceFailed));
        metrics.cancelled_while_queued();
        metrics.cache_hit();
        metrics.observe(Stage::Run, 0.3);
        metrics.schedule_fire("og", FireOutcome::AlreadySubmitted);
        let text = metrics.render(
            LaneDepths {
                interactive: 2,
                bulk: 0,
                retrying: 1,
            },
            3,
        );
        for line in [
            "kiln_queue_depth{lane=\"interactive\"} 2",
            "kiln_queue_depth{lane=\"bulk\"} 0",
            "kiln_queue_depth{lane=\"retrying\"} 1",
            "kiln_jobs_in_flight 0",
            "kiln_jobs_submitted_total{lane=\"bulk\"} 1",
            "kiln_jobs_finished_total{status=\"failed\"} 1",
            "kiln_jobs_finished_total{status=\"cancelled\"} 1",
            "kiln_job_failures_total{kind=\"piece-failed\"} 1",
            "kiln_cache_hits_total 1",
            "kiln_job_retries_total 0",
            "kiln_dead_letters_total 0",
            "kiln_browser_restarts_total 3",
            "kiln_job_stage_seconds_count{stage=\"run\"} 1",
            "kiln_schedule_fires_total{schedule=\"og\",outcome=\"already-submitted\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
        }
        assert!(
            text.contains("# TYPE kiln_job_stage_seconds histogram"),
            "{text}"
        );
        // A second scrape does not count the same restarts again.
        let text = metrics.render(LaneDepths::default(), 3);
        assert!(text.contains("kiln_browser_restarts_total 3\n"), "{text}");
    }
}
