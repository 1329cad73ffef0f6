//! `[[schedules]]`: jobs the service submits on a cron schedule.

use super::cron::CronExpr;
use crate::jobs::JobSpec;
use crate::queue::Lane;
use serde::Deserialize;
use std::collections::HashSet;

/// The most schedules one config may hold (each is a task in every process).
pub const MAX_SCHEDULES: usize = 100;

/// One `[[schedules]]` entry (its `cron` is parsed by [`validate`] and [`Self::parsed_cron`], so
/// that a bad one is reported under the schedule's name).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSettings {
    /// Names the schedule in logs, metrics, `GET /schedules` and its jobs' idempotency keys:
    /// 1–64 letters, digits, `-` or `_`, unique.
    pub name: String,
    /// When it fires, in UTC: five fields (`0 */6 * * *`), six with leading seconds
    /// (`*/10 * * * * *`), or a nickname (`@daily`).
    pub cron: String,
    /// The job submitted at each fire: `{type, input, callback?}`, as `POST /jobs` takes it,
    /// without an `id` (every fire is a new job).
    pub job: JobSpec,
    /// At start, submit the run of the period in progress (since the latest fire time) if it
    /// has none yet, even if the schedule is new; without it a new schedule first fires at its
    /// next fire time.
    #[serde(default)]
    pub run_at_start: bool,
    /// The lane its jobs wait in; default `bulk`.
    #[serde(default = "bulk")]
    pub lane: Lane,
}

fn bulk() -> Lane {
    Lane::Bulk
}

impl ScheduleSettings {
    /// The cron expression, parsed; the error names the schedule.
    pub fn parsed_cron(&self) -> Result<CronExpr, String> {
        CronExpr::parse(&self.cron).map_err(|e| format!("schedule {:?}: cron {e}", self.name))
    }
}

/// Checks what can be checked without plugins: names (well-formed, unique), cron expressions, no
/// job ids, and how many there are. The error names the entry.
pub fn validate(schedules: &[ScheduleSettings]) -> Result<(), String> {
    if schedules.len() > MAX_SCHEDULES {
        return Err(format!(
            "schedules: {} entries, at most {MAX_SCHEDULES}",
            schedules.len()
        ));
    }
    let mut seen = HashSet::new();
    for (index, schedule) in schedules.iter().enumerate() {
        let name = &schedule.name;
        let well_formed = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !well_formed {
            return Err(format!(
                "schedules[{index}]: name {name:?} must be 1–64 letters, digits, '-' or '_'"
            ));
        }
        if !seen.insert(name.as_str()) {
            return Err(format!(
                "schedules[{index}]: the name {name:?} is used by an earlier entry; names are unique"
            ));
        }
        schedule.parsed_cron()?;
        if let Some(id) = &schedule.job.id {
            return Err(format!(
                "schedule {name:?}: job.id {id:?} is not allowed: every fire submits a new job, \
                 which gets its own id"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, cron: &str) -> ScheduleSettings {
        ScheduleSettings {
            name: name.into(),
            cron: cron.into(),
            job: JobSpec {
                id: None,
                job_type: "kidlisp".into(),
                input: serde_json::json!({"source": "red"}),
                callback: None,
            },
            run_at_start: false,
            lane: Lane::Bulk,
        }
    }

    #[test]
    fn each_refusal_names_the_entry() {
        assert!(validate(&[entry("a", "@daily"), entry("b", "*/5 * * * * *")]).is_ok());
        let err = validate(&[entry("a", "@daily"), entry("a", "@hourly")]).unwrap_err();
        assert!(
            err.contains("schedules[1]") && err.contains("\"a\""),
            "{err}"
        );
        let err = validate(&[entry("cards", "0 */6 * *")]).unwrap_err();
        assert!(
            err.starts_with("schedule \"cards\": cron \"0 */6 * *\""),
            "{err}"
        );
        let err = validate(&[entry("", "@daily")]).unwrap_err();
        assert!(err.contains("schedules[0]: name \"\""), "{err}");
        let mut fixed = entry("fixed", "@daily");
        fixed.job.id = Some("x".into());
        let err = validate(&[fixed]).unwrap_err();
        assert!(err.contains("job.id \"x\""), "{err}");
        let many: Vec<_> = (0..=MAX_SCHEDULES)
            .map(|i| entry(&format!("s{i}"), "@daily"))
            .collect();
        assert!(validate(&many).unwrap_err().contains("at most 100"));
    }
}
