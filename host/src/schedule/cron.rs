//! Cron expressions (UTC), parsed by `croner`: five fields (minute precision) or six with a
//! leading seconds field, and its nicknames (`@hourly`, `@daily`, ...).

use chrono::{DateTime, TimeZone, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::{Deserialize, Deserializer};

/// A parsed cron expression with the text it was written as.
#[derive(Debug, Clone)]
pub struct CronExpr {
    text: String,
    cron: Cron,
}

impl CronExpr {
    /// Parses `text`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build()
            .parse(text.trim())
            .map_err(|e| format!("{text:?} is not a cron expression: {e}"))?;
        let expr = Self {
            text: text.to_string(),
            cron,
        };
        // A pattern that names no real time (`0 0 30 2 *`) parses; it must also fire.
        let now = Utc::now();
        if expr.next_after(now).is_none() {
            return Err(format!("{text:?} never fires"));
        }
        Ok(expr)
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first fire time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&t, false).ok()
    }

    /// The latest fire time at or before `t`.
    pub fn latest_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Fire times are whole seconds: an instant within a second that fires counts as it.
        let whole = Utc.timestamp_opt(t.timestamp(), 0).single()?;
        self.cron.find_previous_occurrence(&whole, true).ok()
    }
}

impl<'de> Deserialize<'de> for CronExpr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CronExpr::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn five_fields_are_minutes_and_six_start_with_seconds() {
        let every_6h = CronExpr::parse("0 */6 * * *").unwrap();
        assert_eq!(
            every_6h.next_after(at("2026-03-01T05:59:59Z")),
            Some(at("2026-03-01T06:00:00Z"))
        );
        assert_eq!(
            every_6h.next_after(at("2026-03-01T06:00:00Z")),
            Some(at("2026-03-01T12:00:00Z")),
            "strictly after"
        );
        let every_second = CronExpr::parse("* * * * * *").unwrap();
        assert_eq!(
            every_second.next_after(at("2026-03-01T06:00:00.400Z")),
            Some(at("2026-03-01T06:00:01Z"))
        );
        let daily = CronExpr::parse("@daily").unwrap();
        assert_eq!(
            daily.latest_at_or_before(at("2026-03-01T13:10:00Z")),
            Some(at("2026-03-01T00:00:00Z"))
        );
    }

    #[test]
    fn the_latest_fire_counts_the_instant_itself_and_its_second() {
        let every_6h = CronExpr::parse("0 0 */6 * * *").unwrap();
        assert_eq!(
            every_6h.latest_at_or_before(at("2026-03-01T12:00:00Z")),
            Some(at("2026-03-01T12:00:00Z"))
        );
        assert_eq!(
            every_6h.latest_at_or_before(at("2026-03-01T12:00:00.900Z")),
            Some(at("2026-03-01T12:00:00Z"))
        );
        assert_eq!(
            every_6h.latest_at_or_before(at("2026-03-01T11:59:59.999Z")),
            Some(at("2026-03-01T06:00:00Z"))
        );
    }

    #[test]
    fn bad_expressions_say_why() {
        for text in [
            "",
            "every hour",
            "61 * * * *",
            "* * * * * * 2030",
            "0 0 30 2 *",
        ] {
            let err = CronExpr::parse(text).unwrap_err();
            assert!(err.contains(&format!("{text:?}")), "{err}");
        }
    }
}
