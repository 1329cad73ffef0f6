//! The `kidlisp` job type end to end: the real plugin in a real host, its stills and recordings
//! checked pixel by pixel against the `kidlisp` library rendering the same piece, recordings
//! decoded back frame by frame with ffmpeg, and every kind of bad input refused by name.

use base64::Engine;
use kiln::ErrorKind;
use kiln::jobs::{JobOutcome, JobSpec};
use kiln::service::{Role, Service, SubmitError};
use kiln_test_support::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One host for this file. Recordings of 60 frames take well under the 20 s given; the frame cap
/// is lowered so the cap tests need no huge job.
fn kiln() -> &'static TestKiln {
    static KILN: OnceLock<TestKiln> = OnceLock::new();
    KILN.get_or_init(|| {
        TestKiln::start_with(|c| {
            c.jobs.timeout_ms = 20_000;
            c.jobs.max_dimension = 4096;
            c.jobs.max_frames = 600;
            // Stamps by key read PNGs under this shared prefix; nothing else of other jobs.
            c.plugins
                .per_plugin
                .entry("kidlisp".into())
                .or_default()
                .read_prefixes = vec!["stamp-source/".into()];
        })
    })
}

fn kidlisp(input: Value) -> JobOutcome {
    kiln().run(json!({"type": "kidlisp", "input": input}))
}

fn read(outcome: &JobOutcome, name: &str) -> Vec<u8> {
    std::fs::read(artifact(outcome, name)).unwrap()
}

fn image(outcome: &JobOutcome, name: &str) -> image::RgbaImage {
    image::load_from_memory(&read(outcome, name))
        .unwrap()
        .to_rgba8()
}

/// The library's own frames 0..`frames` of `source` (what the plugin must reproduce).
fn library_frames(
    source: &str,
    width: usize,
    height: usize,
    options: kidlisp::Options,
    events: &HashMap<u64, Vec<kidlisp::Event>>,
    frames: u64,
) -> Vec<Vec<u8>> {
    let program = kidlisp::Program::parse(source).unwrap();
    let mut renderer = kidlisp::Renderer::new(&program, width, height, options).unwrap();
    (0..frames)
        .map(|f| {
            let events = events.get(&f).map(Vec::as_slice).unwrap_or(&[]);
            renderer.render_frame(events).unwrap().to_vec()
        })
        .collect()
}

fn png_base64(image: &image::RgbaImage) -> String {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    base64::engine::general_purpose::STANDARD.encode(bytes.into_inner())
}

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../kidlisp/tests/conformance")
}

