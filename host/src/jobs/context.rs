//! What one job attempt can reach while it runs: its id, deadline, limits, log and the services.

use super::log::JobLog;
use crate::browser::BrowserPool;
use crate::config::JobSettings;
use crate::error::RenderError;
use crate::storage::ArtifactStore;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The host services plugins reach through their imports.
pub struct Services {
    /// `None` in a process started without browsers.
    pub browser: Option<Arc<BrowserPool>>,
    pub store: Arc<ArtifactStore>,
}

/// Limits a job runs under, as the plugin sees them through `host.limits`.
#[derive(Debug, Clone, Copy)]
pub struct JobLimits {
    pub max_dimension: u32,
    pub max_pixels: u64,
    pub timeout: Duration,
    pub max_frames: u32,
    pub max_frame_pixels: u64,
    pub max_read_bytes: u64,
    /// Longest one recorded frame may take (its step and capture).
    pub frame_timeout: Duration,
}

impl From<&JobSettings> for JobLimits {
    fn from(s: &JobSettings) -> Self {
        Self {
            max_dimension: s.max_dimension,
            max_pixels: s.max_pixels,
            timeout: Duration::from_millis(s.timeout_ms),
            max_frames: s.max_frames,
            max_frame_pixels: s.max_frame_pixels,
            max_read_bytes: s.max_read_bytes,
            frame_timeout: Duration::from_millis(s.frame_timeout_ms),
        }
    }
}

/// One job attempt.
pub struct JobContext {
    pub id: String,
    pub log: JobLog,
    pub limits: JobLimits,
    /// When this attempt must be done; page waits stop here.
    pub deadline: Instant,
    services: Option<Arc<Services>>,
}

impl JobContext {
    pub fn new(id: String, log: JobLog, limits: JobLimits, services: Arc<Services>) -> Self {
        Self {
            deadline: Instant::now() + limits.timeout,
            id,
            log,
            limits,
            services: Some(services),
        }
    }

    /// The context of a `describe` call at load time: no services, so any host call is refused.
    pub fn for_describe(timeout: Duration) -> Self {
        let limits = JobLimits {
            max_dimension: 0,
            max_pixels: 0,
            timeout,
            max_frames: 0,
            max_frame_pixels: 0,
            max_read_bytes: 0,
            frame_timeout: timeout,
        };
        Self::without_services("describe".into(), limits)
    }

    /// A job with no host services (no browser, no storage): calls to them are refused. For
    /// `describe` and for measuring the plugin call itself.
    pub fn without_services(id: String, limits: JobLimits) -> Self {
        Self {
            deadline: Instant::now() + limits.timeout,
            id,
            log: JobLog::default(),
            limits,
            services: None,
        }
    }

    /// The services, or `denied` when the plugin calls the host from `describe`.
    pub fn services(&self) -> Result<&Services, RenderError> {
        self.services
            .as_deref()
            .ok_or_else(|| RenderError::denied("host services are not available inside describe()"))
    }

    /// Time left before the deadline (zero once passed).
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}
