//! Watching a job as it runs: the service turns these calls into events (SSE, metrics).

/// Called from the job's own task; implementations must not block.
pub trait JobObserver: Send + Sync {
    /// Attempt `attempt` (1-based) is starting.
    fn attempt_started(&self, _attempt: u32) {}
    /// The plugin reported progress: `fraction` in 0..=1 and a short stage name.
    fn progress(&self, _fraction: f32, _stage: &str) {}
    /// A recording captured `png`, its latest frame (the dashboard's live preview). Called
    /// with the bytes the encoder gets, not a copy, at most once per progress report.
    fn preview(&self, _png: &bytes::Bytes) {}
}