/// aesthetic.computer's five pixels-v1 fixtures, run through the plugin as stills of their last
/// frame (the fixtures' fields are the input's: source, size, seed, epochMs, stepMs, events),
/// decode to exactly the golden RGBA bytes.
#[test]
fn the_conformance_fixtures_through_the_plugin_give_the_golden_pixels() {
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(conformance_dir().join("golden-manifest.json")).unwrap(),
    )
    .unwrap();
    for name in [
        "accumulation",
        "alpha",
        "clock-input",
        "primitives",
        "random",
    ] {
        let mut input: Value = serde_json::from_slice(
            &std::fs::read(conformance_dir().join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        let frames = input.as_object_mut().unwrap().remove("frames").unwrap();
        let last = frames.as_u64().unwrap() - 1;
        input["frame"] = last.into();
        let outcome = kidlisp(input);
        let still = image(&outcome, "image.png");
        assert_eq!(still.dimensions(), (96, 64), "{name}");
        let got: String = Sha256::digest(still.as_raw())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let want = &manifest["fixtures"][format!("{name}.json")]["frames"][last as usize]["sha256"];
        assert_eq!(got, want.as_str().unwrap(), "{name} frame {last}");
    }
}

/// A still with an embed and a stamp, at density 3: every output pixel is the library's art
/// pixel under it, in PNG and (lossless) WebP; JPEG has the size and the flat colours.
#[test]
fn a_still_at_density_3_is_the_librarys_frame_upscaled() {
    let source = "(wipe navy) ($sun 4 4 24 24) (paste #dot 40 10) (ink yellow) (circle 48 40 12) (ink (? red lime)) (box 70 5 20 20)";
    let sun = "(wipe orange) (ink red) (box 2 2 8 8)";
    let mut dot = image::RgbaImage::new(3, 3);
    for (x, y, p) in dot.enumerate_pixels_mut() {
        *p = if (x + y) % 2 == 0 {
            image::Rgba([255, 255, 255, 255])
        } else {
            image::Rgba([0, 200, 0, 255])
        };
    }
    let outcome = kidlisp(json!({
        "source": source, "sources": {"$sun": sun}, "stamps": {"#dot": png_base64(&dot)},
        "width": 96, "height": 64, "density": 3, "frame": 2, "seed": 9,
        "formats": ["png", "webp", "jpeg"],
    }));
    assert_eq!(names(&outcome), ["image.png", "image.webp", "image.jpg"]);
    let options = kidlisp::Options {
        seed: 9,
        embeds: HashMap::from([("$sun".to_string(), sun.to_string())]),
        stamps: HashMap::from([(
            "#dot".to_string(),
            kidlisp::Image {
                width: 3,
                height: 3,
                rgba: dot.into_raw(),
            },
        )]),
        ..kidlisp::Options::default()
    };
    let frames = library_frames(source, 96, 64, options, &HashMap::new(), 3);
    let art = &frames[2];
    let at = |x: u32, y: u32| {
        let i = ((y / 3 * 96 + x / 3) * 4) as usize;
        [art[i], art[i + 1], art[i + 2], art[i + 3]]
    };
    // The embed, the stamp and the shapes all drew: the checks below are not of a blank frame.
    assert_eq!(at(3 * 6, 3 * 6), [255, 0, 0, 255], "the embed's red box");
    assert_eq!(at(3 * 40, 3 * 10), [255, 255, 255, 255], "the stamp");
    assert_eq!(at(3 * 41, 3 * 10), [0, 200, 0, 255], "the stamp");
    for name in ["image.png", "image.webp"] {
        let still = image(&outcome, name);
        assert_eq!(still.dimensions(), (288, 192), "{name}");
        for (x, y, p) in still.enumerate_pixels() {
            assert_eq!(p.0, at(x, y), "{name} at ({x}, {y})");
        }
    }
    let jpeg = image(&outcome, "image.jpg");
    assert_eq!(jpeg.dimensions(), (288, 192));
    assert!(near(jpeg.get_pixel(270, 170), [0, 0, 128, 255], 12));
    assert!(near(jpeg.get_pixel(144, 120), [255, 255, 0, 255], 12));
}

/// A first line that is only a colour paints the background once; it stays under later frames.
#[test]
fn a_first_line_colour_is_the_background() {
    let outcome = kidlisp(json!({
        "source": "purple\n(ink yellow)\n(box frame 0 8 8)", "width": 32, "height": 16, "frame": 4,
    }));
    let still = image(&outcome, "image.png");
    assert_eq!(still.dimensions(), (32, 16));
    assert_eq!(still.get_pixel(30, 14).0, [128, 0, 128, 255]);
    assert_eq!(still.get_pixel(4, 4).0, [255, 255, 0, 255], "frame 4's box");
    assert_eq!(
        still.get_pixel(11, 7).0,
        [255, 255, 0, 255],
        "frame 4's box"
    );
    assert_eq!(
        still.get_pixel(12, 2).0,
        [128, 0, 128, 255],
        "right of frame 4's box"
    );
}

const RANDOM_PIECE: &str = "(wipe (? 0 40) 0 (? 60 120)) (repeat 20 (ink (? red lime blue white)) (box (? 0 60) (? 0 40) (? 2 12) (? 2 12)))";

/// The same input gives the same bytes in every format (stills and recordings); another seed
/// gives other pixels.
#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let still = |seed: u32| {
        let outcome = kidlisp(
            json!({"source": RANDOM_PIECE, "width": 64, "height": 48, "seed": seed, "frame": 3}),
        );
        read(&outcome, "image.png")
    };
    let first = still(42);
    assert_eq!(first, still(42));
    assert_ne!(first, still(43));

    let recording = |seed: u32| {
        let outcome = kidlisp(json!({
            "source": RANDOM_PIECE, "width": 64, "height": 48, "seed": seed, "frames": 12,
            "fps": 12, "formats": ["mp4", "webm", "webp", "gif"],
        }));
        let names = names(&outcome);
        assert_eq!(
            names,
            [
                "video.mp4",
                "video.webm",
                "video.webp",
                "video.gif",
                "poster.png",
                "recording.json"
            ]
        );
        names
            .iter()
            .map(|n| (n.clone(), read(&outcome, n)))
            .collect::<Vec<_>>()
    };
    let first = recording(42);
    for ((name, a), (_, b)) in first.iter().zip(recording(42)) {
        assert!(*a == b, "{name} differs between two runs of the same input");
    }
    let other = recording(43);
    assert_ne!(first[0].1, other[0].1, "another seed, the same MP4");
}

