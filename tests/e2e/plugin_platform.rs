//! The plugin platform: load-time refusals, grants and limits per plugin, hot-loading while jobs
//! run, and versions.

use kiln::ErrorKind;
use kiln::jobs::{JobObserver, JobSpec};
use kiln::plugins::PluginCatalog;
use kiln_test_support::*;
use serde_json::json;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Says when a job's first attempt starts (its plugin resolved and held).
struct FirstAttempt(Mutex<Option<tokio::sync::oneshot::Sender<()>>>);

impl JobObserver for FirstAttempt {
    fn attempt_started(&self, _attempt: u32) {
        if let Some(started) = self.0.lock().unwrap().take() {
            let _ = started.send(());
        }
    }
}

/// Writes `bytes` as `dir/name` the way a deploy should: a temporary name, then a rename.
fn drop_in(dir: &Path, name: &str, bytes: &[u8]) {
    let temporary = dir.join(format!("{name}.tmp"));
    std::fs::write(&temporary, bytes).unwrap();
    std::fs::rename(&temporary, dir.join(name)).unwrap();
}

/// Polls `done` every 20 ms for up to 10 s; returns how long it took.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    started.elapsed()
}

fn refusal(catalog: &PluginCatalog, file: &str) -> String {
    catalog
        .snapshot()
        .errors()
        .iter()
        .find(|e| e.path.ends_with(file))
        .map(|e| e.message.clone())
        .unwrap_or_else(|| panic!("{file} was not refused: {:?}", catalog.snapshot().errors()))
}

#[test]
fn each_bad_component_is_refused_at_load_with_its_reason_and_the_rest_serve() {
    let dir = TestDir::new();
    let plugins = dir.path().join("plugins");
    std::fs::write(
        plugins.join("another-world.wasm"),
        wat::parse_str("(component)").unwrap(),
    )
    .unwrap();
    for name in [
        "kiln_test_plugin_trap_describe",
        "kiln_test_plugin_bad_schema",
    ] {
        std::fs::copy(plugin_wasm(name), plugins.join(format!("{name}.wasm"))).unwrap();
    }
    let mut config = dir.config();
    // The hostile plugin imports the browser interface; take that grant away.
    grant(&mut config, "hostile", &["media", "storage"]);

    let catalog = block_on(kiln::kiln::load_plugins(&config)).unwrap();

    let message = refusal(&catalog, "another-world.wasm");
    assert!(
        message.contains("not a kiln:render plugin")
            && message.contains("must export `describe` and `run`"),
        "{message}"
    );
    let message = refusal(&catalog, "kiln_test_plugin_trap_describe.wasm");
    assert!(
        message.contains("describe() failed") && message.contains("describe traps on purpose"),
        "{message}"
    );
    let message = refusal(&catalog, "kiln_test_plugin_bad_schema.wasm");
    assert!(message.contains("not a valid JSON Schema"), "{message}");
    let message = refusal(&catalog, "kiln_test_plugin_hostile.wasm");
    assert!(
        message.contains("imports kiln:render/browser@1.4.0")
            && message.contains("`browser` capability")
            && message.contains("plugins.per_plugin.hostile.grants"),
        "{message}"
    );
    let serving: Vec<String> = catalog.snapshot().plugins().map(|p| p.label()).collect();
    assert_eq!(
        serving,
        vec![
            "js@0.1.0".to_string(),
            "kidlisp@0.1.0".to_string(),
            "kidlisp-og@0.1.0".to_string(),
            "notepat-og@0.1.0".to_string(),
            "p5@0.1.0".to_string(),
            "url@0.1.0".to_string(),
            "video@0.1.0".to_string()
        ]
    );
}

