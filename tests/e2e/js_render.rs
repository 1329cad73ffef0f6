//! Real pages through the js plugin and real Chromium: pixels, the self-contained HTML artifact,
//! seeding, `kilnReady` gating, and the errors a piece or its input can cause.

use kiln::ErrorKind;
use kiln::jobs::JobOutcome;
use kiln_test_support::*;
use serde_json::{Value, json};
use std::sync::OnceLock;

/// One Kiln for this file's tests. Jobs time out after 4 s (jobs.timeout_ms), to keep the
/// `kilnReady` timeout test short.
fn kiln() -> &'static TestKiln {
    static KILN: OnceLock<TestKiln> = OnceLock::new();
    KILN.get_or_init(|| TestKiln::start_with(|c| c.jobs.timeout_ms = 4_000))
}

fn js(input: Value) -> JobOutcome {
    kiln().run(json!({"type": "js", "input": input}))
}

/// The bytes of the artifact called `name`.
fn named_artifact(outcome: &JobOutcome, name: &str) -> Vec<u8> {
    assert!(
        outcome.succeeded(),
        "job failed: {:?}\nlog: {:#?}",
        outcome.error,
        outcome.log
    );
    let artifact = outcome
        .artifacts
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", outcome.artifacts));
    std::fs::read(
        artifact
            .url
            .strip_prefix("file://")
            .expect("a local artifact"),
    )
    .unwrap()
}

fn decode(png: &[u8]) -> image::RgbaImage {
    image::load_from_memory(png).expect("a PNG").to_rgba8()
}

/// A red 50×20 box at (40, 30) on a blue page.
const BOX_CSS: &str = "html, body { margin: 0; background: rgb(0, 0, 255); }\n\
                       #box { position: absolute; left: 40px; top: 30px; width: 50px; height: 20px; background: rgb(255, 0, 0); }";

/// Paints a grid of `Math.random()` colours on a full-page canvas, and reads a string holding
/// `</script>` (which the inline HTML must escape to keep the script element whole).
const RANDOM_GRID_JS: &str = "const closing = '</script>';\n\
     const canvas = document.querySelector('canvas');\n\
     const g = canvas.getContext('2d');\n\
     for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {\n\
       g.fillStyle = `rgb(${Math.floor(Math.random() * 256)}, ${Math.floor(Math.random() * 256)}, ${closing.length * 20})`;\n\
       g.fillRect(x * 16, y * 16, 16, 16);\n\
     }";

fn random_grid(seed: u64, output_type: &str) -> Value {
    json!({
        "html": "<canvas width=\"128\" height=\"128\"></canvas>",
        "css": "html, body { margin: 0; } canvas { display: block; }",
        "javascript": RANDOM_GRID_JS,
        "width": 128, "height": 128, "seed": seed, "outputType": output_type
    })
}

#[test]
fn red_box_on_blue_has_the_right_pixels_and_size() {
    let outcome = js(json!({
        "html": "<div id=\"box\"></div>", "css": BOX_CSS,
        "width": 200, "height": 120, "outputType": "png"
    }));
    let image = artifact_image(&outcome);
    assert_eq!(image.dimensions(), (200, 120));
    for (x, y, colour, what) in [
        (40, 30, [255, 0, 0, 255], "the box's top-left pixel"),
        (89, 49, [255, 0, 0, 255], "the box's bottom-right pixel"),
        (65, 40, [255, 0, 0, 255], "the box's middle"),
        (39, 40, [0, 0, 255, 255], "left of the box"),
        (90, 40, [0, 0, 255, 255], "right of the box"),
        (65, 50, [0, 0, 255, 255], "below the box"),
        (199, 119, [0, 0, 255, 255], "the bottom-right corner"),
    ] {
        let pixel = image.get_pixel(x, y);
        assert!(near(pixel, colour, 0), "{what} ({x}, {y}) is {pixel:?}");
    }
    assert_eq!(outcome.artifacts[0].name, "image.png");
    assert_eq!(outcome.artifacts[0].content_type, "image/png");
}

