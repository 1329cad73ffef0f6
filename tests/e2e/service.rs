//! `kiln serve` over HTTP: the real binary, real Chromium, the embedded queue on disk.

use kiln_test_support::loopback::post_receiver;
use kiln_test_support::processes::*;
use kiln_test_support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::time::Duration;

fn p5_job(id: &str, code: &str, size: u32, frames: u32) -> Value {
    json!({"id": id, "type": "p5", "input": {"code": code, "width": size, "height": size, "frames": frames}})
}

const SLOW_SKETCH: &str =
    "function setup() { createCanvas(40, 40); }\nfunction draw() { background(frameCount % 255); }";

#[test]
fn jobs_render_over_http_with_precise_errors_events_and_cancellation() {
    let dir = TestDir::new();
    let server = Server::start(dir.path(), "[service]\nmax_body_bytes = 65536\n");
    let http = client();

    // A job held with ?wait comes back finished, and its artifact is served.
    let (status, job) = body(
        http.post(server.url("/jobs?wait=60"))
            .header("content-type", "application/json")
            .body(p5_job("red", &red_circle(100), 100, 1).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["attempts"], 1);
    assert!(job["timings"]["run_ms"].as_f64().unwrap() > 0.0);
    let png = http
        .get(server.url("/jobs/red/artifacts/image.png"))
        .send()
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    let image = image::load_from_memory(&png.bytes().unwrap())
        .unwrap()
        .to_rgba8();
    assert_eq!(image.dimensions(), (100, 100));
    assert!(near(image.get_pixel(50, 50), [255, 0, 0, 255], 2));

    // Bad input: each a 4xx naming what is wrong; nothing is queued.
    let post = |text: &str| {
        body(
            http.post(server.url("/jobs"))
                .header("content-type", "application/json")
                .body(text.to_string())
                .send()
                .unwrap(),
        )
    };
    let (status, error) = post(r#"{"type": "p5", "input": "#);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 1 column"),
        "{error}"
    );
    let (status, error) =
        post(r#"{"type": "p5", "input": {"code": 5, "width": 10, "height": 10}}"#);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("input.code"),
        "{error}"
    );
    let (status, error) = post(r#"{"type": "nope", "input": {}}"#);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("this host serves: js, kidlisp, kidlisp-og, notepat-og, p5, url, video"),
        "{error}"
    );
    let (status, error) = post(r#"{"type": "p5", "input": {}, "priority": 1}"#);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `priority`"),
        "{error}"
    );
    let huge = p5_job("huge", &"x".repeat(70_000), 10, 1).to_string();
    let (status, error) = post(&huge);
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_body_bytes"),
        "{error}"
    );
    let (status, _) = body(http.get(server.url("/jobs/huge")).send().unwrap());
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Events arrive in order: started, progress rising, succeeded.
    let (status, _) = post(&p5_job("watched", SLOW_SKETCH, 40, 30).to_string());
    assert_eq!(status, StatusCode::ACCEPTED);
    let events = http.get(server.url("/jobs/watched/events")).send().unwrap();
    let mut names = Vec::new();
    let mut fractions = Vec::new();
    let mut name = String::new();
    for line in BufReader::new(events).lines().map_while(Result::ok) {
        if let Some(event) = line.strip_prefix("event: ") {
            name = event.to_string();
            names.push(name.clone());
        } else if let Some(data) = line.strip_prefix("data: ")
            && name == "progress"
        {
            let data: Value = serde_json::from_str(data).unwrap();
            fractions.push(data["fraction"].as_f64().unwrap());
        }
    }
    names.dedup();
    let order: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| *n != "queued")
        .collect();
    assert_eq!(order, ["started", "progress", "succeeded"], "{names:?}");
    assert!(
        fractions.windows(2).all(|w| w[0] <= w[1]) && fractions.last() == Some(&1.0),
        "{fractions:?}"
    );

    // Cancel: two long jobs occupy both workers, so a third waits and is removed; a running one
    // is stopped. They draw 600 frames (p5's cap), about 10 s at 60 fps: with 240 (4 s) a loaded
    // machine twice finished one before the test cancelled it (fresh-clone CI, and a run at load
    // average 8).
    for id in ["long-1", "long-2"] {
        post(&p5_job(id, SLOW_SKETCH, 40, 600).to_string());
    }
    // Both are past their page's set-up and drawing frames.
    for id in ["long-1", "long-2"] {
        wait_progress(&server, &http, id);
    }
    post(&p5_job("waiting", SLOW_SKETCH, 40, 1).to_string());
    let (status, cancelled) = body(http.delete(server.url("/jobs/waiting")).send().unwrap());
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(
        wait_final(&server, &http, "waiting", Duration::from_secs(5))["status"],
        "cancelled"
    );
    let (status, _) = body(http.delete(server.url("/jobs/long-1")).send().unwrap());
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        wait_final(&server, &http, "long-1", Duration::from_secs(10))["status"],
        "cancelled"
    );
    let (status, _) = body(http.delete(server.url("/jobs/long-1")).send().unwrap());
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        wait_final(&server, &http, "long-2", Duration::from_secs(60))["status"],
        "succeeded"
    );
    // The slot of the stopped job renders again.
    let (_, job) = body(
        http.post(server.url("/jobs?wait=60"))
            .header("content-type", "application/json")
            .body(p5_job("after", &red_circle(60), 60, 1).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(job["status"], "succeeded", "{job}");

    // The service describes itself.
    let (_, spec) = body(http.get(server.url("/openapi.json")).send().unwrap());
    for path in [
        "/jobs",
        "/jobs/batch",
        "/jobs/{id}",
        "/jobs/{id}/events",
        "/jobs/{id}/artifacts/{name}",
        "/plugins",
        "/health",
        "/ready",
        "/metrics",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} is not in /openapi.json"
        );
    }
    let metrics = http
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("kiln_queue_depth{lane=\"interactive\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kiln_jobs_finished_total{status=\"cancelled\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kiln_job_stage_seconds_count{stage=\"run\"}"),
        "{metrics}"
    );
    let (status, ready) = body(http.get(server.url("/ready")).send().unwrap());
    assert_eq!(status, StatusCode::OK, "{ready}");
}

