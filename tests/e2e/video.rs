//! The `video` job type end to end: real Chromium on the virtual clock, real ffmpeg, outputs
//! checked with ffprobe, `webpmux` and decoded pixels.

use kiln::ErrorKind;
use kiln::jobs::JobOutcome;
use kiln_test_support::fixtures::{png_of, wav_tone, zip_of};
use kiln_test_support::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// One Kiln for this file; a small frame budget so the budget test needs no huge job.
fn kiln() -> &'static TestKiln {
    static KILN: OnceLock<TestKiln> = OnceLock::new();
    KILN.get_or_init(|| {
        TestKiln::start_with(|c| {
            c.jobs.timeout_ms = 20_000;
            c.jobs.max_frame_pixels = 50_000_000;
            c.jobs.frame_timeout_ms = 2_000;
            // Tapes read their frames from this shared prefix; nothing else of other jobs.
            c.plugins
                .per_plugin
                .entry("video".into())
                .or_default()
                .read_prefixes = vec!["tape-source/".into()];
        })
    })
}

/// A sketch that paints frame N's `frameCount` into the red channel (×8), so a decoded frame says
/// which frame it is.
const FRAME_COUNTER: &str = "function setup() { createCanvas(64, 48); noStroke(); }\n\
     function draw() { background((frameCount * 8) % 256, 40, 90); }\n";

fn video(input: Value) -> JobOutcome {
    let _shared = EXCLUSIVE.read().unwrap_or_else(|e| e.into_inner());
    kiln().run(json!({"type": "video", "input": input}))
}

