//! The `kidlisp-og` and `notepat-og` job types end to end: the real plugins in a real host,
//! each layout's pixels checked at the places shared/OVEN.md §5.2 and §6 give (tile grid cells,
//! the wordmark's letter colours, frames and borders, panels and bands, pad colours), the
//! pieces' captures checked against the `kidlisp` library's own frames, byte-identical reruns,
//! bad inputs refused by name, and each card's render time printed.

use kiln::ErrorKind;
use kiln::jobs::JobOutcome;
use kiln_test_support::*;
use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One host for this file; a mosaic plays up to 16 pieces for 8 s of virtual time each, so the
/// job's time and CPU budgets are raised above the defaults.
fn kiln() -> &'static TestKiln {
    static KILN: OnceLock<TestKiln> = OnceLock::new();
    KILN.get_or_init(|| {
        TestKiln::start_with(|c| {
            c.jobs.timeout_ms = 120_000;
            c.plugins.cpu_ms = 120_000;
            // A piece store that is down: a loopback port nothing listens on (tests never
            // reach the real one, even on a machine that could).
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            c.sources.base_url = format!("http://{}", closed.local_addr().unwrap());
            c.sources.allowed_hosts = vec!["127.0.0.1".into()];
            c.sources.allow_private = true;
            c.jobs.unavailable_retries = 0;
        })
    })
}

fn og(input: Value) -> JobOutcome {
    kiln().run(json!({"type": "kidlisp-og", "input": input}))
}

fn card(outcome: &JobOutcome) -> image::RgbaImage {
    let bytes = std::fs::read(artifact(outcome, "card.png")).unwrap();
    let image = image::load_from_memory(&bytes).unwrap().to_rgba8();
    assert_eq!(image.dimensions(), (1200, 630));
    image
}

fn px(image: &image::RgbaImage, x: u32, y: u32) -> [u8; 3] {
    let p = image.get_pixel(x, y).0;
    [p[0], p[1], p[2]]
}

fn near(a: [u8; 3], b: [u8; 3], tolerance: u8) -> bool {
    a.iter().zip(b).all(|(&x, y)| x.abs_diff(y) <= tolerance)
}

fn assert_near(image: &image::RgbaImage, x: u32, y: u32, want: [u8; 3], tolerance: u8) {
    let got = px(image, x, y);
    assert!(
        near(got, want, tolerance),
        "({x}, {y}) is {got:?}, want {want:?} ±{tolerance}"
    );
}

/// Whether any pixel in the rectangle is within `tolerance` of `want`.
fn any_in(
    image: &image::RgbaImage,
    x: (u32, u32),
    y: (u32, u32),
    want: [u8; 3],
    tolerance: u8,
) -> bool {
    (y.0..y.1).any(|yy| (x.0..x.1).any(|xx| near(px(image, xx, yy), want, tolerance)))
}

fn piece(code: &str, source: &str, hits: u64) -> Value {
    json!({"code": code, "source": source, "hits": hits, "handle": "@jeffrey"})
}

/// The library's own frame `frame` of `source` at `w × h` (what a capture must show).
fn library_frame(source: &str, w: usize, h: usize, frame: u64, epoch_ms: f64) -> Vec<u8> {
    let program = kidlisp::Program::parse(source).unwrap();
    let options = kidlisp::Options {
        epoch_ms,
        ..kidlisp::Options::default()
    };
    let mut r = kidlisp::Renderer::new(&program, w, h, options).unwrap();
    for _ in 0..frame {
        r.render_frame(&[]).unwrap();
    }
    r.render_frame(&[]).unwrap().to_vec()
}

/// 2026-11-30's midnight, UTC, in ms: the pieces' clock starts there.
const NOV_30_MS: f64 = 1_795_996_800_000.0;

/// The featured card: the piece full-bleed, then the band from transparent to 85% black over
/// the bottom 100 px, white `KidLisp.com` at the left and the grey caption at the right.
#[test]
fn featured_shows_the_piece_under_a_fading_band_and_caption() {
    let outcome = og(json!({
        "layout": "featured",
        "pieces": [piece("blue", "(wipe 0 0 255)", 4634)],
        "date": "2026-11-30",
    }));
    let image = card(&outcome);
    assert_near(&image, 600, 300, [0, 0, 255], 0);
    assert_near(&image, 600, 529, [0, 0, 255], 0);
    // Band row y is (y − 530 + 0.5) / 100 of the way to 0.85 black.
    for y in [535u32, 580, 625] {
        let t = (f64::from(y) - 530.0 + 0.5) / 100.0;
        let blue = (255.0 * (1.0 - 0.85 * t)).round() as u8;
        assert_near(&image, 600, y, [0, 0, blue], 3);
    }
    assert!(
        any_in(&image, (24, 220), (585, 607), [255, 255, 255], 10),
        "KidLisp.com in white"
    );
    assert!(
        any_in(&image, (900, 1176), (590, 607), [204, 204, 204], 12),
        "the caption in #ccc"
    );
    let log = format!("{:?}", outcome.log);
    assert!(log.contains("featured $blue"), "{log}");
}

