//! Per-job event channels: what a worker publishes and `GET /jobs/{id}/events` streams.

use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::{broadcast, mpsc};

/// Events buffered per subscriber; a subscriber that falls further behind skips ahead.
const BUFFER: usize = 64;

/// Every event name, so events that arrive from other processes keep static names.
const NAMES: [&str; 7] = [
    "queued",
    "started",
    "progress",
    "retrying",
    "succeeded",
    "failed",
    "cancelled",
];

/// The static name of `event`, if it is one of Kiln's.
pub fn event_name(event: &str) -> Option<&'static str> {
    NAMES.iter().copied().find(|name| *name == event)
}

/// One event in a job's life.
#[derive(Debug, Clone, Serialize)]
pub struct JobEvent {
    /// `queued`, `started`, `progress`, `retrying`, `succeeded`, `failed` or `cancelled`.
    pub event: &'static str,
    pub data: serde_json::Value,
}

impl JobEvent {
    /// Whether nothing follows this event.
    pub fn is_final(&self) -> bool {
        matches!(self.event, "succeeded" | "failed" | "cancelled")
    }
}

/// The live channels of jobs that have listeners or are running.
#[derive(Default)]
pub struct EventHub {
    channels: Mutex<HashMap<String, broadcast::Sender<JobEvent>>>,
    /// Where this process's events also go, for the other processes of a Redis deployment.
    forward: Mutex<Option<mpsc::UnboundedSender<(String, JobEvent)>>>,
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
        let mut channels = self.channels.lock().expect("event hub lock");
        if let Some(sender) = channels.get(job) {
            let _ = sender.send(event.clone());
        }
        if event.is_final() {
            channels.remove(job);
        }
    }
}
