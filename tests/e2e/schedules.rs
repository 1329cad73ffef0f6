//! `[[schedules]]` in real `kiln serve` processes: each fire time submitted once by two processes
//! on one real `redis-server`, a restart after missed fire times submitting the latest once,
//! `run_at_start`, and configs refused at start with the entry named. The jobs are tiny KidLisp
//! stills (no browser), and they run.

use ::redis::Commands;
use chrono::{DateTime, Duration as TimeDelta, Timelike, Utc};
use kiln_test_support::processes::*;
use kiln_test_support::redis_server::RedisServer;
use kiln_test_support::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A data dir with only the kidlisp plugin (no browser needed to run its jobs).
fn kidlisp_dir(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(
        plugin_wasm("kiln_plugin_kidlisp"),
        plugins.join("kiln_plugin_kidlisp.wasm"),
    )
    .unwrap();
    dir
}

/// A `[[schedules]]` entry submitting an 8×8 KidLisp still.
fn schedule(name: &str, cron: &str, run_at_start: bool) -> String {
    format!(
        "[[schedules]]\nname = \"{name}\"\ncron = \"{cron}\"\nrun_at_start = {run_at_start}\n\
         job = {{ type = \"kidlisp\", input = {{ source = \"purple\", width = 8, height = 8 }} }}\n"
    )
}

/// `GET /metrics`'s value of the line starting with `series` (0 when absent).
fn metric(server: &Server, series: &str) -> u64 {
    let text = client()
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(series))
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or(0)
}

fn fires(server: &Server, schedule: &str, outcome: &str) -> u64 {
    metric(
        server,
        &format!("kiln_schedule_fires_total{{schedule=\"{schedule}\",outcome=\"{outcome}\"}}"),
    )
}

/// `GET /schedules`' entry named `name`.
fn listed(server: &Server, name: &str) -> Value {
    let (status, body) = body(client().get(server.url("/schedules")).send().unwrap());
    assert_eq!(status, StatusCode::OK, "{body}");
    body["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no schedule {name:?} in {body}"))
        .clone()
}

