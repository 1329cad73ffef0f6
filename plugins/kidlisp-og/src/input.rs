//! The kidlisp-og job's input, its JSON Schema, and how it becomes the pieces a card shows.

use crate::select;
use kiln_sdk::Error;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The most pieces an input may list (the oven asks its listing for 40).
pub const MAX_PIECES: usize = 100;
/// The longest piece source accepted, in characters.
pub const MAX_SOURCE_CHARS: usize = 100_000;

/// A KidLisp.com social card (1200×630 PNG) in one of the oven's four layouts.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OgInput {
    /// The layout: `featured` (the featured piece full-bleed with a caption band), `mosaic`
    /// (the top 16 pieces blurred behind the KidLisp.com wordmark), `filmstrip` (five moments
    /// of the featured piece) or `code-split` (the featured piece's source beside it).
    // A string in the schema, read by `Layout::parse`: the host's schema errors name only two
    // of an enum's values, and a wrong layout should be answered with all four.
    #[schemars(example = &"mosaic")]
    pub layout: String,
    /// The listing, most played first, as the oven's `/api/tv` gives it (`owner.handle` as
    /// `handle`). Near-duplicate sources are dropped before anything is chosen.
    #[schemars(length(min = 1, max = 100))]
    pub pieces: Vec<PieceInput>,
    /// The code of the piece to feature (featured, filmstrip, code-split); without it the
    /// piece of the day: the unique pieces' index `dayOfYear(date) mod min(count, 10)`.
    #[schemars(regex(pattern = r"^\$?[A-Za-z0-9_-]{1,64}$"))]
    pub featured: Option<String>,
    /// The day, `YYYY-MM-DD` (UTC), that picks the featured piece and starts the pieces'
    /// clocks (its midnight); today's date (UTC) when absent.
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub date: Option<String>,
    /// Sources of `$code`s the pieces embed and that are not themselves listed, keyed by code
    /// with its `$`. A listed piece's source serves any piece that embeds it.
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
}

/// A card layout (shared/OVEN.md §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The featured piece full-bleed, a caption band along the bottom.
    Featured,
    /// The top 16 pieces in a blurred 4×4 grid behind the wordmark and floating codes.
    Mosaic,
    /// Five moments of the featured piece in a row.
    Filmstrip,
    /// The featured piece's source on the left, the piece on the right.
    CodeSplit,
}

impl Layout {
    /// Every layout.
    pub const ALL: [Layout; 4] = [
        Layout::Featured,
        Layout::Mosaic,
        Layout::Filmstrip,
        Layout::CodeSplit,
    ];

    /// The layout called `name`, or `invalid-input` listing the layouts.
    pub fn parse(name: &str) -> Result<Layout, Error> {
        Layout::ALL
            .into_iter()
            .find(|l| l.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Layout::ALL.iter().map(|l| l.name()).collect();
                Error::invalid_input(format!(
                    "input.layout: \"{name}\" is not a layout; the layouts are {}",
                    names.join(", ")
                ))
            })
    }

    /// The layout's name in the input.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Featured => "featured",
            Layout::Mosaic => "mosaic",
            Layout::Filmstrip => "filmstrip",
            Layout::CodeSplit => "code-split",
        }
    }
}

/// One piece of the listing.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PieceInput {
    /// Its code, with or without the `$`: `39j` or `$39j`.
    #[schemars(regex(pattern = r"^\$?[A-Za-z0-9_-]{1,64}$"))]
    pub code: String,
    /// Its KidLisp source.
    #[schemars(length(max = 100000))]
    pub source: String,
    /// How many times it was played (default 0).
    #[serde(default)]
    pub hits: u64,
    /// Its author's handle, `@name`, shown after the plays where a layout shows it.
    pub handle: Option<String>,
}

/// A piece as the card uses it: code without the `$`.
#[derive(Clone, Debug, PartialEq)]
pub struct Piece {
    /// Its code, without the `$`.
    pub code: String,
    /// Its KidLisp source.
    pub source: String,
    /// Play count.
    pub hits: u64,
    /// Author's handle, if known.
    pub handle: Option<String>,
}

