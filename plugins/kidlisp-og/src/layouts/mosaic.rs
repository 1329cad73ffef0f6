//! `mosaic`: the top 16 unique pieces (repeated in order when there are fewer), each after 8 s
//! at 600×316 art pixels (the oven's 300×158 viewport at density 0.5) shown at 300×158, in a
//! 4×4 grid; blurred (σ 8), veiled with 35% black, then 30 floating `$code` labels and the
//! KidLisp.com wordmark in Comic Relief Bold with one colour per letter.

use super::{HEIGHT, WIDTH};
use crate::input::{Piece, Selection};
use crate::play::{frame_at, play_or_black};
use cards::{Canvas, Color, fonts, hex, rgb, rgba};
use std::collections::BTreeMap;
use tiny_skia::Transform;

/// Tiles across and down.
const GRID: u32 = 4;
/// A tile's size on the card (630 / 4 = 157.5, rounded as the oven rounds it; the last row's
/// two bottom pixels fall off the card).
pub const TILE: (u32, u32) = (300, 158);
/// The blur's standard deviation.
pub const BLUR_SIGMA: f32 = 8.0;
/// The black veil's opacity.
pub const VEIL: f32 = 0.35;
/// The wordmark's letters and their colours.
pub const WORDMARK: [(char, u32); 11] = [
    ('K', 0xFF6B6B),
    ('i', 0x4ECDC4),
    ('d', 0xFFE66D),
    ('L', 0x95E1D3),
    ('i', 0xF38181),
    ('s', 0xAA96DA),
    ('p', 0x70D6FF),
    ('.', 0x95E1D3),
    ('c', 0xFF6B6B),
    ('o', 0x9370DB),
    ('m', 0x90EE90),
];
/// The wordmark's size, its letter spacing (0.05 em) and its shadow's offset.
const WORDMARK_SIZE: f32 = 160.0;
const WORDMARK_SHADOW: f32 = 8.0;

/// The 16 pieces of the grid, in order.
pub fn tiles(unique: &[Piece]) -> Vec<&Piece> {
    (0..(GRID * GRID) as usize)
        .map(|i| &unique[i % unique.len()])
        .collect()
}

/// Draws the card.
pub fn mosaic(sel: &Selection) -> Canvas {
    let tiles = tiles(&sel.unique);
    let mut canvas = Canvas::new(WIDTH, HEIGHT);
    canvas.clear(rgb(0, 0, 0));
    // A piece repeated in the grid plays once: its frames are the same every time.
    let mut played: BTreeMap<&str, cards::Rgba> = BTreeMap::new();
    for (i, piece) in tiles.iter().enumerate() {
        let tile = played.entry(&piece.code).or_insert_with(|| {
            let frames = play_or_black(
                piece,
                TILE.0 * 2,
                TILE.1 * 2,
                &[frame_at(8.0)],
                sel.date.midnight_ms(),
                &sel.embeds,
            );
            frames[0].half()
        });
        let (col, row) = (i as u32 % GRID, i as u32 / GRID);
        canvas.draw_image(tile, (col * TILE.0) as i32, (row * TILE.1) as i32);
    }
    canvas.blur(BLUR_SIGMA);
    canvas.fill_rect(0.0, 0.0, WIDTH as f32, HEIGHT as f32, rgba(0, 0, 0, VEIL));
    let codes: Vec<&str> = tiles.iter().map(|p| p.code.as_str()).collect();
    for label in labels(&codes) {
        draw_label(&mut canvas, &label);
    }
    draw_wordmark(&mut canvas);
    canvas
}

/// One floating `$code`: its box's top-left corner, size, rotation and opacity.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// The code, without `$`.
    pub code: String,
    /// Left of its box.
    pub x: f64,
    /// Top of its box.
    pub y: f64,
    /// Font size in px.
    pub size: f64,
    /// Rotation in degrees about the box's centre.
    pub rotation: f64,
    /// Opacity of the whole label.
    pub opacity: f64,
}

/// The oven's 30 labels (6 columns × 5 rows over a grid reaching past the card's edges), their
/// jitter, rotation, size and opacity from `fract(sin(seed + k·9999)·10000)`, the seed being
/// the sum of the UTF-16 units of every code joined.
pub fn labels(codes: &[&str]) -> Vec<Label> {
    let seed: f64 = codes
        .iter()
        .flat_map(|c| c.encode_utf16())
        .map(f64::from)
        .sum();
    let random = |k: usize| {
        let x = libm::sin(seed + k as f64 * 9999.0) * 10000.0;
        x - x.floor()
    };
    let (cols, rows) = (6usize, 5usize);
    let cell_w = (f64::from(WIDTH) + 100.0) / cols as f64;
    let cell_h = (f64::from(HEIGHT) + 80.0) / rows as f64;
    (0..cols * rows)
        .map(|i| {
            let (col, row) = ((i % cols) as f64, (i / cols) as f64);
            let base_x = col * cell_w - 50.0 + cell_w / 2.0;
            let base_y = row * cell_h - 40.0 + cell_h / 2.0;
            Label {
                code: codes[i % codes.len()].to_string(),
                x: base_x + (random(i * 5) - 0.5) * cell_w * 0.4,
                y: base_y + (random(i * 5 + 1) - 0.5) * cell_h * 0.3,
                rotation: (random(i * 5 + 2) - 0.5) * 16.0,
                size: 42.0 * (0.7 + random(i * 5 + 3) * 0.8),
                opacity: 0.2 + random(i * 5 + 4) * 0.25,
            }
        })
        .collect()
}

