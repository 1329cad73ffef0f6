//! Browser recycling (`browser.recycle_after_jobs`, `recycle_after_s`, `recycle_above_mib`):
//! a browser due for replacement keeps serving until its replacement's pages are in the pool,
//! so jobs keep flowing at full concurrency across every recycle and none fails.

use kiln_test_support::*;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[test]
fn browsers_are_recycled_by_jobs_served_without_a_dip_in_capacity() {
    let kiln = Arc::new(TestKiln::start_with(|config| {
        config.browser.processes = 1;
        config.browser.pages_per_process = 2;
        config.browser.recycle_after_jobs = 4;
        config.jobs.timeout_ms = 30_000;
    }));
    let pool = kiln.kiln.pool.clone().expect("this host runs browsers");
    let first_pid = pool.browser_pids()[0];
    assert_eq!(pool.serving_pages(), 2);

    // Sample the pages that take jobs all through the run.
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (pool, done) = (pool.clone(), done.clone());
        std::thread::spawn(move || {
            let mut lowest = usize::MAX;
            let mut samples = 0u64;
            let mut pids = std::collections::BTreeSet::new();
            while !done.load(Ordering::SeqCst) {
                lowest = lowest.min(pool.serving_pages());
                pids.extend(pool.browser_pids());
                samples += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
            (lowest, samples, pids)
        })
    };

    // Two workers, as many as there are pages, each running jobs back to back until the pool
    // recycled at least twice (checked every half second, so how many jobs that takes depends on
    // the machine's speed), at most 200 jobs each.
    let workers: Vec<_> = (0..2)
        .map(|worker| {
            let (kiln, pool) = (kiln.clone(), pool.clone());
            std::thread::spawn(move || {
                let mut outcomes = Vec::new();
                for i in 0..200 {
                    if pool.recycles() >= 2 && i >= 12 {
                        break;
                    }
                    let code = format!(
                        "function setup() {{ createCanvas(32, 32); background({}, 0, 0); noLoop(); }}",
                        (worker * 100 + i) % 256
                    );
                    outcomes.push(kiln.run(
                        json!({"type": "p5", "input": {"code": code, "width": 32, "height": 32}}),
                    ));
                }
                outcomes
            })
        })
        .collect();
    let outcomes: Vec<_> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    done.store(true, Ordering::SeqCst);
    let (lowest, samples, pids) = sampler.join().unwrap();

    for outcome in &outcomes {
        assert!(
            outcome.succeeded() && outcome.attempts == 1,
            "{:?} after {} attempts\n{:#?}",
            outcome.error,
            outcome.attempts,
            outcome.log
        );
    }
    assert!(
        pool.recycles() >= 2,
        "recycled {} times in {} jobs",
        pool.recycles(),
        outcomes.len()
    );
    assert_ne!(pool.browser_pids(), vec![first_pid]);
    assert_eq!(pool.restarts(), 0, "a recycle is not a crash");
    assert!(samples > 100, "sampled {samples} times");
    assert_eq!(
        lowest, 2,
        "the pages taking jobs dipped to {lowest} during a recycle"
    );
    // The recycled browsers are closed once their jobs ended.
    let current = pool.browser_pids();
    let recycled: Vec<u32> = pids.into_iter().filter(|p| !current.contains(p)).collect();
    assert!(recycled.len() >= 2, "{recycled:?}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let alive = || {
        recycled
            .iter()
            .filter(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
            .count()
    };
    while alive() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(alive(), 0, "recycled browsers still running: {recycled:?}");
}