/// A day, from `input.date`.
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
    /// Reads `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Date, Error> {
        let bad = || {
            Error::invalid_input(format!(
                "input.date: \"{text}\" is not a date as YYYY-MM-DD (e.g. 2026-11-30)"
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
        select::day_of_year(self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// What a card is made of once the input is read.
#[derive(Debug)]
pub struct Selection {
    /// The unique pieces, most played first.
    pub unique: Vec<Piece>,
    /// The featured piece.
    pub featured: Piece,
    /// The day.
    pub date: Date,
    /// Every source a piece may embed, keyed by `$code`.
    pub embeds: BTreeMap<String, String>,
    /// How many listed pieces were dropped as near duplicates.
    pub dropped: usize,
}

fn strip_dollar(code: &str) -> &str {
    code.strip_prefix('$').unwrap_or(code)
}

impl OgInput {
    /// The listing. Today it is the input's `pieces`; a host capability that fetches the
    /// oven-shaped listing will answer here when `pieces` is left out.
    fn listing(&self) -> Result<Vec<Piece>, Error> {
        if self.pieces.is_empty() {
            return Err(Error::invalid_input(
                "input.pieces: the listing is empty; give at least one piece {code, source, hits, handle}",
            ));
        }
        if self.pieces.len() > MAX_PIECES {
            return Err(Error::invalid_input(format!(
                "input.pieces: {} pieces; at most {MAX_PIECES}",
                self.pieces.len()
            )));
        }
        self.pieces
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let code = strip_dollar(&p.code);
                if code.is_empty()
                    || code.len() > 64
                    || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(Error::invalid_input(format!(
                        "input.pieces[{i}].code: \"{}\" is not a piece code (1–64 letters, digits, _ or -, optionally after $)",
                        p.code
                    )));
                }
                if p.source.chars().count() > MAX_SOURCE_CHARS {
                    return Err(Error::invalid_input(format!(
                        "input.pieces[{i}].source: longer than {MAX_SOURCE_CHARS} characters"
                    )));
                }
                Ok(Piece {
                    code: code.to_string(),
                    source: p.source.clone(),
                    hits: p.hits,
                    handle: p.handle.clone().filter(|h| !h.is_empty()),
                })
            })
            .collect()
    }

    /// Reads the input: dedups the listing, picks the featured piece for the day and gathers
    /// embeddable sources. `today` is the UTC date used when `date` is absent.
    pub fn select(&self, today: impl FnOnce() -> Date) -> Result<Selection, Error> {
        let date = match &self.date {
            Some(text) => Date::parse(text)?,
            None => today(),
        };
        let listing = self.listing()?;
        let sources: Vec<&str> = listing.iter().map(|p| p.source.as_str()).collect();
        let kept = select::dedup(&sources);
        let dropped = listing.len() - kept.len();
        let unique: Vec<Piece> = kept.iter().map(|&i| listing[i].clone()).collect();
        let featured = match &self.featured {
            Some(code) => {
                let code = strip_dollar(code);
                listing
                    .iter()
                    .find(|p| p.code == code)
                    .cloned()
                    .ok_or_else(|| {
                        Error::invalid_input(format!(
                            "input.featured: ${code} is not in input.pieces (codes: {})",
                            listing
                                .iter()
                                .map(|p| format!("${}", p.code))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?
            }
            None => unique[select::featured_index(date.day_of_year(), unique.len())].clone(),
        };
        let mut embeds: BTreeMap<String, String> = listing
            .iter()
            .map(|p| (format!("${}", p.code), p.source.clone()))
            .collect();
        for (code, source) in &self.sources {
            let key = format!("${}", strip_dollar(code));
            embeds.entry(key).or_insert_with(|| source.clone());
        }
        Ok(Selection {
            unique,
            featured,
            date,
            embeds,
            dropped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> OgInput {
        serde_json::from_value(json).unwrap()
    }

    fn piece(code: &str, source: &str) -> serde_json::Value {
        serde_json::json!({"code": code, "source": source, "hits": 5})
    }

    #[test]
    fn dates_parse_and_convert() {
        let d = Date::parse("2026-11-30").unwrap();
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
        assert_eq!(Date::parse("2024-02-29").unwrap().day_of_year(), 60);
        for bad in ["2026-02-29", "2026-13-01", "2026-1-1x", "26-11", ""] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_day_picks_the_featured_piece_among_unique_ones() {
        let dup = "(wipe navy) (ink yellow) (repeat 20 i (box (* i 10) 20 8 8)) (scroll 1)";
        let pieces: Vec<_> = (0..12)
            .map(|i| {
                piece(
                    &format!("p{i}"),
                    &format!("(wipe {i}) (ink white) (box {i} 4 8 8)"),
                )
            })
            .collect();
        let mut listing = vec![piece("$a", dup), piece("b", &dup.replace("navy", "navy "))];
        listing.extend(pieces);
        // 2026-01-03 is day 3: unique = [a, p0, p1, …] (b is a's near copy) → index 3 = p2.
        let sel = input(
            serde_json::json!({"layout": "featured", "pieces": listing, "date": "2026-01-03"}),
        )
        .select(|| unreachable!())
        .unwrap();
        assert_eq!(sel.dropped, 1);
        assert_eq!(sel.unique[0].code, "a");
        assert_eq!(sel.featured.code, "p2");
        assert!(sel.embeds.contains_key("$a") && sel.embeds.contains_key("$p11"));
        // Without a date, today's is asked for.
        let sel =
            input(serde_json::json!({"layout": "mosaic", "pieces": [piece("x", "(wipe red)")]}))
                .select(|| Date {
                    year: 2026,
                    month: 1,
                    day: 9,
                })
                .unwrap();
        assert_eq!(sel.date.day, 9);
        assert_eq!(sel.featured.code, "x");
    }

    #[test]
    fn an_explicit_featured_piece_must_be_listed() {
        let i = input(
            serde_json::json!({"layout": "featured", "pieces": [piece("x", "(wipe red)")], "featured": "$x"}),
        );
        assert_eq!(
            i.select(|| Date {
                year: 2026,
                month: 1,
                day: 1
            })
            .unwrap()
            .featured
            .code,
            "x"
        );
        let i = input(
            serde_json::json!({"layout": "featured", "pieces": [piece("x", "(wipe red)")], "featured": "y"}),
        );
        let e = i
            .select(|| Date {
                year: 2026,
                month: 1,
                day: 1,
            })
            .unwrap_err();
        assert!(
            e.message.contains("$y is not in input.pieces"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_wrong_layout_is_answered_with_all_four() {
        assert_eq!(Layout::parse("code-split").unwrap(), Layout::CodeSplit);
        let e = Layout::parse("grid").unwrap_err();
        assert!(
            e.message
                .ends_with("the layouts are featured, mosaic, filmstrip, code-split"),
            "{}",
            e.message
        );
    }
}