/// Mean absolute difference per channel (RGB) between a decoded frame and the library's frame
/// upscaled by `density`, and the share of pixels off by more than 8 on some channel.
fn compare(decoded: &image::RgbImage, art: &[u8], art_width: u32, density: u32) -> (f64, f64) {
    let (mut sum, mut off) = (0u64, 0u64);
    for (x, y, p) in decoded.enumerate_pixels() {
        let i = ((y / density * art_width + x / density) * 4) as usize;
        let mut worst = 0;
        for c in 0..3 {
            let d = p.0[c].abs_diff(art[i + c]);
            sum += u64::from(d);
            worst = worst.max(d);
        }
        off += u64::from(worst > 8);
    }
    let pixels = f64::from(decoded.width() * decoded.height());
    (sum as f64 / (pixels * 3.0), off as f64 / pixels)
}

/// A 60-frame recording with pointer events, decoded back frame by frame: GIF frame `k` is the
/// library's frame `k` almost exactly, MP4 frame `k` within H.264's loss (and its background
/// says it is frame `k`, not a neighbour); `recording.json` says what was made.
#[test]
fn a_60_frame_recording_decodes_to_the_librarys_frames() {
    let source = "(wipe (* frame 4)) (tap (def shade 240)) (lift (def shade 70)) (if (= frame 0) (def shade 70)) (ink shade 120 180) (box penx peny 12 12) (ink white) (box frame 30 6 6)";
    let events = json!([
        {"frame": 10, "type": "touch", "x": 20, "y": 10},
        {"frame": 20, "type": "draw", "x": 40, "y": 20, "dx": 20, "dy": 10},
        {"frame": 40, "type": "lift", "x": 40, "y": 20},
    ]);
    let outcome = kidlisp(json!({
        "source": source, "width": 64, "height": 48, "density": 2, "frames": 60, "fps": 30,
        "seed": 5, "events": events, "formats": ["gif", "mp4"], "posterFrame": 25,
    }));
    assert_eq!(
        names(&outcome),
        ["video.gif", "video.mp4", "poster.png", "recording.json"]
    );
    let options = kidlisp::Options {
        seed: 5,
        step_ms: 1000.0 / 30.0,
        ..kidlisp::Options::default()
    };
    let events = HashMap::from([
        (10, vec![kidlisp::Event::Touch { x: 20.0, y: 10.0 }]),
        (
            20,
            vec![kidlisp::Event::Draw {
                x: 40.0,
                y: 20.0,
                dx: 20.0,
                dy: 10.0,
            }],
        ),
        (40, vec![kidlisp::Event::Lift { x: 40.0, y: 20.0 }]),
    ]);
    let frames = library_frames(source, 64, 48, options, &events, 60);
    // The events changed the pixels: the box follows the pointer, in shade 240 while it is down.
    assert_ne!(
        frames[15][(12 * 64 + 22) * 4],
        frames[5][(12 * 64 + 22) * 4]
    );

    let gif = artifact(&outcome, "video.gif");
    let mp4 = artifact(&outcome, "video.mp4");
    for k in 0..60u32 {
        let art = &frames[k as usize];
        let decoded = decode_frame(&gif, k);
        assert_eq!(decoded.dimensions(), (128, 96));
        let (mean, off) = compare(&decoded, art, 64, 2);
        assert!(
            mean < 1.0 && off < 0.01,
            "GIF frame {k}: mean difference {mean:.2}, {:.1}% of pixels off by more than 8",
            off * 100.0
        );
        let decoded = decode_frame(&mp4, k);
        let (mean, _) = compare(&decoded, art, 64, 2);
        assert!(mean < 4.0, "MP4 frame {k}: mean difference {mean:.2}");
        // Which frame it is: the background is grey 4 × frame (grey survives YUV 4:2:0 within
        // a level), so the mean of the rows below everything drawn (art rows 40–47) must be
        // within 2 of this frame's grey, half the step to its neighbours'.
        let grey = (80..96)
            .flat_map(|y| (0..128).map(move |x| (x, y)))
            .flat_map(|(x, y)| decoded.get_pixel(x, y).0)
            .map(f64::from)
            .sum::<f64>()
            / (16.0 * 128.0 * 3.0);
        let expected = f64::from(art[(44 * 64) * 4]);
        assert_eq!(expected, f64::from(k * 4), "the library's background");
        assert!(
            (grey - expected).abs() < 2.0,
            "MP4 frame {k}: background grey {grey:.2}, library {expected}"
        );
    }
    let poster = image(&outcome, "poster.png");
    assert_eq!(poster.dimensions(), (128, 96));
    for (x, y, p) in poster.enumerate_pixels() {
        let i = ((y / 2 * 64 + x / 2) * 4) as usize;
        assert_eq!(p.0, frames[25][i..i + 4], "poster at ({x}, {y})");
    }
    let report: Value = serde_json::from_slice(&read(&outcome, "recording.json")).unwrap();
    assert_eq!(
        report,
        json!({"frames": 60, "fps": 30.0, "width": 128, "height": 96, "density": 2,
               "frozen": false, "dud": false, "dudColor": null, "blankFramesDropped": 0,
               "seed": 5})
    );
}

