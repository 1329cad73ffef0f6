//! Hand-written pieces checked by pixels: one per primitive and effect, the
//! frame model, timers, seeding, parse errors and the step budget.

use std::collections::HashMap;

use kidlisp::{Event, Image, Missing, Options, Program, Renderer};

fn renderer(src: &str, w: usize, h: usize, options: Options) -> Renderer {
    let p = Program::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    Renderer::new(&p, w, h, options).unwrap()
}

/// Render `frames` frames and answer the last one.
fn render(src: &str, w: usize, h: usize, frames: u64) -> Vec<u8> {
    let mut r = renderer(src, w, h, Options::default());
    let mut last = vec![];
    for _ in 0..frames {
        last = r.render_frame(&[]).unwrap().to_vec();
    }
    last
}

fn px(buf: &[u8], w: usize, x: usize, y: usize) -> [u8; 4] {
    let i = (y * w + x) * 4;
    [buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]
}

const BLACK: [u8; 4] = [0, 0, 0, 255];
const WHITE: [u8; 4] = [255, 255, 255, 255];
const RED: [u8; 4] = [255, 0, 0, 255];

#[test]
fn box_fills_rows_and_columns_exactly() {
    let b = render("(wipe black) (ink red) (box 2 3 4 5)", 16, 16, 1);
    assert_eq!(px(&b, 16, 2, 3), RED);
    assert_eq!(px(&b, 16, 5, 7), RED);
    assert_eq!(px(&b, 16, 6, 3), BLACK);
    assert_eq!(px(&b, 16, 1, 3), BLACK);
    assert_eq!(px(&b, 16, 2, 8), BLACK);
}

#[test]
fn box_outline_sits_outside_the_rectangle() {
    let b = render(
        "(wipe black) (ink white) (outline) (box 4 4 3 3)",
        12,
        12,
        1,
    );
    assert_eq!(px(&b, 12, 3, 3), WHITE);
    assert_eq!(px(&b, 12, 7, 7), WHITE);
    assert_eq!(px(&b, 12, 7, 5), WHITE);
    assert_eq!(px(&b, 12, 4, 4), BLACK);
    assert_eq!(px(&b, 12, 6, 6), BLACK);
}

#[test]
fn lines_include_both_ends() {
    let b = render(
        "(wipe black) (ink white) (line 0 0 7 7) (line 1 9 6 9)",
        10,
        10,
        1,
    );
    for k in 0..8 {
        assert_eq!(px(&b, 10, k, k), WHITE, "diagonal {k}");
    }
    assert_eq!(px(&b, 10, 1, 0), BLACK);
    assert_eq!(px(&b, 10, 1, 9), WHITE);
    assert_eq!(px(&b, 10, 6, 9), WHITE);
    assert_eq!(px(&b, 10, 7, 9), BLACK);
    assert_eq!(px(&b, 10, 0, 9), BLACK);
}

#[test]
fn filled_and_outlined_circles() {
    let b = render("(wipe black) (ink white) (circle 8 8 5)", 17, 17, 1);
    assert_eq!(px(&b, 17, 8, 8), WHITE);
    assert_eq!(px(&b, 17, 8, 4), WHITE);
    assert_eq!(px(&b, 17, 0, 0), BLACK);
    let o = render(
        "(wipe black) (ink white) (outline) (circle 8 8 5)",
        17,
        17,
        1,
    );
    assert_eq!(px(&o, 17, 8, 3), WHITE);
    assert_eq!(px(&o, 17, 13, 8), WHITE);
    assert_eq!(px(&o, 17, 8, 8), BLACK);
}