#[test]
fn a_full_queue_answers_429_with_retry_after() {
    let dir = TestDir::new();
    let server = Server::start(
        dir.path(),
        "[service]\nworkers = 1\nmax_queued = 2\nretry_after_s = 7\n",
    );
    let http = client();
    let post = |id: &str| {
        http.post(server.url("/jobs"))
            .header("content-type", "application/json")
            .body(p5_job(id, SLOW_SKETCH, 40, 240).to_string())
            .send()
            .unwrap()
    };
    assert_eq!(post("running").status(), StatusCode::ACCEPTED);
    // The one worker holds it, so the next two wait.
    wait_running(&server, &http, "running");
    assert_eq!(post("waiting-1").status(), StatusCode::ACCEPTED);
    assert_eq!(post("waiting-2").status(), StatusCode::ACCEPTED);
    let refused = post("one-too-many");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "7");
    let (_, error) = body(refused);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("queue is full"),
        "{error}"
    );
}

#[test]
fn kill_9_with_50_queued_jobs_loses_none() {
    let dir = TestDir::new();
    let mut server = Server::start(dir.path(), "");
    let http = client();
    let ids: Vec<String> = (0..50).map(|i| format!("job-{i}")).collect();
    // Fifty different jobs (identical ones would be answered from the result cache).
    let batch = json!({"jobs": ids.iter().map(|id| p5_job(id, &format!("{}\n// {id}", red_circle(40)), 40, 1)).collect::<Vec<_>>()});
    let (status, accepted) = body(
        http.post(server.url("/jobs/batch"))
            .header("content-type", "application/json")
            .body(batch.to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(
        accepted["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["status"] == "queued"),
        "{accepted}"
    );
    // Some are running, most are waiting: kill -9 now.
    server.kill_9();

    let server = Server::start(dir.path(), "");
    for id in &ids {
        let job = wait_final(&server, &http, id, Duration::from_secs(120));
        assert_eq!(job["status"], "succeeded", "{job}");
        assert_eq!(job["artifacts"].as_array().unwrap().len(), 1, "{job}");
    }
    // One set of artifacts per job: a job that was running at the kill wrote the same key again.
    for id in &ids {
        let files: Vec<_> = std::fs::read_dir(dir.path().join("artifacts").join(id))
            .unwrap()
            .collect();
        assert_eq!(files.len(), 1, "{id}: {files:?}");
    }
}

#[test]
fn a_finished_job_is_posted_to_its_callback_signed_and_retried() {
    let dir = TestDir::new();
    let server = Server::start(
        dir.path(),
        // The receiver is on loopback, which callbacks may reach only when the operator says so.
        "[service]\nwebhook_secret = \"s3cret\"\nwebhook_backoff_ms = 100\nwebhook_allow_private = true\n",
    );
    let http = client();
    let (url, deliveries) = post_receiver("/hook", vec![500]);
    let mut job = p5_job("hooked", &red_circle(40), 40, 1);
    job["callback"] = json!(url);
    let (status, _) = body(
        http.post(server.url("/jobs"))
            .header("content-type", "application/json")
            .body(job.to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::ACCEPTED);

    // The first delivery is refused with a 500; the second, after the backoff, is taken.
    let (_, first_head, first_body) = deliveries.recv_timeout(Duration::from_secs(30)).unwrap();
    let (_, head, delivered) = deliveries.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(first_body, delivered);
    let record: Value = serde_json::from_slice(&delivered).unwrap();
    assert_eq!(record["id"], "hooked");
    assert_eq!(record["status"], "succeeded");
    let signature = kiln::service::webhook_signature("s3cret", &delivered);
    for head in [&first_head, &head] {
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("x-kiln-signature: {signature}")),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("x-kiln-event: succeeded"),
            "{head}"
        );
    }
    assert!(
        deliveries.recv_timeout(Duration::from_millis(500)).is_err(),
        "delivered again after a 200"
    );

    // A callback needs a URL the host can POST to.
    let mut bad = p5_job("bad-hook", &red_circle(40), 40, 1);
    bad["callback"] = json!("file:///etc/passwd");
    let (status, error) = body(
        http.post(server.url("/jobs"))
            .header("content-type", "application/json")
            .body(bad.to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("http or https"),
        "{error}"
    );
}

#[test]
fn an_idempotency_key_gives_the_first_job_back() {
    let dir = TestDir::new();
    let server = Server::start(dir.path(), "");
    let http = client();
    let submit = |id: &str| {
        http.post(server.url("/jobs?wait=60"))
            .header("Idempotency-Key", "order-42")
            .header("content-type", "application/json")
            .body(p5_job(id, &red_circle(40), 40, 1).to_string())
            .send()
            .unwrap()
    };
    let first = submit("first");
    assert!(first.headers().get("idempotent-replayed").is_none());
    let (status, first) = body(first);
    assert_eq!(
        (status, first["status"].as_str()),
        (StatusCode::OK, Some("succeeded"))
    );

    // The same request again (a client retrying): the first job, not a new one.
    let again = submit("first");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let (status, again) = body(again);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["id"], "first");
    assert_eq!(again["status"], "succeeded");
    // The key with another request (here another id) is refused: the key names one request.
    let (status, error) = body(submit("second"));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let (status, _) = body(http.get(server.url("/jobs/second")).send().unwrap());
    assert_eq!(status, StatusCode::NOT_FOUND, "no second job was made");

    let (status, error) = body(
        http.post(server.url("/jobs"))
            .header("Idempotency-Key", "")
            .header("content-type", "application/json")
            .body(p5_job("x", &red_circle(40), 40, 1).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
}

#[test]
fn admins_upload_and_unload_plugins_over_http_without_a_restart() {
    let dir = TestDir::new();
    // Only p5 from the start; its component is uploaded again below under another file name.
    for other in [
        "kiln_test_plugin_hostile",
        "kiln_plugin_js",
        "kiln_plugin_kidlisp",
        "kiln_plugin_kidlisp_og",
        "kiln_plugin_notepat_og",
        "kiln_plugin_url",
        "kiln_plugin_video",
    ] {
        std::fs::remove_file(dir.path().join(format!("plugins/{other}.wasm"))).unwrap();
    }
    let server = Server::start(dir.path(), "[service]\nadmin_token = \"adm1n\"\n");
    let http = client();
    let put = |name: &str, token: Option<&str>, bytes: Vec<u8>| {
        let mut request = http
            .put(server.url(&format!("/plugins/{name}")))
            .body(bytes);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        body(request.send().unwrap())
    };
    let p5 = std::fs::read(plugin_wasm("kiln_plugin_p5")).unwrap();

    let (status, _) = put("p5", None, p5.clone());
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = put("p5", Some("wrong"), p5.clone());
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A bad build is refused with its reason, and nothing is written.
    let trap = std::fs::read(plugin_wasm("kiln_test_plugin_trap_describe")).unwrap();
    let (status, error) = put("trap-describe", Some("adm1n"), trap);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("describe() failed"),
        "{error}"
    );
    let (status, error) = put("card", Some("adm1n"), p5.clone());
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("describes itself as \"p5\""),
        "{error}"
    );
    let files = std::fs::read_dir(dir.path().join("plugins"))
        .unwrap()
        .count();
    assert_eq!(files, 1, "a refused upload left a file");

    // Remove p5, see it gone, upload it, and render with it: no restart.
    let (status, removed) = body(
        http.delete(server.url("/plugins/p5"))
            .header("authorization", "Bearer adm1n")
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_eq!(removed["unloaded"], json!(["p5@0.1.0"]));
    let (status, _) = body(
        http.post(server.url("/jobs"))
            .header("content-type", "application/json")
            .body(p5_job("none", &red_circle(40), 40, 1).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, loaded) = put("p5", Some("adm1n"), p5);
    assert_eq!(status, StatusCode::CREATED, "{loaded}");
    assert_eq!(loaded["version"], "0.1.0");
    let (status, shown) = body(http.get(server.url("/plugins/p5")).send().unwrap());
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        shown["versions"][0]["input_schema"]["required"],
        json!(["code", "width", "height"])
    );
    let (status, job) = body(
        http.post(server.url("/jobs?wait=60"))
            .header("content-type", "application/json")
            .body(p5_job("again", &red_circle(40), 40, 1).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(
        (status, job["status"].as_str()),
        (StatusCode::OK, Some("succeeded")),
        "{job}"
    );
}

#[test]
fn admin_routes_are_off_without_a_token() {
    let dir = TestDir::new();
    let server = Server::start(dir.path(), "");
    let (status, error) = body(client().delete(server.url("/plugins/p5")).send().unwrap());
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("service.admin_token"),
        "{error}"
    );
}

#[test]
fn repeats_come_from_the_result_cache_unless_forced_and_render_answers_with_the_image() {
    let dir = TestDir::new();
    let server = Server::start(dir.path(), "[service]\nsubmit_tokens = [\"token-1\"]\n");
    let http = client();
    let post = |path: &str, job: Value, token: Option<&str>| {
        let mut request = http
            .post(server.url(path))
            .header("content-type", "application/json")
            .body(job.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().unwrap()
    };

    // Submitting needs a submit token once any is configured.
    let (status, error) = body(post("/jobs", p5_job("anon", &red_circle(50), 50, 1), None));
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("service.submit_tokens"),
        "{error}"
    );
    let (status, _) = body(post(
        "/jobs",
        p5_job("wrong", &red_circle(50), 50, 1),
        Some("token-2"),
    ));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = body(http.delete(server.url("/jobs/anon")).send().unwrap());
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let first = post(
        "/jobs?wait=60",
        p5_job("first", &red_circle(50), 50, 1),
        Some("token-1"),
    );
    assert!(first.headers().get("kiln-cache").is_none());
    let (status, first) = body(first);
    assert_eq!(
        (status, first["status"].as_str()),
        (StatusCode::OK, Some("succeeded")),
        "{first}"
    );

    // The same type, plugin version and input: the first job's result, without a render, as
    // the job the client named.
    let again = post(
        "/jobs",
        p5_job("again", &red_circle(50), 50, 1),
        Some("token-1"),
    );
    assert_eq!(again.headers()["kiln-cache"], "hit");
    let (status, again) = body(again);
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], "again", "{again}");
    assert_eq!(again["status"], "succeeded", "{again}");
    assert_eq!(again["cached"], true, "{again}");
    assert_eq!(again["cached_from"], "first", "{again}");
    assert_eq!(again["artifacts"], first["artifacts"], "{again}");

    // force=true renders again, as a job of its own.
    let forced = post(
        "/jobs?wait=60&force=true",
        p5_job("forced", &red_circle(50), 50, 1),
        Some("token-1"),
    );
    assert!(forced.headers().get("kiln-cache").is_none());
    let (status, forced) = body(forced);
    assert_eq!(status, StatusCode::OK, "{forced}");
    assert_eq!(forced["id"], "forced", "{forced}");
    assert_eq!(forced["status"], "succeeded", "{forced}");

    // GET /render/{type}.{ext}: the query is the input, typed by the plugin's schema.
    let code = "function setup() { createCanvas(60, 40); background(0, 0, 255); }";
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("width", "60")
        .append_pair("height", "40")
        .append_pair("code", code)
        .finish();
    let render = |path: &str| {
        http.get(server.url(path))
            .bearer_auth("token-1")
            .send()
            .unwrap()
    };
    let image = render(&format!("/render/p5.png?{query}"));
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert!(image.headers().get("kiln-cache").is_none());
    let job = image.headers()["kiln-job"].to_str().unwrap().to_string();
    let png = image::load_from_memory(&image.bytes().unwrap())
        .unwrap()
        .to_rgba8();
    assert_eq!(png.dimensions(), (60, 40));
    assert!(
        near(png.get_pixel(30, 20), [0, 0, 255, 255], 2),
        "{:?}",
        png.get_pixel(30, 20)
    );

    let cached = render(&format!("/render/p5.png?{query}"));
    assert_eq!(cached.status(), StatusCode::OK);
    assert_eq!(cached.headers()["kiln-cache"], "hit");
    assert_eq!(cached.headers()["kiln-job"], job.as_str());

    let (status, error) = body(render(&format!("/render/p5.gif?{query}")));
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no .gif artifact"),
        "{error}"
    );
    let (status, error) = body(render("/render/p5.png?width=wide&height=40&code=x"));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("width=\"wide\" is not an integer"),
        "{error}"
    );
    let (status, error) = body(render("/render/nope.png?width=1"));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown job type \"nope\""),
        "{error}"
    );
}

