//! A job's log: lines from the plugin, the page and the host, with the time since the job started.

use super::observer::JobObserver;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Lines kept per job; later lines are counted, not stored, so a chatty page cannot grow memory.
const MAX_LINES: usize = 500;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LogLine {
    /// Milliseconds since the job started.
    pub at_ms: u64,
    pub level: &'static str,
    /// `plugin`, `page`, `network` or `host`.
    pub source: &'static str,
    pub message: String,
}

/// Shared, append-only job log. Progress also goes to the job's observer, if it has one.
#[derive(Clone)]
pub struct JobLog {
    inner: Arc<Mutex<LogInner>>,
    observer: Option<Arc<dyn JobObserver>>,
}

struct LogInner {
    started: Instant,
    lines: Vec<LogLine>,
    dropped: usize,
}

impl Default for JobLog {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new(LogInner {
                started: Instant::now(),
                lines: Vec::new(),
                dropped: 0,
            })),
            observer: None,
        }
    }
}

impl JobLog {
    /// A log whose progress lines also reach `observer`.
    pub fn observed(observer: Arc<dyn JobObserver>) -> Self {
        Self {
            observer: Some(observer),
            ..Self::default()
        }
    }

    /// Records progress (`fraction` in 0..=1) and tells the observer.
    pub fn progress(&self, fraction: f32, stage: &str) {
        self.push(
            "debug",
            "plugin",
            format!("progress {:.0}% {stage}", fraction * 100.0),
        );
        if let Some(observer) = &self.observer {
            observer.progress(fraction, stage);
        }
    }

    pub fn push(&self, level: &'static str, source: &'static str, message: impl Into<String>) {
        let message = message.into();
        tracing::debug!(source, level, "{message}");
        let mut inner = self.inner.lock().expect("job log lock");
        if inner.lines.len() >= MAX_LINES {
            inner.dropped += 1;
            return;
        }
        let at_ms = inner.started.elapsed().as_millis() as u64;
        inner.lines.push(LogLine {
            at_ms,
            level,
            source,
            message,
        });
    }

    pub fn info(&self, source: &'static str, message: impl Into<String>) {
        self.push("info", source, message);
    }

    pub fn warn(&self, source: &'static str, message: impl Into<String>) {
        self.push("warn", source, message);
    }

    /// The lines so far, with a closing line if some were dropped.
    pub fn lines(&self) -> Vec<LogLine> {
        let inner = self.inner.lock().expect("job log lock");
        let mut lines = inner.lines.clone();
        if inner.dropped > 0 {
            lines.push(LogLine {
                at_ms: inner.started.elapsed().as_millis() as u64,
                level: "warn",
                source: "host",
                message: format!(
                    "{} more log lines were dropped (limit {MAX_LINES} per job)",
                    inner.dropped
                ),
            });
        }
        lines
    }
}
