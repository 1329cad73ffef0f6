//! When a browser is recycled: after `browser.recycle_after_jobs` jobs, `browser.recycle_after_s`
//! seconds, or once its processes hold `browser.recycle_above_mib` (each 0: never). Long-lived
//! Chromium processes accumulate memory and state that no single job is to blame for; replacing
//! them now and then bounds that.
//!
//! How (in `pool.rs`): the replacement is started and its pages opened and put in the pool first;
//! only then does the old browser stop taking jobs. It closes once the jobs on its pages end. So
//! the pool never has fewer pages ready for jobs than it is configured for; for a moment it has
//! more, and that browser's memory on top.

use super::launch::BrowserProcess;
use super::settings::BrowserSettings;
use std::time::Duration;

/// How often the pool looks at its browsers.
pub const CHECK_EVERY: Duration = Duration::from_millis(500);

/// What a browser is judged on.
#[derive(Debug, Clone, Copy)]
pub struct Vitals {
    pub jobs_served: u64,
    pub age: Duration,
    /// Measured only when a memory limit is set.
    pub memory_mib: Option<u64>,
}

impl Vitals {
    /// A running browser's vitals; its memory only when `settings` recycle by memory.
    pub fn of(browser: &BrowserProcess, settings: &BrowserSettings) -> Self {
        Self {
            jobs_served: browser.jobs_served(),
            age: browser.age(),
            memory_mib: (settings.recycle_above_mib > 0).then(|| browser.tree_memory_mib()),
        }
    }
}

/// Why a browser with `vitals` is due for recycling under `settings`, or `None`.
pub fn due(vitals: &Vitals, settings: &BrowserSettings) -> Option<String> {
    if settings.recycle_after_jobs > 0 && vitals.jobs_served >= settings.recycle_after_jobs {
        return Some(format!(
            "it served {} jobs (browser.recycle_after_jobs = {})",
            vitals.jobs_served, settings.recycle_after_jobs
        ));
    }
    if settings.recycle_after_s > 0 && vitals.age >= Duration::from_secs(settings.recycle_after_s) {
        return Some(format!(
            "it ran {} s (browser.recycle_after_s = {})",
            vitals.age.as_secs(),
            settings.recycle_after_s
        ));
    }
    match vitals.memory_mib {
        Some(mib) if settings.recycle_above_mib > 0 && mib >= settings.recycle_above_mib => {
            Some(format!(
                "its processes hold {mib} MiB (browser.recycle_above_mib = {})",
                settings.recycle_above_mib
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vitals(jobs_served: u64, age_s: u64, memory_mib: Option<u64>) -> Vitals {
        Vitals {
            jobs_served,
            age: Duration::from_secs(age_s),
            memory_mib,
        }
    }

    #[test]
    fn each_limit_recycles_and_zero_never_does() {
        let settings = BrowserSettings {
            recycle_after_jobs: 100,
            recycle_after_s: 60,
            recycle_above_mib: 1000,
            ..BrowserSettings::default()
        };
        assert_eq!(due(&vitals(99, 59, Some(999)), &settings), None);
        let why = due(&vitals(100, 0, None), &settings).unwrap();
        assert!(why.contains("recycle_after_jobs"), "{why}");
        let why = due(&vitals(0, 60, None), &settings).unwrap();
        assert!(why.contains("recycle_after_s"), "{why}");
        let why = due(&vitals(0, 0, Some(1000)), &settings).unwrap();
        assert!(why.contains("recycle_above_mib"), "{why}");

        let never = BrowserSettings {
            recycle_after_jobs: 0,
            recycle_after_s: 0,
            recycle_above_mib: 0,
            ..BrowserSettings::default()
        };
        assert_eq!(
            due(&vitals(u64::MAX, u64::MAX, Some(u64::MAX)), &never),
            None
        );
    }
}