/// The mosaic: a 4×4 grid of 300×158 tiles (pieces repeated in order), blurred and veiled with
/// 35% black; the wordmark's letters in their own colours, left to right.
#[test]
fn mosaic_tiles_blur_veil_and_wordmark_colours() {
    let colours = [[255u8, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]];
    let pieces: Vec<Value> = colours
        .iter()
        .enumerate()
        .map(|(i, [r, g, b])| {
            piece(
                &format!("t{i}"),
                &format!("(wipe {r} {g} {b})"),
                10 - i as u64,
            )
        })
        .collect();
    let outcome = og(json!({"layout": "mosaic", "pieces": pieces, "date": "2026-11-30"}));
    let image = card(&outcome);
    // More than 21 px inside a tile (the blur's reach) the tile's colour is untouched by its
    // neighbours, so there it is the colour under the veil, except where a label or the
    // wordmark lies: most sample points of each tile must show exactly that.
    for i in 0..16u32 {
        let (col, row) = (i % 4, i / 4);
        let want = colours[i as usize % 4].map(|c| (f64::from(c) * 0.65).round() as u8);
        let (x0, y0) = (col * 300, row * 158);
        let points: Vec<(u32, u32)> = (0..8)
            .flat_map(|a| (0..5).map(move |b| (x0 + 30 + a * 34, y0 + 25 + b * 27)))
            .filter(|&(_, y)| y < 630)
            .collect();
        let matching = points
            .iter()
            .filter(|&&(x, y)| near(px(&image, x, y), want, 1))
            .count();
        assert!(
            matching * 4 >= points.len(),
            "tile {i}: {matching} of {} points are {want:?}",
            points.len()
        );
    }
    // Across the border of tiles 0 (red) and 1 (green) the blur mixes them.
    let mixed = (20..140).any(|y| {
        let [r, g, _] = px(&image, 300, y);
        r > 40 && g > 40
    });
    assert!(mixed, "the border between red and green is blurred");
    // The wordmark: each column of the middle band holds at most one of the letter colours;
    // read left to right they spell K i d L i s p . c o m.
    let letters: [[u8; 3]; 11] = [
        [0xFF, 0x6B, 0x6B],
        [0x4E, 0xCD, 0xC4],
        [0xFF, 0xE6, 0x6D],
        [0x95, 0xE1, 0xD3],
        [0xF3, 0x81, 0x81],
        [0xAA, 0x96, 0xDA],
        [0x70, 0xD6, 0xFF],
        [0x95, 0xE1, 0xD3],
        [0xFF, 0x6B, 0x6B],
        [0x93, 0x70, 0xDB],
        [0x90, 0xEE, 0x90],
    ];
    let mut runs: Vec<[u8; 3]> = Vec::new();
    let mut last_x = 0;
    for x in 0..1200 {
        let found: Vec<[u8; 3]> = (200..440)
            .map(|y| px(&image, x, y))
            .filter(|p| letters.contains(p))
            .collect();
        let Some(first) = found.first() else { continue };
        assert!(
            found.iter().all(|p| p == first),
            "column {x} holds two letter colours"
        );
        // A gap of empty columns separates letters (two letters of one colour never touch).
        if runs.last() != Some(first) || x > last_x + 1 {
            runs.push(*first);
        }
        last_x = x;
    }
    assert_eq!(
        runs,
        letters.to_vec(),
        "the wordmark's letters, left to right"
    );
}

