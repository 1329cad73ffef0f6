//! Every kind of bad input gets a precise error, and the host keeps serving.

use kiln::ErrorKind;
use kiln_test_support::*;
use serde_json::json;
use std::sync::OnceLock;
use std::time::Instant;

/// Jobs time out after 3 s here (jobs.timeout_ms), to keep the timeout tests short.
fn kiln() -> &'static TestKiln {
    static KILN: OnceLock<TestKiln> = OnceLock::new();
    KILN.get_or_init(|| TestKiln::start_with(|c| c.jobs.timeout_ms = 3_000))
}

#[test]
fn syntax_error_is_piece_failed_with_message_and_line() {
    let outcome = kiln().p5(
        "function setup() {\n  createCanvas(100, 100);\n  let x = ;\n}",
        100,
    );
    let message = failure(&outcome, ErrorKind::PieceFailed);
    assert!(message.contains("SyntaxError"), "{message}");
    assert!(message.contains("/sketch.js line 3"), "{message}");
}

#[test]
fn throw_in_setup_is_piece_failed_naming_the_line() {
    for version in ["1", "2"] {
        let code = "function setup() {\n  createCanvas(100, 100);\n  undefinedThing.call();\n}";
        let outcome = kiln().run(json!({"type": "p5", "input": {"code": code, "width": 100, "height": 100, "p5Version": version}}));
        let message = failure(&outcome, ErrorKind::PieceFailed);
        assert!(
            message.contains("undefinedThing is not defined"),
            "p5 {version}: {message}"
        );
        assert!(
            message.contains("/sketch.js line 3"),
            "p5 {version}: {message}"
        );
    }
}

#[test]
fn throw_in_draw_is_piece_failed() {
    let code = "function setup() { createCanvas(100, 100); }\nfunction draw() {\n  throw new Error('boom in draw');\n}";
    let message = failure(&kiln().p5(code, 100), ErrorKind::PieceFailed);
    assert!(message.contains("boom in draw"), "{message}");
    assert!(message.contains("/sketch.js line 3"), "{message}");
}

#[test]
fn infinite_loop_in_setup_times_out_and_the_next_job_renders() {
    // Start the shared host first, so its start-up is not counted against the job's timeout.
    let kiln = kiln();
    let started = Instant::now();
    let outcome = kiln.p5(
        "function setup() { createCanvas(100, 100); while (true) {} }",
        100,
    );
    let message = failure(&outcome, ErrorKind::Timeout);
    // This bound failed twice in about 20 runs at ~6.0 s: two attempts, the first ending as
    // `unavailable`. The attempts and the job's log say which path reported it.
    assert!(
        started.elapsed().as_secs_f64() < 6.0,
        "took {:?} in {} attempt(s); job log: {:#?}",
        started.elapsed(),
        outcome.attempts,
        outcome.log
    );
    assert!(message.contains("3000 ms"), "{message}");
    // The hung page was thrown away: fresh jobs on both page slots still render.
    for _ in 0..3 {
        let image = artifact_image(&kiln.p5(&red_circle(100), 100));
        assert!(near(image.get_pixel(50, 50), [255, 0, 0, 255], 2));
    }
}

#[test]
fn await_that_never_resolves_times_out() {
    let code = "async function setup() { createCanvas(100, 100); await new Promise(() => {}); }";
    let message = failure(&kiln().p5(code, 100), ErrorKind::Timeout);
    assert!(message.contains("did not finish 1 frame(s)"), "{message}");
}

#[test]
fn bad_sizes_are_invalid_input_naming_the_field() {
    let cases = [
        (json!({"width": 0, "height": 100}), "width"),
        (json!({"width": 100, "height": -5}), "height"),
        (json!({"width": 9000, "height": 100}), "width"),
        (
            json!({"width": 100, "height": 100, "pixelDensity": 0}),
            "pixelDensity",
        ),
        // 4096 × 4096 × 2² = 67 MP: over the default cap of 16.7 MP.
        (
            json!({"width": 4096, "height": 4096, "pixelDensity": 2}),
            "pixelDensity",
        ),
    ];
    for (mut input, field) in cases {
        input["code"] = json!("function setup() {}");
        let outcome = kiln().run(json!({"type": "p5", "input": input}));
        let message = failure(&outcome, ErrorKind::InvalidInput);
        assert!(message.contains(field), "{input}: {message}");
    }
}

#[test]
fn schema_violations_name_the_json_path() {
    let cases = [
        (json!({"width": 100, "height": 100}), "code"),
        (
            json!({"code": 5, "width": 100, "height": 100}),
            "input.code",
        ),
        (
            json!({"code": "", "width": "wide", "height": 100}),
            "input.width",
        ),
        (
            json!({"code": "", "width": 100, "height": 100, "colour": "red"}),
            "colour",
        ),
        (
            json!({"code": "", "width": 100, "height": 100, "format": "bmp"}),
            "input.format",
        ),
    ];
    for (input, path) in cases {
        let outcome = kiln().run(json!({"type": "p5", "input": input}));
        let message = failure(&outcome, ErrorKind::InvalidInput);
        assert!(message.contains(path), "{input}: {message}");
    }
}

#[test]
fn unknown_job_type_lists_the_known_types() {
    let outcome = kiln().run(json!({"type": "p6", "input": {}}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(message.contains("unknown job type \"p6\""), "{message}");
    assert!(
        message.contains("hostile, js, kidlisp, kidlisp-og, notepat-og, p5, url, video"),
        "{message}"
    );
    let pinned = kiln().run(json!({"type": "p5@9.9.9", "input": {}}));
    assert!(failure(&pinned, ErrorKind::InvalidInput).contains("no version \"9.9.9\""));
}
