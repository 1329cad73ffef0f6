//! What the service is doing now and did lately, for the status routes (`GET /status`, `GET
//! /grab-status`): jobs waiting in submission order, jobs running with their stage and percent,
//! and the last jobs that ended.
//!
//! It is fed by the job events this process sees ([`super::EventHub::deliver`], which in a Redis
//! deployment also carries the other processes' events, best effort) and by the submissions made
//! here, so it is a view, not the queue: a job another process queued shows up once it starts.
//! The queue's own depths (`JobQueue::depths`) are exact; the routes answer both.

use super::events::{EventName, JobEvent};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Jobs kept in [`Activity::snapshot`]'s `recent`.
pub const RECENT_JOBS: usize = 30;
/// Waiting jobs tracked in order; beyond this only the queue's depth counts them.
pub const TRACKED_QUEUED: usize = 1000;
/// Run times the estimated wait averages (the oven averaged its last 10 grabs).
const RUN_TIMES: usize = 10;
/// The estimate's run time before any job has ended.
const DEFAULT_RUN_MS: f64 = 5_000.0;

/// What is known of one job beyond its id.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobLabel {
    /// The job type.
    #[serde(rename = "type")]
    pub job_type: Option<String>,
    /// The piece, when the input names one (`code` of a `kidlisp` job, as `$code`).
    pub piece: Option<String>,
    /// The first of the input's `formats`.
    pub format: Option<String>,
}

impl JobLabel {
    /// The label of a job of `job_type` with `input`.
    pub fn of(job_type: &str, input: &serde_json::Value) -> Self {
        let piece = match (job_type, input["code"].as_str()) {
            ("kidlisp", Some(code)) if code.len() <= 64 && !code.contains(char::is_whitespace) => {
                Some(format!("${code}"))
            }
            _ => None,
        };
        Self {
            job_type: Some(job_type.to_string()),
            piece,
            format: input["formats"][0].as_str().map(str::to_string),
        }
    }
}

/// A waiting job.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueuedJob {
    pub id: String,
    #[serde(flatten)]
    pub label: JobLabel,
    /// 1 is next.
    pub position: usize,
    /// When it was submitted (Unix ms).
    pub added_at: u64,
    /// About how long until it starts, in ms: the mean run time of the last jobs × the jobs
    /// ahead of it per worker.
    pub estimated_wait: u64,
}

/// A running job.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActiveJob {
    pub id: String,
    #[serde(flatten)]
    pub label: JobLabel,
    /// The plugin's last reported stage (`starting` until it reports one).
    pub stage: String,
    /// 0–100, from the plugin's last reported fraction.
    pub percent: u32,
    /// When its attempt started (Unix ms).
    pub started_at: u64,
    pub attempt: u64,
}

/// A job that ended.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndedJob {
    pub id: String,
    #[serde(flatten)]
    pub label: JobLabel,
    /// `succeeded`, `failed` or `cancelled`.
    pub status: String,
    pub finished_at: Option<u64>,
    /// How long it ran, in ms.
    pub run_ms: Option<f64>,
    /// The URL of its first artifact, when it made one.
    pub url: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Everything at one moment.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ActivitySnapshot {
    pub active: Vec<ActiveJob>,
    pub queue: Vec<QueuedJob>,
    pub recent: Vec<EndedJob>,
}

#[derive(Default)]
struct Board {
    /// Waiting, oldest first: id, label, submitted at.
    queued: VecDeque<(String, JobLabel, u64)>,
    active: HashMap<String, ActiveJob>,
    recent: VecDeque<EndedJob>,
    run_times: VecDeque<f64>,
    /// Labels of jobs seen queued, kept until they end (a `started` event carries none).
    labels: HashMap<String, JobLabel>,
}

