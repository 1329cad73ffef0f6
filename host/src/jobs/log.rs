//! A job's log: lines from the plugin, the page and the host, with the time since the job started.

use super::observer::JobObserver;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Lines kept per job; later lines are counted, not stored, so a chatty page cannot grow memory.
const MAX_LINES: usize = 500;
/// Longest line kept, in bytes; a longer one is cut (at a character boundary) and ends in `…`.
const MAX_LINE_BYTES: usize = 4096;

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

    /// Hands a recording's latest frame (PNG) to the observer, for a live preview.
    pub fn preview(&self, png: &bytes::Bytes) {
        if let Some(observer) = &self.observer {
            observer.preview(png);
        }
    }

    pub fn push(&self, level: &'static str, source: &'static str, message: impl Into<String>) {
        let mut message = message.into();
        if message.len() > MAX_LINE_BYTES {
            let cut = (0..=MAX_LINE_BYTES)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            message.truncate(cut);
            message.push('…');
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_line_is_cut_and_a_flood_is_counted_not_kept() {
        let log = JobLog::default();
        log.info("page", "é".repeat(10_000));
        for n in 0..MAX_LINES + 10 {
            log.info("page", format!("line {n}"));
        }
        let lines = log.lines();
        assert!(lines[0].message.len() <= MAX_LINE_BYTES + '…'.len_utf8());
        assert!(lines[0].message.ends_with('…'));
        assert_eq!(lines.len(), MAX_LINES + 1);
        assert!(
            lines[MAX_LINES].message.starts_with("11 more log lines"),
            "{:?}",
            lines[MAX_LINES]
        );
    }
}