/// Waits up to `limit` for `check` to return something.
fn wait_for<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(started.elapsed() < limit, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The jobs in Redis that schedule `name` submitted: fire time (from the idempotency key) →
/// job ids.
fn scheduled_jobs(redis: &RedisServer, name: &str) -> BTreeMap<String, Vec<String>> {
    let mut conn = redis.connection();
    let keys: Vec<String> = conn.keys("kiln:job:*").unwrap();
    let prefix = format!("schedule:{name}:");
    let mut jobs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for key in keys {
        let record: Option<String> = conn.hget(&key, "record").unwrap();
        let record: Value = serde_json::from_str(&record.unwrap()).unwrap();
        if let Some(fire) = record["idempotency_key"]
            .as_str()
            .and_then(|k| k.strip_prefix(&prefix))
        {
            jobs.entry(fire.to_string())
                .or_default()
                .push(record["id"].as_str().unwrap().to_string());
        }
    }
    jobs
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn two_processes_on_one_redis_submit_each_fire_time_once_and_the_jobs_run() {
    let redis = RedisServer::start();
    let root = tempfile::tempdir().unwrap();
    let artifacts = root.path().join("shared-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let env = vec![
        ("KILN_QUEUE_URL", redis.url()),
        (
            "KILN_STORAGE_URL",
            format!("file://{}", artifacts.display()),
        ),
    ];
    let config = schedule("tick", "* * * * * *", false);
    let a = Server::start_with(&kidlisp_dir(root.path(), "a"), &config, &[], &env);
    let b = Server::start_with(&kidlisp_dir(root.path(), "b"), &config, &[], &env);

    // Several fire times after both are up.
    let both_up = Utc::now();
    wait_for(
        "8 fire times after both processes started",
        Duration::from_secs(60),
        || {
            let jobs = scheduled_jobs(&redis, "tick");
            (jobs.keys().filter(|fire| at(fire) > both_up).count() >= 8).then_some(())
        },
    );

    // Between them, the two processes made one new job per fire time (read between two fire
    // times, when no submission is under way), and the loser of a fire time got the winner's
    // job back.
    let (new, jobs) = wait_for(
        "the processes' counters to match Redis",
        Duration::from_secs(20),
        || {
            let jobs = scheduled_jobs(&redis, "tick");
            let new = fires(&a, "tick", "submitted") + fires(&b, "tick", "submitted");
            (new as usize == jobs.len()).then_some((new, jobs))
        },
    );
    assert!(new >= 8, "{jobs:?}");
    let existing = fires(&a, "tick", "already-submitted") + fires(&b, "tick", "already-submitted");
    assert!(
        existing >= 1,
        "no process ever found a fire time's job already queued"
    );

    // The jobs run (on either process).
    let http = client();
    for ids in jobs.values().take(8) {
        let job = wait_final(&a, &http, &ids[0], Duration::from_secs(60));
        assert_eq!(job["status"], "succeeded", "{job}");
    }

    // One shared history: both processes list the same schedule.
    let (la, lb) = (listed(&a, "tick"), listed(&b, "tick"));
    assert!(la["last_job"].is_string(), "{la}");
    assert_eq!(la["cron"], "* * * * * *");
    assert_eq!(la["type"], "kidlisp");
    assert_eq!(la["lane"], "bulk");
    assert_eq!(la["since"], lb["since"]);

    // Stopped, no more fires: every fire time has exactly one job, whichever process won it.
    a.sigterm();
    b.sigterm();
    let (mut a, mut b) = (a, b);
    a.wait_exit(Duration::from_secs(60));
    b.wait_exit(Duration::from_secs(60));
    let jobs = scheduled_jobs(&redis, "tick");
    let doubled: Vec<_> = jobs.iter().filter(|(_, ids)| ids.len() != 1).collect();
    assert!(
        doubled.is_empty(),
        "fire times with more than one job: {doubled:?}"
    );
    assert!(jobs.len() >= 8, "{jobs:?}");
    let times: Vec<DateTime<Utc>> = jobs.keys().map(|fire| at(fire)).collect();
    assert!(times.iter().all(|t| t.nanosecond() == 0), "{times:?}");
}

#[test]
fn a_restart_after_missed_fire_times_submits_the_latest_once() {
    use kiln::schedule::{FileStore, ScheduleStore};
    let root = tempfile::tempdir().unwrap();
    let dir = kidlisp_dir(root.path(), "solo");
    // The history a process left five hours ago: seen for a day, last fired five hours ago,
    // hourly. Nothing ran since, so four or five hourly fire times were missed.
    let now = Utc::now();
    let hour = |t: DateTime<Utc>| {
        t.with_minute(0)
            .unwrap()
            .with_second(0)
            .unwrap()
            .with_nanosecond(0)
            .unwrap()
    };
    let last = hour(now - TimeDelta::hours(5));
    let store = ScheduleStore::File(FileStore::new(&dir));
    block_on(async {
        store
            .init(
                "hourly",
                (now - TimeDelta::days(1)).timestamp_millis() as u64,
            )
            .await
            .unwrap();
        store
            .record("hourly", last.timestamp_millis() as u64, "an-old-job")
            .await
            .unwrap();
    });

    let config = schedule("hourly", "0 * * * *", false);
    let server = Server::start(&dir, &config);
    let latest = wait_for("the missed run", Duration::from_secs(60), || {
        let entry = listed(&server, "hourly");
        (entry["last_job"] != "an-old-job").then_some(entry)
    });
    // One job, for the latest hour (not one per missed hour).
    let fire = at(latest["last_fire"].as_str().unwrap());
    assert_eq!(fire, hour(Utc::now()), "{latest}");
    assert_eq!(fires(&server, "hourly", "submitted"), 1);
    assert_eq!(
        metric(&server, "kiln_jobs_submitted_total{lane=\"bulk\"}"),
        1
    );
    let http = client();
    let id = latest["last_job"].as_str().unwrap();
    let job = wait_final(&server, &http, id, Duration::from_secs(60));
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        job["idempotency_key"],
        format!("schedule:hourly:{}", latest["last_fire"].as_str().unwrap())
    );

    // Started again within the hour: that fire time has its job; nothing more is submitted.
    server.sigterm();
    let mut server = server;
    server.wait_exit(Duration::from_secs(60));
    let server = Server::start(&dir, &config);
    assert_eq!(listed(&server, "hourly")["last_job"], id);
    // Nothing to wait for: give the start check time to do nothing.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(fires(&server, "hourly", "submitted"), 0);
    assert_eq!(listed(&server, "hourly")["last_job"], id);
}

#[test]
fn run_at_start_gives_a_new_schedule_its_run_once_and_a_plain_one_waits() {
    let root = tempfile::tempdir().unwrap();
    let dir = kidlisp_dir(root.path(), "solo");
    // Yearly: its next fire time is months away (or, on 1 January, hours).
    let config = format!(
        "{}{}",
        schedule("yearly-at-start", "0 0 1 1 *", true),
        schedule("yearly", "0 0 1 1 *", false)
    );
    let server = Server::start(&dir, &config);
    let entry = wait_for("the run at start", Duration::from_secs(60), || {
        let entry = listed(&server, "yearly-at-start");
        entry["last_job"].is_string().then_some(entry)
    });
    let year_start = format!("{}-01-01T00:00:00Z", Utc::now().format("%Y"));
    assert_eq!(entry["last_fire"], year_start.as_str(), "{entry}");
    let http = client();
    let job = wait_final(
        &server,
        &http,
        entry["last_job"].as_str().unwrap(),
        Duration::from_secs(60),
    );
    assert_eq!(job["status"], "succeeded", "{job}");
    // The schedule without run_at_start is new too, and waits for its first fire time.
    let plain = listed(&server, "yearly");
    assert!(plain["last_job"].is_null(), "{plain}");
    assert!(plain["since"].is_string(), "{plain}");
    assert_eq!(fires(&server, "yearly", "submitted"), 0);

    // A restart in the same period does not run it again.
    server.sigterm();
    let mut server = server;
    server.wait_exit(Duration::from_secs(60));
    let server = Server::start(&dir, &config);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(fires(&server, "yearly-at-start", "submitted"), 0);
    assert_eq!(
        listed(&server, "yearly-at-start")["last_job"],
        entry["last_job"]
    );
}

/// `kiln serve` with `config`: it must exit with an error whose stderr contains each of
/// `needles`.
fn refused(config: &str, needles: &[&str]) {
    let root = tempfile::tempdir().unwrap();
    let dir = kidlisp_dir(root.path(), "bad");
    let path = dir.join("kiln.toml");
    std::fs::write(&path, config).unwrap();
    let mut child = kiln_command(&dir)
        .arg("--config")
        .arg(&path)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(root.path().join("stderr")).unwrap())
        .spawn()
        .unwrap();
    let stderr = || std::fs::read_to_string(root.path().join("stderr")).unwrap();
    // A config that is wrongly accepted starts a service that never exits by itself.
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("started with {config} and ran for 60 s:\n{}", stderr());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = child.wait().unwrap();
    let stderr = stderr();
    assert!(!status.success(), "started with {config}:\n{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "no {needle:?} in:\n{stderr}");
    }
}

