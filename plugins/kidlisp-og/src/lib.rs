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
    const CAPABILITIES: &'static [Capability] = &[Capability::Media, Capability::Storage];

    fn run(_job: &JobContext, input: OgInput) -> Result<Vec<Artifact>, Error> {
        let layout = Layout::parse(&input.layout)?;
        let sel = input.select(today)?;
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
                input.pieces.len(),
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
        Ok(vec![storage::put("card.png", &png.to_blob())?])
    }
}

/// Today's UTC date from the system clock (only when the input names no date).
fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let date = Date::from_unix(secs);
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
