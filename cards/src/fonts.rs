//! The fonts embedded at build time (`build.rs`): Comic Relief Bold from npm's
//! `@fontsource/comic-relief` (SIL OFL 1.1) and DejaVu Sans Mono and its bold from Debian's
//! `fonts-dejavu-core` (Bitstream Vera licence with DejaVu's public-domain changes).

use crate::text::Font;
use std::sync::OnceLock;

static COMIC_RELIEF_BOLD: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ComicRelief-Bold.ttf"));
static MONO: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/DejaVuSansMono.ttf"));
static MONO_BOLD: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/DejaVuSansMono-Bold.ttf"));

fn load(cell: &'static OnceLock<Font>, bytes: &'static [u8], name: &str) -> &'static Font {
    cell.get_or_init(|| {
        Font::parse(bytes)
            .unwrap_or_else(|e| panic!("the embedded font {name} does not parse: {e}"))
    })
}

/// Comic Relief Bold (weight 700), the mosaic card's wordmark and `$code` labels.
pub fn comic_relief_bold() -> &'static Font {
    static CELL: OnceLock<Font> = OnceLock::new();
    load(&CELL, COMIC_RELIEF_BOLD, "Comic Relief Bold")
}

/// DejaVu Sans Mono: the cards' plain `monospace` text.
pub fn mono() -> &'static Font {
    static CELL: OnceLock<Font> = OnceLock::new();
    load(&CELL, MONO, "DejaVu Sans Mono")
}

/// DejaVu Sans Mono Bold: the cards' bold `monospace` text.
pub fn mono_bold() -> &'static Font {
    static CELL: OnceLock<Font> = OnceLock::new();
    load(&CELL, MONO_BOLD, "DejaVu Sans Mono Bold")
}