/// A piece that never changes is frozen; one flat colour per frame is a dud (the old oven's
/// verdicts), whether or not the colour changes.
#[test]
fn frozen_and_dud_recordings_are_reported() {
    let report = |source: &str| {
        let outcome = kidlisp(
            json!({"source": source, "width": 32, "height": 32, "frames": 8, "formats": ["gif"]}),
        );
        serde_json::from_slice::<Value>(&read(&outcome, "recording.json")).unwrap()
    };
    let still_red = report("(wipe red)");
    assert_eq!(still_red["frozen"], true);
    assert_eq!(still_red["dud"], true);
    assert_eq!(still_red["dudColor"], "#ff0000");
    let fading = report("(wipe (* frame 30) 0 0)");
    assert_eq!(fading["frozen"], false);
    assert_eq!(fading["dud"], true);
    assert_eq!(fading["dudColor"], "#000000");
    let busy = report("(wipe black) (ink white) (box frame 0 16 32)");
    assert_eq!(busy["frozen"], false);
    assert_eq!(busy["dud"], false);
    assert_eq!(busy["dudColor"], Value::Null);
}

/// With `dropBlankFrames` (what the oven routes ask for), black or transparent frames are left
/// out as the oven's grabs left them out (shared/OVEN.md §3.3).
#[test]
fn blank_frames_are_left_out_when_asked() {
    // Frame 0 is black; from frame 1 the red channel climbs by 30.
    let fading = json!({"source": "(wipe (* frame 30) 0 0)", "width": 32, "height": 32,
                        "frames": 8, "formats": ["gif"], "dropBlankFrames": true});
    let outcome = kidlisp(fading);
    let report: Value = serde_json::from_slice(&read(&outcome, "recording.json")).unwrap();
    assert_eq!(report["frames"], 7, "{report}");
    assert_eq!(report["blankFramesDropped"], 1, "{report}");
    // The poster is the first frame kept.
    assert_eq!(
        image(&outcome, "poster.png").get_pixel(5, 5).0,
        [30, 0, 0, 255]
    );

    let black = json!({"source": "(wipe black)", "width": 32, "height": 32, "frames": 4,
                       "formats": ["gif"], "dropBlankFrames": true});
    let message = failure(&kidlisp(black), ErrorKind::PieceFailed);
    assert!(
        message.contains("no frames captured: all 4 frames are blank"),
        "{message}"
    );
    let still = json!({"source": "(wipe black)", "width": 32, "height": 32, "frame": 2,
                       "dropBlankFrames": true});
    let message = failure(&kidlisp(still), ErrorKind::PieceFailed);
    assert!(message.contains("frame 2: it is blank"), "{message}");
    // Without the flag every frame is kept, blank or not.
    let kept = kidlisp(
        json!({"source": "(wipe black)", "width": 32, "height": 32, "frames": 4,
                              "formats": ["gif"]}),
    );
    let report: Value = serde_json::from_slice(&read(&kept, "recording.json")).unwrap();
    assert_eq!(
        (
            report["frames"].as_u64(),
            report["blankFramesDropped"].as_u64()
        ),
        (Some(4), Some(0))
    );
}