#[test]
fn both_gives_a_png_and_a_self_contained_html_that_renders_the_same() {
    let outcome = js(random_grid(11, "both"));
    assert_eq!(outcome.artifacts.len(), 2, "{:?}", outcome.artifacts);
    let png = named_artifact(&outcome, "image.png");
    let html = String::from_utf8(named_artifact(&outcome, "index.html")).unwrap();
    let html_artifact = outcome
        .artifacts
        .iter()
        .find(|a| a.name == "index.html")
        .unwrap();
    assert_eq!(html_artifact.content_type, "text/html; charset=utf-8");

    assert!(html.contains("canvas { display: block; }"), "{html}");
    assert!(
        html.contains("g.fillRect(x * 16, y * 16, 16, 16);"),
        "{html}"
    );
    assert!(html.contains(r"const closing = '<\/script>';"), "{html}");
    assert_eq!(html.matches("</script>").count(), 2, "seed + piece: {html}");
    for link in ["src=", "href="] {
        assert!(!html.contains(link), "{link} in {html}");
    }

    // The offline file, rendered again as a whole document with no seed of the job's own, gives
    // the same pixels: its inline generator is the host's.
    let again = js(json!({"html": html, "width": 128, "height": 128, "outputType": "png"}));
    let first = decode(&png);
    let second = artifact_image(&again);
    assert_eq!(first.dimensions(), second.dimensions());
    let differing = first
        .pixels()
        .zip(second.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differing, 0, "{differing} pixels differ offline");
    // Not a blank page: the blue channel is `'</script>'.length * 20` everywhere.
    assert_eq!(first.get_pixel(5, 5).0[2], 180);
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_differs() {
    let first = artifact_bytes(&js(random_grid(7, "png")));
    let second = artifact_bytes(&js(random_grid(7, "png")));
    let other = artifact_bytes(&js(random_grid(8, "png")));
    assert_eq!(first, second, "same seed, different bytes");
    assert_ne!(first, other, "different seeds gave the same image");
}

#[test]
fn html_alone_is_one_file_and_no_image() {
    let outcome = js(json!({"html": "<p>hi</p>", "width": 10, "height": 10, "outputType": "html"}));
    assert_eq!(outcome.artifacts.len(), 1, "{:?}", outcome.artifacts);
    let html = String::from_utf8(artifact_bytes(&outcome)).unwrap();
    assert!(
        html.starts_with("<!doctype html>") && html.contains("<p>hi</p>"),
        "{html}"
    );
}

#[test]
fn kiln_ready_false_waits_for_true() {
    let outcome = js(json!({
        "css": "html, body { margin: 0; height: 100%; background: rgb(255, 0, 0); }",
        "javascript": "window.kilnReady = false;\n\
                       setTimeout(() => { document.body.style.background = 'rgb(0, 255, 0)'; window.kilnReady = true; }, 200);",
        "width": 64, "height": 64, "outputType": "png"
    }));
    let image = artifact_image(&outcome);
    assert!(
        near(image.get_pixel(32, 32), [0, 255, 0, 255], 0),
        "captured before kilnReady: {:?}",
        image.get_pixel(32, 32)
    );
}

#[test]
fn kiln_ready_never_true_times_out_saying_what_was_awaited() {
    let outcome = js(json!({
        "javascript": "window.kilnReady = false;",
        "width": 64, "height": 64, "outputType": "png"
    }));
    let message = failure(&outcome, ErrorKind::Timeout);
    assert!(message.contains("window.kilnReady"), "{message}");
}

#[test]
fn a_throwing_script_is_piece_failed_naming_piece_js_and_the_line() {
    let outcome = js(json!({
        "html": "<p>x</p>",
        "javascript": "const a = 1;\nundefinedThing.call();\n",
        "width": 64, "height": 64, "outputType": "png"
    }));
    let message = failure(&outcome, ErrorKind::PieceFailed);
    assert!(
        message.contains("undefinedThing is not defined"),
        "{message}"
    );
    assert!(message.contains("/piece.js line 2"), "{message}");
}

#[test]
fn bad_input_is_invalid_input_naming_the_field() {
    let base = json!({"html": "<p>x</p>", "width": 100, "height": 100, "outputType": "png"});
    let cases = [
        ("colour", json!("red"), "colour"),
        ("width", json!(0), "width"),
        ("width", json!(9000), "width"),
        ("height", json!(-1), "height"),
        ("outputType", json!("gif"), "outputType"),
    ];
    for (field, value, named) in cases {
        let mut input = base.clone();
        input[field] = value;
        let message = failure(&js(input.clone()), ErrorKind::InvalidInput);
        assert!(message.contains(named), "{input}: {message}");
    }
    let message = failure(
        &js(json!({"width": 10, "height": 10, "outputType": "png"})),
        ErrorKind::InvalidInput,
    );
    assert!(message.contains("input.html"), "{message}");
}

#[test]
fn width_over_this_hosts_max_dimension_names_the_field() {
    // 4096 is within the schema's 8192 but over a host configured for 2048.
    let kiln = TestKiln::start_with(|c| c.jobs.max_dimension = 2048);
    let outcome = kiln.run(json!({"type": "js", "input": {
        "html": "<p>x</p>", "width": 4096, "height": 100, "outputType": "png"
    }}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(message.contains("input.width"), "{message}");
    assert!(message.contains("2048"), "{message}");
}