#[test]
fn limits_and_read_only_directories_are_set_per_plugin() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("hello.txt"), "hello").unwrap();
    let kiln = TestKiln::start_with(|config| {
        let hostile = config.plugins.per_plugin.get_mut("hostile").unwrap();
        hostile.max_pages = Some(1);
        hostile.memory_mib = Some(32);
        hostile.timeout_ms = Some(1_000);
        hostile
            .dirs
            .insert("/data".into(), data.path().to_path_buf());
    });
    let hostile = |mode: &str| kiln.run(json!({"type": "hostile", "input": {"mode": mode}}));

    let message = failure(&hostile("pages"), ErrorKind::Denied);
    assert!(message.contains("plugins.max_pages"), "{message}");

    let message = failure(&hostile("fs"), ErrorKind::Internal);
    eprintln!("the sandbox says: {message}");
    assert!(message.contains(r#"read=Ok("hello")"#), "{message}");
    // Read-only, nothing outside the granted directory, and no network.
    assert!(message.contains("write=Err(PermissionDenied)"), "{message}");
    assert!(message.contains("outside=Err(NotFound)"), "{message}");
    assert!(message.contains("net=Err(PermissionDenied)"), "{message}");
    assert!(!data.path().join("new.txt").exists());

    let message = failure(&hostile("hog"), ErrorKind::Internal);
    assert!(message.contains("memory limit of 32 MiB"), "{message}");

    let message = failure(&hostile("spin"), ErrorKind::Timeout);
    assert!(
        message.contains("1000 ms") && message.contains("plugins.per_plugin.hostile.timeout_ms"),
        "{message}"
    );

    // The p5 plugin keeps the defaults: its jobs are unaffected.
    let image = artifact_image(&kiln.p5(&red_circle(60), 60));
    assert!(near(image.get_pixel(30, 30), [255, 0, 0, 255], 2));
}

#[test]
fn plugins_load_swap_and_unload_while_the_host_runs() {
    let poster_card = build_example("poster-card", "poster_card");
    let kiln = TestKiln::start_with(|config| {
        config.plugins.watch_interval_ms = 50;
        grant(config, "poster-card", &["browser", "media", "storage"]);
    });
    let plugins = kiln.dir.path().join("plugins");
    let catalog = kiln.kiln.plugins.clone();
    let poster =
        json!({"type": "poster-card", "input": {"title": "Hot", "width": 400, "height": 200}});

    // A third party's plugin, just built, is picked up without a restart.
    drop_in(
        &plugins,
        "poster-card.wasm",
        &std::fs::read(&poster_card).unwrap(),
    );
    let took = wait_for("poster-card to load", || {
        catalog.resolve("poster-card").is_ok()
    });
    eprintln!("poster-card visible to new jobs after {took:?}");
    let image = artifact_image(&kiln.run(poster.clone()));
    assert_eq!(image.dimensions(), (400, 200));

    // A bad build of it is refused, and the old build keeps serving.
    drop_in(&plugins, "poster-card.wasm", b"a broken build");
    wait_for("the broken build to be refused", || {
        catalog
            .snapshot()
            .errors()
            .iter()
            .any(|e| e.path.ends_with("poster-card.wasm"))
    });
    assert_eq!(
        catalog.resolve("poster-card").unwrap().label(),
        "poster-card@0.1.0"
    );
    assert!(kiln.run(poster.clone()).succeeded());

    // Removing the file unloads it.
    std::fs::remove_file(plugins.join("poster-card.wasm")).unwrap();
    wait_for("poster-card to unload", || {
        catalog.resolve("poster-card").is_err()
    });
    assert!(catalog.snapshot().errors().is_empty());
    let message = failure(&kiln.run(poster), ErrorKind::InvalidInput);
    assert!(
        message.contains("unknown job type \"poster-card\""),
        "{message}"
    );

    // A job that is running when its plugin goes away finishes on the plugin it started with.
    let spec: JobSpec = serde_json::from_value(json!({"type": "p5", "input": {
        "code": format!("{}\nfunction draw() {{ background(frameCount % 255); }}", "function setup() { createCanvas(50, 50); }"),
        "width": 50, "height": 50, "frames": 90}}))
    .unwrap();
    let runner = Arc::clone(&kiln.kiln.runner);
    let (started, attempt) = tokio::sync::oneshot::channel();
    let observer: Arc<dyn JobObserver> = Arc::new(FirstAttempt(Mutex::new(Some(started))));
    let outcome = block_on(async {
        let running = tokio::spawn(async move { runner.run_observed(&spec, Some(observer)).await });
        // The job has resolved its plugin and started its attempt.
        tokio::time::timeout(Duration::from_secs(10), attempt)
            .await
            .expect("the job started within 10 s")
            .unwrap();
        std::fs::remove_file(plugins.join("kiln_plugin_p5.wasm")).unwrap();
        let unloaded = Instant::now();
        while catalog.resolve("p5").is_ok() {
            assert!(
                unloaded.elapsed() < Duration::from_secs(5),
                "p5 did not unload"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            !running.is_finished(),
            "the job ended before p5 was unloaded"
        );
        running.await.unwrap()
    });
    assert!(outcome.succeeded(), "{:?}", outcome.error);
    assert_eq!(outcome.plugin.as_deref(), Some("p5@0.1.0"));
    let message = failure(&kiln.p5(&red_circle(20), 20), ErrorKind::InvalidInput);
    assert!(message.contains("unknown job type \"p5\""), "{message}");
}

/// Plugins built against each released contract (`wit/v1.0.0` and `wit/v1.1.0` with
/// wit-bindgen alone, the SDK at the newest) load side by side, say which they were built
/// against, and render through their version's interfaces: the host serves every released
/// version.
#[test]
fn plugins_built_against_every_released_contract_load_and_render() {
    let kiln = TestKiln::start_with(|config| {
        let plugins = &config.plugin_dirs[0];
        std::fs::copy(
            plugin_wasm("kiln_test_plugin_contract_v1_0_0"),
            plugins.join("contract_v1_0_0.wasm"),
        )
        .unwrap();
        std::fs::copy(
            plugin_wasm("kiln_test_plugin_contract_v1_1_0"),
            plugins.join("contract_v1_1_0.wasm"),
        )
        .unwrap();
        std::fs::copy(
            plugin_wasm("kiln_test_plugin_pixels"),
            plugins.join("pixels.wasm"),
        )
        .unwrap();
        std::fs::copy(
            plugin_wasm("kiln_test_plugin_sources_probe"),
            plugins.join("sources_probe.wasm"),
        )
        .unwrap();
        grant(config, "contract-v1-0-0", &["browser", "media", "storage"]);
        grant(config, "contract-v1-1-0", &["browser", "media", "storage"]);
        grant(config, "pixels", &["media", "storage"]);
        grant(config, "sources-probe", &["media", "storage"]);
    });
    let snapshot = kiln.kiln.plugins.snapshot();
    let contract_of = |name: &str| {
        let plugin = kiln.kiln.plugins.resolve(name).unwrap();
        assert_eq!(plugin.report()["contract"], plugin.info.contract.as_str());
        plugin.info.contract.clone()
    };
    assert!(snapshot.errors().is_empty(), "{:?}", snapshot.errors());
    assert_eq!(contract_of("contract-v1-0-0"), "1.0.0");
    assert_eq!(contract_of("contract-v1-1-0"), "1.1.0");
    assert_eq!(contract_of("pixels"), "1.2.0");
    assert_eq!(contract_of("sources-probe"), "1.3.0");
    assert_eq!(contract_of("p5"), "1.4.0");

    let outcome = kiln.run(json!({
        "type": "contract-v1-0-0",
        "input": {"color": "#20c040", "size": 48}
    }));
    assert!(outcome.succeeded(), "{:?}", outcome.error);
    let names: Vec<&str> = outcome.artifacts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["image.png", "report.json"]);
    let png = std::fs::read(outcome.artifacts[0].url.strip_prefix("file://").unwrap()).unwrap();
    let image = image::load_from_memory(&png).unwrap().to_rgba8();
    assert_eq!(image.dimensions(), (48, 48));
    assert!(near(image.get_pixel(24, 24), [0x20, 0xc0, 0x40, 255], 1));
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(outcome.artifacts[1].url.strip_prefix("file://").unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(report["contract"], "1.0.0");
    assert_eq!(report["canvasWidth"], 48);
    assert_eq!(report["errors"], 0);
    assert!(report["libraries"].as_u64().unwrap() >= 2, "{report}");
    assert!(
        outcome
            .log
            .iter()
            .any(|l| l.message.contains("1.0.0 plugin: max dimension 8192")),
        "{:?}",
        outcome.log
    );

    // 1.1.0: a recording on the virtual clock, its video and poster.
    let outcome = kiln.run(json!({"type": "contract-v1-1-0", "input": {"size": 16}}));
    assert!(outcome.succeeded(), "{:?}", outcome.error);
    let names: Vec<&str> = outcome.artifacts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["video.gif", "poster.png", "report.json"]);
    let read = |i: usize| {
        std::fs::read(outcome.artifacts[i].url.strip_prefix("file://").unwrap()).unwrap()
    };
    assert!(read(0).starts_with(b"GIF8"));
    // Frame 2 is at 200 ms, after the page turned blue.
    let poster = image::load_from_memory(&read(1)).unwrap().to_rgba8();
    assert!(near(poster.get_pixel(8, 8), [0, 0, 255, 255], 1));
    let report: serde_json::Value = serde_json::from_slice(&read(2)).unwrap();
    assert_eq!(report["contract"], "1.1.0");
    assert_eq!(report["frames"], 4);
    assert_eq!(report["allIdentical"], false);
}

/// 1.2.0's `pixels`: a still and videos from RGBA frames the plugin drew, checked pixel by pixel
/// and frame by frame; frames of the wrong size and sizes over the host's caps are refused by
/// name.
#[test]
fn a_plugin_hands_the_host_rgba_frames_for_a_still_and_videos() {
    let kiln = TestKiln::start_with(|config| {
        std::fs::copy(
            plugin_wasm("kiln_test_plugin_pixels"),
            config.plugin_dirs[0].join("pixels.wasm"),
        )
        .unwrap();
        grant(config, "pixels", &["media", "storage"]);
        config.jobs.max_frames = 50;
    });
    let outcome = kiln.run(json!({"type": "pixels", "input": {
        "width": 8, "height": 6, "scale": 2, "frames": 5, "formats": ["gif", "mp4"], "posterFrame": 3,
    }}));
    assert!(outcome.succeeded(), "{:?}", outcome.error);
    let names: Vec<&str> = outcome.artifacts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "image.png",
            "video.gif",
            "video.mp4",
            "poster.png",
            "recording.json"
        ]
    );
    let read = |name: &str| {
        let artifact = outcome.artifacts.iter().find(|a| a.name == name).unwrap();
        std::fs::read(artifact.url.strip_prefix("file://").unwrap()).unwrap()
    };
    // The still is frame 0 at scale 2: a red ramp, white at (0, 0), exact.
    let still = image::load_from_memory(&read("image.png"))
        .unwrap()
        .to_rgba8();
    assert_eq!(still.dimensions(), (16, 12));
    assert_eq!(still.get_pixel(1, 1).0, [255, 255, 255, 255]);
    assert_eq!(still.get_pixel(2, 4).0, [36, 0, 0, 255]);
    assert_eq!(still.get_pixel(15, 11).0, [255, 0, 0, 255]);
    // The poster is frame 3: green 120, the white pixel at (3, 0).
    let poster = image::load_from_memory(&read("poster.png"))
        .unwrap()
        .to_rgba8();
    assert_eq!(poster.dimensions(), (16, 12));
    assert_eq!(poster.get_pixel(7, 1).0, [255, 255, 255, 255]);
    assert_eq!(poster.get_pixel(15, 11).0, [255, 120, 0, 255]);
    // Every frame of the GIF, decoded by ffmpeg: frame i has green 40·i.
    let gif = outcome
        .artifacts
        .iter()
        .find(|a| a.name == "video.gif")
        .unwrap();
    let gif = Path::new(gif.url.strip_prefix("file://").unwrap());
    for i in 0..5u32 {
        let pixel = decode_frame(gif, i).get_pixel(15, 11).0;
        let expected = [255, (i * 40) as u8, 0, 255];
        assert!(
            near(
                &image::Rgba([pixel[0], pixel[1], pixel[2], 255]),
                expected,
                8
            ),
            "frame {i}: {pixel:?}"
        );
    }
    assert!(read("video.mp4")[4..8] == *b"ftyp");
    let report: serde_json::Value = serde_json::from_slice(&read("recording.json")).unwrap();
    assert_eq!(
        report,
        json!({"frames": 5, "width": 16, "height": 12, "allIdentical": false})
    );

    // A frame of the wrong size names its length and the size expected.
    let outcome = kiln.run(json!({"type": "pixels", "input": {
        "width": 8, "height": 6, "frames": 3, "formats": ["gif"], "wrongSize": true,
    }}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(
        message.contains("frame 1: got 7 bytes") && message.contains("192"),
        "{message}"
    );
    // More frames than the host takes.
    let outcome = kiln.run(json!({"type": "pixels", "input": {
        "width": 8, "height": 6, "frames": 51, "formats": ["gif"],
    }}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(message.contains("at most 50 frames"), "{message}");
    // A still over the host's side.
    let outcome = kiln.run(json!({"type": "pixels", "input": {"width": 9000, "height": 1}}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(message.contains("jobs.max_dimension"), "{message}");
}
