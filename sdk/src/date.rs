//! Calendar days for plugins that choose something per day (the oven's daily featured piece and
//! backdrop): `YYYY-MM-DD` parsing with an error naming the field, UTC dates from Unix time,
//! midnights and days of the year.

use crate::Error;

/// A calendar day (proleptic Gregorian), as plugins that pick something per day use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day, 1–31.
    pub day: u32,
}

impl Date {
    /// Reads `YYYY-MM-DD`; an error is `invalid-input` naming `field` (e.g. `input.date`).
    pub fn parse(field: &str, text: &str) -> Result<Date, Error> {
        let bad = || {
            Error::invalid_input(format!(
                "{field}: \"{text}\" is not a date as YYYY-MM-DD (e.g. 2026-11-30)"
            ))
        };
        let mut parts = text.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let (year, month, day) = (
            y.parse::<i32>().map_err(|_| bad())?,
            m.parse::<u32>().map_err(|_| bad())?,
            d.parse::<u32>().map_err(|_| bad())?,
        );
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(bad());
        }
        Ok(Date { year, month, day })
    }

    /// The UTC date of `unix_s` seconds since 1970.
    pub fn from_unix(unix_s: i64) -> Date {
        // Howard Hinnant's civil-from-days.
        let z = unix_s.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Milliseconds from 1970 to this day's midnight (UTC).
    pub fn midnight_ms(self) -> f64 {
        let (y, m) = if self.month <= 2 {
            (i64::from(self.year) - 1, i64::from(self.month) + 9)
        } else {
            (i64::from(self.year), i64::from(self.month) - 3)
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days as f64 * 86_400_000.0
    }

    /// Its day of the year, 1 for 1 January.
    pub fn day_of_year(self) -> u32 {
        const BEFORE: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
        BEFORE[(self.month - 1) as usize]
            + self.day
            + u32::from(is_leap(self.year) && self.month > 2)
    }

    /// Today (UTC), from the system clock WASI gives the plugin.
    pub fn today_utc() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Date::from_unix(secs)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_convert() {
        let d = Date::parse("input.date", "2026-11-30").unwrap();
        assert_eq!(d.day_of_year(), 334);
        assert_eq!(d.midnight_ms(), 1_795_996_800_000.0);
        assert_eq!(Date::from_unix(1_795_996_800 + 86_399), d);
        assert_eq!(
            Date::from_unix(0),
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        assert_eq!(
            Date::parse("input.date", "2024-02-29")
                .unwrap()
                .day_of_year(),
            60
        );
        for bad in ["2026-02-29", "2026-13-01", "2026-1-1x", "26-11", ""] {
            assert!(Date::parse("input.date", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn days_of_the_year_count_leap_days() {
        let day = |text| Date::parse("d", text).unwrap().day_of_year();
        assert_eq!(day("2026-01-01"), 1);
        assert_eq!(day("2026-12-31"), 365);
        assert_eq!(day("2024-12-31"), 366);
        assert_eq!(day("2100-03-01"), 60);
        assert_eq!(day("2024-03-01"), 61);
    }
}