/// The filmstrip: rgb(20,20,30), five frames 204×204 (2 px white border) from x = 60 every
/// 220 px at y = 180, each the piece at 2 s + k·0.8 s (frames 120, 168, 216, 264, 312 at
/// 60 fps) shown 2×; chevrons between them; title and caption.
#[test]
fn filmstrip_frames_borders_background_and_timing() {
    let source = "(wipe (% frame 256) 0 0)";
    let outcome = og(json!({
        "layout": "filmstrip",
        "pieces": [piece("red", source, 50)],
        "date": "2026-11-30",
    }));
    let image = card(&outcome);
    assert_near(&image, 5, 5, [20, 20, 30], 0);
    assert_near(&image, 600, 450, [20, 20, 30], 0);
    for (k, frame) in [120u64, 168, 216, 264, 312].into_iter().enumerate() {
        let left = 60 + 220 * k as u32;
        let art = library_frame(source, 100, 100, frame, NOV_30_MS);
        let want = [art[0], art[1], art[2]];
        for (x, y) in [
            (left, 180),
            (left + 1, 300),
            (left + 203, 383),
            (left + 100, 181),
        ] {
            assert_near(&image, x, y, [255, 255, 255], 0);
        }
        assert_near(&image, left + 2, 182, want, 0);
        assert_near(&image, left + 102, 282, want, 0);
        assert_near(&image, left + 201, 381, want, 0);
        assert_near(&image, left + 205, 282, [20, 20, 30], 0);
        if k < 4 {
            // The chevron's tip, (15, 15) in its 20×30 box at (260 + 220k, 265).
            assert_near(&image, 275 + 220 * k as u32, 280, [255, 255, 255], 20);
        }
    }
    assert!(
        any_in(&image, (450, 750), (70, 101), [255, 255, 255], 10),
        "the title"
    );
    assert!(
        any_in(&image, (350, 850), (540, 561), [204, 204, 204], 12),
        "the caption"
    );
}

/// Code-split: panel #1a1a2e with the comment and source lines, the preview in a 4 px
/// rgb(80,80,100) frame at (525, 25), the bottom bar at 80% black.
#[test]
fn code_split_panel_border_preview_and_bar() {
    let outcome = og(json!({
        "layout": "code-split",
        "pieces": [piece("grn", "(wipe 0 128 0)\n(ink 255 255 255)\n(box 10000 10000 1 1)", 1200)],
        "date": "2026-11-30",
    }));
    let image = card(&outcome);
    assert_near(&image, 400, 300, [26, 26, 46], 0);
    assert_near(&image, 1160, 300, [26, 26, 46], 0);
    for (x, y) in [
        (525, 25),
        (528, 300),
        (800, 26),
        (1132, 482),
        (1130, 100),
        (700, 481),
    ] {
        assert_near(&image, x, y, [80, 80, 100], 0);
    }
    assert_near(&image, 529, 29, [0, 128, 0], 0);
    assert_near(&image, 800, 250, [0, 128, 0], 0);
    assert_near(&image, 1128, 478, [0, 128, 0], 0);
    // The bar: 80% black over #1a1a2e.
    assert_near(&image, 600, 600, [5, 5, 9], 1);
    assert!(
        any_in(&image, (20, 300), (62, 86), [0x88, 0xff, 0x88], 8),
        "source line 1"
    );
    assert!(
        any_in(&image, (20, 300), (118, 142), [0x88, 0xff, 0x88], 8),
        "source line 3"
    );
    assert!(
        any_in(&image, (20, 200), (28, 42), [0x66, 0x66, 0x66], 8),
        "the // $code comment"
    );
    assert!(
        any_in(&image, (24, 200), (590, 611), [255, 255, 255], 10),
        "KidLisp.com"
    );
    assert!(
        any_in(&image, (900, 1176), (595, 611), [0xaa, 0xaa, 0xaa], 12),
        "the caption"
    );
}

/// The day picks the featured piece among the unique pieces: index dayOfYear mod min(n, 10),
/// after near-duplicate sources are dropped.
#[test]
fn the_date_rotates_the_featured_piece_past_duplicates() {
    let long = "(wipe 255 0 0) (ink 0 0 0) (box 1 1 2 2) (box 3 3 2 2) (box 5 5 2 2)";
    let pieces = json!([
        piece("red", long, 100),
        piece(
            "redcopy",
            &long.replace("(box 5 5 2 2)", "(box 5 5 2 3)"),
            90
        ),
        piece("green", "(wipe 0 255 0)", 80),
        piece("blue", "(wipe 0 0 255)", 70),
    ]);
    // 2026-01-03 is day 3; unique = red, green, blue → 3 mod 3 = 0 → red. Day 2 → blue.
    for (date, want) in [("2026-01-03", [255, 0, 0]), ("2026-01-02", [0, 0, 255])] {
        let image = card(&og(
            json!({"layout": "featured", "pieces": pieces, "date": date}),
        ));
        assert_near(&image, 600, 300, want, 0);
    }
    let image = card(&og(
        json!({"layout": "featured", "pieces": pieces, "featured": "$green"}),
    ));
    assert_near(&image, 600, 300, [0, 255, 0], 0);
}

