//! Whole-canvas effects pinned byte for byte: the pixels-v1 fixtures do not use `spin`, `zoom`,
//! `scroll`, `blur`, `contrast` or fade backgrounds, so the hashes below were recorded from the
//! renderer before its effects were optimised (issue 14) and every later change must reproduce
//! them. Each case renders `FRAMES` frames and hashes all of them in order; sizes are odd and
//! unequal on purpose (rotation and wrapping centres), masks and pans fractional.
//!
//! After a deliberate change of output, `KIDLISP_GOLDEN_PRINT=1 cargo test -p kidlisp --test
//! effects_golden -- --nocapture` prints the new table.

use kidlisp::{Options, Program, Renderer};
use sha2::{Digest, Sha256};

const FRAMES: usize = 24;

const SIZES: [(usize, usize); 3] = [(67, 41), (48, 48), (160, 90)];

/// The benchmark pieces (bench/src/kidlisp.rs) and pieces aimed at each effect's corners.
const PIECES: [&str; 19] = [
    // $roz-like, $bop-like, $bair-like
    "fade:red-blue-black-blue-red\n(ink (? rainbow white 0) (1s... 24 64))\n(line)\n\
     (spin (2s... -1.125 1.125))\n(zoom 1.1)\n(0.5s (contrast 1.05))\n\
     (scroll (? -0.1 0 0.1) (? -0.1 0 0.1))\n(ink (? rainbow white 0) (1s... 24 64))\n\
     (circle w/2 h/2 (? 2 4 8))",
    "purple\n(ink)\n(line)\n(blur 5)",
    "black\n(ink rainbow 127)\n(repeat 100 point)\n(zoom 1.05)\n(spin 1)\n(scroll 20)",
    // spin: fractional steps accumulate, anchors, big angles; zoom: small steps accumulate
    "black\n(ink rainbow)\n(repeat 30 point)\n(spin 7.3)\n(zoom 0.97)",
    "navy\n(ink yellow)\n(box 3 3 9 9)\n(spin -3 10.5 7.25)\n(zoom 1.3 0.2 0.9)\n(scroll -2.5 1.7)",
    "black\n(ink white)\n(line)\n(spin 1000)\n(zoom 5)\n(scroll 1000 -777)",
    "black\n(ink lime)\n(circle)\n(zoom 0.1 1.5 -0.5)\n(spin 91 -20 300)",
    // right angles about half-pixel anchors land exactly on halves (Math.round's ties)
    "black\n(ink rainbow)\n(repeat 20 point)\n(spin 90 20.5 11)\n(spin 180 5.25 6.75)\n(spin 45)",
    "navy\n(ink white)\n(line)\n(mask 4 2 30 25)\n(spin 270 -0.5 8)\n(zoom 2 0.25 0.75)\n(unmask)",
    // masks (fractional, partly outside) and pans
    "teal\n(ink rainbow)\n(line)\n(mask 5.5 3.2 30.7 20.1)\n(spin 2)\n(zoom 1.2)\n\
     (scroll 3 -2)\n(blur 3)\n(contrast 1.4)\n(unmask)",
    "black\n(ink white)\n(circle)\n(pan 3.5 -2)\n(mask -4 -3 80 30)\n(spin 5)\n\
     (zoom 0.8 0.1 0.7)\n(blur 2)\n(brightness 20)\n(unpan)\n(unmask)",
    // blur: translucent, fractional, large; tone effects
    "(wipe 0 0 0 0)\n(ink 255 0 0 128)\n(circle 20 20 10)\n(blur 1.6)",
    "maroon\n(ink rainbow 200)\n(repeat 5 line)\n(blur 9)\n(contrast 0.7)",
    "(wipe 100 50 200)\n(ink 0 0 0 0)\n(box 0 0 5 5)\n(ink white)\n(line)\n(contrast 1.3)\n\
     (brightness -30)\n(invert)",
    "black\n(ink rainbow)\n(line)\n(suck 1.3)",
    // fade backgrounds and wipes in every direction, with and without a mask
    "fade:red-lime:vertical\n(ink white)\n(point)",
    "fade:navy-orange:diagonal-reverse\n(ink black)\n(line)",
    "fade:red-blue:45\n(ink white)\n(circle)",
    "(wipe black)\n(mask 3.5 2 40 30.5)\n(wipe fade:red-yellow-blue:horizontal-reverse)\n(unmask)\n\
     (mask 10 1 9 60)\n(wipe fade:lime-purple:vertical-reverse)\n(unmask)\n(wipe fade:red-blue:diagonal 80)",
];