/// POSTs `job` (JSON) to `path`.
fn post_json(
    http: &reqwest::blocking::Client,
    server: &Server,
    path: &str,
    job: &Value,
) -> reqwest::blocking::Response {
    http.post(server.url(path))
        .header("content-type", "application/json")
        .body(job.to_string())
        .send()
        .unwrap()
}

#[test]
fn callbacks_to_loopback_link_local_and_private_addresses_are_refused() {
    let dir = TestDir::new();
    let server = Server::start(dir.path(), "[service]\nwebhook_secret = \"s3cret\"\n");
    let http = client();
    // A live receiver on loopback: nothing may reach it.
    let (receiver, deliveries) = post_receiver("/hook", vec![]);
    let port = receiver
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/hook")
        .to_string();
    for (n, callback) in [
        receiver.clone(),
        format!("http://localhost:{port}/hook"),
        format!("http://[::1]:{port}/hook"),
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/".to_string(),
        "http://10.0.0.1/hook".to_string(),
        "http://192.168.1.1/hook".to_string(),
        format!("http://0x7f000001:{port}/hook"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut job = p5_job(&format!("ssrf-{n}"), &red_circle(40), 40, 1);
        job["callback"] = json!(callback);
        let (status, error) = body(post_json(&http, &server, "/jobs", &job));
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{callback}: {error}"
        );
        let message = error["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("callback") && message.contains("webhook_allow_private"),
            "{callback}: {message}"
        );
        let (status, _) = body(
            http.get(server.url(&format!("/jobs/ssrf-{n}")))
                .send()
                .unwrap(),
        );
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{callback}: the job was queued"
        );
    }
    assert!(
        deliveries.recv_timeout(Duration::from_millis(500)).is_err(),
        "the loopback receiver was called"
    );
}

