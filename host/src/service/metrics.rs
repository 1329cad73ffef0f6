//! Counters and histograms for `GET /metrics`, in Prometheus' text format.

use crate::queue::LaneDepths;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

#[derive(Default)]
struct Inner {
    submitted: BTreeMap<&'static str, u64>,
    finished: BTreeMap<&'static str, u64>,
    failures: BTreeMap<String, u64>,
    in_flight: i64,
    cache_hits: u64,
    retries: u64,
    dead_letters: u64,
    stages: BTreeMap<&'static str, Histogram>,
}

/// The service's metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    pub fn submitted(&self, lane: &'static str) {
        *self.lock().submitted.entry(lane).or_default() += 1;
    }

    pub fn started(&self) {
        self.lock().in_flight += 1;
    }

    /// A job ended with `status`; `failure` is the error kind when it failed.
    pub fn finished(&self, status: &'static str, failure: Option<String>) {
        let mut inner = self.lock();
        inner.in_flight -= 1;
        *inner.finished.entry(status).or_default() += 1;
        if let Some(kind) = failure {
            *inner.failures.entry(kind).or_default() += 1;
        }
    }

    /// A submission was answered from the result cache.
    pub fn cache_hit(&self) {
        self.lock().cache_hits += 1;
    }

    /// A failed attempt was put back to run again after a backoff.
    pub fn retried(&self) {
        let mut inner = self.lock();
        inner.in_flight -= 1;
        inner.retries += 1;
    }

    /// A job used up its attempts and became a dead letter (counted in `finished` too).
    pub fn buried(&self) {
        self.lock().dead_letters += 1;
    }

    /// A job this process was running was taken over by another worker.
    pub fn lease_lost(&self) {
        self.lock().in_flight -= 1;
    }

    /// A job was cancelled before it started.
    pub fn cancelled_while_queued(&self) {
        *self.lock().finished.entry("cancelled").or_default() += 1;
    }

    /// Time spent in `stage` (`queued`, `run`, `total`).
    pub fn observe(&self, stage: &'static str, seconds: f64) {
        self.lock()
            .stages
            .entry(stage)
            .or_default()
            .observe(seconds);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("metrics lock")
    }

    /// The exposition text, with the gauges read now.
    pub fn render(&self, depths: LaneDepths, browser_restarts: u64) -> String {
        let inner = self.lock();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP kiln_queue_depth Jobs waiting, per lane.\n# TYPE kiln_queue_depth gauge"
        );
        let _ = writeln!(
            out,
            "kiln_queue_depth{{lane=\"interactive\"}} {}",
            depths.interactive
        );
        let _ = writeln!(out, "kiln_queue_depth{{lane=\"bulk\"}} {}", depths.bulk);
        let _ = writeln!(
            out,
            "kiln_queue_depth{{lane=\"retrying\"}} {}",
            depths.retrying
        );
        for (name, help, value) in [
            (
                "kiln_cache_hits_total",
                "Submissions answered from the result cache.",
                inner.cache_hits,
            ),
            (
                "kiln_job_retries_total",
                "Failed attempts put back to run again.",
                inner.retries,
            ),
            (
                "kiln_dead_letters_total",
                "Jobs that used up their attempts.",
                inner.dead_letters,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP kiln_jobs_in_flight Jobs running in this process.\n# TYPE kiln_jobs_in_flight gauge"
        );
        let _ = writeln!(out, "kiln_jobs_in_flight {}", inner.in_flight);
        let _ = writeln!(
            out,
            "# HELP kiln_jobs_submitted_total Jobs accepted, per lane.\n# TYPE kiln_jobs_submitted_total counter"
        );
        for (lane, n) in &inner.submitted {
            let _ = writeln!(out, "kiln_jobs_submitted_total{{lane=\"{lane}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP kiln_jobs_finished_total Jobs that ended, per status.\n# TYPE kiln_jobs_finished_total counter"
        );
        for (status, n) in &inner.finished {
            let _ = writeln!(out, "kiln_jobs_finished_total{{status=\"{status}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP kiln_job_failures_total Failed jobs, per error kind.\n# TYPE kiln_job_failures_total counter"
        );
        for (kind, n) in &inner.failures {
            let _ = writeln!(out, "kiln_job_failures_total{{kind=\"{kind}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP kiln_browser_restarts_total Browsers replaced after dying.\n# TYPE kiln_browser_restarts_total counter"
        );
        let _ = writeln!(out, "kiln_browser_restarts_total {browser_restarts}");
        let _ = writeln!(
            out,
            "# HELP kiln_job_stage_seconds Time per job stage.\n# TYPE kiln_job_stage_seconds histogram"
        );
        for (stage, histogram) in &inner.stages {
            for (bound, count) in BUCKETS.iter().zip(histogram.counts) {
                let _ = writeln!(
                    out,
                    "kiln_job_stage_seconds_bucket{{stage=\"{stage}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "kiln_job_stage_seconds_bucket{{stage=\"{stage}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "kiln_job_stage_seconds_sum{{stage=\"{stage}\"}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "kiln_job_stage_seconds_count{{stage=\"{stage}\"}} {}",
                histogram.count
            );
        }
        out
    }
}