/// SHA-256 prefixes (16 hex digits) per piece and size, recorded before the optimisation.
const GOLDEN: [[&str; 3]; 19] = [
    ["456c01d274b4fafe", "30eb55a58ea4716c", "5ac6105b78a5a316"],
    ["6ff77127ec2a9a12", "058aa20a7f78f260", "8592cbfeed5e469f"],
    ["96eaad8d791f5e03", "400954b5a2b42961", "eb8d72cda3e22a94"],
    ["5b5c40009c713022", "e57d327b8a2426b7", "7f1d519cf363f59e"],
    ["396c3dfe561fa061", "aeb26a6697fceae8", "a8f9c1e27b0cff52"],
    ["1f43d16e3f8e79d8", "9cf8444909268c22", "1b23db4b8d9c4b07"],
    ["1ece9798c04c6835", "0beb4b314b4bb183", "05e7e1cd1a88ee17"],
    ["d1bc7ab74c70ac54", "0e6447792ca15307", "0a4bf0c331d3a29d"],
    ["a329e1dbee7805af", "5f225ebc864287d4", "283e6b546b167b38"],
    ["b75b1d900d95bf14", "e2979aa0c9280cb5", "e149e6da20c6beeb"],
    ["b4f89dd805a434d7", "cdece95ccfd58070", "538ce246829c102e"],
    ["dbe932d2e7386870", "8d95c7795a101077", "9d122c52e5cfe754"],
    ["d53b5ca5968e11d2", "fa460ecab6d44926", "dc209c1797bec994"],
    ["80f9712b052c4033", "831bbea1c46048a4", "5a214d6ad9c0c700"],
    ["171056d40f5484b1", "7fe40f3eeb7b7224", "01814a03b3224065"],
    ["3904c4152421b9a1", "11fbbea0748b704b", "76e345e066543868"],
    ["7f69c9a70cb732ca", "f83584a03b10864c", "3d3c004ca9c5daa4"],
    ["78dc3e641c0fc18e", "8662570f7325fa29", "7582f7eab6742d62"],
    ["fc4497d65c6f74ad", "aa70f02a5a5b3d12", "8b2ba15e7055c5c0"],
];

fn hash(source: &str, w: usize, h: usize) -> String {
    let program = Program::parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    let mut r = Renderer::new(&program, w, h, Options::default()).unwrap();
    let mut hasher = Sha256::new();
    for _ in 0..FRAMES {
        hasher.update(r.render_frame(&[]).unwrap());
    }
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn effects_match_the_recorded_bytes() {
    let print = std::env::var_os("KIDLISP_GOLDEN_PRINT").is_some();
    let mut wrong = Vec::new();
    for (i, source) in PIECES.iter().enumerate() {
        let row: Vec<String> = SIZES.iter().map(|&(w, h)| hash(source, w, h)).collect();
        if print {
            println!("    [\"{}\", \"{}\", \"{}\"],", row[0], row[1], row[2]);
        }
        for (k, got) in row.iter().enumerate() {
            if got != GOLDEN[i][k] {
                let (w, h) = SIZES[k];
                wrong.push(format!("piece {i} at {w}x{h}: {got} != {}", GOLDEN[i][k]));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
