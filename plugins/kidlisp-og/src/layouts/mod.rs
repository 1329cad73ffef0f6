//! The four layouts of shared/OVEN.md §5.2, each drawn on a 1200×630 canvas.

mod code_split;
mod featured;
mod filmstrip;
mod mosaic;

use crate::input::{Piece, Selection};
use crate::play;
use crate::select::format_hits;
use cards::Rgba;
use kiln_sdk::Error;

pub use code_split::code_split;
pub use featured::featured;
pub use filmstrip::filmstrip;
pub use mosaic::mosaic;

/// Width of every card.
pub const WIDTH: u32 = 1200;
/// Height of every card.
pub const HEIGHT: u32 = 630;

/// `$code · {hits} plays`, and ` · {handle}` when `with_handle` and the piece has one.
pub fn caption(piece: &Piece, with_handle: bool) -> String {
    let mut text = format!("${} · {} plays", piece.code, format_hits(piece.hits));
    if let (true, Some(handle)) = (with_handle, &piece.handle) {
        text.push_str(" · ");
        text.push_str(handle);
    }
    text
}

/// The featured piece's captures: the card has nothing else to show, so a featured piece that
/// cannot be played fails the job (`invalid-input`, naming it) instead of giving a black card.
pub fn featured_frames(
    sel: &Selection,
    width: u32,
    height: u32,
    capture: &[u64],
) -> Result<Vec<Rgba>, Error> {
    play::play(
        &sel.featured,
        width,
        height,
        capture,
        sel.date.midnight_ms(),
        &sel.embeds,
    )
    .map_err(|why| {
        Error::invalid_input(format!(
            "input.pieces: the featured piece ${} cannot be shown: {}; fix its source or name \
             another piece in input.featured",
            sel.featured.code,
            why.describe()
        ))
    })
}