/// Tests that check no encoder outlived a failed job hold this for writing, so no other job of
/// this file runs meanwhile; every other job holds it for reading.
static EXCLUSIVE: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Runs a job alone and checks that afterwards no ffmpeg started by this process is left, and
/// Chromium is still just the pool's one browser.
fn video_alone_leaving_no_strays(input: Value) -> JobOutcome {
    let _alone = EXCLUSIVE.write().unwrap_or_else(|e| e.into_inner());
    let outcome = kiln().run(json!({"type": "video", "input": input}));
    let children = |name: &str| {
        let output = Command::new("pgrep")
            .args(["-P", &std::process::id().to_string(), name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout)
            .split_whitespace()
            .count()
    };
    // A killed child can take a moment to be reaped; one that is still there after 2 s is a
    // stray.
    let waited = std::time::Instant::now();
    while children("ffmpeg") > 0 && waited.elapsed() < std::time::Duration::from_secs(2) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(children("ffmpeg"), 0, "an ffmpeg outlived its job by 2 s");
    assert_eq!(
        children("chromium"),
        1,
        "Chromium processes besides the pool's browser"
    );
    outcome
}

/// ffprobe's view of the first video stream, with frames counted by decoding.
fn probe(path: &Path) -> Value {
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-show_streams",
            "-show_format",
        ])
        .args(["-of", "json"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(
        output.status.success(),
        "ffprobe failed on {}",
        path.display()
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn stream<'a>(probe: &'a Value, kind: &str) -> &'a Value {
    probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} stream in {probe:#}"))
}

/// Every frame of an animated WebP, decoded by the `image` crate (ffmpeg 5.1 cannot read them).
fn webp_frames(path: &Path) -> Vec<image::RgbaImage> {
    use image::AnimationDecoder;
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let decoder = image::codecs::webp::WebPDecoder::new(file).unwrap();
    decoder
        .into_frames()
        .collect_frames()
        .unwrap()
        .into_iter()
        .map(|f| f.into_buffer())
        .collect()
}

/// The red channel in the middle of a frame.
fn red(frame: &image::RgbImage) -> u8 {
    frame.get_pixel(frame.width() / 2, frame.height() / 2).0[0]
}

#[test]
fn every_format_has_the_right_codec_frames_rate_and_size_and_frame_n_is_frame_n() {
    let outcome = video(json!({
        "code": FRAME_COUNTER, "width": 64, "height": 48, "fps": 24, "frames": 12,
        "formats": ["mp4", "webm", "gif", "webp"], "poster": "png", "posterFrame": 4,
    }));
    for (name, codec) in [
        ("video.mp4", "h264"),
        ("video.webm", "vp9"),
        ("video.gif", "gif"),
    ] {
        let path = artifact(&outcome, name);
        let probe = probe(&path);
        let video = stream(&probe, "video");
        assert_eq!(video["codec_name"], codec, "{name}: {video:#}");
        assert_eq!(video["nb_read_frames"], "12", "{name}: {video:#}");
        assert_eq!(video["width"], 64, "{name}");
        assert_eq!(video["height"], 48, "{name}");
        if codec == "gif" {
            // GIF delays are whole centiseconds: 24 fps is stored as 4 and 5 cs, 0.5 s in all.
            let seconds: f64 = video["duration"].as_str().unwrap().parse().unwrap();
            assert!((seconds - 0.5).abs() < 0.02, "{name} lasts {seconds} s");
        } else {
            assert_eq!(video["r_frame_rate"], "24/1", "{name}: {video:#}");
        }
        if codec == "h264" {
            assert_eq!(video["pix_fmt"], "yuv420p");
        }
        // Frame k (from 0) is p5's frameCount k + 1: red = 8 (k + 1), give or take the codec.
        for k in [0u32, 5, 11] {
            let got = red(&decode_frame(&path, k));
            let want = (8 * (k + 1)) as u8;
            assert!(
                got.abs_diff(want) <= 6,
                "{name} frame {k}: red {got}, want {want}"
            );
        }
    }
    // faststart: the index (moov) comes before the media data (mdat).
    let mp4 = std::fs::read(artifact(&outcome, "video.mp4")).unwrap();
    let at = |tag: &[u8]| mp4.windows(4).position(|w| w == tag).unwrap();
    assert!(at(b"moov") < at(b"mdat"), "moov after mdat: not faststart");

    let webp = artifact(&outcome, "video.webp");
    let info = Command::new("webpmux")
        .arg("-info")
        .arg(&webp)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("Canvas size: 64 x 48"), "{info}");
    assert!(info.contains("Loop Count : 0"), "{info}");
    assert!(info.contains("Number of frames: 12"), "{info}");
    let frames = webp_frames(&webp);
    assert_eq!(frames.len(), 12);
    for k in [0usize, 6, 11] {
        let got = frames[k].get_pixel(32, 24).0[0];
        let want = (8 * (k + 1)) as u8;
        assert!(
            got.abs_diff(want) <= 8,
            "webp frame {k}: red {got}, want {want}"
        );
    }

    let poster = image::open(artifact(&outcome, "poster.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(poster.dimensions(), (64, 48));
    assert_eq!(red(&poster), 40, "the poster is frame 4 (frameCount 5)");

    let report: Value =
        serde_json::from_slice(&std::fs::read(artifact(&outcome, "recording.json")).unwrap())
            .unwrap();
    assert_eq!(report["frames"], 12);
    assert_eq!(report["frozen"], false);
}

#[test]
fn duration_and_scale_give_frames_and_a_nearest_neighbour_upscale() {
    // A 5×3 checkerboard of 1-pixel squares: nearest-neighbour at ×4 keeps hard edges.
    let code = "function setup() { createCanvas(5, 3); pixelDensity(1); noLoop(); }\n\
                function draw() { background(255); noStroke(); fill(0); \
                for (let x = 0; x < 5; x++) for (let y = 0; y < 3; y++) if ((x + y) % 2) rect(x, y, 1, 1); }\n";
    let outcome = video(json!({
        "code": code, "width": 5, "height": 3, "fps": 10, "durationS": 0.5,
        "formats": ["gif", "mp4"], "scale": 4,
    }));
    let gif = artifact(&outcome, "video.gif");
    let probe = probe(&gif);
    let video = stream(&probe, "video");
    assert_eq!(video["nb_read_frames"], "5");
    // A checkerboard is not one flat colour.
    let report: Value =
        serde_json::from_slice(&std::fs::read(artifact(&outcome, "recording.json")).unwrap())
            .unwrap();
    assert_eq!(report["dud"], false, "{report}");
    assert_eq!(report["dudColor"], Value::Null, "{report}");
    assert_eq!(
        (video["width"].clone(), video["height"].clone()),
        (json!(20), json!(12))
    );
    let frame = decode_frame(&gif, 2);
    for (x, y, dark) in [
        (0, 0, false),
        (3, 3, false),
        (4, 0, true),
        (7, 3, true),
        (4, 4, false),
    ] {
        let value = frame.get_pixel(x, y).0[0];
        assert_eq!(value < 128, dark, "pixel ({x}, {y}) is {value}");
    }
    // MP4 needs even sides: 20×12 already is.
    let mp4 = probe_video(&artifact(&outcome, "video.mp4"));
    assert_eq!(
        (mp4["width"].clone(), mp4["height"].clone()),
        (json!(20), json!(12))
    );
}

fn probe_video(path: &Path) -> Value {
    stream(&probe(path), "video").clone()
}

#[test]
fn odd_sizes_become_even_in_mp4() {
    let outcome = video(json!({
        "code": "function setup() { createCanvas(33, 21); } function draw() { background(frameCount); }",
        "width": 33, "height": 21, "frames": 3, "formats": ["mp4"],
    }));
    let mp4 = probe_video(&artifact(&outcome, "video.mp4"));
    let (w, h) = (
        mp4["width"].as_u64().unwrap(),
        mp4["height"].as_u64().unwrap(),
    );
    assert!(w % 2 == 0 && h % 2 == 0 && w >= 33 && h >= 21, "{w}×{h}");
}

#[test]
fn the_same_seed_gives_identical_frames_and_another_seed_does_not() {
    let code = "function setup() { createCanvas(40, 40); noStroke(); }\n\
                function draw() { background(random(255), random(255), Math.random() * 255); \
                fill(noise(frameCount) * 255); rect(random(30), random(30), 10, 10); }\n";
    let run = |seed: u64| {
        let outcome = video(json!({
            "code": code, "width": 40, "height": 40, "frames": 8, "seed": seed, "formats": ["gif"],
        }));
        std::fs::read(artifact(&outcome, "video.gif")).unwrap()
    };
    let first = run(7);
    assert_eq!(first, run(7), "same seed, different frames");
    assert_ne!(first, run(8), "different seeds, same frames");
}

#[test]
fn css_animations_transitions_web_animations_timers_and_raf_follow_the_virtual_clock() {
    // Boxes on rows 0–9, 10–19, 20–29, 30–39 and 50–59 move 10 px per 100 ms: a CSS animation,
    // a Web Animation, a CSS transition started by a timer at 0 ms, a box moved by
    // requestAnimationFrame from its timestamp, and one moved by performance.now() when
    // Date.now() agrees with it. Row 40–49 turns green at 250 ms (setTimeout).
    let html = r#"<style>
      div { position: absolute; width: 10px; height: 10px; background: red; left: 0; }
      #css { top: 0; animation: slide 1s linear infinite; }
      @keyframes slide { from { left: 0px; } to { left: 100px; } }
      #waapi { top: 10px; }
      #transition { top: 20px; transition: left 1s linear; }
      #raf { top: 30px; }
      #timer { top: 40px; width: 120px; background: blue; }
      #clock { top: 50px; }
    </style>
    <div id="css"></div><div id="waapi"></div><div id="transition"></div><div id="raf"></div><div id="timer"></div><div id="clock"></div>
    <script>
      document.getElementById('waapi').animate([{ left: '0px' }, { left: '100px' }], { duration: 1000, iterations: Infinity });
      setTimeout(() => { document.getElementById('transition').style.left = '100px'; }, 0);
      const raf = document.getElementById('raf');
      const step = (t) => { raf.style.left = (t / 10) + 'px'; requestAnimationFrame(step); };
      requestAnimationFrame(step);
      setTimeout(() => { document.getElementById('timer').style.background = 'lime'; }, 250);
      const clock = document.getElementById('clock'), t0 = performance.now(), d0 = Date.now();
      const tick = () => {
        const p = performance.now() - t0, d = Date.now() - d0;
        clock.style.left = (p === d ? p / 10 : 0) + 'px';
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    </script>"#;
    let outcome = video(json!({
        "html": html, "width": 120, "height": 60, "fps": 10, "frames": 8, "formats": ["gif"],
    }));
    let gif = artifact(&outcome, "video.gif");
    for k in [0u32, 3, 7] {
        let frame = decode_frame(&gif, k);
        let left_edge = |row: u32| {
            (0..120)
                .find(|&x| {
                    let p = frame.get_pixel(x, row).0;
                    p[0] > 200 && p[1] < 60 && p[2] < 60
                })
                .unwrap_or_else(|| panic!("frame {k}: no red box on row {row}"))
        };
        let want = 10 * k;
        for (row, what) in [
            (5, "CSS animation"),
            (15, "Web Animation"),
            (35, "rAF"),
            (55, "performance.now and Date"),
        ] {
            let got = left_edge(row);
            assert!(
                got.abs_diff(want) <= 1,
                "frame {k}: {what} at x={got}, want {want}"
            );
        }
        // The transition starts at frame 0 (its timer runs at 0 ms) and moves 10 px per 100 ms
        // from there.
        let got = left_edge(25);
        assert!(
            got.abs_diff(want) <= 1,
            "frame {k}: transition at x={got}, want {want}"
        );
        let timer = frame.get_pixel(60, 45).0;
        let green = timer[1] > 200 && timer[2] < 60;
        assert_eq!(
            green,
            k >= 3,
            "frame {k} ({} ms): timer row is {timer:?}",
            k * 100
        );
    }
}

#[test]
fn an_element_is_recorded_on_its_own_and_html_errors_are_piece_failed() {
    let html = r#"<style>body { background: white; } #stage { position: absolute; left: 10px; top: 6px;
        width: 30px; height: 20px; background: blue; animation: pulse 1s steps(2, jump-none) infinite; }
        @keyframes pulse { from { background: blue; } to { background: lime; } }</style>
        <div id="stage"></div>"#;
    let outcome = video(json!({
        "html": html, "selector": "#stage", "width": 80, "height": 40, "fps": 4, "frames": 4,
        "formats": ["gif"],
    }));
    let gif = artifact(&outcome, "video.gif");
    let stream = probe_video(&gif);
    assert_eq!(
        (stream["width"].clone(), stream["height"].clone()),
        (json!(30), json!(20))
    );
    // steps(2, jump-none) over 1 s: blue for 0–0.5 s, lime for 0.5–1 s; frames at 0, 0.25, 0.5, 0.75 s.
    for (k, lime) in [(0, false), (1, false), (2, true), (3, true)] {
        let pixel = decode_frame(&gif, k).get_pixel(15, 10).0;
        assert_eq!(pixel[1] > 200, lime, "frame {k}: {pixel:?}");
    }

    let outcome = video(json!({
        "html": "<script>throw new Error('the piece is broken')</script>", "width": 20,
        "height": 20, "frames": 2, "formats": ["gif"],
    }));
    let message = failure(&outcome, ErrorKind::PieceFailed);
    assert!(message.contains("the piece is broken"), "{message}");

    let outcome = video(json!({
        "html": "<p>hi</p>", "selector": "#nothing", "width": 20, "height": 20, "frames": 2,
        "formats": ["gif"],
    }));
    let message = failure(&outcome, ErrorKind::PieceFailed);
    assert!(message.contains("no element matches"), "{message}");
}

#[test]
fn a_frozen_piece_is_reported_and_gives_a_still_when_asked() {
    let code = "function setup() { createCanvas(30, 30); background(0, 200, 0); noLoop(); }";
    let outcome =
        video(json!({"code": code, "width": 30, "height": 30, "frames": 6, "formats": ["gif"]}));
    let report: Value =
        serde_json::from_slice(&std::fs::read(artifact(&outcome, "recording.json")).unwrap())
            .unwrap();
    assert_eq!(report["frozen"], true);
    assert_eq!(report["returnedStill"], false);
    // One flat green: a dud too, by the old grabber's rule, judged by the host.
    assert_eq!(report["dud"], true, "{report}");
    assert_eq!(report["dudColor"], "#00c800", "{report}");
    assert!(names(&outcome).contains(&"video.gif".to_string()));

    let outcome = video(json!({
        "code": code, "width": 30, "height": 30, "frames": 6, "formats": ["gif", "mp4"],
        "stillIfFrozen": true,
    }));
    assert_eq!(names(&outcome), ["still.png", "recording.json"]);
    let still = image::open(artifact(&outcome, "still.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(still.get_pixel(15, 15).0, [0, 200, 0]);
}

#[test]
fn a_sketch_that_throws_on_frame_37_fails_naming_frame_37_in_p5_1_and_2() {
    let code = "function setup() { createCanvas(20, 20); }\n\
                function draw() { background(frameCount); if (frameCount === 37) throw new Error('boom at 37'); }\n";
    for version in ["1", "2"] {
        let outcome = video_alone_leaving_no_strays(json!({
            "code": code, "width": 20, "height": 20, "frames": 60, "formats": ["mp4", "webp"],
            "p5Version": version,
        }));
        let message = failure(&outcome, ErrorKind::PieceFailed);
        assert!(
            message.contains("frame 37 of 60"),
            "p5 {version}: {message}"
        );
        assert!(message.contains("boom at 37"), "p5 {version}: {message}");
    }
}

#[test]
fn a_draw_that_loops_forever_times_out_naming_the_frame_and_the_next_job_records() {
    let code = "function setup() { createCanvas(20, 20); }\n\
                function draw() { background(frameCount); if (frameCount === 3) while (true) {} }\n";
    let outcome =
        video(json!({"code": code, "width": 20, "height": 20, "frames": 10, "formats": ["gif"]}));
    let message = failure(&outcome, ErrorKind::Timeout);
    assert!(message.contains("frame 3 of 10"), "{message}");
    assert!(message.contains("jobs.frame_timeout_ms"), "{message}");
    let outcome = video(
        json!({"code": FRAME_COUNTER, "width": 64, "height": 48, "frames": 3, "formats": ["gif"]}),
    );
    artifact(&outcome, "video.gif");
}

#[test]
fn p5_1_records_frame_n_as_frame_count_n_too() {
    let outcome = video(json!({
        "code": FRAME_COUNTER, "width": 64, "height": 48, "frames": 6, "formats": ["mp4"],
        "p5Version": "1",
    }));
    let mp4 = artifact(&outcome, "video.mp4");
    for k in [0u32, 5] {
        let got = red(&decode_frame(&mp4, k));
        let want = (8 * (k + 1)) as u8;
        assert!(got.abs_diff(want) <= 6, "frame {k}: red {got}, want {want}");
    }
}

#[test]
fn webgl_frames_are_not_blank() {
    // Without preserveDrawingBuffer a WebGL canvas reads back empty once composited.
    let code = "function setup() { createCanvas(32, 32, WEBGL); }\n\
                function draw() { background(0, 0, 255); noStroke(); fill(255, 0, 0); plane(16, 16); }\n";
    let outcome = video(
        json!({"code": code, "width": 32, "height": 32, "frames": 3, "formats": ["gif"], "poster": "png"}),
    );
    let poster = image::open(artifact(&outcome, "poster.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(poster.get_pixel(16, 16).0, [255, 0, 0], "centre");
    assert_eq!(poster.get_pixel(1, 1).0, [0, 0, 255], "corner");
}

#[test]
fn bad_recordings_are_invalid_input_naming_the_field() {
    let base = || json!({"code": FRAME_COUNTER, "width": 64, "height": 48, "frames": 10});
    let cases: Vec<(Value, &str)> = vec![
        (json!({"fps": 0}), "input.fps"),
        (json!({"fps": 121}), "input.fps"),
        (json!({"frames": 3601}), "input.frames"),
        (json!({"frames": null, "durationS": 200}), "input.durationS"),
        (
            json!({"width": 2000, "height": 2000, "frames": 100}),
            "budget",
        ),
        (json!({"posterFrame": 10}), "input.posterFrame"),
        (json!({"formats": ["mov"]}), "input.formats"),
        (json!({"frames": null}), "input.frames"),
    ];
    for (change, field) in cases {
        let mut input = base();
        for (key, value) in change.as_object().unwrap() {
            if value.is_null() {
                input.as_object_mut().unwrap().remove(key);
            } else {
                input[key] = value.clone();
            }
        }
        let outcome = video(input.clone());
        let message = failure(&outcome, ErrorKind::InvalidInput);
        assert!(message.contains(field), "{input}: {message}");
    }
}

fn png_frame(i: u32) -> Vec<u8> {
    png_of(32, 24, [(i * 20) as u8, 50, 100])
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn a_baked_tape_with_a_soundtrack_lasts_as_long_as_its_audio() {
    let mut entries: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| (format!("frames/frame{}.png", i + 1), png_frame(i)))
        .collect();
    entries.push(("soundtrack.wav".into(), wav_tone(1.5)));
    let outcome = video(json!({"tape": {"zipBase64": base64(&zip_of(&entries))}}));
    let mp4 = artifact(&outcome, "video.mp4");
    let probe = probe(&mp4);
    let audio = stream(&probe, "audio");
    let audio_s: f64 = audio["duration"].as_str().unwrap().parse().unwrap();
    assert!((audio_s - 1.5).abs() < 0.1, "audio lasts {audio_s} s");
    let video_s: f64 = stream(&probe, "video")["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((video_s - 1.5).abs() < 0.3, "video lasts {video_s} s");
    assert_eq!(stream(&probe, "video")["nb_read_frames"], "6");
    // Frames in name order: frame 5 of 6 is the fifth PNG.
    assert!(red(&decode_frame(&mp4, 4)).abs_diff(80) <= 6);
    let thumbnail = image::open(artifact(&outcome, "thumbnail.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(thumbnail.dimensions(), (32, 24));
    let report: Value =
        serde_json::from_slice(&std::fs::read(artifact(&outcome, "recording.json")).unwrap())
            .unwrap();
    assert!((report["audioSeconds"].as_f64().unwrap() - 1.5).abs() < 0.01);
}

#[test]
fn a_tape_from_stored_frames_follows_its_timings() {
    // Frames put in the store the way an earlier job's artifacts would be.
    let store = kiln().dir.path().join("artifacts/tape-source");
    std::fs::create_dir_all(&store).unwrap();
    let mut keys = Vec::new();
    for i in 0..4 {
        std::fs::write(store.join(format!("{i}.png")), png_frame(i)).unwrap();
        keys.push(format!("tape-source/{i}.png"));
    }
    let outcome = video(json!({"tape": {"frameKeys": keys, "durationsMs": [100, 200, 300, 400]}}));
    let timed = probe(&artifact(&outcome, "video.mp4"));
    let seconds: f64 = timed["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (seconds - 1.0).abs() < 0.1,
        "the tape lasts {seconds} s, want 1.0"
    );

    // A ZIP and a soundtrack from the store: the video lasts as long as the audio.
    let entries: Vec<(String, Vec<u8>)> =
        (0..5).map(|i| (format!("{i}.png"), png_frame(i))).collect();
    std::fs::write(store.join("tape.zip"), zip_of(&entries)).unwrap();
    std::fs::write(store.join("voice.wav"), wav_tone(1.25)).unwrap();
    let outcome = video(
        json!({"tape": {"zipKey": "tape-source/tape.zip", "soundtrackKey": "tape-source/voice.wav"}}),
    );
    let voiced = probe(&artifact(&outcome, "video.mp4"));
    let audio_s: f64 = stream(&voiced, "audio")["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((audio_s - 1.25).abs() < 0.1, "audio lasts {audio_s} s");
    assert_eq!(stream(&voiced, "video")["nb_read_frames"], "5");

    let mut missing = keys.clone();
    missing.push("tape-source/nope.png".into());
    let outcome = video(json!({"tape": {"frameKeys": missing}}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(message.contains("tape-source/nope.png"), "{message}");
}

/// Issue 11, case 12: a tape cannot copy another job's artifact. A job reads only its own keys
/// and the prefixes granted to its plugin (here `tape-source/`).
#[test]
fn a_tape_cannot_read_another_jobs_artifacts() {
    let earlier = video(
        json!({"code": FRAME_COUNTER, "width": 64, "height": 48, "frames": 2, "formats": ["webp"]}),
    );
    assert!(earlier.succeeded(), "{:?}", earlier.error);
    let key = earlier.artifacts[0].key.clone();
    assert!(key.starts_with(&format!("{}/", earlier.id)), "{key}");
    let outcome = video(json!({"tape": {"frameKeys": [key.clone()]}}));
    let message = failure(&outcome, ErrorKind::Denied);
    assert!(
        message.contains(&key) && message.contains("plugins.per_plugin.video.read_prefixes"),
        "{message}"
    );
    let outcome = video(json!({"tape": {"zipKey": "tape-source/../elsewhere/tape.zip"}}));
    failure(&outcome, ErrorKind::InvalidInput);
}

#[test]
fn a_corrupt_tape_is_invalid_input() {
    let outcome = video(json!({"tape": {"zipBase64": base64(b"PK\x03\x04 this is not a zip")}}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(message.contains("ZIP"), "{message}");

    let entries = vec![
        ("a.png".to_string(), png_frame(1)),
        ("b.png".to_string(), b"not a png".to_vec()),
    ];
    let outcome =
        video_alone_leaving_no_strays(json!({"tape": {"zipBase64": base64(&zip_of(&entries))}}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(message.contains("b.png"), "{message}");
}