/// A label as the oven's overlay page lays it out: an absolutely placed line box at (x, y),
/// `$` in #00ff88 and the code in limegreen, a 2 px rgba(0,0,0,0.5) shadow, the whole rotated
/// about its centre and drawn at its opacity as one group.
fn draw_label(canvas: &mut Canvas, label: &Label) {
    let font = fonts::comic_relief_bold();
    let size = label.size as f32;
    let text = format!("${}", label.code);
    let (placed, width) = font.layout(&text, size, 0.0);
    let height = font.line_height(size);
    // The group is drawn on a scratch canvas big enough for the box turned any way, then
    // composited at the label's opacity.
    let reach = (width.hypot(height) / 2.0 + 4.0).ceil();
    let (cx, cy) = (label.x as f32 + width / 2.0, label.y as f32 + height / 2.0);
    let (left, top) = ((cx - reach).floor(), (cy - reach).floor());
    let side = (2.0 * reach) as u32 + 2;
    let mut group = Canvas::new(side, side);
    let turn = Transform::from_rotate_at(label.rotation as f32, cx - left, cy - top);
    let baseline = label.y as f32 - top + font.baseline_in_line(size);
    let x0 = label.x as f32 - left;
    let shadow = rgba(0, 0, 0, 0.5);
    for (dx, colors) in [(2.0, None), (0.0, Some((hex(0x00ff88), rgb(50, 205, 50))))] {
        for (n, p) in placed.iter().enumerate() {
            let color: Color = match colors {
                None => shadow,
                Some((dollar, code)) => {
                    if n == 0 {
                        dollar
                    } else {
                        code
                    }
                }
            };
            if let Some(path) = font.glyph_path(p.glyph, size, x0 + p.x + dx, baseline + dx) {
                group.fill_path_color(&path, color, turn);
            }
        }
    }
    canvas.draw_canvas(&group, left as i32, top as i32, label.opacity as f32);
}

/// The wordmark: 160 px, 0.05 em letter spacing, centred as a flex item (its line box in the
/// middle of the card), each letter its colour over an 8 px hard black shadow.
fn draw_wordmark(canvas: &mut Canvas) {
    let font = fonts::comic_relief_bold();
    let text: String = WORDMARK.iter().map(|(c, _)| c).collect();
    let spacing = WORDMARK_SIZE * 0.05;
    let (placed, width) = font.layout(&text, WORDMARK_SIZE, spacing);
    let height = font.line_height(WORDMARK_SIZE);
    let left = (WIDTH as f32 - width) / 2.0;
    let baseline = (HEIGHT as f32 - height) / 2.0 + font.baseline_in_line(WORDMARK_SIZE);
    for shadow in [true, false] {
        for (p, (_, color)) in placed.iter().zip(WORDMARK) {
            let offset = if shadow { WORDMARK_SHADOW } else { 0.0 };
            let color = if shadow { rgb(0, 0, 0) } else { hex(color) };
            if let Some(path) = font.glyph_path(
                p.glyph,
                WORDMARK_SIZE,
                left + p.x + offset,
                baseline + offset,
            ) {
                canvas.fill_path_color(&path, color, Transform::identity());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_oven_grid_and_its_seeded_random() {
        let codes = ["abc"; 16];
        let labels = labels(&codes);
        assert_eq!(labels.len(), 30);
        // seed = 16 × (97 + 98 + 99) = 4704; fract(sin(4704)·10000) drives label 0's x jitter.
        let r0 = {
            let x = libm::sin(4704.0) * 10000.0;
            x - x.floor()
        };
        let cell_w = 1300.0 / 6.0;
        let expected_x = cell_w / 2.0 - 50.0 + (r0 - 0.5) * cell_w * 0.4;
        assert!((labels[0].x - expected_x).abs() < 1e-9);
        for (i, l) in labels.iter().enumerate() {
            let (col, row) = ((i % 6) as f64, (i / 6) as f64);
            let base_x = col * cell_w - 50.0 + cell_w / 2.0;
            let base_y = row * 142.0 - 40.0 + 71.0;
            assert!((l.x - base_x).abs() <= cell_w * 0.2, "{i}");
            assert!((l.y - base_y).abs() <= 142.0 * 0.15, "{i}");
            assert!(
                l.rotation.abs() <= 8.0 && (29.4..=63.0).contains(&l.size),
                "{i}"
            );
            assert!((0.2..=0.45).contains(&l.opacity), "{i}");
        }
    }

    #[test]
    fn fewer_than_sixteen_pieces_repeat_in_order() {
        let pieces: Vec<Piece> = ["a", "b", "c"]
            .iter()
            .map(|c| Piece {
                code: c.to_string(),
                source: String::new(),
                hits: 0,
                handle: None,
            })
            .collect();
        let codes: Vec<&str> = tiles(&pieces).iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes.join(""), "abcabcabcabcabca");
    }
}
