//! Real sketches through the p5 plugin and real Chromium, checked pixel by pixel.

use kiln_test_support::*;
use serde_json::json;
use std::sync::OnceLock;

/// One Kiln for this file's tests (they run in parallel on its two pages).
fn kiln() -> &'static TestKiln {
    static KILN: OnceLock<TestKiln> = OnceLock::new();
    KILN.get_or_init(TestKiln::start)
}

#[test]
fn red_circle_on_white_has_the_right_pixels_and_size() {
    let outcome = kiln().p5(&red_circle(400), 400);
    let image = artifact_image(&outcome);
    assert_eq!(image.dimensions(), (400, 400));
    assert!(
        near(image.get_pixel(200, 200), [255, 0, 0, 255], 2),
        "centre is {:?}",
        image.get_pixel(200, 200)
    );
    assert!(
        near(image.get_pixel(3, 3), [255, 255, 255, 255], 2),
        "corner is {:?}",
        image.get_pixel(3, 3)
    );
    assert_eq!(outcome.artifacts[0].content_type, "image/png");
    assert_eq!(
        outcome.artifacts[0].key,
        format!("{}/image.png", outcome.id)
    );
}

#[test]
fn pixel_density_multiplies_the_image_size() {
    let outcome = kiln().run(json!({"type": "p5", "input": {
        "code": red_circle(200), "width": 200, "height": 150, "pixelDensity": 2
    }}));
    let image = artifact_image(&outcome);
    assert_eq!(image.dimensions(), (400, 300));
}

#[test]
fn a_sketch_smaller_than_the_job_still_gives_the_job_size() {
    // The canvas is 100×100 but the job asks for 300×200: the viewport is captured instead.
    let outcome = kiln().p5(
        "function setup() { createCanvas(100, 100); background(0, 0, 255); }",
        300,
    );
    let image = artifact_image(&outcome);
    assert_eq!(image.dimensions(), (300, 300));
    assert!(near(image.get_pixel(50, 50), [0, 0, 255, 255], 2));
}

#[test]
fn jpeg_and_webp_are_encoded_as_asked() {
    for (format, content_type, ext) in [
        ("jpeg", "image/jpeg", "jpg"),
        ("webp", "image/webp", "webp"),
    ] {
        let outcome = kiln().run(json!({"type": "p5", "input": {
            "code": red_circle(300), "width": 300, "height": 300, "format": format, "quality": 80
        }}));
        assert_eq!(
            outcome.artifacts.first().map(|a| a.content_type.as_str()),
            Some(content_type),
            "{outcome:?}"
        );
        assert!(outcome.artifacts[0].name.ends_with(ext));
        let image = artifact_image(&outcome);
        assert_eq!(image.dimensions(), (300, 300));
        assert!(
            near(image.get_pixel(150, 150), [255, 0, 0, 255], 12),
            "{format} centre {:?}",
            image.get_pixel(150, 150)
        );
    }
}

#[test]
fn same_sketch_and_seed_give_identical_bytes() {
    let code = "function setup() { createCanvas(256, 256); noLoop(); }\n\
                function draw() { background(20); for (let i = 0; i < 200; i++) { \
                fill(random(255), Math.random() * 255, noise(i) * 255); circle(random(width), random(height), 20); } }";
    let job = |seed: u64| json!({"type": "p5", "input": {"code": code, "width": 256, "height": 256, "seed": seed}});
    let first = artifact_bytes(&kiln().run(job(7)));
    let second = artifact_bytes(&kiln().run(job(7)));
    let other = artifact_bytes(&kiln().run(job(8)));
    assert_eq!(first, second, "same seed, different bytes");
    assert_ne!(first, other, "different seeds gave the same image");
}

#[test]
fn p5_1_sketch_with_preload_renders() {
    // preload() exists only in p5 1.x; without p5Version the plugin must pick 1.x.
    let code = "let ready = false;\n\
                function preload() { ready = true; }\n\
                function setup() { createCanvas(120, 120); noLoop(); }\n\
                function draw() { background(ready && p5.prototype.VERSION.startsWith('1.') ? color(0, 255, 0) : color(255, 0, 0)); }";
    let outcome = kiln().p5(code, 120);
    let image = artifact_image(&outcome);
    assert!(
        near(image.get_pixel(60, 60), [0, 255, 0, 255], 2),
        "got {:?}; log {:#?}",
        image.get_pixel(60, 60),
        outcome.log
    );
    assert!(
        outcome.log.iter().any(|l| l.message.contains("p5 1.11")),
        "{:#?}",
        outcome.log
    );
}

