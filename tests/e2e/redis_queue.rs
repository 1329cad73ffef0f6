//! The Redis queue across processes: `kiln serve --api-only` and `kiln worker` processes over a
//! real `redis-server`, real Chromium, and one shared artifact directory (standing in for a
//! shared object store). Workers are killed, Redis is killed and restarted, storage fails.

use ::redis::Commands;
use kiln_test_support::processes::*;
use kiln_test_support::redis_server::RedisServer;
use kiln_test_support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ADMIN: &str = "admin-secret";

/// One deployment: a Redis, a shared artifact root, and the environment every process gets.
struct Deployment {
    redis: RedisServer,
    root: TestDir,
    artifacts: PathBuf,
}

impl Deployment {
    fn new() -> Self {
        let root = TestDir::new();
        let artifacts = root.path().join("shared-artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        Self {
            redis: RedisServer::start(),
            root,
            artifacts,
        }
    }

    fn env(&self, extra: &[(&str, &str)]) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("KILN_QUEUE_URL", self.redis.url()),
            (
                "KILN_STORAGE_URL",
                format!("file://{}", self.artifacts.display()),
            ),
            ("KILN_ADMIN_TOKEN", ADMIN.to_string()),
        ];
        for (key, value) in extra {
            let key: &'static str = Box::leak(key.to_string().into_boxed_str());
            env.push((key, value.to_string()));
        }
        env
    }

    /// A process's own data dir, with the plugins.
    fn process_dir(&self, name: &str) -> PathBuf {
        let dir = self.root.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let plugins = dir.join("plugins");
        if !plugins.exists() {
            std::fs::create_dir_all(&plugins).unwrap();
            std::fs::copy(
                plugin_wasm("kiln_plugin_p5"),
                plugins.join("kiln_plugin_p5.wasm"),
            )
            .unwrap();
        }
        dir
    }

    fn api(&self, extra: &[(&str, &str)]) -> Server {
        Server::start_with(
            &self.process_dir("api"),
            "",
            &["--api-only"],
            &self.env(extra),
        )
    }

    fn worker(&self, name: &str, extra: &[(&str, &str)]) -> Worker {
        Worker::start(&self.process_dir(name), "", &self.env(extra))
    }

    /// How many times the job's final record was published to its result list.
    fn results_published(&self, id: &str) -> usize {
        let mut conn = self.redis.connection();
        conn.llen(format!("kiln:result:{id}")).unwrap()
    }

    /// Files stored for job `id` in the shared store.
    fn stored_files(&self, id: &str) -> Vec<String> {
        match std::fs::read_dir(self.artifacts.join(id)) {
            Ok(entries) => entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn small_job(id: &str, n: u32) -> Value {
    json!({"id": id, "type": "p5", "input": {
        "code": format!("function setup() {{ createCanvas(24, 24); background({}, 40, 90); }}", n % 256),
        "width": 24, "height": 24
    }})
}

fn submit(server: &Server, job: &Value) -> (StatusCode, Value) {
    body(
        client()
            .post(server.url("/jobs"))
            .header("content-type", "application/json")
            .body(job.to_string())
            .send()
            .unwrap(),
    )
}

/// Waits until every job in `ids` is final; their records.
fn wait_all(server: &Server, ids: &[String], limit: Duration) -> Vec<Value> {
    let http = client();
    ids.iter()
        .map(|id| wait_final(server, &http, id, limit))
        .collect()
}

#[test]
fn two_workers_on_one_redis_split_100_jobs_with_none_lost_or_doubled() {
    let deployment = Deployment::new();
    let api = deployment.api(&[]);
    let first = deployment.worker("worker-a", &[]);
    let second = deployment.worker("worker-b", &[]);

    let jobs: Vec<Value> = (0..100)
        .map(|n| small_job(&format!("split-{n}"), n))
        .collect();
    let (status, reply) = body(
        client()
            .post(api.url("/jobs/batch"))
            .header("content-type", "application/json")
            .body(json!({ "jobs": jobs }).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    let ids: Vec<String> = (0..100).map(|n| format!("split-{n}")).collect();
    let records = wait_all(&api, &ids, Duration::from_secs(180));

    let mut by_worker = std::collections::BTreeMap::<String, usize>::new();
    for record in &records {
        let id = record["id"].as_str().unwrap();
        assert_eq!(record["status"], "succeeded", "{record}");
        assert_eq!(record["attempts"], 1, "{record}");
        assert_eq!(deployment.stored_files(id), vec!["image.png"], "{id}");
        assert_eq!(
            deployment.results_published(id),
            1,
            "{id} ended more than once"
        );
        *by_worker
            .entry(record["worker"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(
        by_worker.keys().cloned().collect::<Vec<_>>(),
        {
            let mut names = vec![first.name.clone(), second.name.clone()];
            names.sort();
            names
        },
        "both workers took jobs: {by_worker:?}"
    );
    assert_eq!(by_worker.values().sum::<usize>(), 100);
    let (_, ready) = body(client().get(api.url("/ready")).send().unwrap());
    assert_eq!(ready["queued"]["interactive"], 0, "{ready}");
    assert_eq!(ready["queued"]["bulk"], 0, "{ready}");

    // Each worker answers probes and counts its own jobs on its own port.
    for worker in [&first, &second] {
        let probes = worker
            .probes_url
            .as_deref()
            .expect("a worker serves probes");
        let (status, health) = body(client().get(format!("{probes}/health")).send().unwrap());
        assert_eq!((status, &health["status"]), (StatusCode::OK, &json!("ok")));
        let (status, ready) = body(client().get(format!("{probes}/ready")).send().unwrap());
        assert_eq!(status, StatusCode::OK, "{ready}");
        assert_eq!(ready["status"], "ready", "{ready}");
        let metrics = client()
            .get(format!("{probes}/metrics"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let succeeded: usize = metrics
            .lines()
            .find_map(|l| l.strip_prefix("kiln_jobs_finished_total{status=\"succeeded\"} "))
            .unwrap_or_else(|| panic!("no succeeded count in:\n{metrics}"))
            .trim()
            .parse()
            .unwrap();
        assert_eq!(
            succeeded, by_worker[&worker.name],
            "{}: {metrics}",
            worker.name
        );
        assert_eq!(
            client()
                .get(format!("{probes}/jobs"))
                .send()
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND,
            "a worker serves no jobs API"
        );
    }
}

#[test]
fn a_worker_killed_mid_job_is_taken_over_and_the_job_ends_once() {
    let deployment = Deployment::new();
    // Leases of 2 s: a dead worker's job is taken over 2 s after its last renewal.
    let lease = [("KILN_QUEUE_LEASE_MS", "2000")];
    let api = deployment.api(&lease);
    let mut doomed = deployment.worker("worker-doomed", &lease);
    let slow = json!({"id": "slow-1", "type": "p5", "input": {
        "code": "function setup() { createCanvas(30, 30); const t = Date.now(); while (Date.now() - t < 4000) {} background(0, 200, 0); }",
        "width": 30, "height": 30
    }});
    let (status, reply) = submit(&api, &slow);
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");

    // Kill the worker once it runs the job.
    let http = client();
    let started = Instant::now();
    loop {
        let (_, job) = body(http.get(api.url("/jobs/slow-1")).send().unwrap());
        if job["status"] == "running" {
            assert_eq!(job["worker"], doomed.name.as_str(), "{job}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never ran: {job}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    doomed.kill_9();

    let heir = deployment.worker("worker-heir", &lease);
    let job = wait_final(&api, &http, "slow-1", Duration::from_secs(60));
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["attempts"], 2, "{job}");
    assert_eq!(job["worker"], heir.name.as_str(), "{job}");
    assert_eq!(deployment.stored_files("slow-1"), vec!["image.png"]);
    assert_eq!(deployment.results_published("slow-1"), 1);
}

#[test]
fn redis_down_at_submit_is_503_with_nothing_written_and_workers_carry_on_after_a_restart() {
    let mut deployment = Deployment::new();
    let api = deployment.api(&[]);
    let _worker = deployment.worker("worker", &[]);

    // Some jobs run, then Redis dies with more queued.
    let ids: Vec<String> = (0..20).map(|n| format!("restart-{n}")).collect();
    for (n, id) in ids.iter().enumerate() {
        let (status, reply) = submit(&api, &small_job(id, n as u32 + 100));
        assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    }
    let http = client();
    let first = wait_final(&api, &http, &ids[0], Duration::from_secs(60));
    assert_eq!(first["status"], "succeeded", "{first}");
    deployment.redis.kill_9();

    let sent = Instant::now();
    let (status, reply) = submit(&api, &small_job("while-down", 7));
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{reply}");
    assert_eq!(reply["error"]["kind"], "unavailable", "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Redis"),
        "{reply}"
    );
    assert!(
        sent.elapsed() < Duration::from_secs(15),
        "503 took {:?}",
        sent.elapsed()
    );
    let (status, _) = body(client().get(api.url("/ready")).send().unwrap());
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    // Redis stays down for a second, long enough for every process to run into it (idle
    // workers look every 100 ms): the outage is the scenario, not a wait for something.
    std::thread::sleep(Duration::from_secs(1));
    deployment.redis.restart();
    // Nothing of the refused submission was written.
    let mut conn = deployment.redis.connection();
    let exists: bool = conn.exists("kiln:job:while-down").unwrap();
    assert!(!exists, "the refused job left a record");
    // The API's connection is re-made on the first calls after Redis is back; until then it
    // answers 503.
    let back = Instant::now();
    let status = loop {
        let (status, reply) = body(client().get(api.url("/jobs/while-down")).send().unwrap());
        if status != StatusCode::SERVICE_UNAVAILABLE {
            break status;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "the API still cannot reach Redis 10 s after it came back: {reply}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Every job accepted before the crash ends, once.
    for record in wait_all(&api, &ids, Duration::from_secs(120)) {
        let id = record["id"].as_str().unwrap();
        assert_eq!(record["status"], "succeeded", "{record}");
        assert_eq!(deployment.stored_files(id), vec!["image.png"], "{id}");
        assert_eq!(deployment.results_published(id), 1, "{id}");
    }
    // And new ones are taken.
    let (status, reply) = submit(&api, &small_job("after-restart", 9));
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    let job = wait_final(&api, &client(), "after-restart", Duration::from_secs(60));
    assert_eq!(job["status"], "succeeded", "{job}");
}

/// Makes storing job `id`'s artifacts fail: a file where its directory would go.
fn block_storage(artifacts: &Path, id: &str) {
    std::fs::write(artifacts.join(id), b"not a directory").unwrap();
}

#[test]
fn storage_failures_are_retried_then_dead_lettered_and_requeued_by_an_admin() {
    let deployment = Deployment::new();
    let settings = [
        ("KILN_QUEUE_MAX_ATTEMPTS", "2"),
        ("KILN_QUEUE_RETRY_BACKOFF_MS", "300"),
    ];
    let api = deployment.api(&settings);
    let _worker = deployment.worker("worker", &settings);
    block_storage(&deployment.artifacts, "doomed");

    let (status, reply) = submit(&api, &small_job("doomed", 3));
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    let http = client();
    let job = wait_final(&api, &http, "doomed", Duration::from_secs(60));
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["attempts"], 2, "{job}");
    assert_eq!(job["error"]["kind"], "unavailable", "{job}");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("storing doomed/image.png in "),
        "{message}"
    );

    // Listed as a dead letter, for admins only.
    let (status, _) = body(http.get(api.url("/dead-letters")).send().unwrap());
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, dead) = body(
        http.get(api.url("/dead-letters"))
            .bearer_auth(ADMIN)
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{dead}");
    let ids: Vec<&str> = dead["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["doomed"], "{dead}");

    // Storage is back: re-queued, it runs from a fresh first attempt.
    std::fs::remove_file(deployment.artifacts.join("doomed")).unwrap();
    let (status, requeued) = body(
        http.post(api.url("/dead-letters/doomed/requeue"))
            .bearer_auth(ADMIN)
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{requeued}");
    assert_eq!(requeued["status"], "queued", "{requeued}");
    let job = wait_final(&api, &http, "doomed", Duration::from_secs(60));
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["attempts"], 1, "{job}");
    let (_, dead) = body(
        http.get(api.url("/dead-letters"))
            .bearer_auth(ADMIN)
            .send()
            .unwrap(),
    );
    assert_eq!(dead["jobs"], json!([]), "{dead}");
    let (status, reply) = body(
        http.post(api.url("/dead-letters/doomed/requeue"))
            .bearer_auth(ADMIN)
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::NOT_FOUND, "{reply}");
}

#[test]
fn redis_clients_submit_without_http_and_the_api_follows_jobs_run_elsewhere() {
    let deployment = Deployment::new();
    let api = deployment.api(&[]);
    let _worker = deployment.worker("worker", &[]);
    let mut conn = deployment.redis.connection();

    // Kiln's own protocol: XADD, then BLPOP the result.
    let _: String = conn
        .xadd(
            "kiln:submit",
            "*",
            &[("job", small_job("via-stream", 11).to_string())],
        )
        .unwrap();
    let (_, result): (String, String) = conn.blpop("kiln:result:via-stream", 60.0).unwrap();
    let result: Value = serde_json::from_str(&result).unwrap();
    assert_eq!(result["status"], "succeeded", "{result}");
    assert_eq!(result["artifacts"][0]["name"], "image.png", "{result}");

    // emprops style: LPUSH a job, read `{success, src, mimeType}` back.
    let _: i64 = conn
        .lpush("kiln:emprops:jobs", small_job("emprops-1", 12).to_string())
        .unwrap();
    let (_, reply): (String, String) = conn.blpop("kiln:emprops:result:emprops-1", 60.0).unwrap();
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["success"], true, "{reply}");
    assert_eq!(reply["mimeType"], "image/png", "{reply}");
    let src = reply["src"].as_str().unwrap();
    assert!(src.ends_with("/emprops-1/image.png"), "{src}");
    assert!(reply.get("error").is_none(), "{reply}");

    // A job Kiln cannot take is answered at once, with the reason.
    let _: i64 = conn
        .lpush(
            "kiln:emprops:jobs",
            json!({"id": "emprops-bad", "type": "no-such-type", "input": {}}).to_string(),
        )
        .unwrap();
    let (_, reply): (String, String) = conn.blpop("kiln:emprops:result:emprops-bad", 30.0).unwrap();
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["success"], false, "{reply}");
    let error = reply["error"].as_str().unwrap();
    assert!(
        error.contains("unknown job type \"no-such-type\""),
        "{error}"
    );

    // The API process follows a job a worker elsewhere runs: ?wait returns it finished, and
    // the artifact is served from the shared store.
    let (status, job) = body(
        client()
            .post(api.url("/jobs?wait=60"))
            .header("content-type", "application/json")
            .body(small_job("waited", 13).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["status"], "succeeded", "{job}");
    let png = client()
        .get(api.url("/jobs/waited/artifacts/image.png"))
        .send()
        .unwrap();
    assert_eq!(png.status(), StatusCode::OK);
    let image = image::load_from_memory(&png.bytes().unwrap()).unwrap();
    assert_eq!((image.width(), image.height()), (24, 24));
}

#[test]
fn interactive_jobs_go_before_bulk_ones_already_waiting() {
    let deployment = Deployment::new();
    let api = deployment.api(&[]);
    let http = client();
    let mut ids = Vec::new();
    for n in 0..4 {
        let id = format!("bulk-{n}");
        let (status, reply) = body(
            http.post(api.url("/jobs?lane=bulk"))
                .header("content-type", "application/json")
                .body(small_job(&id, 200 + n).to_string())
                .send()
                .unwrap(),
        );
        assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
        ids.push(id);
    }
    let (status, reply) = submit(&api, &small_job("urgent", 250));
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    ids.push("urgent".into());

    // One worker, one job at a time: the order it takes them is the order they start.
    let _worker = deployment.worker("worker", &[("KILN_WORKERS", "1")]);
    let records = wait_all(&api, &ids, Duration::from_secs(60));
    let started = |id: &str| {
        records
            .iter()
            .find(|r| r["id"] == id)
            .and_then(|r| r["started_at"].as_u64())
            .unwrap()
    };
    for n in 0..4 {
        assert!(
            started("urgent") < started(&format!("bulk-{n}")),
            "the interactive job started after bulk-{n}: {records:?}"
        );
    }
}

/// Issue 11 over the Redis queue: the job log is part of the record a worker elsewhere stores
/// (on success and on failure); a cache hit under a chosen id is a job of its own, with its
/// result list; an idempotency key reused for another request is refused.
#[test]
fn logs_cache_hits_and_idempotency_keys_work_through_redis() {
    let deployment = Deployment::new();
    let api = deployment.api(&[]);
    let _worker = deployment.worker("worker", &[]);
    let http = client();
    let post = |path: &str, job: &Value, key: Option<&str>| {
        let mut request = http
            .post(api.url(path))
            .header("content-type", "application/json")
            .body(job.to_string());
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        body(request.send().unwrap())
    };

    let logs = json!({"id": "logs", "type": "p5", "input": {"width": 20, "height": 20,
        "code": "function setup() { createCanvas(20, 20); console.log('logged through redis'); background(9); }"}});
    let (status, job) = post("/jobs?wait=60", &logs, None);
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["status"], "succeeded", "{job}");
    let has_line = |job: &Value, text: &str| {
        job["log"].as_array().is_some_and(|lines| {
            lines
                .iter()
                .any(|l| l["message"].as_str().unwrap_or_default().contains(text))
        })
    };
    assert!(has_line(&job, "logged through redis"), "{job}");
    let (_, read) = body(http.get(api.url("/jobs/logs")).send().unwrap());
    assert_eq!(read["log"], job["log"], "{read}");
    let mut conn = deployment.redis.connection();
    let result: String = conn.lindex("kiln:result:logs", 0).unwrap();
    let result: Value = serde_json::from_str(&result).unwrap();
    assert!(has_line(&result, "logged through redis"), "{result}");

    let fails = json!({"id": "fails", "type": "p5", "input": {"width": 20, "height": 20,
        "code": "function setup() { console.log('before the throw'); throw new Error('redis boom'); }"}});
    let (status, job) = post("/jobs?wait=60", &fails, None);
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["status"], "failed", "{job}");
    assert!(has_line(&job, "before the throw"), "{job}");

    // The same input under another id: a job of its own, from the cache.
    let mut again = logs.clone();
    again["id"] = "logs-again".into();
    let (status, job) = post("/jobs", &again, None);
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(
        (job["id"].as_str(), job["cached_from"].as_str()),
        (Some("logs-again"), Some("logs")),
        "{job}"
    );
    let (status, read) = body(http.get(api.url("/jobs/logs-again")).send().unwrap());
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["status"], "succeeded", "{read}");
    assert_eq!(deployment.results_published("logs-again"), 1);
    let (status, error) = post("/jobs", &again, None);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");

    let (status, _) = post("/jobs", &small_job("keyed", 1), Some("redis-key"));
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, _) = post("/jobs", &small_job("keyed", 1), Some("redis-key"));
    assert_eq!(status, StatusCode::ACCEPTED, "the same request replays");
    let (status, error) = post("/jobs", &small_job("keyed", 2), Some("redis-key"));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key \"redis-key\""),
        "{error}"
    );
}

/// A job whose setup keeps its page busy for `ms` milliseconds, then paints.
fn busy_job(id: &str, ms: u64) -> Value {
    json!({"id": id, "type": "p5", "input": {
        "code": format!("function setup() {{ createCanvas(30, 30); const t = Date.now(); while (Date.now() - t < {ms}) {{}} background(0, 200, 0); }}"),
        "width": 30, "height": 30
    }})
}

/// Polls until job `id` runs on `worker`.
fn wait_running_on(api: &Server, id: &str, worker: &Worker) {
    let http = client();
    let started = Instant::now();
    loop {
        let (_, job) = body(http.get(api.url(&format!("/jobs/{id}"))).send().unwrap());
        if job["status"] == "running" {
            assert_eq!(job["worker"], worker.name.as_str(), "{job}");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never ran: {job}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_worker_stopped_with_sigterm_finishes_its_job_or_hands_it_back_without_spending_an_attempt() {
    let deployment = Deployment::new();
    let api = deployment.api(&[]);
    let http = client();

    // Time enough: the job finishes, then the worker exits.
    let mut patient = deployment.worker("worker-patient", &[]);
    let (status, reply) = submit(&api, &busy_job("short", 3000));
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    wait_running_on(&api, "short", &patient);
    patient.sigterm();
    assert!(patient.wait_exit(Duration::from_secs(25)).success());
    let (_, short) = body(http.get(api.url("/jobs/short")).send().unwrap());
    assert_eq!(short["status"], "succeeded", "{short}");
    assert_eq!(short["attempts"], 1, "{short}");
    assert_eq!(deployment.results_published("short"), 1);

    // Not time enough: the job goes back to the queue, its attempt not counted, at once (not
    // after a lease runs out).
    let drain = [("KILN_DRAIN_TIMEOUT_S", "2")];
    let mut hasty = deployment.worker("worker-hasty", &drain);
    let (status, reply) = submit(&api, &busy_job("long", 15_000));
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    wait_running_on(&api, "long", &hasty);
    let stopping = Instant::now();
    hasty.sigterm();
    assert!(hasty.wait_exit(Duration::from_secs(20)).success());
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(8), "stopping took {took:?}");
    let (_, long) = body(http.get(api.url("/jobs/long")).send().unwrap());
    assert_eq!(long["status"], "queued", "{long}");
    assert_eq!(long["attempts"], 0, "{long}");

    let heir = deployment.worker("worker-heir", &[]);
    let long = wait_final(&api, &http, "long", Duration::from_secs(60));
    assert_eq!(long["status"], "succeeded", "{long}");
    assert_eq!(long["attempts"], 1, "{long}");
    assert_eq!(long["worker"], heir.name.as_str(), "{long}");
    assert_eq!(deployment.results_published("long"), 1);
}
