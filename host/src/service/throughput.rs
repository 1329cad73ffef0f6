//! Throughput and latency over the last hour, for the dashboard (`GET /`): the timings of the jobs
//! that ended, as this process saw their final events, in a bounded in-memory ring.
//!
//! The ring holds at most `service.dashboard_timings` jobs (10 000 by default) and nothing older
//! than [`WINDOW_MS`]; when more jobs than that end within the hour, the oldest are dropped first
//! and the summary says so (`truncated`). It is not kept across restarts: Prometheus
//! (`kiln_job_stage_seconds`, `GET /metrics`) is the durable record.

use super::events::EventName;
use crate::config::DEFAULT_DASHBOARD_TIMINGS as DEFAULT_KEPT;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How far back the summary looks: one hour.
pub const WINDOW_MS: u64 = 3_600_000;
/// The summary's buckets: one per minute of the window.
const BUCKET_MS: u64 = 60_000;

/// One job that ended.
#[derive(Debug, Clone, Copy)]
struct Finished {
    /// When it ended (Unix ms).
    at_ms: u64,
    status: EventName,
    /// Submission to end, in ms (absent for a job cancelled before it ran).
    total_ms: Option<f64>,
    /// Its run, in ms.
    run_ms: Option<f64>,
}

/// The ring of recent job timings.
pub struct Throughput {
    ring: Mutex<Ring>,
    kept: AtomicUsize,
}

#[derive(Default)]
struct Ring {
    jobs: VecDeque<Finished>,
    /// When the newest job dropped for room had ended (Unix ms; 0: none dropped).
    dropped_at_ms: u64,
}

impl Default for Throughput {
    fn default() -> Self {
        Self {
            ring: Mutex::new(Ring::default()),
            kept: AtomicUsize::new(DEFAULT_KEPT),
        }
    }
}

/// One minute of the window.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Minute {
    /// The minute's start (Unix ms).
    pub start: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Median submission-to-end time of the jobs that succeeded in this minute, in ms.
    pub p50_total_ms: Option<f64>,
    /// 95th percentile of the same.
    pub p95_total_ms: Option<f64>,
}

/// The last hour in numbers.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThroughputSummary {
    /// The window, in seconds (3600).
    pub window_s: u64,
    /// `service.dashboard_timings`: the most jobs the ring holds.
    pub kept: usize,
    /// Whether the ring dropped jobs that ended within the window (more than `kept` ended).
    pub truncated: bool,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Median and 95th percentile submission-to-end time of the jobs that succeeded, in ms.
    pub p50_total_ms: Option<f64>,
    pub p95_total_ms: Option<f64>,
    /// Median and 95th percentile run time of the jobs that succeeded, in ms.
    pub p50_run_ms: Option<f64>,
    pub p95_run_ms: Option<f64>,
    /// Oldest first; the last one is the current minute.
    pub minutes: Vec<Minute>,
}

/// The `q` quantile (0–1) of `values`, nearest rank; `None` for none.
fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    Some(values[rank - 1])
}

impl Throughput {
    /// Keeps at most `kept` jobs (`service.dashboard_timings`; at least 1).
    pub fn set_kept(&self, kept: usize) {
        self.kept.store(kept.max(1), Ordering::Relaxed);
    }

    /// A job ended at `at_ms` as `status`.
    pub fn record(
        &self,
        at_ms: u64,
        status: EventName,
        total_ms: Option<f64>,
        run_ms: Option<f64>,
    ) {
        let kept = self.kept.load(Ordering::Relaxed);
        let mut ring = self.ring.lock().expect("throughput lock");
        while ring.jobs.len() >= kept {
            if let Some(dropped) = ring.jobs.pop_front() {
                ring.dropped_at_ms = ring.dropped_at_ms.max(dropped.at_ms);
            }
        }
        ring.jobs.push_back(Finished {
            at_ms,
            status,
            total_ms,
            run_ms,
        });
    }

