//! The card's geometry and colours (shared/OVEN.md §6).

use cards::{Anchor, Canvas, Point, TextStyle, fonts, hex, rgba};

/// Card width.
pub const WIDTH: u32 = 1200;
/// Card height.
pub const HEIGHT: u32 = 630;
/// The notes, left to right.
pub const NOTES: [char; 7] = ['C', 'D', 'E', 'F', 'G', 'A', 'B'];
/// Row 1 (octave 4) pad colours.
pub const OCTAVE_4: [[u8; 3]; 7] = [
    [255, 50, 50],
    [255, 160, 0],
    [255, 230, 0],
    [50, 200, 50],
    [50, 120, 255],
    [130, 50, 200],
    [180, 80, 255],
];
/// Row 2 (octave 5, "dayglo") pad colours.
pub const OCTAVE_5: [[u8; 3]; 7] = [
    [255, 40, 80],
    [255, 180, 0],
    [255, 255, 50],
    [50, 255, 100],
    [50, 200, 255],
    [180, 50, 255],
    [255, 80, 255],
];
/// The pad grid: 720×300 at (240, 230), 12 px apart, corners of radius 10, 90% opaque.
pub const GRID: (f32, f32, f32, f32) = (240.0, 230.0, 720.0, 300.0);
const GAP: f32 = 12.0;
const RADIUS: f32 = 10.0;
const PAD_OPACITY: f32 = 0.9;

/// Pad (`col`, `row`)'s rectangle: x, y, width, height.
pub fn pad(col: usize, row: usize) -> (f32, f32, f32, f32) {
    let (gx, gy, gw, gh) = GRID;
    let w = (gw - 6.0 * GAP) / 7.0;
    let h = (gh - GAP) / 2.0;
    (
        gx + col as f32 * (w + GAP),
        gy + row as f32 * (h + GAP),
        w,
        h,
    )
}

/// The waveform's 101 points, rounded to 0.1 px as the oven's path data was.
pub fn waveform() -> Vec<Point> {
    (0..=100)
        .map(|i| {
            let i = f64::from(i);
            let x = 80.0 + i / 100.0 * f64::from(WIDTH - 160);
            let y = 120.0 + (i * 0.18).sin() * 30.0 * (i * 0.04).sin() + (i * 0.07).sin() * 15.0;
            let round = |v: f64| ((v * 10.0).round() / 10.0) as f32;
            Point::from_xy(round(x), round(y))
        })
        .collect()
}

/// Draws the card.
pub fn draw() -> Canvas {
    let (w, h) = (WIDTH as f32, HEIGHT as f32);
    let mut canvas = Canvas::new(WIDTH, HEIGHT);
    // The background's gradient runs corner to corner in the box's own units (SVG's default
    // objectBoundingBox), so t = (x/W + y/H) / 2 and its bands lie along the other diagonal.
    // In card pixels that is the gradient from (0, 0) to k·(1/W, 1/H), k = 2 / (1/W² + 1/H²).
    let k = 2.0 / (1.0 / (w * w) + 1.0 / (h * h));
    let end = Point::from_xy(k / w, k / h);
    canvas.fill_rect_gradient(
        (0.0, 0.0, w, h),
        Point::from_xy(0.0, 0.0),
        end,
        &[(0.0, hex(0x0a0a12)), (1.0, hex(0x12121e))],
    );
    for y in (0..HEIGHT).step_by(4) {
        canvas.fill_rect(0.0, y as f32, w, 1.0, rgba(0, 0, 0, 0.06));
    }
    // The stroke's gradient spans the waveform's bounding box, left to right.
    let points = waveform();
    let (x0, x1) = (points[0].x, points[points.len() - 1].x);
    let teal = |a| rgba(0x4e, 0xcd, 0xc4, a);
    canvas.stroke_polyline_gradient(
        &points,
        2.5,
        Point::from_xy(x0, 0.0),
        Point::from_xy(x1, 0.0),
        &[
            (0.0, teal(0.0)),
            (0.2, teal(0.5)),
            (0.5, rgba(0xff, 0x6b, 0x9d, 0.6)),
            (0.8, teal(0.5)),
            (1.0, teal(0.0)),
        ],
    );
    let label = TextStyle::new(fonts::mono_bold(), 28.0, hex(0xffffff));
    for (row, colors) in [OCTAVE_4, OCTAVE_5].iter().enumerate() {
        for (col, note) in NOTES.iter().enumerate() {
            let (x, y, pw, ph) = pad(col, row);
            let [r, g, b] = colors[col];
            canvas.fill_round_rect(x, y, pw, ph, RADIUS, rgba(r, g, b, PAD_OPACITY));
            let color = if matches!(note, 'E' | 'F') {
                rgba(0, 0, 0, 0.6)
            } else {
                rgba(255, 255, 255, 0.7)
            };
            let text = format!("{note}{}", 4 + row);
            canvas.text(
                &label.colored(color),
                &text,
                x + pw / 2.0,
                y + ph / 2.0 + 10.0,
                Anchor::Middle,
            );
        }
    }
    let wordmark = TextStyle::new(fonts::mono_bold(), 42.0, hex(0xe8e4de)).spaced(3.0);
    canvas.text(&wordmark, "notepat", 570.0, 605.0, Anchor::Middle);
    let com = TextStyle::new(fonts::mono(), 18.0, hex(0x4ecdc4));
    canvas.text(&com, ".com", 728.0, 588.0, Anchor::Start);
    let tagline = TextStyle::new(fonts::mono(), 16.0, rgba(232, 228, 222, 0.35));
    canvas.text(
        &tagline,
        "tap the pads to play",
        600.0,
        600.0,
        Anchor::Middle,
    );
    canvas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_fill_the_grid() {
        let (x, y, w, h) = pad(0, 0);
        assert_eq!((x, y, h), (240.0, 230.0, 144.0));
        assert!((w - 92.571_43).abs() < 1e-3);
        let (x, y, w, h) = pad(6, 1);
        assert!((x + w - 960.0).abs() < 1e-3);
        assert_eq!(y + h, 530.0);
    }

    #[test]
    fn the_waveform_runs_from_80_to_1120() {
        let p = waveform();
        assert_eq!(p.len(), 101);
        assert_eq!((p[0].x, p[0].y), (80.0, 120.0));
        assert_eq!(p[100].x, 1120.0);
    }
}