/// The live view; cheap to update on every event.
#[derive(Default)]
pub struct Activity {
    board: Mutex<Board>,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl Activity {
    /// A job was queued here (a submission, or a job put back by a drain).
    pub fn queued(&self, id: &str, label: JobLabel, submitted_at: u64) {
        let mut board = self.board.lock().expect("activity lock");
        // A worker may have started (or even finished) it before the submission got here.
        if let Some(active) = board.active.get_mut(id) {
            active.label = label;
            return;
        }
        let seen = board.recent.iter().any(|ended| ended.id == id)
            || board.queued.iter().any(|(queued, ..)| queued == id);
        if seen {
            return;
        }
        if board.queued.len() >= TRACKED_QUEUED {
            return;
        }
        board.labels.insert(id.to_string(), label.clone());
        board
            .queued
            .push_back((id.to_string(), label, submitted_at));
    }

    /// Takes in one job event.
    pub fn observe(&self, id: &str, event: &JobEvent) {
        let mut board = self.board.lock().expect("activity lock");
        match event.event {
            EventName::Queued => {
                // Put back by a drain: it waits again, at the front (it was leased first).
                if let Some(active) = board.active.remove(id)
                    && !board.queued.iter().any(|(queued, ..)| queued == id)
                {
                    board
                        .queued
                        .push_front((id.to_string(), active.label, now_ms()));
                }
            }
            EventName::Retrying => {
                board.active.remove(id);
            }
            EventName::Started => {
                board.queued.retain(|(queued, ..)| queued != id);
                let label = board.labels.get(id).cloned().unwrap_or_default();
                let attempt = event.data["attempt"].as_u64().unwrap_or(1);
                board.active.insert(
                    id.to_string(),
                    ActiveJob {
                        id: id.to_string(),
                        label,
                        stage: "starting".into(),
                        percent: 0,
                        started_at: now_ms(),
                        attempt,
                    },
                );
            }
            EventName::Progress => {
                if let Some(active) = board.active.get_mut(id) {
                    if let Some(stage) = event.data["stage"].as_str() {
                        active.stage = stage.to_string();
                    }
                    let fraction = event.data["fraction"].as_f64().unwrap_or(0.0);
                    active.percent = (fraction.clamp(0.0, 1.0) * 100.0).round() as u32;
                }
            }
            EventName::Succeeded | EventName::Failed | EventName::Cancelled => {
                board.queued.retain(|(queued, ..)| queued != id);
                board.active.remove(id);
                let known = board.labels.remove(id);
                let job = &event.data;
                let label = known.unwrap_or_else(|| match job["type"].as_str() {
                    Some(job_type) => JobLabel::of(job_type, &job["input"]),
                    None => JobLabel::default(),
                });
                let run_ms = job["timings"]["run_ms"].as_f64();
                if let (EventName::Succeeded, Some(ms)) = (event.event, run_ms) {
                    if board.run_times.len() >= RUN_TIMES {
                        board.run_times.pop_front();
                    }
                    board.run_times.push_back(ms);
                }
                if board.recent.len() >= RECENT_JOBS {
                    board.recent.pop_back();
                }
                board.recent.push_front(EndedJob {
                    id: id.to_string(),
                    label,
                    status: event.event.as_str().to_string(),
                    finished_at: job["finished_at"].as_u64(),
                    run_ms,
                    url: job["artifacts"][0]["url"].as_str().map(str::to_string),
                    error: job["error"]["message"].as_str().map(str::to_string),
                });
            }
        }
    }

    /// Forgets a job the view holds as waiting or running when its record says otherwise (its
    /// events were missed: Redis pub/sub is best effort).
    pub fn forget(&self, id: &str) {
        let mut board = self.board.lock().expect("activity lock");
        board.queued.retain(|(queued, ..)| queued != id);
        board.active.remove(id);
        board.labels.remove(id);
    }

    /// The view now; `workers` (at least 1) divides the estimated waits.
    pub fn snapshot(&self, workers: usize) -> ActivitySnapshot {
        let board = self.board.lock().expect("activity lock");
        let mean_run_ms = if board.run_times.is_empty() {
            DEFAULT_RUN_MS
        } else {
            board.run_times.iter().sum::<f64>() / board.run_times.len() as f64
        };
        let workers = workers.max(1);
        let queue = board
            .queued
            .iter()
            .enumerate()
            .map(|(i, (id, label, added_at))| QueuedJob {
                id: id.clone(),
                label: label.clone(),
                position: i + 1,
                added_at: *added_at,
                estimated_wait: (mean_run_ms * (i / workers + 1) as f64).round() as u64,
            })
            .collect();
        let mut active: Vec<ActiveJob> = board.active.values().cloned().collect();
        active.sort_by_key(|a| a.started_at);
        ActivitySnapshot {
            active,
            queue,
            recent: board.recent.iter().cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(event: EventName, data: serde_json::Value) -> JobEvent {
        JobEvent { event, data }
    }

    #[test]
    fn a_job_moves_from_the_queue_to_active_to_recent() {
        let activity = Activity::default();
        let label = JobLabel::of("kidlisp", &json!({"code": "roz", "formats": ["webp"]}));
        assert_eq!(label.piece.as_deref(), Some("$roz"));
        activity.queued("a", label.clone(), 1);
        activity.queued("b", JobLabel::of("p5", &json!({"code": "x"})), 2);
        activity.queued("c", JobLabel::default(), 3);
        let now = activity.snapshot(2);
        assert_eq!(now.queue.len(), 3);
        assert_eq!(
            now.queue
                .iter()
                .map(|q| q.estimated_wait)
                .collect::<Vec<_>>(),
            [5000, 5000, 10000]
        );

        activity.observe(
            "a",
            &event(EventName::Started, json!({"id": "a", "attempt": 1})),
        );
        activity.observe(
            "a",
            &event(
                EventName::Progress,
                json!({"id": "a", "fraction": 0.5, "stage": "encoding"}),
            ),
        );
        let now = activity.snapshot(1);
        assert_eq!(now.queue.len(), 2);
        assert_eq!(now.queue[0].id, "b");
        assert_eq!(now.queue[0].position, 1);
        assert_eq!(now.active.len(), 1);
        assert_eq!(now.active[0].label, label);
        assert_eq!(
            (now.active[0].stage.as_str(), now.active[0].percent),
            ("encoding", 50)
        );

        activity.observe(
            "a",
            &event(
                EventName::Succeeded,
                json!({"id": "a", "status": "succeeded", "timings": {"run_ms": 800.0},
                       "artifacts": [{"url": "http://cdn/a/video.webp"}]}),
            ),
        );
        let now = activity.snapshot(1);
        assert!(now.active.is_empty());
        assert_eq!(
            now.recent[0].url.as_deref(),
            Some("http://cdn/a/video.webp")
        );
        assert_eq!(now.recent[0].label.piece.as_deref(), Some("$roz"));
        // The estimate now follows the one run time seen.
        assert_eq!(now.queue[1].estimated_wait, 1600);
    }

    #[test]
    fn a_job_first_seen_ending_is_labelled_from_its_record() {
        let activity = Activity::default();
        activity.observe(
            "z",
            &event(
                EventName::Failed,
                json!({"id": "z", "type": "kidlisp", "input": {"code": "bop"},
                       "error": {"kind": "piece-failed", "message": "boom"}}),
            ),
        );
        let now = activity.snapshot(1);
        assert_eq!(now.recent[0].label.piece.as_deref(), Some("$bop"));
        assert_eq!(now.recent[0].error.as_deref(), Some("boom"));
        assert_eq!(now.recent[0].status, "failed");
    }

    #[test]
    fn a_job_started_before_its_submission_is_noted_stays_active() {
        let activity = Activity::default();
        activity.observe(
            "a",
            &event(EventName::Started, json!({"id": "a", "attempt": 1})),
        );
        activity.queued("a", JobLabel::of("kidlisp", &json!({"code": "roz"})), 1);
        let now = activity.snapshot(1);
        assert!(now.queue.is_empty());
        assert_eq!(now.active[0].label.piece.as_deref(), Some("$roz"));
    }

    #[test]
    fn recent_is_capped() {
        let activity = Activity::default();
        for i in 0..(RECENT_JOBS + 5) {
            let id = format!("j{i}");
            activity.observe(&id, &event(EventName::Cancelled, json!({"id": id})));
        }
        let now = activity.snapshot(1);
        assert_eq!(now.recent.len(), RECENT_JOBS);
        assert_eq!(now.recent[0].id, format!("j{}", RECENT_JOBS + 4));
    }
}