    /// The hour before `now_ms`, in minutes; drops what is older.
    pub fn summary(&self, now_ms: u64) -> ThroughputSummary {
        let since = now_ms.saturating_sub(WINDOW_MS);
        let kept = self.kept.load(Ordering::Relaxed);
        let (jobs, dropped_at_ms) = {
            let mut ring = self.ring.lock().expect("throughput lock");
            while ring.jobs.front().is_some_and(|f| f.at_ms < since) {
                ring.jobs.pop_front();
            }
            let jobs: Vec<Finished> = ring.jobs.iter().copied().collect();
            (jobs, ring.dropped_at_ms)
        };
        let first_minute = (now_ms / BUCKET_MS).saturating_sub(WINDOW_MS / BUCKET_MS - 1);
        let mut minutes: Vec<Minute> = (0..WINDOW_MS / BUCKET_MS)
            .map(|i| Minute {
                start: (first_minute + i) * BUCKET_MS,
                ..Minute::default()
            })
            .collect();
        let mut totals_by_minute: Vec<Vec<f64>> = vec![Vec::new(); minutes.len()];
        let mut summary = ThroughputSummary {
            window_s: WINDOW_MS / 1000,
            kept,
            truncated: dropped_at_ms >= since && dropped_at_ms > 0,
            ..ThroughputSummary::default()
        };
        let (mut totals, mut runs) = (Vec::new(), Vec::new());
        for job in &jobs {
            let Some(index) = (job.at_ms / BUCKET_MS)
                .checked_sub(first_minute)
                .map(|i| i as usize)
                .filter(|i| *i < minutes.len())
            else {
                continue;
            };
            let minute = &mut minutes[index];
            match job.status {
                EventName::Succeeded => {
                    minute.succeeded += 1;
                    summary.succeeded += 1;
                    if let Some(ms) = job.total_ms {
                        totals.push(ms);
                        totals_by_minute[index].push(ms);
                    }
                    runs.extend(job.run_ms);
                }
                EventName::Failed => {
                    minute.failed += 1;
                    summary.failed += 1;
                }
                _ => {
                    minute.cancelled += 1;
                    summary.cancelled += 1;
                }
            }
        }
        for (minute, totals) in minutes.iter_mut().zip(&mut totals_by_minute) {
            minute.p50_total_ms = quantile(totals, 0.5);
            minute.p95_total_ms = quantile(totals, 0.95);
        }
        summary.p50_total_ms = quantile(&mut totals, 0.5);
        summary.p95_total_ms = quantile(&mut totals, 0.95);
        summary.p50_run_ms = quantile(&mut runs, 0.5);
        summary.p95_run_ms = quantile(&mut runs, 0.95);
        summary.minutes = minutes;
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_000 * WINDOW_MS + 30_000;

    #[test]
    fn the_last_hour_is_counted_per_minute_with_percentiles() {
        let ring = Throughput::default();
        // Older than the hour: left out.
        ring.record(NOW - WINDOW_MS - 1, EventName::Succeeded, Some(1.0), None);
        for ms in 1..=100 {
            ring.record(
                NOW - 1_000,
                EventName::Succeeded,
                Some(f64::from(ms)),
                Some(1.0),
            );
        }
        ring.record(NOW - 61_000, EventName::Failed, None, None);
        ring.record(NOW - 61_000, EventName::Cancelled, None, None);
        let summary = ring.summary(NOW);
        assert_eq!(summary.minutes.len(), 60);
        assert_eq!(
            (summary.succeeded, summary.failed, summary.cancelled),
            (100, 1, 1)
        );
        assert_eq!(summary.p50_total_ms, Some(50.0));
        assert_eq!(summary.p95_total_ms, Some(95.0));
        let last = summary.minutes.last().unwrap();
        assert_eq!(last.succeeded, 100);
        assert!(last.start <= NOW && NOW < last.start + BUCKET_MS);
        let before = &summary.minutes[58];
        assert_eq!((before.failed, before.cancelled), (1, 1));
        assert!(!summary.truncated);
    }

    #[test]
    fn the_ring_keeps_at_most_its_limit() {
        let ring = Throughput::default();
        ring.set_kept(3);
        for i in 0..5 {
            ring.record(NOW - 10 + i, EventName::Succeeded, Some(i as f64), None);
        }
        let summary = ring.summary(NOW);
        assert_eq!(summary.succeeded, 3);
        assert!(summary.truncated);
        assert_eq!(summary.kept, 3);
    }
}
