//! `kiln:render/host@1.0.0` (no recording limits), served by the newest implementation.

use super::super::host_ctx::JobHost;
use crate::contract::latest::kiln::render::host as latest;
use crate::contract::v1_0_0::kiln::render::host::{Host, JobLimits, LogLevel};

impl Host for JobHost {
    async fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        let level = match level {
            LogLevel::Debug => latest::LogLevel::Debug,
            LogLevel::Info => latest::LogLevel::Info,
            LogLevel::Warn => latest::LogLevel::Warn,
            LogLevel::Error => latest::LogLevel::Error,
        };
        latest::Host::log(self, level, message).await
    }

    async fn progress(&mut self, fraction: f32, stage: String) -> wasmtime::Result<()> {
        latest::Host::progress(self, fraction, stage).await
    }

    async fn limits(&mut self) -> wasmtime::Result<JobLimits> {
        let limits = latest::Host::limits(self).await?;
        Ok(JobLimits {
            max_dimension: limits.max_dimension,
            max_pixels: limits.max_pixels,
            timeout_ms: limits.timeout_ms,
        })
    }
}
