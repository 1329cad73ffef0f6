//! Hostile plugins: each fails its own job with a precise error, and the host keeps serving.

use kiln::ErrorKind;
use kiln_test_support::*;
use serde_json::json;
use std::time::Instant;

fn hostile(kiln: &TestKiln, mode: &str) -> kiln::jobs::JobOutcome {
    kiln.run(json!({"type": "hostile", "input": {"mode": mode}}))
}

fn still_serves(kiln: &TestKiln) {
    let image = artifact_image(&kiln.p5(&red_circle(60), 60));
    assert!(near(image.get_pixel(30, 30), [255, 0, 0, 255], 2));
    assert!(hostile(kiln, "ok").succeeded());
}

#[test]
fn spinning_plugin_hits_its_cpu_budget() {
    let kiln = TestKiln::start_with(|c| c.plugins.cpu_ms = 500);
    let started = Instant::now();
    let message = failure(&hostile(&kiln, "spin"), ErrorKind::Timeout);
    assert!(message.contains("CPU budget of 500 ms"), "{message}");
    assert!(
        started.elapsed().as_secs_f64() < 3.0,
        "took {:?}",
        started.elapsed()
    );
    still_serves(&kiln);
}

#[test]
fn spinning_plugin_hits_the_wall_clock_when_cpu_allows_more() {
    // The 1 s budget is the hostile plugin's own: `still_serves` then runs a p5 job under the
    // default timeout, which a loaded machine needs.
    let kiln = TestKiln::start_with(|c| {
        c.plugins.cpu_ms = 600_000;
        c.plugins
            .per_plugin
            .entry("hostile".into())
            .or_default()
            .timeout_ms = Some(1_000);
    });
    let message = failure(&hostile(&kiln, "spin"), ErrorKind::Timeout);
    assert!(
        message.contains("wall-clock budget of 1000 ms"),
        "{message}"
    );
    still_serves(&kiln);
}

#[test]
fn allocating_plugin_hits_its_memory_limit() {
    let kiln = TestKiln::start_with(|c| c.plugins.memory_mib = 64);
    let message = failure(&hostile(&kiln, "hog"), ErrorKind::Internal);
    assert!(message.contains("memory limit of 64 MiB"), "{message}");
    still_serves(&kiln);
}

#[test]
fn panicking_plugin_fails_with_its_panic_message() {
    let kiln = TestKiln::start();
    let message = failure(&hostile(&kiln, "panic"), ErrorKind::Internal);
    assert!(message.contains("hostile@0.1.0 panicked"), "{message}");
    assert!(
        message.contains("hostile plugin panicked on purpose"),
        "{message}"
    );
    still_serves(&kiln);
}

#[test]
fn undeclared_capability_is_denied() {
    let kiln = TestKiln::start();
    let message = failure(&hostile(&kiln, "store"), ErrorKind::Denied);
    assert!(message.contains("`storage` capability"), "{message}");
}
