//! The `kidlisp-og` job type: KidLisp.com's Open Graph cards (1200×630 PNG) in the oven's four
//! layouts (shared/OVEN.md §5), made without a browser. The listing is deduplicated and the
//! featured piece chosen as the oven does (`select`), the pieces are played by the `kidlisp`
//! crate on a virtual 60 fps clock for the time the oven waited (`play`), and each layout is
//! drawn with `kiln-cards` (`layouts`). The PNG is encoded by the host (`pixels`). The same
//! input gives the same bytes.

mod input;
mod layouts;
mod play;
mod select;

use input::{Date, Layout, OgInput};
use kiln_sdk::prelude::*;

struct KidlispOg;

impl Plugin for KidlispOg {
    type Input = OgInput;
    const NAME: &'static str = "kidlisp-og";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str = "KidLisp.com social cards (1200×630 PNG): featured, mosaic, filmstrip or code-split, pieces played in the kidlisp renderer, no browser";
    const CAPABILITIES: &'static [Capability] =
        &[Capability::Media, Capability::Storage, Capability::Sources];

    fn run(_job: &JobContext, input: OgInput) -> Result<Vec<Artifact>, Error> {
        let layout = Layout::parse(&input.layout)?;
        let sel = input.select(today, top_pieces)?;
        host::log(
            LogLevel::Info,
            &format!(
                "{} layout for {}-{:02}-{:02} (day {}): {} unique piece(s) of {} ({} near \
                 duplicate(s) dropped), featured ${}",
                layout.name(),
                sel.date.year,
                sel.date.month,
                sel.date.day,
                sel.date.day_of_year(),
                sel.unique.len(),
                sel.unique.len() + sel.dropped,
                sel.dropped,
                sel.featured.code
            ),
        );
        host::progress(0.05, "playing");
        let canvas = match layout {
            Layout::Featured => layouts::featured(&sel)?,
            Layout::Mosaic => layouts::mosaic(&sel),
            Layout::Filmstrip => layouts::filmstrip(&sel)?,
            Layout::CodeSplit => layouts::code_split(&sel)?,
        };
        host::progress(0.9, "encoding");
        let rgba = canvas.to_rgba();
        let png = pixels::encode_image(
            rgba.width(),
            rgba.height(),
            rgba.data(),
            ImageFormat::Png,
            None,
            1,
        )?;
        // What the card shows, for the routes that answer with it (`X-OG-Featured`) and for
        // anyone checking which piece a day featured.
        let report = serde_json::json!({
            "layout": layout.name(),
            "date": format!("{}-{:02}-{:02}", sel.date.year, sel.date.month, sel.date.day),
            "featured": format!("${}", sel.featured.code),
            "featuredHandle": sel.featured.handle,
            "featuredHits": sel.featured.hits,
            "pieces": sel.unique.iter().map(|p| format!("${}", p.code)).collect::<Vec<_>>(),
            "dropped": sel.dropped,
        });
        let report = serde_json::to_vec_pretty(&report).expect("JSON serializes");
        Ok(vec![
            storage::put("card.png", &png.to_blob())?,
            storage::put("card.json", &Blob::new(&report, "application/json"))?,
        ])
    }
}

/// The oven's listing (§5.1): the 40 most-played pieces, from the host's piece sources.
fn top_pieces() -> Result<Vec<input::PieceInput>, Error> {
    const OVEN_LISTING: u32 = 40;
    host::log(
        LogLevel::Info,
        &format!("input.pieces is absent: asking the piece sources for the top {OVEN_LISTING}"),
    );
    Ok(kiln_sdk::sources::top_kidlisp(OVEN_LISTING, None)?
        .into_iter()
        .map(|p| input::PieceInput {
            code: p.code,
            source: p.source,
            hits: p.hits,
            handle: p.handle,
        })
        .collect())
}

/// Today's UTC date (only when the input names no date).
fn today() -> Date {
    let date = Date::today_utc();
    host::log(
        LogLevel::Info,
        &format!(
            "input.date is absent: using today, {}-{:02}-{:02} (UTC)",
            date.year, date.month, date.day
        ),
    );
    date
}

kiln_sdk::export_plugin!(KidlispOg);
