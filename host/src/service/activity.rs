//! What the service is doing now and did lately, for the status routes (`GET /status`, `GET
//! /grab-status`): jobs waiting in submission order, jobs running with their stage and percent,
//! and the last jobs that ended.
//!
//! It is fed by the job events this process sees ([`super::EventHub::deliver`], which in a Redis
//! deployment also carries the other processes' events, best effort) and by the submissions made
//! here, so it is a view, not the queue: a job another process queued shows up once it starts.
//! The queue's own depths (`JobQueue::depths`) are exact; the routes answer both.
//!
//! Every change is announced on a watch channel ([`Activity::changes`]), which the dashboard's
//! event stream (`GET /dashboard/events`) waits on instead of polling.

use super::events::{EventName, JobEvent};
use super::throughput::Throughput;
use crate::queue::Lane;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use tokio::sync::watch;

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
    /// The lane it waits in; workers take every `interactive` job before any `bulk` one.
    pub lane: Lane,
    /// 1 is next, in the order workers take jobs: the `interactive` lane first, then `bulk`.
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
    /// The name of its artifact to show as a thumbnail: `poster.*` or `still.png` when it made
    /// one, else its first image (`GET /jobs/{id}/artifacts/{name}` serves it).
    pub thumbnail: Option<String>,
    /// Its artifacts' size, all together, in bytes.
    pub bytes: Option<u64>,
    /// Why it failed.
    pub error: Option<String>,
}

/// The artifact of a finished job (its record's `artifacts`) best shown as its thumbnail: a
/// poster or still first, then any image a browser shows.
fn thumbnail(artifacts: &serde_json::Value) -> Option<String> {
    let artifacts = artifacts.as_array()?;
    let named = |a: &&serde_json::Value| {
        let name = a["name"].as_str().unwrap_or_default();
        name.starts_with("poster.") || name == "still.png"
    };
    let image = |a: &&serde_json::Value| {
        matches!(
            a["content_type"].as_str().unwrap_or_default(),
            "image/png" | "image/jpeg" | "image/webp" | "image/gif"
        )
    };
    artifacts
        .iter()
        .find(named)
        .or_else(|| artifacts.iter().find(image))
        .and_then(|a| a["name"].as_str())
        .map(str::to_string)
}

/// Everything at one moment.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ActivitySnapshot {
    pub active: Vec<ActiveJob>,
    pub queue: Vec<QueuedJob>,
    pub recent: Vec<EndedJob>,
}

/// A job waiting, as the board holds it.
struct Waiting {
    id: String,
    label: JobLabel,
    lane: Lane,
    /// When it was submitted (Unix ms).
    added_at: u64,
}

#[derive(Default)]
struct Board {
    /// Waiting, oldest first.
    queued: VecDeque<Waiting>,
    active: HashMap<String, ActiveJob>,
    recent: VecDeque<EndedJob>,
    run_times: VecDeque<f64>,
    /// Labels and lanes of jobs seen queued, kept until they end (a `started` event carries
    /// neither).
    labels: HashMap<String, (JobLabel, Lane)>,
}

/// The live view; cheap to update on every event.
pub struct Activity {
    board: Mutex<Board>,
    /// Bumped on every change of the board.
    changed: watch::Sender<u64>,
    /// The timings of the jobs that ended in the last hour.
    pub throughput: Throughput,
}

