//! kiln-cards' drawing checked at known pixels: fills, rounded corners, gradients, the blur,
//! resampling, text placement from the embedded fonts.

use kiln_cards::{Anchor, Canvas, Point, Rgba, TextStyle, fonts, hex, rgb, rgba};

#[test]
fn the_embedded_fonts_parse_and_measure_like_their_families() {
    // DejaVu Sans Mono: every advance is 1233/2048 em.
    let mono = fonts::mono();
    let w = mono.advance("KidLisp.com", 20.0, 0.0);
    assert!((w - 11.0 * 20.0 * 1233.0 / 2048.0).abs() < 1e-3, "{w}");
    assert!((mono.advance("ab", 20.0, 3.0) - mono.advance("ab", 20.0, 0.0) - 6.0).abs() < 1e-4);
    for font in [
        fonts::mono(),
        fonts::mono_bold(),
        fonts::comic_relief_bold(),
    ] {
        assert!(font.ascent(100.0) > 70.0 && font.descent(100.0) > 10.0);
        assert!(font.line_height(100.0) >= font.ascent(100.0) + font.descent(100.0));
    }
    // Comic Relief is proportional: "i" is narrower than "m".
    let comic = fonts::comic_relief_bold();
    assert!(comic.advance("i", 100.0, 0.0) < comic.advance("m", 100.0, 0.0));
}

#[test]
fn text_is_drawn_at_its_anchor_and_baseline() {
    let mut canvas = Canvas::new(200, 60);
    canvas.clear(rgb(0, 0, 0));
    let style = TextStyle::new(fonts::mono_bold(), 40.0, hex(0xffffff));
    canvas.text(&style, "H", 100.0, 50.0, Anchor::Middle);
    let image = canvas.to_rgba();
    let lit: Vec<(u32, u32)> = (0..60)
        .flat_map(|y| (0..200).map(move |x| (x, y)))
        .filter(|&(x, y)| image.pixel(x, y)[0] > 128)
        .collect();
    let (min_x, max_x) = (
        lit.iter().map(|p| p.0).min().unwrap(),
        lit.iter().map(|p| p.0).max().unwrap(),
    );
    let max_y = lit.iter().map(|p| p.1).max().unwrap();
    // Centred on x = 100 (an H is symmetric), resting on the baseline y = 50.
    assert!(
        (f64::from(min_x + max_x) / 2.0 - 99.5).abs() <= 1.0,
        "{min_x}..{max_x}"
    );
    assert_eq!(max_y, 49);
}

#[test]
fn fills_round_corners_and_gradients() {
    let mut canvas = Canvas::new(100, 100);
    canvas.clear(rgb(10, 20, 30));
    canvas.fill_round_rect(10.0, 10.0, 80.0, 40.0, 10.0, rgba(255, 0, 0, 0.9));
    canvas.fill_rect_gradient(
        (0.0, 60.0, 100.0, 40.0),
        Point::from_xy(0.0, 60.0),
        Point::from_xy(0.0, 100.0),
        &[(0.0, rgba(0, 0, 0, 0.0)), (1.0, rgba(0, 0, 0, 1.0))],
    );
    let image = canvas.to_rgba();
    // 90% red over the background.
    assert_eq!(image.pixel(50, 30), [231, 2, 3, 255]);
    // The corner's outside (a 10 px radius leaves (10, 10) uncovered) is background.
    assert_eq!(image.pixel(10, 10), [10, 20, 30, 255]);
    // The gradient darkens downwards.
    let (top, bottom) = (image.pixel(50, 61)[2], image.pixel(50, 98)[2]);
    assert!(top >= 28 && bottom <= 2, "{top} {bottom}");
}

#[test]
fn blur_keeps_flat_areas_and_mixes_edges() {
    let mut canvas = Canvas::new(120, 40);
    canvas.clear(rgb(0, 0, 0));
    canvas.fill_rect(60.0, 0.0, 60.0, 40.0, rgb(200, 100, 0));
    canvas.blur(8.0);
    let image = canvas.to_rgba();
    assert_eq!(
        image.pixel(5, 20),
        [0, 0, 0, 255],
        "21 px or more from the edge: untouched"
    );
    assert_eq!(image.pixel(115, 20), [200, 100, 0, 255]);
    let mid = image.pixel(60, 20);
    assert!((80..=120).contains(&mid[0]), "{mid:?}");
}

#[test]
fn resampling_for_tiles_frames_and_previews() {
    let data: Vec<u8> = (0..4 * 2).flat_map(|i| [i as u8 * 10, 0, 0, 255]).collect();
    let image = Rgba::new(4, 2, data).unwrap();
    assert_eq!(image.half().pixel(0, 0), [25, 0, 0, 255]); // (0 + 10 + 40 + 50) / 4
    assert_eq!(image.scale_up(2).pixel(7, 3), [70, 0, 0, 255]);
    let wide = Rgba::new(4, 2, [[9, 9, 9, 255]; 8].concat()).unwrap();
    let covered = wide.cover(3, 3);
    assert_eq!((covered.width(), covered.height()), (3, 3));
    assert_eq!(covered.pixel(1, 1), [9, 9, 9, 255]);
    assert!(Rgba::new(2, 2, vec![0; 15]).is_err());
    let half_alpha = Rgba::new(1, 1, vec![200, 100, 50, 128])
        .unwrap()
        .over_black();
    assert_eq!(half_alpha.pixel(0, 0), [100, 50, 25, 255]);
}