#[test]
fn bad_schedules_are_refused_at_start_naming_the_entry() {
    refused(
        &schedule("cards", "every six hours", false),
        &[
            "schedule \"cards\"",
            "\"every six hours\" is not a cron expression",
        ],
    );
    refused(
        &schedule("cards", "0 0 30 2 *", false),
        &["schedule \"cards\"", "never fires"],
    );
    refused(
        &format!(
            "{}{}",
            schedule("cards", "0 */6 * * *", false),
            schedule("cards", "@daily", false)
        ),
        &["schedules[1]", "\"cards\" is used by an earlier entry"],
    );
    refused(
        &schedule("has space", "@daily", false),
        &["name \"has space\""],
    );
    refused(
        "[[schedules]]\nname = \"og\"\ncron = \"@daily\"\n\
         job = { type = \"kidlisp-og\", input = { layout = \"mosaic\" } }\n",
        &["schedule \"og\"", "kidlisp-og", "kidlisp"],
    );
    refused(
        "[[schedules]]\nname = \"og\"\ncron = \"@daily\"\n\
         job = { type = \"kidlisp\", input = { width = 8 } }\n",
        &["schedule \"og\"", "source"],
    );
    refused(
        "[[schedules]]\nname = \"og\"\ncron = \"@daily\"\n\
         job = { id = \"fixed\", type = \"kidlisp\", input = { source = \"red\" } }\n",
        &["schedule \"og\"", "job.id \"fixed\""],
    );
}