/// A p5 job whose setup keeps its page busy for `ms` milliseconds, then paints.
fn busy_job(id: &str, ms: u64) -> Value {
    json!({"id": id, "type": "p5", "input": {
        "code": format!("function setup() {{ createCanvas(30, 30); const t = Date.now(); while (Date.now() - t < {ms}) {{}} background(0, 200, 0); }}"),
        "width": 30, "height": 30
    }})
}

/// Polls until job `id` is running.
fn wait_running(server: &Server, http: &reqwest::blocking::Client, id: &str) {
    let started = std::time::Instant::now();
    loop {
        let (_, job) = body(http.get(server.url(&format!("/jobs/{id}"))).send().unwrap());
        if job["status"] == "running" {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{id} never ran: {job}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until job `id` reports progress (its page is set up and drawing), reading its events.
fn wait_progress(server: &Server, http: &reqwest::blocking::Client, id: &str) {
    let events = http
        .get(server.url(&format!("/jobs/{id}/events")))
        .send()
        .unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(events).lines().map_while(Result::ok) {
        if line == "event: progress" {
            return;
        }
        seen.push(line);
    }
    panic!("{id} ended without reporting progress: {seen:?}");
}

/// The records of `ids` in the embedded queue of a server that has exited, and how many jobs it
/// left running (what a crash leaves; opening the queue puts them back).
fn stored_jobs(dir: &std::path::Path, ids: &[&str]) -> (Vec<kiln::queue::JobRecord>, usize) {
    use kiln::queue::JobQueue;
    block_on(async {
        let (queue, left_running) =
            kiln::queue::EmbeddedQueue::open(&dir.join("queue.redb"), 1000).unwrap();
        let mut records = Vec::new();
        for id in ids {
            records.push(queue.get(id.to_string()).await.unwrap().expect("a record"));
        }
        (records, left_running)
    })
}

#[test]
fn sigterm_lets_running_jobs_finish_and_leases_nothing_more() {
    let dir = TestDir::new();
    let mut server = Server::start(dir.path(), "[service]\nworkers = 1\n");
    let http = client();
    post_json(&http, &server, "/jobs", &busy_job("finishing", 4000));
    post_json(
        &http,
        &server,
        "/jobs",
        &p5_job("waiting", &red_circle(40), 40, 1),
    );
    wait_running(&server, &http, "finishing");
    server.sigterm();
    let status = server.wait_exit(Duration::from_secs(25));
    assert!(status.success(), "{status:?}");

    let (records, left_running) = stored_jobs(dir.path(), &["finishing", "waiting"]);
    assert_eq!(left_running, 0, "a job was abandoned");
    let (finishing, waiting) = (&records[0], &records[1]);
    assert_eq!(
        (finishing.status, finishing.attempts),
        (kiln::queue::JobState::Succeeded, 1),
        "{finishing:?}"
    );
    assert_eq!(finishing.artifacts.len(), 1);
    assert_eq!(
        (waiting.status, waiting.attempts),
        (kiln::queue::JobState::Queued, 0),
        "a job was leased during the drain: {waiting:?}"
    );
}

#[test]
fn a_drain_out_of_time_puts_jobs_back_without_spending_attempts_and_no_client_holds_it() {
    let dir = TestDir::new();
    let config = "[service]\nworkers = 1\ndrain_timeout_s = 2\n";
    let http = client();
    // Three ordinary restarts while a 15 s job runs (three attempts is the default limit).
    for round in 0..3 {
        let mut server = Server::start(dir.path(), config);
        let mut clients = Vec::new();
        if round == 0 {
            post_json(&http, &server, "/jobs", &busy_job("long", 15_000));
            wait_running(&server, &http, "long");
            // A client waiting for a job queued behind it, and one following its events.
            let wait_url = server.url("/jobs?wait=120");
            clients.push(std::thread::spawn(move || {
                let job = p5_job("patient", &red_circle(40), 40, 1);
                let response = client()
                    .post(wait_url)
                    .header("content-type", "application/json")
                    .body(job.to_string())
                    .send()
                    .expect("?wait is answered");
                let (status, reply) = body(response);
                format!("{status} {}", reply["status"])
            }));
            let events_url = server.url("/jobs/long/events");
            let (connected, following) = std::sync::mpsc::channel();
            clients.push(std::thread::spawn(move || {
                let events = client().get(events_url).send().unwrap();
                connected.send(()).unwrap();
                let mut text = String::new();
                std::io::Read::read_to_string(&mut BufReader::new(events), &mut text)
                    .expect("the event stream ends cleanly");
                "events ended".to_string()
            }));
            // Both clients are in: the stream has answered, and the waiting job is queued.
            following
                .recv_timeout(Duration::from_secs(10))
                .expect("the event stream answers");
            let started = std::time::Instant::now();
            while body(http.get(server.url("/jobs/patient")).send().unwrap()).0 != StatusCode::OK {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "the ?wait request was not taken"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        } else {
            wait_running(&server, &http, "long");
        }
        let stopping = std::time::Instant::now();
        server.sigterm();
        let status = server.wait_exit(Duration::from_secs(20));
        let took = stopping.elapsed();
        assert!(status.success(), "{status:?}");
        // The drain timeout and a little: not the job's 15 s, not the `?wait`'s 120 s.
        assert!(took < Duration::from_secs(8), "stopping took {took:?}");
        let answers: Vec<String> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        if round == 0 {
            assert_eq!(answers, ["202 Accepted \"queued\"", "events ended"]);
        }
        let (records, left_running) = stored_jobs(dir.path(), &["long"]);
        assert_eq!(
            left_running, 0,
            "round {round}: the job was abandoned, not put back"
        );
        assert_eq!(
            (records[0].status, records[0].attempts),
            (kiln::queue::JobState::Queued, 0),
            "round {round}: {:?}",
            records[0]
        );
    }
    // The fourth start lets it finish: on its first counted attempt, not a dead letter.
    let server = Server::start(dir.path(), config);
    let long = wait_final(&server, &http, "long", Duration::from_secs(60));
    assert_eq!(long["status"], "succeeded", "{long}");
    assert_eq!(long["attempts"], 1, "{long}");
    let patient = wait_final(&server, &http, "patient", Duration::from_secs(30));
    assert_eq!(patient["status"], "succeeded", "{patient}");
}

#[test]
fn a_flood_of_failing_jobs_leaves_the_data_dir_bounded() {
    let dir = TestDir::new();
    let server = Server::start(dir.path(), "[queue]\nrecord_ttl_s = 1\n");
    let http = client();
    let redb = dir.path().join("queue.redb");
    let size = || std::fs::metadata(&redb).unwrap().len();
    fn dir_size(path: &std::path::Path) -> u64 {
        std::fs::read_dir(path)
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let meta = entry.metadata().unwrap();
                if meta.is_dir() {
                    dir_size(&entry.path())
                } else {
                    meta.len()
                }
            })
            .sum()
    }
    // 600 kB sketches that fail at once: 36 MB of input through the queue (which grew by about
    // as much, plus redb's overhead, when ended records kept their input forever).
    let padding = format!("// {}\n", "x".repeat(600_000));
    let (mut after_warm_up, mut dir_after_warm_up) = (0, 0);
    for n in 0..60 {
        let code = format!("{padding}// {n}\nfunction setup() {{ throw new Error('flood {n}'); }}");
        let job = p5_job(&format!("flood-{n}"), &code, 40, 1);
        let (status, record) = body(post_json(&http, &server, "/jobs?wait=30", &job));
        assert_eq!(status, StatusCode::OK, "{record}");
        assert_eq!(record["status"], "failed", "{record}");
        assert!(record["input"].is_null(), "the record keeps the input");
        assert!(
            record["input_dropped"]["bytes"].as_u64().unwrap() > 600_000,
            "{}",
            record["input_dropped"]
        );
        if n == 14 {
            after_warm_up = size();
            dir_after_warm_up = dir_size(dir.path());
        }
    }
    let end = size();
    let dir_end = dir_size(dir.path());
    eprintln!(
        "queue.redb: {after_warm_up} bytes after 15 jobs, {end} after 60; the data dir: {dir_after_warm_up}, then {dir_end}"
    );
    assert!(
        dir_end <= dir_after_warm_up + (8 << 20),
        "the data dir grew from {dir_after_warm_up} to {dir_end} bytes"
    );
    assert!(end < 16 << 20, "queue.redb grew to {end} bytes");
    assert!(
        end <= after_warm_up + (8 << 20),
        "still growing: {after_warm_up} bytes after 15 jobs, {end} after 60"
    );
    // The records themselves expire after queue.record_ttl_s (swept every second).
    let started = std::time::Instant::now();
    loop {
        let (status, record) = body(http.get(server.url("/jobs/flood-0")).send().unwrap());
        if status == StatusCode::NOT_FOUND {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "flood-0 is still kept 10 s later, with queue.record_ttl_s = 1: {record}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Kills `pid` with SIGKILL.
fn kill_9(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -9 {pid}");
}

/// The one browser `server` runs, waiting for it if it is being replaced.
fn the_browser_of(server: &Server) -> u32 {
    let started = std::time::Instant::now();
    loop {
        if let [pid] = procfs::browsers_under(server.pid())[..] {
            return pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server has no single browser: {:?}",
            procfs::browsers_under(server.pid())
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_browser_kills_and_a_renderer_kill_mid_batch_lose_no_job_of_200() {
    let dir = TestDir::new();
    let server = Server::start(dir.path(), "[browser]\nprocesses = 1\n");
    let http = client();
    let ids: Vec<String> = (0..200).map(|i| format!("chaos-{i}")).collect();
    // Each job sets up for 50 ms, so a kill lands on jobs in their pages.
    let code = |id: &str| {
        format!(
            "async function setup() {{ createCanvas(40, 40); await new Promise(r => setTimeout(r, 50)); \
               background(0, 0, 255); noLoop(); }}\n// {id}"
        )
    };
    let batch = json!({"jobs": ids.iter().map(|id| json!({"id": id, "type": "p5", "input": {"code": code(id), "width": 40, "height": 40}})).collect::<Vec<_>>()});
    let (status, accepted) = body(
        http.post(server.url("/jobs/batch"))
            .header("content-type", "application/json")
            .body(batch.to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");

    // Jobs run in the order they were queued: once job N is final, the batch is past it.
    let limit = Duration::from_secs(300);
    wait_final(&server, &http, &ids[40], limit);
    kill_9(the_browser_of(&server));
    wait_final(&server, &http, &ids[90], limit);
    let renderers = procfs::renderers(&[the_browser_of(&server)]);
    assert!(!renderers.is_empty(), "no renderer to kill");
    kill_9(renderers[0]);
    wait_final(&server, &http, &ids[140], limit);
    kill_9(the_browser_of(&server));

    let mut retried = 0;
    for id in &ids {
        let job = wait_final(&server, &http, id, limit);
        assert_eq!(job["status"], "succeeded", "{job}");
        // The host never went down, so a job was leased once, or twice when a kill cost it its
        // first attempt: the queue owns retries (the worker makes one attempt per lease), and
        // says so in the job's log.
        let log = job["log"].to_string();
        let was_retried = log.contains("attempt 1 of 3 failed, retrying");
        assert_eq!(job["attempts"], if was_retried { 2 } else { 1 }, "{job}");
        retried += usize::from(was_retried);
        let png = http
            .get(server.url(&format!("/jobs/{id}/artifacts/image.png")))
            .send()
            .unwrap()
            .bytes()
            .unwrap();
        let image = image::load_from_memory(&png).unwrap().to_rgba8();
        assert!(near(image.get_pixel(20, 20), [0, 0, 255, 255], 2), "{id}");
    }
    // The kills hit jobs in flight (each was retried once, by the queue, on a fresh page or
    // browser), and no retry happened anywhere else.
    assert!(retried >= 1, "no job was in flight at any kill");
    eprintln!("{retried} of 200 jobs were retried after a kill");
    // Both browsers were replaced, and the host is ready with nothing left queued.
    let metrics = http
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("kiln_browser_restarts_total 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("kiln_job_retries_total {retried}\n")),
        "{retried} jobs were retried: {metrics}"
    );
    let started = std::time::Instant::now();
    let ready = loop {
        let (status, ready) = body(http.get(server.url("/ready")).send().unwrap());
        if status == StatusCode::OK {
            break ready;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{ready}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let queued = ready["queued"].as_object().expect("depths per lane");
    assert!(queued.values().all(|d| d == 0), "{ready}");
    // The pages that take jobs, per pool; this machine kind has no GPU, so no GPU pool.
    assert!(ready["pages"]["cpu"].as_u64().unwrap() >= 1, "{ready}");
    if ready["pages"]["gpu"].is_null() {
        assert!(
            ready["pages"]["gpuDetection"]
                .as_str()
                .unwrap()
                .contains("GPU"),
            "{ready}"
        );
    }
}

/// `wasm` with its version string `from` changed to `to` (same length): a second release of the
/// same plugin without a second build. Panics unless `from` occurs exactly once in the component
/// (the string `describe` returns), so nothing else is changed with it.
fn released_as(wasm: &[u8], from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at: Vec<usize> = wasm
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from.as_bytes())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "{from:?} is not in the component exactly once");
    let mut patched = wasm.to_vec();
    patched[at[0]..at[0] + to.len()].copy_from_slice(to.as_bytes());
    patched
}

/// The versions of `name` a server has loaded, newest first.
fn loaded_versions(server: &Server, http: &reqwest::blocking::Client, name: &str) -> Vec<String> {
    let (status, plugin) = body(
        http.get(server.url(&format!("/plugins/{name}")))
            .send()
            .unwrap(),
    );
    if status == StatusCode::NOT_FOUND {
        return Vec::new();
    }
    assert_eq!(status, StatusCode::OK, "{plugin}");
    plugin["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap().to_string())
        .collect()
}

/// Polls until the server has loaded exactly `versions` of `name`.
fn wait_versions(server: &Server, http: &reqwest::blocking::Client, name: &str, versions: &[&str]) {
    let started = std::time::Instant::now();
    loop {
        let loaded = loaded_versions(server, http, name);
        if loaded == versions {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{name}: loaded {loaded:?}, waiting for {versions:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A job is pinned at submit to the plugin version its input was checked against, and its
/// result-cache key names the plugin that ran. Replaced between submit and run:
/// - while the pinned version is still loaded, the job runs on it, even with a newer one there;
/// - once it is gone, a job submitted as `p5` runs on the newest `p5` and its record (plugin,
///   log, cache key) says so, while a job submitted as `p5@0.1.0` fails as `invalid-input`
///   naming the version it asked for.
#[test]
fn a_job_runs_on_the_plugin_version_pinned_at_submit_and_says_so_when_it_cannot() {
    let dir = TestDir::new();
    let plugins = dir.path().join("plugins");
    let server = Server::start(
        dir.path(),
        "[service]\nworkers = 1\n[plugins]\nwatch_interval_ms = 50\n",
    );
    let http = client();
    // Holds the one worker until cancelled, so the jobs behind it wait while plugins change.
    let hold = |id: &str| {
        json!({"id": id, "type": "p5", "input": {"width": 20, "height": 20,
            "code": "async function setup() { createCanvas(20, 20); await new Promise(r => setTimeout(r, 60000)); }"}})
    };
    let release = |id: &str| {
        let (status, reply) = body(
            http.delete(server.url(&format!("/jobs/{id}")))
                .send()
                .unwrap(),
        );
        assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    };
    let input =
        |n: u32| json!({"code": format!("{}\n// {n}", red_circle(30)), "width": 30, "height": 30});

    post_json(&http, &server, "/jobs", &hold("hold-1"));
    wait_running(&server, &http, "hold-1");
    for (id, job_type, n) in [
        ("implicit-old", "p5", 1),
        ("hold-2", "", 0),
        ("implicit-gone", "p5", 2),
        ("explicit-gone", "p5@0.1.0", 3),
    ] {
        let job = match job_type {
            "" => hold(id),
            _ => json!({"id": id, "type": job_type, "input": input(n)}),
        };
        let (status, reply) = body(post_json(&http, &server, "/jobs", &job));
        assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
        let (_, queued) = body(http.get(server.url(&format!("/jobs/{id}"))).send().unwrap());
        assert_eq!(queued["status"], "queued", "{queued}");
        assert_eq!(queued["plugin"], "p5@0.1.0", "pinned at submit: {queued}");
    }

    // 0.2.0 arrives beside 0.1.0: the job pinned to 0.1.0 still runs on it.
    let p5 = std::fs::read(plugins.join("kiln_plugin_p5.wasm")).unwrap();
    std::fs::write(
        plugins.join("p5-next.wasm"),
        released_as(&p5, "0.1.0", "0.2.0"),
    )
    .unwrap();
    wait_versions(&server, &http, "p5", &["0.2.0", "0.1.0"]);
    release("hold-1");
    let job = wait_final(&server, &http, "implicit-old", Duration::from_secs(60));
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["plugin"], "p5@0.1.0", "{job}");

    // 0.1.0 goes while hold-2 runs.
    wait_running(&server, &http, "hold-2");
    std::fs::remove_file(plugins.join("kiln_plugin_p5.wasm")).unwrap();
    wait_versions(&server, &http, "p5", &["0.2.0"]);
    release("hold-2");

    // Submitted as `p5`: it runs on the newest p5, and its record says so.
    let job = wait_final(&server, &http, "implicit-gone", Duration::from_secs(60));
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["plugin"], "p5@0.2.0", "{job}");
    assert!(
        job["log"].as_array().unwrap().iter().any(|line| line["message"]
            .as_str()
            .unwrap()
            .contains("p5@0.1.0, which the job was pinned to at submit, is no longer loaded: running p5@0.2.0")),
        "{job}"
    );
    // Submitted as `p5@0.1.0`: not run on another version.
    let job = wait_final(&server, &http, "explicit-gone", Duration::from_secs(60));
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error"]["kind"], "invalid-input", "{job}");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("the job asked for p5@0.1.0, which is no longer loaded"),
        "{message}"
    );

    // The cache names the plugin that ran: the same input as `p5` (now 0.2.0) is answered by the
    // job 0.2.0 ran, and not by the one 0.1.0 ran.
    let (status, hit) = body(post_json(
        &http,
        &server,
        "/jobs",
        &json!({"id": "same-as-gone", "type": "p5", "input": input(2)}),
    ));
    assert_eq!(status, StatusCode::OK, "{hit}");
    assert_eq!(hit["cached_from"], "implicit-gone", "{hit}");
    let (status, miss) = body(post_json(
        &http,
        &server,
        "/jobs",
        &json!({"id": "same-as-old", "type": "p5", "input": input(1)}),
    ));
    assert_eq!(status, StatusCode::ACCEPTED, "{miss}");
    let (_, miss) = body(http.get(server.url("/jobs/same-as-old")).send().unwrap());
    assert_eq!(miss["plugin"], "p5@0.2.0", "{miss}");
}
