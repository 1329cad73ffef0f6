//! Native timing harness for the renderer (issue #14): frames per second of the three benchmark
//! pieces of `bench/src/kidlisp.rs` at 256², 512², 1024² and 1200×630, plus a SHA-256 of the last
//! frame so that an optimisation can be checked to leave every byte as it was.
//!
//! ```sh
//! cargo run --release -p kidlisp --example frames            # 30 timed frames per cell
//! cargo run --release -p kidlisp --example frames -- 10      # fewer frames, quicker
//! cargo run --release -p kidlisp --example frames -- 10 roz  # only pieces whose name holds "roz"
//! ```
//!
//! This is a harness, not a test: timings depend on the machine and its load.

use std::time::Instant;

use kidlisp::{Options, Program, Renderer};
use sha2::{Digest, Sha256};

/// `$roz`'s shape (KIDLISP.md §14.1), as in `bench/src/kidlisp.rs`.
const ROZ_LIKE: &str = "fade:red-blue-black-blue-red\n\
    (ink (? rainbow white 0) (1s... 24 64))\n\
    (line)\n\
    (spin (2s... -1.125 1.125))\n\
    (zoom 1.1)\n\
    (0.5s (contrast 1.05))\n\
    (scroll (? -0.1 0 0.1) (? -0.1 0 0.1))\n\
    (ink (? rainbow white 0) (1s... 24 64))\n\
    (circle w/2 h/2 (? 2 4 8))";

/// `$bop`'s shape: a first-line colour, random ink, a random line, blur.
const BOP_LIKE: &str = "purple\n(ink)\n(line)\n(blur 5)";

/// `$bair`'s shape: rainbow points, zoom, spin, scroll.
const BAIR_LIKE: &str =
    "black\n(ink rainbow 127)\n(repeat 100 point)\n(zoom 1.05)\n(spin 1)\n(scroll 20)";

const PIECES: [(&str, &str); 3] = [
    ("$roz-like", ROZ_LIKE),
    ("$bop-like", BOP_LIKE),
    ("$bair-like", BAIR_LIKE),
];

const SIZES: [(usize, usize); 4] = [(256, 256), (512, 512), (1024, 1024), (1200, 630)];

/// Frames rendered before timing starts (the first frames allocate the canvases).
const WARM_UP: u32 = 3;

fn main() {
    let mut args = std::env::args().skip(1);
    let frames: u32 = args
        .next()
        .map(|a| a.parse().expect("the first argument is a frame count"))
        .unwrap_or(30)
        .max(1);
    let only = args.next().unwrap_or_default();
    println!(
        "{:<11} {:>9} {:>10} {:>9}  sha256 of frame {} (first 16 hex)",
        "piece",
        "size",
        "frames/s",
        "ms/frame",
        WARM_UP + frames - 1
    );
    for (name, source) in PIECES.iter().filter(|(n, _)| n.contains(&only)) {
        let program = Program::parse(source).expect("a bench piece parses");
        for (w, h) in SIZES {
            let mut r = Renderer::new(&program, w, h, Options::default()).expect("a bench size");
            for _ in 0..WARM_UP {
                r.render_frame(&[]).expect("a bench piece runs");
            }
            let started = Instant::now();
            for _ in 0..frames {
                r.render_frame(&[]).expect("a bench piece runs");
            }
            let secs = started.elapsed().as_secs_f64();
            let hash: String = Sha256::digest(r.pixels())
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect();
            println!(
                "{name:<11} {:>9} {:>10.1} {:>9.1}  {hash}",
                format!("{w}x{h}"),
                f64::from(frames) / secs,
                secs * 1000.0 / f64::from(frames)
            );
        }
    }
}
