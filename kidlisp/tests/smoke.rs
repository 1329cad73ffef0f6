//! Pieces in the style of the most-viewed KidLisp corpus (KIDLISP.md §14)
//! and some hostile ones: each renders several frames without panicking.

use std::collections::HashMap;

use kidlisp::{Event, Image, Options, Program, Renderer};

const PIECES: &[&str] = &[
    "purple, ink, line, blur 5",
    "(fps 24)\n(0.25s (wipe (... red yellow blue)))\n(ink (... red yellow blue))\n(line w/2 0 w/2 h)\n(scroll frame frame)",
    "fade:black-red-rainbow-red-black:frame\n(ink (? rainbow white 0) (1s... 24 64))\n(line)\n(spin (2s... -1.125 1.125))\n(zoom 1.1)\n(0.5s (contrast 1.05))\n(scroll (? -1 1) (? -1 1))\n(circle w/2 h/2 (? 2 4 8))",
    "(1s (coat fade:red-blue:frame 64)) (0.3s (zoom 0.5)) (scroll 1)",
    "blue",
    "black\n(ink (? c0 erase) 128)\n(line)\n(scroll 2)\n(bake)\n(ink red)\n(box)\n(bake)\n(burn)\n(blur 8)\n(contrast 1.25)",
    "fade:red-blue:vertical\n(spin -10)\n(scroll frame -5)\n(blur)\n(bake)\n(stamp #dml 20 20)\n(zoom (.25s... .8 ?))\n(write (... \"dog\" \"god\") 10 h/2 zebra)",
    "(wipe blue)",
    "salmon\n5s (circle ? ? 32)\n(flood ? ?)\n(repeat 30 point)\n(scroll (2s... 1 0 -1))\n(zoom 0.9)\n(blur 0.5)\n(contrast 2)\n(spin (0.5s... -0.1 0.1))\n(line 0 0 w h",
    "(shape 214 0 32) 255",
    "brown",
    "gray\n(ink black 10)\n(box)",
    "(wipe fade:zebra-rainbow-zebra) (zoom 0.25)",
    "(wipe fade:zebra-zebra-zebra-rainbow:frame*2)",
    "(once noise) (spin (0.5s... 1 -1)) (suck 1) (contrast 1.01)",
    "fade:cyan-magenta\n(ink (? red lime) 32)\n(line)\n(0.15s (zoom 0.2))\n(scroll 1 0.25)\n(0.1s (contrast 1.1))\n(0.5s (ink rainbow) (repeat 10 point))",
    "(wipe brown) (2s... ((line) (line)) (box 0 0 25 25))",
    "black\n(ink rainbow 127)\n(repeat 100 point)\n(zoom 1.05)\n(spin 1)\n(scroll 20)",
    "(mask 0 0 w/2 h) (scroll 2) (unmask) (mask w/2 0 w/2 h) (scroll -2) (unmask)",
    "(ink blue) (write \"hello casey\" 16 16)",
    "($pie 0 0 w/2 h) ($febs w/2 0 w/2 h)",
    "(repeat 50 i (ink i 0 0) (box (* i 2) 0 2 2))",
    "(later grow n (box n n n n)) (grow 5) (def x 3) (now x 9) (die x)",
    "(tri 0 0 1e9 -1e9 -1e9 1e9) (line -1e12 0 1e12 5) (circle 0 0 1e15) (box -1e9 -1e9 1e10 1e10)",
    "(sort) (sharpen 1) (shear 0.1 0.2) (flip) (invert) (brightness 40) (suck -3) (pan 3) (point 1 1) (unpan)",
    "(ink erase) (bake) (ink erase 128) (box 0 0 10 10) (line 0 0 20 20) (circle 5 5 3 false) (oval 10 10 5 3)",
    ") ) (",
    "(((((((((((((((((((((((((((((((line)))))))))))))))))))))))))))))))",
    "#e8j\n(paste #48q 1 1 2)\n(stamp #48q 10 10 0.5 45)",
    "(def 3 4) (def) (repeat) (repeat -1 line) (random) (random 5 1) (? ) (choose) (now nope 1) (wiggle)",
    "(write 12345 center center red 3) (write \"a\nb\" 0 0 nil)",
    "kidlisp",
    "(mask -1e9 -1e9 2e9 2e9) (wipe red) (wipe fade:red-blue) (zoom 2) (spin 3) (suck 2) (zoom 1.01) (write \"xyz\" 0 0 red 99) (unmask)",
    "(mask -3 -2 50 40) (wipe fade:red-blue:45) (box 0 0 20 20) (scroll 3 3) (blur 3) (sort) (flip) (unmask)",
];

#[test]
fn corpus_style_and_hostile_pieces_render() {
    let mut embeds = HashMap::new();
    embeds.insert("$pie".to_string(), "(fps 24)\n(0.25s (wipe (... red yellow blue)))\n(ink (... red yellow blue))\n(line w/2 0 w/2 h)".to_string());
    embeds.insert(
        "$febs".to_string(),
        "fade:red-blue\n(scroll (1s... -1 1) -1)".to_string(),
    );
    let mut stamps = HashMap::new();
    stamps.insert(
        "#48q".to_string(),
        Image {
            width: 3,
            height: 2,
            rgba: [200, 10, 10, 255, 0, 0, 0, 0, 10, 200, 10, 128].repeat(2),
        },
    );
    for src in PIECES {
        let program = match Program::parse(src) {
            Ok(p) => p,
            Err(e) => {
                assert!(src.starts_with(')'), "{src}: {e}");
                continue;
            }
        };
        let options = Options {
            seed: 7,
            epoch_ms: 1000.0,
            step_ms: 100.0,
            embeds: embeds.clone(),
            stamps: stamps.clone(),
            ..Options::default()
        };
        let mut r = Renderer::new(&program, 80, 60, options).unwrap();
        for f in 0..12 {
            let events = if f == 3 {
                vec![
                    Event::Touch { x: 3.0, y: 4.0 },
                    Event::Draw {
                        x: 5.0,
                        y: 6.0,
                        dx: 2.0,
                        dy: 2.0,
                    },
                    Event::Lift { x: 5.0, y: 6.0 },
                ]
            } else {
                vec![]
            };
            let _ = r.render_frame(&events);
            assert_eq!(r.pixels().len(), 80 * 60 * 4, "{src}");
        }
    }
}
