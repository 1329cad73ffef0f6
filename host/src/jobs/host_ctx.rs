//! The job's own capability, the `host` interface: its log, its progress and the limits in force.
//! Every plugin has it; nothing is granted through it.

use super::context::JobContext;
use std::sync::Arc;

/// Longest log line kept from a plugin, in bytes.
pub const MAX_LOG_LINE: usize = 4096;

/// One job's channel to the host.
pub struct JobHost {
    pub(super) job: Arc<JobContext>,
}

impl JobHost {
    pub fn new(job: Arc<JobContext>) -> Self {
        Self { job }
    }

    /// The job this channel belongs to.
    pub fn job(&self) -> &Arc<JobContext> {
        &self.job
    }

    /// Adds a plugin's line to the job log, cut at [`MAX_LOG_LINE`] bytes.
    pub(super) fn log(&self, level: &'static str, mut message: String) {
        if message.len() > MAX_LOG_LINE {
            let cut = (0..=MAX_LOG_LINE)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            message.truncate(cut);
            message.push('…');
        }
        self.job.log.push(level, "plugin", message);
    }

    /// Reports progress; a fraction outside 0..=1 is clamped and a non-number is 0.
    pub(super) fn progress(&self, fraction: f32, stage: &str) {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.job.log.progress(fraction, stage);
    }

    /// Milliseconds left before the job's deadline, as the plugin sees its timeout.
    pub(super) fn remaining_ms(&self) -> u32 {
        self.job.remaining().as_millis().min(u128::from(u32::MAX)) as u32
    }
}

crate::impl_wit_types!(JobHost);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::{JobLimits, JobLog, JobSettings};
    use std::time::Duration;

    fn host(timeout: Duration) -> JobHost {
        let limits = JobLimits {
            timeout,
            ..JobLimits::from(&JobSettings::default())
        };
        JobHost::new(Arc::new(JobContext::new(
            "j".into(),
            JobLog::default(),
            limits,
        )))
    }

    #[test]
    fn long_lines_are_cut_on_a_character_boundary() {
        let host = host(Duration::from_secs(1));
        host.log("info", "é".repeat(MAX_LOG_LINE));
        let lines = host.job.log.lines();
        let message = &lines.last().unwrap().message;
        assert!(message.ends_with('…'));
        assert!(message.len() <= MAX_LOG_LINE + '…'.len_utf8());
    }

    #[test]
    fn the_timeout_a_plugin_sees_is_what_is_left() {
        let host = host(Duration::from_millis(5000));
        let left = host.remaining_ms();
        assert!(left <= 5000 && left > 4000, "{left}");
        assert_eq!(self::host(Duration::ZERO).remaining_ms(), 0);
    }
}
