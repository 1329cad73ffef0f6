//! pixels-v1 conformance: every frame of aesthetic.computer's five KidLisp
//! pixel fixtures must hash (SHA-256 of the raw RGBA bytes) to its golden.
//! Fixtures and goldens are in tests/conformance/ (ISC, see NOTICE there).

use std::fs;
use std::path::Path;

use kidlisp::{Event, Options, Program, Renderer};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

const FIXTURES: [&str; 5] = [
    "accumulation",
    "alpha",
    "clock-input",
    "primitives",
    "random",
];

fn dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn events_for(fixture: &Json, frame: u64) -> Vec<Event> {
    let Some(events) = fixture["events"].as_array() else {
        return vec![];
    };
    events
        .iter()
        .filter(|e| e["frame"].as_u64() == Some(frame))
        .map(|e| {
            let n = |k: &str| e[k].as_f64().unwrap_or(0.0);
            match e["type"].as_str() {
                Some("touch") => Event::Touch {
                    x: n("x"),
                    y: n("y"),
                },
                Some("draw") => Event::Draw {
                    x: n("x"),
                    y: n("y"),
                    dx: n("dx"),
                    dy: n("dy"),
                },
                Some("lift") => Event::Lift {
                    x: n("x"),
                    y: n("y"),
                },
                other => panic!("unknown event type {other:?}"),
            }
        })
        .collect()
}

/// Render one fixture and compare each frame; answer (matched, mismatches).
fn check(name: &str, manifest: &Json) -> (usize, Vec<String>) {
    let fixture: Json =
        serde_json::from_str(&fs::read_to_string(dir().join(format!("{name}.json"))).unwrap())
            .unwrap();
    let golden = &manifest["fixtures"][format!("{name}.json")]["frames"];
    let program = Program::parse(fixture["source"].as_str().unwrap()).unwrap();
    let options = Options {
        seed: fixture["seed"].as_u64().unwrap_or(0) as u32,
        epoch_ms: fixture["epochMs"].as_f64().unwrap_or(0.0),
        step_ms: fixture["stepMs"].as_f64().unwrap_or(1000.0 / 60.0),
        ..Options::default()
    };
    let (w, h) = (
        fixture["width"].as_u64().unwrap_or(96) as usize,
        fixture["height"].as_u64().unwrap_or(64) as usize,
    );
    let frames = fixture["frames"].as_u64().unwrap_or(12);
    let mut r = Renderer::new(&program, w, h, options).unwrap();
    let (mut matched, mut bad) = (0, vec![]);
    for f in 0..frames {
        let rgba = r.render_frame(&events_for(&fixture, f)).unwrap().to_vec();
        let got = hex(&Sha256::digest(&rgba));
        let want = golden[f as usize]["sha256"].as_str().unwrap();
        if got == want {
            matched += 1;
        } else {
            bad.push(format!("{name} frame {f}: got {got}"));
            if std::env::var_os("KIDLISP_DUMP").is_some() {
                let path = std::env::temp_dir().join(format!("kidlisp-{name}-{f:03}.rgba"));
                fs::write(&path, &rgba).unwrap();
            }
        }
    }
    assert!(
        r.log().iter().all(|l| !l.contains("stopped")),
        "{name}: {:?}",
        r.log()
    );
    (matched, bad)
}

#[test]
fn pixels_v1_fixtures_match_goldens() {
    let manifest: Json =
        serde_json::from_str(&fs::read_to_string(dir().join("golden-manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["profile"], "pixels-v1");
    let (mut total, mut matched, mut bad) = (0, 0, vec![]);
    for name in FIXTURES {
        total += manifest["fixtures"][format!("{name}.json")]["frames"]
            .as_array()
            .unwrap()
            .len();
        let (m, b) = check(name, &manifest);
        matched += m;
        bad.extend(b);
    }
    println!("pixels-v1: {matched} of {total} frames byte-exact");
    assert_eq!(total, 32);
    assert!(
        bad.is_empty(),
        "{matched} of {total} frames match; mismatches:\n{}",
        bad.join("\n")
    );
}