impl Default for Activity {
    fn default() -> Self {
        Self {
            board: Mutex::new(Board::default()),
            changed: watch::channel(0).0,
            throughput: Throughput::default(),
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl Activity {
    /// A receiver that sees a new value whenever the view changed.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn touch(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A job was queued here in `lane` (a submission).
    pub fn queued(&self, id: &str, label: JobLabel, lane: Lane, submitted_at: u64) {
        self.enqueue(id, label, lane, submitted_at);
        self.touch();
    }

    /// [`Self::queued`]'s change to the board, before it is announced.
    fn enqueue(&self, id: &str, label: JobLabel, lane: Lane, submitted_at: u64) {
        let mut board = self.board.lock().expect("activity lock");
        // A worker may have started (or even finished) it before the submission got here.
        if let Some(active) = board.active.get_mut(id) {
            active.label = label;
            return;
        }
        let seen = board.recent.iter().any(|ended| ended.id == id)
            || board.queued.iter().any(|queued| queued.id == id);
        if seen {
            return;
        }
        if board.queued.len() >= TRACKED_QUEUED {
            return;
        }
        board.labels.insert(id.to_string(), (label.clone(), lane));
        board.queued.push_back(Waiting {
            id: id.to_string(),
            label,
            lane,
            added_at: submitted_at,
        });
    }

    /// Takes in one job event.
    pub fn observe(&self, id: &str, event: &JobEvent) {
        self.apply(id, event);
        self.touch();
    }

    /// [`Self::observe`]'s change to the board, before it is announced.
    fn apply(&self, id: &str, event: &JobEvent) {
        let mut board = self.board.lock().expect("activity lock");
        match event.event {
            EventName::Queued => {
                // Put back by a drain: it waits again, at the front (it was leased first).
                if let Some(active) = board.active.remove(id)
                    && !board.queued.iter().any(|queued| queued.id == id)
                {
                    let lane = board
                        .labels
                        .get(id)
                        .map(|(_, lane)| *lane)
                        .unwrap_or_default();
                    board.queued.push_front(Waiting {
                        id: id.to_string(),
                        label: active.label,
                        lane,
                        added_at: now_ms(),
                    });
                }
            }
            EventName::Retrying => {
                board.active.remove(id);
            }
            EventName::Started => {
                board.queued.retain(|queued| queued.id != id);
                let label = board
                    .labels
                    .get(id)
                    .map(|(label, _)| label.clone())
                    .unwrap_or_default();
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
                board.queued.retain(|queued| queued.id != id);
                board.active.remove(id);
                let known = board.labels.remove(id).map(|(label, _)| label);
                let job = &event.data;
                let label = known.unwrap_or_else(|| match job["type"].as_str() {
                    Some(job_type) => JobLabel::of(job_type, &job["input"]),
                    None => JobLabel::default(),
                });
                let run_ms = job["timings"]["run_ms"].as_f64();
                let finished_at = job["finished_at"].as_u64();
                self.throughput.record(
                    finished_at.unwrap_or_else(now_ms),
                    event.event,
                    job["timings"]["total_ms"].as_f64(),
                    run_ms,
                );
                let bytes = job["artifacts"]
                    .as_array()
                    .filter(|a| !a.is_empty())
                    .map(|a| a.iter().filter_map(|a| a["bytes"].as_u64()).sum());
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
                    finished_at,
                    run_ms,
                    url: job["artifacts"][0]["url"].as_str().map(str::to_string),
                    thumbnail: thumbnail(&job["artifacts"]),
                    bytes,
                    error: job["error"]["message"].as_str().map(str::to_string),
                });
            }
        }
    }

    /// Forgets a job the view holds as waiting or running when its record says otherwise (its
    /// events were missed: Redis pub/sub is best effort).
    pub fn forget(&self, id: &str) {
        {
            let mut board = self.board.lock().expect("activity lock");
            board.queued.retain(|queued| queued.id != id);
            board.active.remove(id);
            board.labels.remove(id);
        }
        self.touch();
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
        // Workers drain `interactive` before `bulk`: that is the order jobs start in.
        let mut waiting: Vec<&Waiting> = board.queued.iter().collect();
        waiting.sort_by_key(|w| w.lane != Lane::Interactive);
        let queue = waiting
            .into_iter()
            .enumerate()
            .map(|(i, waiting)| QueuedJob {
                id: waiting.id.clone(),
                label: waiting.label.clone(),
                lane: waiting.lane,
                position: i + 1,
                added_at: waiting.added_at,
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
        activity.queued("a", label.clone(), Lane::Interactive, 1);
        activity.queued(
            "b",
            JobLabel::of("p5", &json!({"code": "x"})),
            Lane::Interactive,
            2,
        );
        activity.queued("c", JobLabel::default(), Lane::Interactive, 3);
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
        activity.queued(
            "a",
            JobLabel::of("kidlisp", &json!({"code": "roz"})),
            Lane::Interactive,
            1,
        );
        let now = activity.snapshot(1);
        assert!(now.queue.is_empty());
        assert_eq!(now.active[0].label.piece.as_deref(), Some("$roz"));
    }

    #[test]
    fn interactive_jobs_wait_ahead_of_bulk_ones_and_every_change_is_announced() {
        let activity = Activity::default();
        let mut changes = activity.changes();
        activity.queued("bulk", JobLabel::default(), Lane::Bulk, 1);
        assert!(changes.has_changed().unwrap());
        changes.mark_unchanged();
        activity.queued("fast", JobLabel::default(), Lane::Interactive, 2);
        let now = activity.snapshot(1);
        let order: Vec<_> = now
            .queue
            .iter()
            .map(|q| (q.id.as_str(), q.lane, q.position))
            .collect();
        assert_eq!(
            order,
            [("fast", Lane::Interactive, 1), ("bulk", Lane::Bulk, 2)]
        );
        assert!(changes.has_changed().unwrap());
    }

    #[test]
    fn an_ended_job_shows_its_poster_or_first_image_and_its_size() {
        let activity = Activity::default();
        activity.observe(
            "v",
            &event(
                EventName::Succeeded,
                json!({"id": "v", "finished_at": 5, "timings": {"run_ms": 10.0, "total_ms": 12.0},
                       "artifacts": [
                    {"name": "video.mp4", "content_type": "video/mp4", "bytes": 100},
                    {"name": "poster.png", "content_type": "image/png", "bytes": 20}]}),
            ),
        );
        activity.observe(
            "i",
            &event(
                EventName::Succeeded,
                json!({"id": "i", "artifacts": [
                    {"name": "index.html", "content_type": "text/html", "bytes": 1},
                    {"name": "image.png", "content_type": "image/png", "bytes": 2}]}),
            ),
        );
        let now = activity.snapshot(1);
        assert_eq!(now.recent[1].thumbnail.as_deref(), Some("poster.png"));
        assert_eq!(now.recent[1].bytes, Some(120));
        assert_eq!(now.recent[0].thumbnail.as_deref(), Some("image.png"));
        assert_eq!(activity.throughput.summary(6).succeeded, 1);
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