#[test]
fn point_tri_shape_and_flood() {
    let b = render("(wipe black) (ink white) (point 3 2)", 8, 8, 1);
    assert_eq!(px(&b, 8, 3, 2), WHITE);
    assert_eq!(px(&b, 8, 2, 2), BLACK);
    let t = render("(wipe black) (ink white) (tri 0 0 15 0 0 15)", 16, 16, 1);
    assert_eq!(px(&t, 16, 3, 3), WHITE);
    assert_eq!(px(&t, 16, 14, 14), BLACK);
    let s = render(
        "(wipe black) (ink white) (shape 2 2 12 2 12 12 2 12)",
        16,
        16,
        1,
    );
    assert_eq!(px(&s, 16, 7, 7), WHITE);
    assert_eq!(px(&s, 16, 14, 14), BLACK);
    let f = render(
        "(wipe black) (ink red) (box 0 0 4 4) (ink blue) (flood 1 1)",
        8,
        8,
        1,
    );
    assert_eq!(px(&f, 8, 1, 1), [0, 0, 255, 255]);
    assert_eq!(px(&f, 8, 3, 3), [0, 0, 255, 255]);
    assert_eq!(px(&f, 8, 5, 5), BLACK);
}

#[test]
fn translucent_ink_blends_with_acs_integer_formula() {
    // k = 129: r = (129·255) >> 8 = 128, b = (127·255) >> 8 = 126.
    let b = render("(wipe 0 0 255) (ink 255 0 0 128) (box 0 0 4 4)", 4, 4, 1);
    assert_eq!(px(&b, 4, 1, 1), [128, 0, 126, 255]);
}

#[test]
fn write_draws_glyphs_in_the_ink() {
    let b = render("(wipe black) (ink white) (write \"I\" 0 0)", 16, 12, 1);
    let lit = (0..10)
        .flat_map(|y| (0..8).map(move |x| (x, y)))
        .filter(|&(x, y)| px(&b, 16, x, y) == WHITE)
        .count();
    assert!(lit > 5, "{lit} pixels lit");
    assert!((8..16).all(|x| px(&b, 16, x, 2) == BLACK));
}

#[test]
fn write_centres_on_a_bare_center_without_logging_it() {
    // "I" is one 6×10 cell: centred in 16×12 its cell starts at x = 5, y = 1.
    let mut r = renderer(
        "(wipe black) (ink white) (write \"I\" center center)",
        16,
        12,
        Options::default(),
    );
    let b = r.render_frame(&[]).unwrap().to_vec();
    let lit: Vec<(usize, usize)> = (0..12)
        .flat_map(|y| (0..16).map(move |x| (x, y)))
        .filter(|&(x, y)| px(&b, 16, x, y) == WHITE)
        .collect();
    assert!(!lit.is_empty());
    assert!(
        lit.iter()
            .all(|&(x, y)| (5..11).contains(&x) && (1..11).contains(&y)),
        "{lit:?}"
    );
    assert!(
        r.log().iter().all(|l| !l.contains("unknown word")),
        "{:?}",
        r.log()
    );
}

#[test]
fn scroll_wraps_left_and_down() {
    // KIDLISP.md §15 item 1: +dx moves the image LEFT, +dy moves it DOWN, wrapping.
    let b = render(
        "(if (= frame 0) (wipe black) (ink white) (point 0 0)) (scroll 1 1)",
        8,
        4,
        1,
    );
    assert_eq!(px(&b, 8, 7, 1), WHITE);
    assert_eq!(px(&b, 8, 0, 0), BLACK);
    assert_eq!(px(&b, 8, 1, 1), BLACK);
    // Fractions accumulate: two calls of 0.5 make one pixel.
    let f = render(
        "(if (= frame 0) (wipe black) (ink white) (point 4 0)) (scroll 0.5 0)",
        8,
        4,
        2,
    );
    assert_eq!(px(&f, 8, 3, 0), WHITE);
}

#[test]
fn zoom_spin_blur_contrast_invert() {
    let z = render("(wipe black) (ink white) (point 4 4) (zoom 2)", 8, 8, 1);
    assert_eq!(px(&z, 8, 3, 3), WHITE);
    assert_eq!(px(&z, 8, 4, 4), WHITE);
    assert_eq!(px(&z, 8, 5, 5), BLACK);
    let s = render("(wipe black) (ink white) (point 6 4) (spin 90)", 8, 8, 1);
    assert_eq!(px(&s, 8, 4, 6), WHITE);
    assert_eq!(px(&s, 8, 6, 4), BLACK);
    let b = render("(wipe black) (ink white) (point 4 4) (blur 2)", 9, 9, 1);
    assert!(px(&b, 9, 5, 4)[0] > 0 && px(&b, 9, 4, 4)[0] < 255);
    let c = render("(wipe 100) (contrast 2)", 2, 2, 1);
    assert_eq!(px(&c, 2, 0, 0), [73, 73, 73, 255]);
    let i = render("(wipe 10 20 30) (invert)", 2, 2, 1);
    assert_eq!(px(&i, 2, 1, 1), [245, 235, 225, 255]);
}

