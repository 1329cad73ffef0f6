//! The kidlisp-og job's input, its JSON Schema, and how it becomes the pieces a card shows.

use crate::select;
use kiln_sdk::Error;
pub use kiln_sdk::date::Date;
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
    /// `handle`). Near-duplicate sources are dropped before anything is chosen. When absent,
    /// the host's piece sources are asked for the top 40 (the oven's listing, with room for
    /// dedup), which needs the `sources` grant.
    #[schemars(length(min = 1, max = 100))]
    pub pieces: Option<Vec<PieceInput>>,
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
    /// The listing: the input's `pieces`, or, when they are absent, what `fetch` returns (the
    /// host's top pieces). Fetched pieces pass the same checks as given ones.
    fn listing(
        &self,
        fetch: impl FnOnce() -> Result<Vec<PieceInput>, Error>,
    ) -> Result<Vec<Piece>, Error> {
        let fetched;
        let (pieces, origin) = match &self.pieces {
            Some(pieces) => (pieces, "input.pieces"),
            None => {
                fetched = fetch()?;
                (&fetched, "the top pieces listing")
            }
        };
        if pieces.is_empty() {
            return Err(Error::invalid_input(format!(
                "{origin}: the listing is empty; give at least one piece {{code, source, hits, handle}}"
            )));
        }
        if pieces.len() > MAX_PIECES {
            return Err(Error::invalid_input(format!(
                "{origin}: {} pieces; at most {MAX_PIECES}",
                pieces.len()
            )));
        }
        pieces
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let code = strip_dollar(&p.code);
                if code.is_empty()
                    || code.len() > 64
                    || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(Error::invalid_input(format!(
                        "{origin}[{i}].code: \"{}\" is not a piece code (1–64 letters, digits, _ or -, optionally after $)",
                        p.code
                    )));
                }
                if p.source.chars().count() > MAX_SOURCE_CHARS {
                    return Err(Error::invalid_input(format!(
                        "{origin}[{i}].source: longer than {MAX_SOURCE_CHARS} characters"
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
    /// embeddable sources. `today` is the UTC date used when `date` is absent; `fetch` gives
    /// the listing when `pieces` is absent.
    pub fn select(
        &self,
        today: impl FnOnce() -> Date,
        fetch: impl FnOnce() -> Result<Vec<PieceInput>, Error>,
    ) -> Result<Selection, Error> {
        let date = match &self.date {
            Some(text) => Date::parse("input.date", text)?,
            None => today(),
        };
        let listing = self.listing(fetch)?;
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
                            "input.featured: ${code} is not in the listing (codes: {})",
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
        .select(|| unreachable!(), || unreachable!())
        .unwrap();
        assert_eq!(sel.dropped, 1);
        assert_eq!(sel.unique[0].code, "a");
        assert_eq!(sel.featured.code, "p2");
        assert!(sel.embeds.contains_key("$a") && sel.embeds.contains_key("$p11"));
        // Without a date, today's is asked for.
        let sel =
            input(serde_json::json!({"layout": "mosaic", "pieces": [piece("x", "(wipe red)")]}))
                .select(
                    || Date {
                        year: 2026,
                        month: 1,
                        day: 9,
                    },
                    || unreachable!(),
                )
                .unwrap();
        assert_eq!(sel.date.day, 9);
        assert_eq!(sel.featured.code, "x");
    }

    #[test]
    fn without_pieces_the_listing_is_fetched_and_checked_like_given_pieces() {
        let fetched = |code: &str| PieceInput {
            code: code.into(),
            source: "(wipe blue)".into(),
            hits: 7,
            handle: Some("@jeffrey".into()),
        };
        let day = || Date {
            year: 2026,
            month: 1,
            day: 1,
        };
        let i = input(serde_json::json!({"layout": "featured"}));
        let sel = i.select(day, || Ok(vec![fetched("$top")])).unwrap();
        assert_eq!(sel.featured.code, "top");
        assert_eq!(sel.featured.handle.as_deref(), Some("@jeffrey"));
        let e = i.select(day, || Ok(vec![])).unwrap_err();
        assert!(
            e.message
                .starts_with("the top pieces listing: the listing is empty"),
            "{}",
            e.message
        );
        let e = i
            .select(day, || Ok(vec![fetched("no spaces")]))
            .unwrap_err();
        assert!(
            e.message.starts_with("the top pieces listing[0].code"),
            "{}",
            e.message
        );
        let e = i
            .select(day, || Err(Error::internal("the store is down")))
            .unwrap_err();
        assert_eq!(e.message, "the store is down");
        // Given pieces are never replaced by the listing.
        let i =
            input(serde_json::json!({"layout": "featured", "pieces": [piece("x", "(wipe red)")]}));
        assert_eq!(i.select(day, || unreachable!()).unwrap().featured.code, "x");
    }

    #[test]
    fn an_explicit_featured_piece_must_be_listed() {
        let i = input(
            serde_json::json!({"layout": "featured", "pieces": [piece("x", "(wipe red)")], "featured": "$x"}),
        );
        assert_eq!(
            i.select(
                || Date {
                    year: 2026,
                    month: 1,
                    day: 1
                },
                || unreachable!()
            )
            .unwrap()
            .featured
            .code,
            "x"
        );
        let i = input(
            serde_json::json!({"layout": "featured", "pieces": [piece("x", "(wipe red)")], "featured": "y"}),
        );
        let e = i
            .select(
                || Date {
                    year: 2026,
                    month: 1,
                    day: 1,
                },
                || unreachable!(),
            )
            .unwrap_err();
        assert!(
            e.message.contains("$y is not in the listing"),
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