#[test]
fn p5_2_sketch_with_async_setup_renders() {
    let code = "let shade;\n\
                async function setup() { createCanvas(120, 120); shade = await new Promise(r => setTimeout(() => r(200), 50)); noLoop(); }\n\
                function draw() { background(0, 0, shade); }";
    let outcome = kiln().p5(code, 120);
    let image = artifact_image(&outcome);
    assert!(
        near(image.get_pixel(60, 60), [0, 0, 200, 255], 2),
        "got {:?}",
        image.get_pixel(60, 60)
    );
    assert!(
        outcome.log.iter().any(|l| l.message.contains("p5 2.")),
        "{:#?}",
        outcome.log
    );
}

#[test]
fn frames_runs_draw_that_many_times_before_capture() {
    // Each frame paints its frame count as the red channel.
    let code = "function setup() { createCanvas(64, 64); frameRate(60); }\n\
                function draw() { background(frameCount * 10, 0, 0); }";
    for (version, frames) in [("1", 5), ("2", 7)] {
        let outcome = kiln().run(json!({"type": "p5", "input": {
            "code": code, "width": 64, "height": 64, "frames": frames, "p5Version": version
        }}));
        let image = artifact_image(&outcome);
        let red = image.get_pixel(32, 32).0[0];
        assert_eq!(
            red,
            frames * 10,
            "p5 {version}: expected frame {frames}, got red {red}"
        );
    }
}

#[test]
fn no_loop_sketch_with_frames_stops_after_its_one_draw() {
    let code = "function setup() { createCanvas(64, 64); noLoop(); }\nfunction draw() { background(0, frameCount * 50, 0); }";
    let outcome = kiln().run(
        json!({"type": "p5", "input": {"code": code, "width": 64, "height": 64, "frames": 30}}),
    );
    let image = artifact_image(&outcome);
    assert_eq!(image.get_pixel(10, 10).0[1], 50);
}

/// A 1.x sketch with no `p5Version` whose 1.x-only call shape throws under 2.x (the guess) is
/// tried once under 1.x, which renders it, and the log says so; naming a version, or throwing
/// for a reason of its own, gets no second try.
#[test]
fn a_sketch_that_throws_under_the_guessed_p5_is_tried_once_under_the_other() {
    let code = "function setup() { createCanvas(40, 40); background(0, 0, 255); noFill();\n\
                stroke(255, 0, 0); beginShape(); vertex(10, 10);\n\
                bezierVertex(20, 0, 0, 30, 30, 0, 30, 30, 0); endShape(); noLoop(); }";
    let job = |extra: serde_json::Value| {
        let mut input = json!({"code": code, "width": 40, "height": 40});
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        kiln().run(json!({"type": "p5", "input": input}))
    };
    let log_of = |outcome: &kiln::jobs::JobOutcome| {
        outcome
            .log
            .iter()
            .map(|l| l.message.clone())
            .collect::<Vec<_>>()
            .join("\n")
    };

    let outcome = job(json!({}));
    let image = artifact_image(&outcome);
    assert!(near(image.get_pixel(2, 38), [0, 0, 255, 255], 2));
    let log = log_of(&outcome);
    assert!(log.contains("failed under p5 2."), "{log}");
    assert!(log.contains("trying p5 1."), "{log}");
    assert!(log.contains("give \"p5Version\": \"1\""), "{log}");

    let outcome = job(json!({"p5Version": "2"}));
    let message = failure(&outcome, kiln::ErrorKind::PieceFailed);
    assert!(
        message.contains("Cannot read properties of undefined"),
        "{message}"
    );
    assert!(!log_of(&outcome).contains("trying p5"));

    let outcome = kiln().run(json!({"type": "p5", "input": {
        "code": "function setup() { createCanvas(20, 20); throw new Error('my own'); }",
        "width": 20, "height": 20,
    }}));
    let message = failure(&outcome, kiln::ErrorKind::PieceFailed);
    assert!(message.contains("my own"), "{message}");
    assert!(
        !log_of(&outcome).contains("trying p5"),
        "{}",
        log_of(&outcome)
    );
}