/// The interpreter's log (unknown words, parse warnings) is in the job's log, as warnings.
#[test]
fn the_interpreters_log_reaches_the_jobs_log() {
    let outcome = kidlisp(
        json!({"source": "(wipe black) (frobnicate 1 2) (ink red", "width": 8, "height": 8}),
    );
    assert!(outcome.succeeded(), "{:?}", outcome.error);
    let warned = |needle: &str| {
        outcome
            .log
            .iter()
            .any(|l| l.source == "plugin" && l.level == "warn" && l.message.contains(needle))
    };
    assert!(warned("unknown word: frobnicate"), "{:#?}", outcome.log);
    assert!(warned("missing"), "{:#?}", outcome.log);
}

/// A syntax error is the client's: `invalid-input` with the line and column, for the piece and
/// for an embed's source.
#[test]
fn a_parse_error_is_invalid_input_with_its_line_and_column() {
    let outcome = kidlisp(json!({"source": "(wipe red)\n(ink blue))"}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(
        message.starts_with("input.source: KidLisp syntax error at line 2, column 11"),
        "{message}"
    );
    let outcome =
        kidlisp(json!({"source": "($abc)", "sources": {"$abc": "(wipe red)\n  (write \"oops)"}}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(
        message.starts_with("input.sources[\"$abc\"]: KidLisp syntax error at line 2, column 10"),
        "{message}"
    );
}

/// A frame that never ends is stopped by the step budget (or the depth limit) and fails the job
/// as `piece-failed` naming the frame; `maxSteps` raises the budget within its cap.
#[test]
fn an_endless_frame_is_stopped_naming_the_frame() {
    let endless = "(wipe black) (if (= frame 3) (repeat 1e12 (point 1 1)))";
    let outcome = kidlisp(json!({"source": endless, "frames": 10, "formats": ["gif"]}));
    let message = failure(&outcome, ErrorKind::PieceFailed);
    assert!(
        message.contains("stopped in frame 3 ") && message.contains("step budget of 100000"),
        "{message}"
    );
    assert!(message.contains("input.maxSteps"), "{message}");
    let outcome = kidlisp(json!({"source": endless, "frame": 5}));
    let message = failure(&outcome, ErrorKind::PieceFailed);
    assert!(message.contains("stopped in frame 3 "), "{message}");

    let outcome = kidlisp(json!({"source": "(later spiral (spiral)) (spiral)"}));
    let message = failure(&outcome, ErrorKind::PieceFailed);
    assert!(
        message.contains("stopped in frame 0 ") && message.contains("depth"),
        "{message}"
    );

    // 200,000 iterations: over the default budget, within a raised one.
    let heavy = "(wipe black) (ink red) (repeat 10000 (repeat 20 (point 1 1)))";
    let outcome = kidlisp(json!({"source": heavy, "width": 8, "height": 8}));
    failure(&outcome, ErrorKind::PieceFailed);
    let outcome =
        kidlisp(json!({"source": heavy, "width": 8, "height": 8, "maxSteps": 10_000_000}));
    assert_eq!(
        image(&outcome, "image.png").get_pixel(1, 1).0,
        [255, 0, 0, 255]
    );
    let outcome = kidlisp(json!({"source": heavy, "maxSteps": 10_000_001}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(message.contains("maxSteps"), "{message}");
}

/// Every `$code` and `#code` the piece runs must be in the input: one that is not fails as
/// `invalid-input` naming it and the frame that asked; a stamp that is not a PNG is named too.
#[test]
fn a_missing_embed_or_stamp_is_invalid_input_naming_it() {
    let outcome = kidlisp(json!({"source": "(wipe black) ($nope 0 0 8 8)"}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(
        message.starts_with("input.sources: the piece runs $nope (first in frame 0)"),
        "{message}"
    );
    let outcome = kidlisp(json!({
        "source": "(wipe black) (if (> frame 3) (paste #cat 1 1))", "frames": 10, "formats": ["gif"],
    }));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(
        message.starts_with("input.stamps: the piece draws #cat (first in frame 4)"),
        "{message}"
    );
    // An embed's own embeds count too.
    let outcome =
        kidlisp(json!({"source": "($abc)", "sources": {"$abc": "(wipe red) ($bcd 0 0 4 4)"}}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(message.contains("runs $bcd"), "{message}");
    let outcome =
        kidlisp(json!({"source": "(paste #cat)", "stamps": {"#cat": "R0lGODlhAQABAAAAACw="}}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(
        message.starts_with("input.stamps[\"#cat\"]: not a PNG"),
        "{message}"
    );
}

/// Sizes over the host's caps are refused naming the field: when the plugin runs (it checks the
/// caps `host.limits` gives it) and, through the schema's `x-kiln-limits`, when a job is
/// submitted.
#[test]
fn sizes_over_the_hosts_caps_are_invalid_input_naming_the_field() {
    let refused = [
        (json!({"width": 4097}), "input.width"),
        (
            json!({"width": 2048, "density": 3}),
            "input.width × input.density = 2048 × 3",
        ),
        (
            json!({"width": 4096, "height": 4096, "density": 2}),
            "input.width × input.height × input.density²",
        ),
        (json!({"frames": 601}), "input.frames: 601"),
        (json!({"frame": 600}), "input.frame: 600"),
        (json!({"density": 17}), "input.density"),
    ];
    for (fields, expected) in refused {
        let mut input = json!({"source": "(wipe red)"});
        for (key, value) in fields.as_object().unwrap() {
            input[key] = value.clone();
        }
        let outcome = kidlisp(input.clone());
        let message = failure(&outcome, ErrorKind::InvalidInput);
        assert!(message.contains(expected), "{input}: {message}");
    }

    // At submit: an API-only service with smaller caps refuses before anything is queued.
    let dir = TestDir::new();
    let mut config = dir.config();
    config.jobs.max_dimension = 1000;
    config.jobs.max_frames = 100;
    config.jobs.max_frame_pixels = 10_000_000;
    let service = block_on(Service::start_with(config, Role::Api)).expect("the API starts");
    let submit_refusal = |input: Value| {
        let spec: JobSpec =
            serde_json::from_value(json!({"type": "kidlisp", "input": input})).unwrap();
        match block_on(service.cached_result(&spec)) {
            Err(SubmitError::Invalid(error)) => {
                assert_eq!(error.kind, ErrorKind::InvalidInput);
                error.message
            }
            other => panic!("{spec:?} was not refused: {:?}", other.map(|_| ())),
        }
    };
    let message = submit_refusal(json!({"source": "x", "width": 1001}));
    assert!(
        message.starts_with("input.width: 1001") && message.contains("jobs.max_dimension"),
        "{message}"
    );
    let message = submit_refusal(json!({"source": "x", "frames": 101}));
    assert!(
        message.starts_with("input.frames: 101") && message.contains("jobs.max_frames"),
        "{message}"
    );
    let message = submit_refusal(
        json!({"source": "x", "width": 500, "height": 500, "density": 2, "frames": 20}),
    );
    assert!(message.contains("jobs.max_frame_pixels"), "{message}");
    block_on(service.shutdown());
}

/// A size within every cap whose canvases do not fit in the plugin's memory (four 4096² layers
/// of 64 MiB each, over the default 256 MiB) fails with the limit named; the host carries on.
#[test]
fn a_piece_beyond_the_plugins_memory_fails_clearly_and_the_host_carries_on() {
    let outcome = kidlisp(json!({
        "source": "(wipe red) (bake) (ink blue) (box 0 0 9 9) (bake) (ink lime) (box 9 9 9 9) (bake) (ink white) (box 20 20 5 5)",
        "width": 4096, "height": 4096,
    }));
    let message = failure(&outcome, ErrorKind::Internal);
    assert!(
        message.contains("exceeded its memory limit of 256 MiB (plugins.memory_mib)"),
        "{message}"
    );
    let outcome = kidlisp(json!({"source": "(wipe lime)", "width": 4, "height": 4}));
    assert_eq!(
        image(&outcome, "image.png").get_pixel(0, 0).0,
        [0, 255, 0, 255]
    );
}

/// A stamp can name a PNG in the store instead of carrying it: the same pixels as the same PNG
/// sent inline; a key outside what the job may read is denied, and a missing object or one that
/// holds no PNG is invalid input, each naming the stamp and the key.
#[test]
fn stamps_by_storage_key_draw_what_the_same_png_inline_draws() {
    let mut dot = image::RgbaImage::from_pixel(3, 3, image::Rgba([0, 200, 0, 255]));
    dot.put_pixel(0, 0, image::Rgba([255, 255, 255, 255]));
    let mut png = Vec::new();
    dot.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let shared = kiln().dir.path().join("artifacts/stamp-source");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(shared.join("dot.png"), &png).unwrap();
    std::fs::write(shared.join("notes.txt"), b"not an image").unwrap();
    let source = "black\n(paste #dot 5 7)\n(stamp #dot 20 20)";
    let render = |stamp: Value| {
        kidlisp(json!({"source": source, "stamps": {"#dot": stamp}, "width": 32, "height": 32}))
    };
    let inline = render(json!(png_base64(&dot)));
    let stored = render(json!({"key": "stamp-source/dot.png"}));
    assert!(inline.succeeded(), "{:?}", inline.error);
    assert_eq!(image(&stored, "image.png"), image(&inline, "image.png"));
    assert_eq!(
        image(&stored, "image.png").get_pixel(5, 7).0,
        [255, 255, 255, 255]
    );

    let outcome = render(json!({"key": "someone-elses-job/secret.png"}));
    let message = failure(&outcome, ErrorKind::Denied);
    assert!(
        message.starts_with("input.stamps[\"#dot\"]: ")
            && message.contains("someone-elses-job/secret.png"),
        "{message}"
    );
    let outcome = render(json!({"key": "stamp-source/notes.txt"}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(
        message.starts_with(
            "input.stamps[\"#dot\"]: the object \"stamp-source/notes.txt\": not a PNG"
        ),
        "{message}"
    );
    let outcome = render(json!({"key": "stamp-source/gone.png"}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(
        message.starts_with("input.stamps[\"#dot\"]: ")
            && message.contains("stamp-source/gone.png"),
        "{message}"
    );
}
