//! Which pieces a card shows (shared/OVEN.md §5.1): near-duplicate sources dropped, the daily
//! featured piece, and how play counts are written. Strings are measured and cut in UTF-16 code
//! units, as the oven's JavaScript does, so the same listing gives the same choices.

use std::collections::HashSet;

/// Two sources at least this similar are duplicates.
pub const SIMILARITY_THRESHOLD: f64 = 0.90;
/// Sources shorter than this (in UTF-16 units) are always kept and never compared.
pub const MIN_COMPARED_LENGTH: usize = 50;
/// Normalised sources shorter than this are never similar to anything (but themselves).
pub const MIN_SIMILAR_LENGTH: usize = 10;
/// The featured piece rotates daily through this many of the top unique pieces.
pub const ROTATION: usize = 10;

/// JavaScript's `\s`: white space and line terminators.
fn js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// Lower case, every run of white space one space, trimmed; as UTF-16 code units.
pub fn normalise(source: &str) -> Vec<u16> {
    let lower = source.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    let mut in_space = false;
    for c in lower.chars() {
        if js_space(c) {
            in_space = true;
        } else {
            if in_space && !out.is_empty() {
                out.push(' ');
            }
            in_space = false;
            out.push(c);
        }
    }
    out.encode_utf16().collect()
}

fn trigrams(units: &[u16]) -> HashSet<[u16; 3]> {
    units.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
}

/// How alike two sources are, 0 to 1: 1 when they normalise to the same text, 0 when either
/// normalises to under 10 units, else the Jaccard index of their sets of 3-unit substrings.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (normalise(a), normalise(b));
    if a == b {
        return 1.0;
    }
    if a.len() < MIN_SIMILAR_LENGTH || b.len() < MIN_SIMILAR_LENGTH {
        return 0.0;
    }
    let (ta, tb) = (trigrams(&a), trigrams(&b));
    let shared = ta.intersection(&tb).count();
    let union = ta.len() + tb.len() - shared;
    if union == 0 {
        0.0
    } else {
        shared as f64 / union as f64
    }
}

/// The indices of the pieces kept, in order: a piece is dropped when its source is at least
/// 0.90 similar to a piece already kept; sources under 50 units are kept and not compared (nor
/// compared against later).
pub fn dedup(sources: &[&str]) -> Vec<usize> {
    let mut kept = Vec::new();
    let mut compared: Vec<&str> = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        if source.encode_utf16().count() < MIN_COMPARED_LENGTH {
            kept.push(i);
            continue;
        }
        if compared
            .iter()
            .any(|earlier| similarity(source, earlier) >= SIMILARITY_THRESHOLD)
        {
            continue;
        }
        kept.push(i);
        compared.push(source);
    }
    kept
}

/// The index of the featured piece among `count` unique pieces on day `day_of_year`.
pub fn featured_index(day_of_year: u32, count: usize) -> usize {
    day_of_year as usize % count.clamp(1, ROTATION)
}

/// A play count as the cards write it: under 1000 as is; under 10,000 in thousands with one
/// decimal (JavaScript's `toFixed(1)`, which rounds a tie up: 1250 → `1.3k`); else whole
/// thousands, rounded down (12,999 → `12k`).
pub fn format_hits(hits: u64) -> String {
    if hits < 1000 {
        hits.to_string()
    } else if hits < 10_000 {
        let tenths = to_fixed_tenths(hits as f64 / 1000.0);
        format!("{}.{}k", tenths / 10, tenths % 10)
    } else {
        format!("{}k", hits / 1000)
    }
}

/// `x.toFixed(1)` as a count of tenths, for 0 ≤ x < 2^40: the nearer of the two whole tenths
/// around the double's exact value, the larger on a tie.
fn to_fixed_tenths(x: f64) -> u64 {
    // x = mantissa · 2^exp exactly; compare 10x's fraction with one half in integers.
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        return 0;
    }
    let mantissa = u128::from((bits & ((1u64 << 52) - 1)) | (1u64 << 52));
    let shift = 1075 - exp; // x = mantissa / 2^shift
    if shift <= 0 {
        return (mantissa << (-shift) as u32) as u64 * 10;
    }
    let ten_x = mantissa * 10;
    let whole = ten_x >> shift;
    let rest = ten_x - (whole << shift);
    let half = 1u128 << (shift - 1);
    (whole + u128::from(rest >= half)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: &str = "(wipe navy) (ink yellow) (repeat 20 i (box (* i 10) 20 8 8)) (scroll 1)";

    #[test]
    fn hits_are_written_as_the_oven_writes_them() {
        let cases = [
            (0, "0"),
            (7, "7"),
            (999, "999"),
            (1000, "1.0k"),
            (1049, "1.0k"),
            (1050, "1.1k"), // 1.05 is a little above 1.05 as a double
            (1150, "1.1k"), // 1.15 is a little below
            (1250, "1.3k"), // an exact tie rounds up, as toFixed does
            (4634, "4.6k"),
            (9949, "9.9k"),
            (9950, "9.9k"), // 9.95 is a little below as a double
            (9999, "10.0k"),
            (10_000, "10k"),
            (12_999, "12k"),
            (1_234_567, "1234k"),
        ];
        for (hits, text) in cases {
            assert_eq!(format_hits(hits), text, "{hits}");
        }
    }

    #[test]
    fn similarity_normalises_and_compares_trigrams() {
        assert_eq!(similarity("(wipe  RED)\n", "(wipe red)"), 1.0);
        assert_eq!(similarity("abc", "abd"), 0.0, "under 10 units");
        assert_eq!(similarity("", ""), 1.0, "identical, however short");
        // "abcdefghij" and "abcdefghik": 8 trigrams each, 7 shared → 7/9.
        let s = similarity("abcdefghij", "abcdefghik");
        assert!((s - 7.0 / 9.0).abs() < 1e-12, "{s}");
    }

    #[test]
    fn near_duplicates_are_dropped_in_hit_order() {
        let near = LONG.replace("yellow", "yellou");
        let other = "(wipe black) (ink lime) (circle w/2 h/2 40) (blur 2) (zoom 1.02) (spin 1)";
        let short = "(wipe red)";
        assert!(similarity(LONG, &near) >= SIMILARITY_THRESHOLD);
        let sources = [LONG, &near, short, other, short, LONG];
        // The near copy and the exact copy of the first go; short sources are always kept.
        assert_eq!(dedup(&sources), vec![0, 2, 3, 4]);
    }

    #[test]
    fn short_sources_are_not_compared_against_later_ones() {
        let short = "(wipe navy) (ink yellow) (box 1 1 8 8)"; // 38 units
        let longer = format!("{short} (box 2 2 8 8)"); // 53 units, similar to `short`
        assert_eq!(dedup(&[short, &longer]), vec![0, 1]);
    }

    #[test]
    fn the_featured_piece_rotates_through_the_top_ten() {
        assert_eq!(featured_index(1, 40), 1);
        assert_eq!(featured_index(30, 40), 0);
        assert_eq!(featured_index(365, 40), 5);
        assert_eq!(featured_index(365, 3), 2);
        assert_eq!(featured_index(365, 1), 0);
        // Consecutive days walk through indices 0..10 in order.
        let days: Vec<usize> = (40..50).map(|d| featured_index(d, 25)).collect();
        assert_eq!(days, (0..10).collect::<Vec<_>>());
    }
}
