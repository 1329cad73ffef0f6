//! One job attempt as every capability sees it: its id, deadline, limits and log. The services a
//! job reaches (pages, the store) are held by each capability's own per-job context.

use super::log::JobLog;
use super::settings::JobSettings;
use crate::error::RenderError;
use std::time::{Duration, Instant};

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
    /// Set for a `describe` call at load time, when no host service may be used.
    describe: bool,
}

impl JobContext {
    pub fn new(id: String, log: JobLog, limits: JobLimits) -> Self {
        Self {
            deadline: Instant::now() + limits.timeout,
            id,
            log,
            limits,
            describe: false,
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
        Self {
            describe: true,
            ..Self::new("describe".into(), JobLog::default(), limits)
        }
    }

    /// `denied` when the plugin calls a host service from `describe`.
    pub fn check_services_allowed(&self) -> Result<(), RenderError> {
        if self.describe {
            Err(RenderError::denied(
                "host services are not available inside describe()",
            ))
        } else {
            Ok(())
        }
    }

    /// Time left before the deadline (zero once passed).
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}
