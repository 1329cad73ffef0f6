//! The plugin platform: load-time refusals, grants and limits per plugin, hot-loading while jobs
//! run, and versions.

mod common;

use common::*;
use kiln::ErrorKind;
use kiln::jobs::{JobObserver, JobSpec};
use kiln::plugins::PluginCatalog;
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
        message.contains("imports kiln:render/browser@1.1.0")
            && message.contains("`browser` capability")
            && message.contains("plugins.per_plugin.hostile.grants"),
        "{message}"
    );
    let serving: Vec<String> = catalog.snapshot().plugins().map(|p| p.label()).collect();
    assert_eq!(
        serving,
        vec![
            "js@0.1.0".to_string(),
            "p5@0.1.0".to_string(),
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

/// A plugin built against the first released contract (`wit/v1.0.0`, with wit-bindgen alone)
/// loads beside plugins built against the newest, says so, and renders through every 1.0.0
/// interface: the host serves every released version.
#[test]
fn a_plugin_built_against_the_oldest_contract_loads_and_renders() {
    let kiln = TestKiln::start_with(|config| {
        let plugins = &config.plugin_dirs[0];
        std::fs::copy(
            plugin_wasm("kiln_test_plugin_contract_v1_0_0"),
            plugins.join("contract_v1_0_0.wasm"),
        )
        .unwrap();
        grant(config, "contract-v1-0-0", &["browser", "media", "storage"]);
    });
    let snapshot = kiln.kiln.plugins.snapshot();
    let contract_of = |name: &str| {
        let plugin = kiln.kiln.plugins.resolve(name).unwrap();
        assert_eq!(plugin.report()["contract"], plugin.info.contract.as_str());
        plugin.info.contract.clone()
    };
    assert!(snapshot.errors().is_empty(), "{:?}", snapshot.errors());
    assert_eq!(contract_of("contract-v1-0-0"), "1.0.0");
    assert_eq!(contract_of("p5"), "1.1.0");

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
}
