//! When a schedule fires: the rules, apart from any clock or queue.
//!
//! A fire time is one slot of the cron expression, and its job is submitted under the
//! idempotency key [`idempotency_key`] names, so however many processes submit it, the queue
//! keeps one job. What is due is decided from the shared [`FireState`]: a process that starts
//! submits at most one missed slot (the latest), never one per slot it missed.

use super::cron::CronExpr;
use super::state::FireState;
use chrono::{DateTime, SecondsFormat, Utc};

/// Unix milliseconds of `t`.
pub fn ms(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp_millis()).unwrap_or(0)
}

/// `t` as RFC 3339 in UTC, to the second (`2026-03-01T06:00:00Z`).
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The idempotency key of schedule `name`'s job for fire time `fire`: one key per slot, the same
/// in every process.
pub fn idempotency_key(name: &str, fire: DateTime<Utc>) -> String {
    format!("schedule:{name}:{}", rfc3339(fire))
}

/// The placeholder a schedule's job input may hold for the fire time's day.
pub const FIRE_DATE: &str = "{fire_date}";

/// `input` with every string that is exactly [`FIRE_DATE`] replaced by `fire`'s UTC date
/// (`2026-03-01`), at any depth: a daily card or backdrop names its day, so its result lands in
/// the result cache under the same input the oven-shaped routes ask for.
pub fn with_fire_date(input: &serde_json::Value, fire: DateTime<Utc>) -> serde_json::Value {
    use serde_json::Value;
    match input {
        Value::String(s) if s == FIRE_DATE => Value::String(fire.format("%Y-%m-%d").to_string()),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| with_fire_date(v, fire)).collect())
        }
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), with_fire_date(v, fire)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The fire time a process starting at `now` submits at once, if any: the latest slot at or
/// before `now`, when no job is recorded for it (or a later one) and either the schedule
/// existed then (a run missed while nothing ran) or it runs at start.
pub fn due_at_start(
    cron: &CronExpr,
    state: &FireState,
    now: DateTime<Utc>,
    run_at_start: bool,
) -> Option<DateTime<Utc>> {
    let latest = cron.latest_at_or_before(now)?;
    if state.last_fire_ms.is_some_and(|last| last >= ms(latest)) {
        return None;
    }
    (run_at_start || state.since_ms <= ms(latest)).then_some(latest)
}

/// The slot to submit when a process wakes at `now` for the slot after `after`: the latest slot
/// at or before `now` (slots that passed while it was held up are folded into it). `None` if
/// no slot after `after` has come yet.
pub fn due_now(cron: &CronExpr, after: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.latest_at_or_before(now).filter(|slot| *slot > after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn every_6h() -> CronExpr {
        CronExpr::parse("0 */6 * * *").unwrap()
    }

    fn state(since: &str, last: Option<&str>) -> FireState {
        FireState {
            since_ms: ms(at(since)),
            last_fire_ms: last.map(|t| ms(at(t))),
            last_job: last.map(|_| "job".into()),
        }
    }

    #[test]
    fn a_restart_after_missed_slots_submits_the_latest_once() {
        let cron = every_6h();
        // Last ran at 06:00; nothing ran from 07:00 until 20:00: 12:00 and 18:00 were missed.
        let seen = state("2026-03-01T00:30:00Z", Some("2026-03-01T06:00:00Z"));
        assert_eq!(
            due_at_start(&cron, &seen, at("2026-03-01T20:00:00Z"), false),
            Some(at("2026-03-01T18:00:00Z"))
        );
        // Its job recorded, a second process starting after it submits nothing.
        let done = state("2026-03-01T00:30:00Z", Some("2026-03-01T18:00:00Z"));
        assert_eq!(
            due_at_start(&cron, &done, at("2026-03-01T20:00:00Z"), false),
            None
        );
        assert_eq!(
            due_at_start(&cron, &done, at("2026-03-01T20:00:00Z"), true),
            None
        );
    }

    #[test]
    fn a_new_schedule_waits_for_its_first_slot_unless_it_runs_at_start() {
        let cron = every_6h();
        let new = state("2026-03-01T20:00:00Z", None);
        assert_eq!(
            due_at_start(&cron, &new, at("2026-03-01T20:00:00Z"), false),
            None
        );
        assert_eq!(
            due_at_start(&cron, &new, at("2026-03-01T20:00:00Z"), true),
            Some(at("2026-03-01T18:00:00Z"))
        );
        // Seen first before 18:00 and never run: 18:00 was missed.
        let old = state("2026-03-01T17:00:00Z", None);
        assert_eq!(
            due_at_start(&cron, &old, at("2026-03-01T20:00:00Z"), false),
            Some(at("2026-03-01T18:00:00Z"))
        );
    }

    #[test]
    fn a_late_wake_folds_the_slots_it_slept_through_into_the_latest() {
        let cron = CronExpr::parse("* * * * * *").unwrap();
        let after = at("2026-03-01T00:00:00Z");
        assert_eq!(due_now(&cron, after, at("2026-03-01T00:00:00.999Z")), None);
        assert_eq!(
            due_now(&cron, after, at("2026-03-01T00:00:01.001Z")),
            Some(at("2026-03-01T00:00:01Z"))
        );
        assert_eq!(
            due_now(&cron, after, at("2026-03-01T00:00:05.500Z")),
            Some(at("2026-03-01T00:00:05Z"))
        );
    }

    #[test]
    fn the_key_names_the_schedule_and_the_slot() {
        assert_eq!(
            idempotency_key("og", at("2026-03-01T18:00:00Z")),
            "schedule:og:2026-03-01T18:00:00Z"
        );
    }

    #[test]
    fn the_fire_date_placeholder_becomes_the_fire_time_s_utc_day_at_any_depth() {
        let fire = DateTime::parse_from_rfc3339("2026-03-01T23:30:00-02:00")
            .unwrap()
            .with_timezone(&Utc);
        let input = serde_json::json!({
            "layout": "mosaic", "date": "{fire_date}",
            "top": {"handle": "@jeffrey", "date": "{fire_date}"},
            "list": ["{fire_date}", "a {fire_date}", 1],
        });
        assert_eq!(
            with_fire_date(&input, fire),
            serde_json::json!({
                "layout": "mosaic", "date": "2026-03-02",
                "top": {"handle": "@jeffrey", "date": "2026-03-02"},
                "list": ["2026-03-02", "a {fire_date}", 1],
            })
        );
    }
}
