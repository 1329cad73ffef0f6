//! Per-job event channels: what a worker publishes and `GET /jobs/{id}/events` streams.

use crate::queue::JobState;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::{broadcast, mpsc};

/// Events buffered per subscriber; a subscriber that falls further behind skips ahead.
const BUFFER: usize = 64;

wire_enum! {
    /// The name of an event in a job's life: the SSE `event:` field, and `event` in the
    /// messages processes exchange over Redis.
    pub enum EventName {
        /// The job waits in its lane (again, after a drain put it back).
        Queued = "queued",
        /// An attempt started.
        Started = "started",
        /// The plugin reported progress.
        Progress = "progress",
        /// An attempt failed as `unavailable` and the job waits to run again.
        Retrying = "retrying",
        Succeeded = "succeeded",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

impl EventName {
    /// Whether nothing follows this event.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }

    /// The event that says a job is in `state` (a running job has `started`).
    pub fn for_state(state: JobState) -> Self {
        match state {
            JobState::Queued => Self::Queued,
            JobState::Running => Self::Started,
            JobState::Succeeded => Self::Succeeded,
            JobState::Failed => Self::Failed,
            JobState::Cancelled => Self::Cancelled,
        }
    }
}

/// One event in a job's life.
#[derive(Debug, Clone, Serialize)]
pub struct JobEvent {
    /// Which event: the SSE `event:` field.
    pub event: EventName,
    /// Its JSON: `{id, attempt}` for `started`, the whole job for a final event, and so on.
    pub data: serde_json::Value,
}

impl JobEvent {
    /// Whether nothing follows this event.
    pub fn is_final(&self) -> bool {
        self.event.is_final()
    }
}

/// The live channels of jobs that have listeners or are running.
#[derive(Default)]
pub struct EventHub {
    channels: Mutex<HashMap<String, broadcast::Sender<JobEvent>>>,
    /// Where this process's events also go, for the other processes of a Redis deployment.
    forward: Mutex<Option<mpsc::UnboundedSender<(String, JobEvent)>>>,
    /// What every event delivered here says about the jobs now and lately (the status routes).
    pub activity: super::activity::Activity,
    /// The latest frame of each recording running here (the dashboard's live preview).
    pub previews: super::previews::Previews,
}

impl EventHub {
    /// Subscribes to `job`'s events from now on.
    pub fn subscribe(&self, job: &str) -> broadcast::Receiver<JobEvent> {
        self.channels
            .lock()
            .expect("event hub lock")
            .entry(job.to_string())
            .or_insert_with(|| broadcast::channel(BUFFER).0)
            .subscribe()
    }

    /// Drops `job`'s channel if nobody listens any more (a subscription that will get no final
    /// event: an unknown job, or a replayed submission).
    pub fn release(&self, job: &str) {
        let mut channels = self.channels.lock().expect("event hub lock");
        if channels.get(job).is_some_and(|s| s.receiver_count() == 0) {
            channels.remove(job);
        }
    }

    /// Also sends every event published from now on to `forward`.
    pub fn forward_to(&self, forward: mpsc::UnboundedSender<(String, JobEvent)>) {
        *self.forward.lock().expect("event hub lock") = Some(forward);
    }

    /// Sends `event` to `job`'s subscribers here and, when forwarding, in other processes.
    pub fn publish(&self, job: &str, event: JobEvent) {
        if let Some(forward) = &*self.forward.lock().expect("event hub lock") {
            let _ = forward.send((job.to_string(), event.clone()));
        }
        self.deliver(job, event);
    }

    /// Sends `event` to `job`'s subscribers in this process; a final event also closes the
    /// channel.
    pub fn deliver(&self, job: &str, event: JobEvent) {
        if matches!(event.event, EventName::Queued | EventName::Retrying) || event.is_final() {
            // Not running here any more: its last frame is of no use.
            self.previews.remove(job);
        }
        self.activity.observe(job, &event);
        let mut channels = self.channels.lock().expect("event hub lock");
        if let Some(sender) = channels.get(job) {
            let _ = sender.send(event.clone());
        }
        if event.is_final() {
            channels.remove(job);
        }
    }
}
