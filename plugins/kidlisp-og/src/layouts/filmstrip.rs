//! `filmstrip`: five moments of the featured piece (100×100 art pixels shown at 2×, at 2 s and
//! every 0.8 s after) in white frames, chevrons between them, title above and caption below.

use super::{WIDTH, caption, featured_frames};
use crate::input::Selection;
use crate::play::frame_at;
use cards::{Anchor, Canvas, Point, TextStyle, fonts, hex, rgb};
use kiln_sdk::Error;

/// Frames in the strip.
const FRAMES: u32 = 5;
/// Each frame's side on the card.
const SIDE: u32 = 200;
/// Space between frames.
const GAP: u32 = 20;
/// Top of the frames.
const TOP: i32 = 180;

/// The card's background, rgb(20, 20, 30).
pub const BACKGROUND: [u8; 3] = [20, 20, 30];

/// Left edge of frame `i`'s white border (the row is centred: (1200 − (5·200 + 4·20)) / 2 = 60).
pub fn frame_left(i: u32) -> i32 {
    let start = (WIDTH - (FRAMES * SIDE + (FRAMES - 1) * GAP)) / 2;
    (start + i * (SIDE + GAP)) as i32
}

/// Draws the card.
pub fn filmstrip(sel: &Selection) -> Result<Canvas, Error> {
    let capture: Vec<u64> = (0..FRAMES)
        .map(|k| frame_at(2.0 + 0.8 * f64::from(k)))
        .collect();
    // A 200×200 viewport at density 2 is 100×100 art pixels, each shown 2×2.
    let frames = featured_frames(sel, SIDE / 2, SIDE / 2, &capture)?;
    let mut canvas = Canvas::new(WIDTH, super::HEIGHT);
    let [r, g, b] = BACKGROUND;
    canvas.clear(rgb(r, g, b));
    for (i, frame) in (0..FRAMES).zip(&frames) {
        let left = frame_left(i);
        canvas.fill_rect(
            left as f32,
            TOP as f32,
            (SIDE + 4) as f32,
            (SIDE + 4) as f32,
            hex(0xffffff),
        );
        canvas.draw_image(&frame.scale_up(2), left + 2, TOP + 2);
    }
    for i in 0..FRAMES - 1 {
        // A 20×30 box centred in the gap: the chevron M5 5 L15 15 L5 25, stroke 3, round.
        let x = (frame_left(0) as u32 + (i + 1) * SIDE + i * GAP + GAP / 2 - 10) as f32;
        let y = (TOP as u32 + SIDE / 2 - 15) as f32;
        let points = [
            Point::from_xy(x + 5.0, y + 5.0),
            Point::from_xy(x + 15.0, y + 15.0),
            Point::from_xy(x + 5.0, y + 25.0),
        ];
        canvas.stroke_polyline_color(&points, 3.0, hex(0xffffff));
    }
    let title = TextStyle::new(fonts::mono_bold(), 36.0, hex(0xffffff));
    canvas.text(
        &title,
        "KidLisp.com",
        WIDTH as f32 / 2.0,
        100.0,
        Anchor::Middle,
    );
    let info = TextStyle::new(fonts::mono(), 24.0, hex(0xcccccc));
    canvas.text(
        &info,
        &caption(&sel.featured, true),
        WIDTH as f32 / 2.0,
        560.0,
        Anchor::Middle,
    );
    Ok(canvas)
}