#[test]
fn suck_sort_flip_and_mask() {
    let s = render(
        "(wipe black) (ink white) (box 0 0 16 2) (suck 4)",
        16,
        16,
        1,
    );
    assert_ne!(
        s,
        render("(wipe black) (ink white) (box 0 0 16 2)", 16, 16, 1)
    );
    let o = render("(wipe white) (ink black) (point 3 3) (sort)", 4, 4, 1);
    assert_eq!(px(&o, 4, 0, 0), BLACK);
    assert_eq!(px(&o, 4, 3, 3), WHITE);
    let f = render("(wipe black) (ink white) (box 0 0 4 1) (flip)", 4, 4, 1);
    assert_eq!(px(&f, 4, 0, 3), WHITE);
    assert_eq!(px(&f, 4, 0, 0), BLACK);
    let m = render("(wipe black) (mask 0 0 2 2) (wipe red) (unmask)", 4, 4, 1);
    assert_eq!(px(&m, 4, 1, 1), RED);
    assert_eq!(px(&m, 4, 2, 2), BLACK);
}

#[test]
fn colours_names_palette_fade_rainbow() {
    let c = render("(wipe c64)", 2, 2, 1);
    assert_eq!(px(&c, 2, 0, 0), [46, 125, 50, 255]);
    let f = render("(wipe fade:red-blue)", 8, 2, 1);
    assert_eq!(px(&f, 8, 0, 0), RED);
    assert_eq!(px(&f, 8, 7, 0), [0, 0, 255, 255]);
    let r = render(
        "(wipe black) (ink rainbow) (point 0 0) (ink rainbow) (point 1 0)",
        2,
        1,
        1,
    );
    assert_eq!(px(&r, 2, 0, 0), RED);
    assert_eq!(px(&r, 2, 1, 0), [255, 165, 0, 255]);
}

#[test]
fn first_line_colour_paints_once_but_wipe_every_frame() {
    // A bare first-line colour fills the persistent canvas once, so points accumulate.
    let acc = render("purple, ink white, point frame 0", 4, 2, 3);
    for x in 0..3 {
        assert_eq!(px(&acc, 4, x, 0), WHITE, "accumulated point {x}");
    }
    assert_eq!(px(&acc, 4, 3, 0), [128, 0, 128, 255]);
    // A `(wipe …)` statement repaints every frame, so only the last point remains.
    let wiped = render("(wipe purple) (ink white) (point frame 0)", 4, 2, 3);
    assert_eq!(px(&wiped, 4, 2, 0), WHITE);
    assert_eq!(px(&wiped, 4, 0, 0), [128, 0, 128, 255]);
    assert_eq!(px(&wiped, 4, 1, 0), [128, 0, 128, 255]);
}

#[test]
fn timers_fire_on_clock_multiples() {
    // t = 0.5 s + 0.25 s per frame: `1s` fires when floor(t) changes (frames 2 and 6).
    let options = Options {
        epoch_ms: 500.0,
        step_ms: 250.0,
        ..Options::default()
    };
    let mut r = renderer(
        "black\n(ink white)\n1s (point frame 0)",
        8,
        1,
        options.clone(),
    );
    let mut last = vec![];
    for _ in 0..8 {
        last = r.render_frame(&[]).unwrap().to_vec();
    }
    let lit: Vec<usize> = (0..8).filter(|&x| px(&last, 8, x, 0) == WHITE).collect();
    assert_eq!(lit, vec![2, 6]);
    // As the first statement, a timer also fires the first time it is seen.
    let mut r = renderer("black\n1s (ink white) (point frame 0)", 8, 1, options);
    for _ in 0..8 {
        last = r.render_frame(&[]).unwrap().to_vec();
    }
    let lit: Vec<usize> = (0..8).filter(|&x| px(&last, 8, x, 0) == WHITE).collect();
    assert_eq!(lit, vec![0, 2, 6]);
}

