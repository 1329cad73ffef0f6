//! The WIT `host` interface: log lines, progress and limits.

use crate::plugins::bindings::kiln::render::host::{FrameLimits, Host, JobLimits, LogLevel};
use crate::plugins::state::JobState;

/// Longest log line kept from a plugin.
const MAX_LOG_LINE: usize = 4096;

impl Host for JobState {
    async fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        let level = match level {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        };
        let mut message = message;
        if message.len() > MAX_LOG_LINE {
            let cut = (0..=MAX_LOG_LINE)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            message.truncate(cut);
            message.push('…');
        }
        self.job.log.push(level, "plugin", message);
        Ok(())
    }

    async fn progress(&mut self, fraction: f32, stage: String) -> wasmtime::Result<()> {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.job.log.progress(fraction, &stage);
        Ok(())
    }

    async fn limits(&mut self) -> wasmtime::Result<JobLimits> {
        let limits = self.job.limits;
        Ok(JobLimits {
            max_dimension: limits.max_dimension,
            max_pixels: limits.max_pixels,
            timeout_ms: self.job.remaining().as_millis().min(u32::MAX as u128) as u32,
        })
    }

    async fn recording_limits(&mut self) -> wasmtime::Result<FrameLimits> {
        Ok(FrameLimits {
            max_frames: self.job.limits.max_frames,
            max_frame_pixels: self.job.limits.max_frame_pixels,
        })
    }
}
