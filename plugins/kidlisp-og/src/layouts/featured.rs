//! `featured`: the featured piece at 1200×630 (density 1) after 4 s, with a caption band
//! fading to black along the bottom.

use super::{HEIGHT, WIDTH, caption, featured_frames};
use crate::input::Selection;
use crate::play::frame_at;
use cards::{Anchor, Canvas, Point, TextStyle, fonts, hex, rgba};
use kiln_sdk::Error;

/// Draws the card.
pub fn featured(sel: &Selection) -> Result<Canvas, Error> {
    let frames = featured_frames(sel, WIDTH, HEIGHT, &[frame_at(4.0)])?;
    let mut canvas = Canvas::new(WIDTH, HEIGHT);
    canvas.draw_image(&frames[0], 0, 0);
    // The band: 100 px at the bottom, transparent at its top to 85% black at its foot.
    let top = (HEIGHT - 100) as f32;
    canvas.fill_rect_gradient(
        (0.0, top, WIDTH as f32, 100.0),
        Point::from_xy(0.0, top),
        Point::from_xy(0.0, HEIGHT as f32),
        &[(0.0, rgba(0, 0, 0, 0.0)), (1.0, rgba(0, 0, 0, 0.85))],
    );
    let baseline = (HEIGHT - 24) as f32;
    let title = TextStyle::new(fonts::mono_bold(), 28.0, hex(0xffffff));
    canvas.text(&title, "KidLisp.com", 24.0, baseline, Anchor::Start);
    let info = TextStyle::new(fonts::mono(), 20.0, hex(0xcccccc));
    canvas.text(
        &info,
        &caption(&sel.featured, true),
        (WIDTH - 24) as f32,
        baseline,
        Anchor::End,
    );
    Ok(canvas)
}