#[test]
fn cycles_follow_the_clock() {
    let options = Options {
        epoch_ms: 0.0,
        step_ms: 500.0,
        ..Options::default()
    };
    let mut r = renderer("(wipe (1s... red blue))", 1, 1, options);
    let a = r.render_frame(&[]).unwrap().to_vec();
    let b = r.render_frame(&[]).unwrap().to_vec();
    let c = r.render_frame(&[]).unwrap().to_vec();
    assert_eq!(px(&a, 1, 0, 0), RED);
    assert_eq!(px(&b, 1, 0, 0), RED);
    assert_eq!(px(&c, 1, 0, 0), [0, 0, 255, 255]);
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let src = "(wipe 8) (repeat 20 (ink) (line (random width) (random height) (random width) (random height))) (box) (circle)";
    let run = |seed| {
        let mut r = renderer(
            src,
            64,
            48,
            Options {
                seed,
                ..Options::default()
            },
        );
        (0..3)
            .map(|_| r.render_frame(&[]).unwrap().to_vec())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

#[test]
fn parse_errors_name_line_and_column() {
    let e = Program::parse("(wipe red))").unwrap_err();
    assert_eq!((e.line, e.column), (1, 11));
    let e = Program::parse("(ink red)\n(line 0 0 9 9)\n  (write \"oops)").unwrap_err();
    assert_eq!((e.line, e.column), (3, 10));
    assert!(e.message.contains("unterminated"));
    let p = Program::parse("(ink red\n(box 0 0 4 4)").unwrap();
    assert!(p.warnings().iter().any(|w| w.contains("missing")));
}

#[test]
fn step_budget_stops_an_endless_repeat() {
    let mut r = renderer(
        "(repeat 10000 (repeat 10000 (point 1 1)))",
        4,
        4,
        Options::default(),
    );
    let e = r.render_frame(&[]).unwrap_err();
    assert_eq!(e.frame, 0);
    assert!(e.message.contains("budget"), "{e}");
    let mut r = renderer("(repeat 1e12 (point))", 4, 4, Options::default());
    assert!(r.render_frame(&[]).is_err());
    let mut r = renderer("(later spiral (spiral)) (spiral)", 4, 4, Options::default());
    let e = r.render_frame(&[]).unwrap_err();
    assert!(e.message.contains("depth"), "{e}");
    // The next frame gets a fresh budget.
    let mut r = renderer(
        "(if (= frame 1) (repeat 10000 (repeat 10000 (point 1 1))))",
        4,
        4,
        Options::default(),
    );
    assert!(r.render_frame(&[]).is_ok());
    assert_eq!(r.render_frame(&[]).unwrap_err().frame, 1);
}

#[test]
fn unknown_words_are_logged_and_skipped() {
    let mut r = renderer(
        "(wipe black) (frobnicate 1 2) (ink red) (box 0 0 2 2)",
        4,
        4,
        Options::default(),
    );
    let b = r.render_frame(&[]).unwrap().to_vec();
    assert_eq!(px(&b, 4, 1, 1), RED);
    assert!(
        r.log()
            .iter()
            .any(|l| l.contains("unknown word: frobnicate")),
        "{:?}",
        r.log()
    );
}

#[test]
fn def_later_and_maths() {
    let b = render(
        "(wipe black) (def s 3) (later sq x (box x x s s)) (ink white) (sq (+ 1 1)) (ink red) (point (/ 8 0) (% 7 4))",
        8,
        8,
        1,
    );
    assert_eq!(px(&b, 8, 2, 2), WHITE);
    assert_eq!(px(&b, 8, 4, 4), WHITE);
    assert_eq!(px(&b, 8, 5, 5), BLACK);
    // `(/ 8 0)` as an argument takes the fast path, which answers 0.
    assert_eq!(px(&b, 8, 0, 3), RED);
}

#[test]
fn fast_math_shorthand() {
    let b = render("(wipe black) (ink white) (point w/2 h/2)", 8, 6, 1);
    assert_eq!(px(&b, 8, 4, 3), WHITE);
}

#[test]
fn tap_handler_and_pen_position() {
    let mut r = renderer(
        "(wipe black) (tap (ink red)) (box penx peny 1 1)",
        8,
        8,
        Options::default(),
    );
    r.render_frame(&[]).unwrap();
    let b = r
        .render_frame(&[Event::Touch { x: 5.0, y: 6.0 }])
        .unwrap()
        .to_vec();
    assert_eq!(px(&b, 8, 5, 6), RED);
}

#[test]
fn embeds_and_stamps_come_from_the_options() {
    let mut embeds = HashMap::new();
    embeds.insert("$abc".to_string(), "(wipe red)".to_string());
    let mut stamps = HashMap::new();
    stamps.insert(
        "#img".to_string(),
        Image {
            width: 2,
            height: 2,
            rgba: [0, 255, 0, 255].repeat(4),
        },
    );
    let options = Options {
        embeds,
        stamps,
        ..Options::default()
    };
    let mut r = renderer(
        "(wipe black) ($abc 0 0 4 4) (paste #img 6 6)",
        10,
        10,
        options,
    );
    let b = r.render_frame(&[]).unwrap().to_vec();
    assert_eq!(px(&b, 10, 1, 1), RED);
    assert_eq!(px(&b, 10, 5, 5), BLACK);
    assert_eq!(px(&b, 10, 7, 7), [0, 255, 0, 255]);
    assert!(r.missing().is_empty());
    let mut r = renderer("($nope)", 4, 4, Options::default());
    r.render_frame(&[]).unwrap();
    assert!(r.log().iter().any(|l| l.contains("$nope")));
}

#[test]
fn inputs_the_piece_asks_for_but_lacks_are_listed_once_with_their_first_frame() {
    let mut r = renderer(
        "(wipe black) (if (> frame 1) (paste #gone 1 1)) ($nope 0 0 2 2) ($nope 2 2 2 2)",
        8,
        8,
        Options::default(),
    );
    for _ in 0..4 {
        r.render_frame(&[]).unwrap();
    }
    assert_eq!(
        r.missing(),
        [
            Missing::Source {
                code: "$nope".into(),
                frame: 0
            },
            Missing::Image {
                key: "#gone".into(),
                frame: 2
            },
        ]
    );
}

#[test]
fn bake_keeps_layers() {
    let b = render(
        "(wipe black) (bake) (if (= frame 0) (ink red) (box 0 0 2 2))",
        4,
        4,
        3,
    );
    assert_eq!(px(&b, 4, 1, 1), RED);
    assert_eq!(px(&b, 4, 3, 3), BLACK);
}

#[test]
fn empty_program_is_a_checkerboard() {
    let b = render("", 64, 64, 1);
    assert_eq!(px(&b, 64, 0, 0), [60, 60, 60, 255]);
    assert_eq!(px(&b, 64, 40, 0), [240, 240, 240, 255]);
}

#[test]
fn sizes_are_bounded() {
    let p = Program::parse("(wipe red)").unwrap();
    assert!(Renderer::new(&p, 0, 10, Options::default()).is_err());
    assert!(Renderer::new(&p, 5000, 10, Options::default()).is_err());
}

/// The `$code` words a host fetches for a piece: each once, in order, with or without a frame
/// rate, never from inside a quoted string.
#[test]
fn embedded_codes_are_the_dollar_words_in_order() {
    let program = Program::parse(
        "($cow 0 0 8 8) (ink \"$nope\") (repeat 2 ($r2f:24 1 1)) $cow ($39i) (wipe)",
    )
    .unwrap();
    assert_eq!(program.embedded_codes(), ["cow", "r2f", "39i"]);
    assert!(
        Program::parse("(wipe red)")
            .unwrap()
            .embedded_codes()
            .is_empty()
    );
}