/// The same input gives the same bytes, for the card with the most drawing.
#[test]
fn the_same_input_gives_the_same_bytes() {
    let input = json!({
        "layout": "mosaic",
        "pieces": [piece("navy", "(wipe navy) (ink yellow) (circle 300 150 80)", 3)],
        "date": "2026-11-30",
    });
    let a = std::fs::read(artifact(&og(input.clone()), "card.png")).unwrap();
    let b = std::fs::read(artifact(&og(input), "card.png")).unwrap();
    assert!(a == b, "two renders of one input differ");
}

/// A tile whose source does not parse is black (and said in the log); a featured piece that
/// does not parse fails the job by name.
#[test]
fn unparsable_pieces_are_black_tiles_or_a_named_failure() {
    let pieces = json!([
        piece("good", "(wipe 255 255 255)", 9),
        piece("bad", "(wipe red))", 8)
    ]);
    let outcome = og(json!({"layout": "mosaic", "pieces": pieces, "date": "2026-11-30"}));
    let image = card(&outcome);
    // Tile 1 (col 1, row 0) is the bad piece: black under the veil wherever no label lies.
    let black = (0..8)
        .filter(|a| px(&image, 330 + a * 30, 40) == [0, 0, 0])
        .count();
    assert!(black >= 2, "tile 1 should be black");
    let log = format!("{:?}", outcome.log);
    assert!(log.contains("$bad: shown as a black tile"), "{log}");
    let outcome = og(json!({"layout": "featured", "pieces": pieces, "featured": "bad"}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(
        message.contains("$bad") && message.contains("does not parse"),
        "{message}"
    );
}

#[test]
fn bad_inputs_are_refused_by_name() {
    let ok = json!([piece("a", "(wipe red)", 1)]);
    let cases = [
        (
            json!({"layout": "grid", "pieces": ok}),
            vec!["featured", "mosaic", "filmstrip", "code-split"],
        ),
        (json!({"layout": "mosaic", "pieces": []}), vec!["pieces"]),
        (
            json!({"layout": "mosaic", "pieces": ok, "date": "2026-02-30"}),
            vec!["input.date"],
        ),
        (
            json!({"layout": "mosaic", "pieces": ok, "featured": "zz"}),
            vec!["$zz"],
        ),
        (
            json!({"layout": "mosaic", "pieces": [{"code": "a b", "source": ""}]}),
            vec!["code"],
        ),
        (
            json!({"layout": "mosaic", "pieces": ok, "colour": 1}),
            vec!["colour"],
        ),
    ];
    // Without pieces the card asks the host's piece sources for the listing; this host's is
    // down, which is named.
    let message = failure(&og(json!({"layout": "mosaic"})), ErrorKind::Unavailable);
    assert!(
        message.contains("/api/tv?types=kidlisp&sort=hits&limit=40"),
        "{message}"
    );
    for (input, words) in cases {
        let outcome = og(input.clone());
        let message = failure(&outcome, ErrorKind::InvalidInput);
        for word in words {
            assert!(message.contains(word), "{input}: {message}");
        }
    }
    let outcome = kiln().run(json!({"type": "notepat-og", "input": {"x": 1}}));
    // (The host's schema check words an unknown field of an input with no fields as "False
    // schema does not allow 1", without the field's name.)
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(message.contains("notepat-og schema"), "{message}");
}

/// notepat-og: background gradient and scan lines, each pad's colour at 90% over it, labels
/// dark on E and F and light elsewhere.
#[test]
fn notepat_pads_background_and_labels() {
    let image = card(&kiln().run(json!({"type": "notepat-og", "input": {}})));
    let bg = |x: u32, y: u32| -> [f64; 3] {
        let t = ((f64::from(x) + 0.5) / 1200.0 + (f64::from(y) + 0.5) / 630.0) / 2.0;
        let (a, b) = ([10.0, 10.0, 18.0], [18.0, 18.0, 30.0]);
        [0, 1, 2].map(|i| a[i] + (b[i] - a[i]) * t)
    };
    for (x, y) in [(20u32, 401u32), (1180, 30), (600, 202)] {
        assert_near(&image, x, y, bg(x, y).map(|c| c.round() as u8), 1);
    }
    // Scan line rows (every 4 px from 0) are 6% darker.
    for (x, y) in [(20u32, 400u32), (1180, 28)] {
        assert_near(&image, x, y, bg(x, y).map(|c| (c * 0.94).round() as u8), 1);
    }
    let rows: [[[u8; 3]; 7]; 2] = [
        [
            [255, 50, 50],
            [255, 160, 0],
            [255, 230, 0],
            [50, 200, 50],
            [50, 120, 255],
            [130, 50, 200],
            [180, 80, 255],
        ],
        [
            [255, 40, 80],
            [255, 180, 0],
            [255, 255, 50],
            [50, 255, 100],
            [50, 200, 255],
            [180, 50, 255],
            [255, 80, 255],
        ],
    ];
    let pad_w = (720.0 - 72.0) / 7.0;
    for (row, colours) in rows.iter().enumerate() {
        for (col, colour) in colours.iter().enumerate() {
            let x0 = 240.0 + col as f64 * (pad_w + 12.0);
            let y0 = 230 + row as u32 * 156;
            let cx = (x0 + pad_w / 2.0) as u32;
            // Above the label, off the scan lines: 90% pad over the background.
            let y = y0 + 21;
            let b = bg(cx, y);
            let want = [0, 1, 2].map(|i| (f64::from(colour[i]) * 0.9 + b[i] * 0.1).round() as u8);
            assert_near(&image, cx, y, want, 2);
            // The label (centre + 10 px baseline, 28 px bold) is dark on E and F, light elsewhere.
            let (lx, ly) = ((cx - 20, cx + 20), (y0 + 72 - 12, y0 + 72 + 10));
            let pad = [0, 1, 2].map(|i| f64::from(want[i]));
            let luma = |p: [f64; 3]| 0.3 * p[0] + 0.59 * p[1] + 0.11 * p[2];
            let found = (ly.0..ly.1).any(|yy| {
                (lx.0..lx.1).any(|xx| {
                    let p = px(&image, xx, yy).map(f64::from);
                    if col == 2 || col == 3 {
                        luma(p) < luma(pad) - 60.0
                    } else {
                        luma(p) > luma(pad) + 25.0
                    }
                })
            });
            assert!(found, "the label of pad ({col}, {row})");
        }
    }
    // The wordmark's colour #e8e4de near (570, 605), bold 42 px.
    assert!(
        any_in(&image, (480, 660), (575, 606), [0xe8, 0xe4, 0xde], 6),
        "notepat"
    );
    assert!(
        any_in(&image, (728, 780), (575, 589), [0x4e, 0xcd, 0xc4], 12),
        ".com"
    );
}

/// Each card's time (warm: after one run), p50 of three; printed, and bounded loosely so a
/// regression that makes a card many times slower fails.
#[test]
fn card_render_times() {
    let pieces: Vec<Value> = (0..16)
        .map(|i| {
            piece(
                &format!("p{i}"),
                &format!(
                    "(wipe {} 40 90) (ink yellow) (circle 300 150 {})",
                    i * 15,
                    20 + i
                ),
                100,
            )
        })
        .collect();
    let jobs = [
        (
            "featured",
            json!({"type": "kidlisp-og", "input": {"layout": "featured", "pieces": pieces, "date": "2026-11-30"}}),
        ),
        (
            "filmstrip",
            json!({"type": "kidlisp-og", "input": {"layout": "filmstrip", "pieces": pieces, "date": "2026-11-30"}}),
        ),
        (
            "code-split",
            json!({"type": "kidlisp-og", "input": {"layout": "code-split", "pieces": pieces, "date": "2026-11-30"}}),
        ),
        (
            "mosaic",
            json!({"type": "kidlisp-og", "input": {"layout": "mosaic", "pieces": pieces, "date": "2026-11-30"}}),
        ),
        ("notepat", json!({"type": "notepat-og", "input": {}})),
    ];
    for (name, job) in jobs {
        assert!(kiln().run(job.clone()).succeeded(), "{name}");
        let mut times: Vec<Duration> = (0..3)
            .map(|_| {
                let start = Instant::now();
                let outcome = kiln().run(job.clone());
                assert!(outcome.succeeded(), "{name}: {:?}", outcome.error);
                start.elapsed()
            })
            .collect();
        times.sort();
        println!("card {name}: p50 {:?} (of 3, warm)", times[1]);
    }
}
