//! The colophon a bundle's page carries (as the oven's `acPACK_COLOPHON`, shared/OVEN.md §9.3):
//! what the piece is, who made it, when and by what it was packed, and its source. The page
//! holds it as JSON in `<script id="kiln-colophon" type="application/json">`, and KidLisp pages
//! also as `window.acPACK_COLOPHON`.

use std::time::{SystemTime, UNIX_EPOCH};

use kiln_sdk::date::Date;

use crate::input::Kind;

/// The contract this plugin was built against, for the colophon.
const CONTRACT: &str = "kiln:render@1.4.0";

/// A moment, in UTC, to the millisecond.
#[derive(Debug, Clone, Copy)]
pub struct Moment {
    date: Date,
    ms_of_day: i64,
}

impl Moment {
    /// Now, by the host's wall clock.
    pub fn now() -> Moment {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Moment {
            date: Date::from_unix(ms.div_euclid(1000)),
            ms_of_day: ms.rem_euclid(86_400_000),
        }
    }

    fn parts(self) -> (u32, u32, u32, u32) {
        let ms = self.ms_of_day;
        (
            (ms / 3_600_000) as u32,
            (ms / 60_000 % 60) as u32,
            (ms / 1000 % 60) as u32,
            (ms % 1000) as u32,
        )
    }

    /// ISO 8601: `2026-12-01T02:33:45.123Z`.
    pub fn iso(self) -> String {
        let (h, m, s, ms) = self.parts();
        let d = self.date;
        format!(
            "{:04}-{:02}-{:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z",
            d.year, d.month, d.day
        )
    }

    /// The oven's filename stamp (§9.3): `2026.12.1.2.33.45.123`, only milliseconds padded.
    pub fn stamp(self) -> String {
        let (h, m, s, ms) = self.parts();
        let d = self.date;
        format!("{}.{}.{}.{h}.{m}.{s}.{ms:03}", d.year, d.month, d.day)
    }
}

/// What the page says about itself.
#[derive(Debug, Clone)]
pub struct Colophon {
    /// The piece's name (its `$code`, or the title given).
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// Its source (KidLisp, or the js page's JavaScript).
    pub source: String,
    /// Its author.
    pub author: String,
    /// When it was packed.
    pub packed: Moment,
    /// The file's name.
    pub filename: String,
    /// How many files the page holds.
    pub file_count: usize,
    /// How many `$code` embeds it carries (the oven's `depCount`).
    pub embeds: usize,
    /// What plays it, besides the page (the KidLisp renderer), as `name@version`.
    pub runtime: Option<String>,
}

impl Colophon {
    /// The colophon as JSON, safe inside a `<script>` element.
    pub fn json(&self) -> String {
        let value = serde_json::json!({
            "piece": {
                "name": self.name,
                "kind": self.kind.name(),
                "isKidLisp": self.kind == Kind::Kidlisp,
                "sourceCode": self.source,
            },
            "build": {
                "author": self.author,
                "packTime": self.packed.iso(),
                "filename": self.filename,
                "fileCount": self.file_count,
                "plugin": format!("bundle@{}", env!("CARGO_PKG_VERSION")),
                "host": kiln_sdk::about::host_version(),
                "contract": CONTRACT,
                "runtime": self.runtime,
            },
        });
        // `<\/` is `</` in JSON, and cannot close the script element.
        value.to_string().replace("</", "<\\/")
    }
}

/// The file's name: `$CODE-handle-stamp.lisp.html` for a KidLisp piece with a code (as the
/// oven's, §9.3), else `name-stamp.html` (`.lisp.html` for KidLisp).
pub fn filename(kind: Kind, name: &str, handle: Option<&str>, packed: Moment) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "$@_-.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    let ext = if kind == Kind::Kidlisp {
        ".lisp.html"
    } else {
        ".html"
    };
    match handle {
        Some(handle) => format!(
            "{safe}-{}-{}{ext}",
            handle.trim_start_matches('@'),
            packed.stamp()
        ),
        None => format!("{safe}-{}{ext}", packed.stamp()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_and_names_follow_the_oven() {
        let moment = Moment {
            date: Date::from_unix(1_764_556_425),
            ms_of_day: 2 * 3_600_000 + 33 * 60_000 + 45_007,
        };
        assert_eq!(moment.iso(), "2025-12-01T02:33:45.007Z");
        assert_eq!(moment.stamp(), "2025.12.1.2.33.45.007");
        assert_eq!(
            filename(Kind::Kidlisp, "$cow", Some("@jeffrey"), moment),
            "$cow-jeffrey-2025.12.1.2.33.45.007.lisp.html"
        );
        assert_eq!(
            filename(Kind::Js, "my page/1", None, moment),
            "my-page-1-2025.12.1.2.33.45.007.html"
        );
    }
}
