//! A browser killed mid-job: the job fails as unavailable and is retried once on the replacement
//! browser by the layer that owns retries where it runs. On the command line's path
//! (`JobRunner::run`, what `kiln render` and `kiln batch` run) that is the runner, in-process; on
//! the service's (`JobRunner::run_once`) the runner makes one attempt and leaves the retry to the
//! queue (tested end to end in tests/service.rs).

use kiln_test_support::*;
use serde_json::json;
use std::time::Duration;

#[test]
fn killed_browser_is_replaced_and_its_job_retried() {
    let kiln = TestKiln::start_with(|c| c.jobs.timeout_ms = 15_000);
    let pids = kiln
        .kiln
        .pool
        .as_ref()
        .expect("this host runs browsers")
        .browser_pids();
    assert_eq!(pids.len(), 1);
    let old_pid = pids[0];

    // The sketch's setup takes 2 s, so the kill lands while the job is in its page.
    let code = "async function setup() { createCanvas(40, 40); await new Promise(r => setTimeout(r, 2000)); background(0, 0, 255); noLoop(); }";
    let job = json!({"id": "crash-victim", "type": "p5", "input": {"code": code, "width": 40, "height": 40}});
    let spec: kiln::jobs::JobSpec = serde_json::from_value(job).unwrap();
    let runner = kiln.kiln.runner.clone();
    let outcome = block_on(async move {
        let running = tokio::spawn(async move { runner.run(&spec).await });
        tokio::time::sleep(Duration::from_millis(700)).await;
        kill_9(old_pid);
        running.await.unwrap()
    });

    let image = artifact_image(&outcome);
    assert!(near(image.get_pixel(20, 20), [0, 0, 255, 255], 2));
    assert_eq!(outcome.attempts, 2, "{:#?}", outcome.log);
    assert!(
        outcome
            .log
            .iter()
            .any(|l| l.message.contains("attempt 1 failed, retrying")),
        "{:#?}",
        outcome.log
    );
    assert_eq!(
        kiln.kiln
            .pool
            .as_ref()
            .expect("this host runs browsers")
            .restarts(),
        1
    );
    let new_pids = kiln
        .kiln
        .pool
        .as_ref()
        .expect("this host runs browsers")
        .browser_pids();
    assert_eq!(new_pids.len(), 1);
    assert_ne!(new_pids[0], old_pid, "the replacement is a new process");

    // The service's path: one attempt, no retry of its own; the failure is the queue's to retry.
    let job = json!({"id": "service-victim", "type": "p5", "input": {"code": code, "width": 40, "height": 40}});
    let spec: kiln::jobs::JobSpec = serde_json::from_value(job).unwrap();
    let runner = kiln.kiln.runner.clone();
    let plugin = kiln.kiln.plugins.resolve("p5").unwrap();
    let victim = new_pids[0];
    let outcome = block_on(async move {
        let running = tokio::spawn(async move { runner.run_once(&spec, plugin, None).await });
        tokio::time::sleep(Duration::from_millis(700)).await;
        kill_9(victim);
        running.await.unwrap()
    });
    let message = failure(&outcome, kiln::ErrorKind::Unavailable);
    assert_eq!(outcome.attempts, 1, "{message}\n{:#?}", outcome.log);
    assert!(
        !outcome.log.iter().any(|l| l.message.contains("retrying")),
        "{:#?}",
        outcome.log
    );
}

fn kill_9(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -9 {pid}");
}
