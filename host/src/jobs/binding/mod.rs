//! The WIT `host` interface on [`JobHost`]. `mod.rs` implements the newest contract; `v1_0_0.rs`
//! adapts 1.0.0 to it. `about.rs` is 1.4.0's `about`.

mod about;
mod v1_0_0;

use super::host_ctx::JobHost;
use crate::contract::latest::kiln::render::host::{FrameLimits, Host, JobLimits, LogLevel};

/// The job log's name for a WIT log level.
fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    }
}

impl Host for JobHost {
    async fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        JobHost::log(self, level_name(level), message);
        Ok(())
    }

    async fn progress(&mut self, fraction: f32, stage: String) -> wasmtime::Result<()> {
        JobHost::progress(self, fraction, &stage);
        Ok(())
    }

    async fn limits(&mut self) -> wasmtime::Result<JobLimits> {
        let limits = self.job.limits;
        Ok(JobLimits {
            max_dimension: limits.max_dimension,
            max_pixels: limits.max_pixels,
            timeout_ms: self.remaining_ms(),
        })
    }

    async fn recording_limits(&mut self) -> wasmtime::Result<FrameLimits> {
        Ok(FrameLimits {
            max_frames: self.job.limits.max_frames,
            max_frame_pixels: self.job.limits.max_frame_pixels,
        })
    }
}
