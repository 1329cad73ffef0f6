//! Issue 11's API cases, over HTTP against the real `kiln serve`: a cache hit under a chosen id
//! (7), idempotency keys reused for another request (8), the job log in the record (9), limits
//! checked at submit (10), ids that would write under a granted read prefix (12), browser-borne
//! requests (14) and slow clients (15).

use kiln_test_support::processes::*;
use kiln_test_support::*;
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn post_json(http: &Client, url: String, body: &Value) -> Response {
    http.post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap()
}

fn p5_job(id: &str, code: &str, size: u32) -> Value {
    json!({"id": id, "type": "p5", "input": {"code": code, "width": size, "height": size}})
}

fn message(error: &Value) -> &str {
    error["error"]["message"].as_str().unwrap_or_default()
}

/// The lines of a record's log that contain `text`.
fn log_lines_with<'a>(job: &'a Value, text: &str) -> Vec<&'a Value> {
    job["log"]
        .as_array()
        .unwrap_or_else(|| panic!("the record has no log: {job}"))
        .iter()
        .filter(|line| line["message"].as_str().unwrap_or_default().contains(text))
        .collect()
}

/// Case 7: a client-chosen id that hits the result cache is a succeeded job of its own, pointing
/// at the earlier job's artifacts.
#[test]
fn a_cache_hit_under_a_chosen_id_makes_that_job() {
    let dir = TestDir::new();
    let server = Server::start(dir.path(), "");
    let http = client();
    let (status, first) = body(post_json(
        &http,
        server.url("/jobs?wait=60"),
        &p5_job("original", &red_circle(30), 30),
    ));
    assert_eq!(
        (status, first["status"].as_str()),
        (StatusCode::OK, Some("succeeded")),
        "{first}"
    );

    let hit = post_json(
        &http,
        server.url("/jobs"),
        &p5_job("mine", &red_circle(30), 30),
    );
    assert_eq!(hit.headers()["kiln-cache"], "hit");
    let (status, mine) = body(hit);
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["id"], "mine", "{mine}");
    assert_eq!(mine["cached_from"], "original", "{mine}");

    // The job exists under the client's id: its record, its artifact.
    let (status, record) = body(http.get(server.url("/jobs/mine")).send().unwrap());
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["status"], "succeeded", "{record}");
    assert_eq!(record["cached"], true, "{record}");
    assert_eq!(record["artifacts"], first["artifacts"], "{record}");
    let png = http
        .get(server.url("/jobs/mine/artifacts/image.png"))
        .send()
        .unwrap();
    assert_eq!(png.status(), StatusCode::OK);
    let image = image::load_from_memory(&png.bytes().unwrap())
        .unwrap()
        .to_rgba8();
    assert!(near(image.get_pixel(15, 15), [255, 0, 0, 255], 2));

    // The id is taken now, as any job's is; without an id the hit answers with the earlier job.
    let (status, error) = body(post_json(
        &http,
        server.url("/jobs"),
        &p5_job("mine", &red_circle(30), 30),
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert!(message(&error).contains("already exists"), "{error}");
    let mut anonymous = p5_job("x", &red_circle(30), 30);
    anonymous.as_object_mut().unwrap().remove("id");
    let (status, earlier) = body(post_json(&http, server.url("/jobs"), &anonymous));
    assert_eq!(status, StatusCode::OK, "{earlier}");
    assert_eq!(earlier["id"], "original", "{earlier}");
}

/// Case 8: an `Idempotency-Key` names one request. The same request replays its job; another
/// request (another input, another type, another id) is refused naming the key.
#[test]
fn an_idempotency_key_reused_for_another_request_is_refused() {
    let dir = TestDir::new();
    // The API alone: the jobs stay queued, which is all this needs.
    let server = Server::start_with(dir.path(), "", &["--api-only"], &[]);
    let http = client();
    let submit = |key: &str, job: &Value| {
        http.post(server.url("/jobs"))
            .header("content-type", "application/json")
            .header("Idempotency-Key", key)
            .body(job.to_string())
            .send()
            .unwrap()
    };
    let job = p5_job("order-1", &red_circle(20), 20);
    let first = submit("order-42", &job);
    assert!(first.headers().get("idempotent-replayed").is_none());
    assert_eq!(first.status(), StatusCode::ACCEPTED);

    // The same body, its keys in another order: replayed.
    let reordered: Value = serde_json::from_str(&format!(
        r#"{{"input": {}, "type": "p5", "id": "order-1"}}"#,
        job["input"]
    ))
    .unwrap();
    let again = submit("order-42", &reordered);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let (status, again) = body(again);
    assert_eq!(
        (status, again["id"].as_str()),
        (StatusCode::ACCEPTED, Some("order-1"))
    );

    let other_input = p5_job("order-1", &red_circle(20), 21);
    let other_type = json!({"id": "order-1", "type": "js", "input": {"html": "<p>hi</p>", "width": 20, "height": 20, "outputType": "png"}});
    let other_id = p5_job("order-2", &red_circle(20), 20);
    for different in [other_input, other_type, other_id] {
        let response = submit("order-42", &different);
        assert!(response.headers().get("idempotent-replayed").is_none());
        let (status, error) = body(response);
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{different}: {error}"
        );
        assert!(
            message(&error).contains("Idempotency-Key \"order-42\"")
                && message(&error).contains("order-1"),
            "{error}"
        );
    }
    let (status, _) = body(http.get(server.url("/jobs/order-2")).send().unwrap());
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "nothing was queued for the refused requests"
    );

    // Without an id in the body, the id the API makes up is no part of the request.
    let mut anonymous = p5_job("x", &red_circle(20), 22);
    anonymous.as_object_mut().unwrap().remove("id");
    let (status, first) = body(submit("anon-1", &anonymous));
    assert_eq!(status, StatusCode::ACCEPTED);
    let replay = submit("anon-1", &anonymous);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let (_, replay) = body(replay);
    assert_eq!(replay["id"], first["id"]);
}

/// Case 9: `GET /jobs/{id}` and `?wait` carry the job's log: the page's console, its uncaught
/// error, the host's lines, on success, failure and timeout; capped by `jobs.max_log_lines`.
#[test]
fn the_job_log_is_in_the_record_on_success_failure_and_timeout() {
    let dir = TestDir::new();
    let server = Server::start(
        dir.path(),
        "[jobs]\ntimeout_ms = 3000\nmax_log_lines = 20\n",
    );
    let http = client();

    let chatty = "function setup() { createCanvas(20, 20); console.log('hello from setup'); \
                  for (let i = 0; i < 50; i++) console.log('line ' + i); background(0); }";
    let (status, job) = body(post_json(
        &http,
        server.url("/jobs?wait=60"),
        &p5_job("chatty", chatty, 20),
    ));
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(log_lines_with(&job, "hello from setup").len(), 1, "{job}");
    let log = job["log"].as_array().unwrap();
    assert_eq!(log.len(), 21, "20 lines and the note: {job}");
    assert!(
        log[20]["message"]
            .as_str()
            .unwrap()
            .contains("jobs.max_log_lines = 20"),
        "{job}"
    );
    let (_, read) = body(http.get(server.url("/jobs/chatty")).send().unwrap());
    assert_eq!(
        read["log"], job["log"],
        "GET /jobs/{{id}} shows the same log"
    );

    let throws =
        "function setup() { console.warn('about to fail'); throw new Error('boom in setup'); }";
    let (status, job) = body(post_json(
        &http,
        server.url("/jobs?wait=60"),
        &p5_job("throws", throws, 20),
    ));
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error"]["kind"], "piece-failed", "{job}");
    assert_eq!(log_lines_with(&job, "about to fail").len(), 1, "{job}");
    assert!(!log_lines_with(&job, "boom in setup").is_empty(), "{job}");

    let spins = "function setup() { console.log('spinning now'); while (true) {} }";
    let (status, _) = body(post_json(
        &http,
        server.url("/jobs"),
        &p5_job("spins", spins, 20),
    ));
    assert_eq!(status, StatusCode::ACCEPTED);
    let job = wait_final(&server, &http, "spins", Duration::from_secs(60));
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error"]["kind"], "timeout", "{job}");
    assert!(
        job["log"].as_array().is_some_and(|l| !l.is_empty()),
        "a timed-out job keeps its log: {job}"
    );
    assert!(
        job["log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|line| line["source"] == "plugin"),
        "{job}"
    );
}

/// Case 10: the limits the host knows are checked at submit (422 naming the field), not when the
/// job runs.
#[test]
fn host_limits_are_checked_at_submit_naming_the_field() {
    let dir = TestDir::new();
    let server = Server::start_with(
        dir.path(),
        "[jobs]\nmax_dimension = 1000\nmax_pixels = 500000\nmax_frames = 600\n",
        &["--api-only"],
        &[],
    );
    let http = client();
    let video = |input: Value| json!({"type": "video", "input": input});
    let refused = [
        // (job, the field the message must name)
        (
            video(json!({"code": "x", "width": 64, "height": 64, "fps": 1e-6, "frames": 10})),
            "input.fps",
        ),
        (
            video(json!({"code": "x", "width": 64, "height": 64, "fps": 0, "frames": 10})),
            "input.fps",
        ),
        (
            video(json!({"code": "x", "width": 64, "height": 64, "durationS": 30})),
            "input.durationS",
        ),
        (
            video(json!({"code": "x", "width": 64, "height": 64, "frames": 601})),
            "input.frames",
        ),
        (
            video(json!({"code": "x", "width": 64, "height": 64, "frames": 0})),
            "input.frames",
        ),
        (
            video(json!({"code": "x", "width": 64, "height": 64, "durationS": -2})),
            "input.durationS",
        ),
        (
            video(json!({"code": "x", "width": 1001, "height": 64, "frames": 10})),
            "input.width",
        ),
        (
            json!({"type": "p5", "input": {"code": "x", "width": 1000, "height": 1000}}),
            "input.width × input.height",
        ),
        (
            json!({"type": "p5", "input": {"code": "x", "width": 500, "height": 500, "pixelDensity": 2}}),
            "input.pixelDensity²",
        ),
        (
            json!({"type": "js", "input": {"html": "<p>", "width": 20, "height": 1200, "outputType": "png"}}),
            "input.height",
        ),
    ];
    for (job, field) in &refused {
        let (status, error) = body(post_json(&http, server.url("/jobs"), job));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{job}: {error}");
        assert_eq!(error["error"]["kind"], "invalid-input", "{error}");
        assert!(message(&error).contains(field), "{job}: {error}");
    }
    // Each refused entry of a batch says why; the ones within the limits are queued.
    let (status, batch) = body(post_json(
        &http,
        server.url("/jobs/batch"),
        &json!({"jobs": [
            refused[2].0,
            video(json!({"code": "x", "width": 64, "height": 64, "durationS": 2, "fps": 24})),
        ]}),
    ));
    assert_eq!(status, StatusCode::ACCEPTED, "{batch}");
    assert!(
        batch["jobs"][0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("input.durationS"),
        "{batch}"
    );
    assert_eq!(batch["jobs"][1]["status"], "queued", "{batch}");
}

/// Case 12's other half: a job writes under its own id, so a client may not choose an id whose
/// keys would be the host's (`oven/…`) or lie under a prefix some plugin is granted to read.
#[test]
fn ids_that_would_write_under_a_granted_read_prefix_are_refused() {
    let dir = TestDir::new();
    let server = Server::start_with(
        dir.path(),
        "[plugins.per_plugin.video]\nread_prefixes = [\"shared/tapes\"]\n",
        &["--api-only"],
        &[],
    );
    let http = client();
    for id in ["shared", "oven"] {
        let (status, error) = body(post_json(
            &http,
            server.url("/jobs"),
            &p5_job(id, &red_circle(20), 20),
        ));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{id}: {error}");
        assert!(message(&error).contains("reserved"), "{error}");
    }
    let (status, queued) = body(post_json(
        &http,
        server.url("/jobs"),
        &p5_job("shared-not", &red_circle(20), 20),
    ));
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
}

/// Case 14: writes need a JSON body (a page elsewhere can send text/plain and forms without
/// asking); a `Host` or `Origin` this server was not told about is refused (DNS rebinding).
#[test]
fn writes_need_json_and_foreign_hosts_and_origins_are_refused() {
    let dir = TestDir::new();
    let server = Server::start_with(dir.path(), "", &["--api-only"], &[]);
    let http = client();
    let job = p5_job("simple", &red_circle(20), 20).to_string();

    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
    ] {
        for path in ["/jobs", "/jobs/batch", "/render/p5.png"] {
            let mut request = http.post(server.url(path)).body(job.clone());
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            let (status, error) = body(request.send().unwrap());
            assert_eq!(
                status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{path} {content_type:?}: {error}"
            );
            assert!(message(&error).contains("application/json"), "{error}");
        }
    }
    let (status, _) = body(http.get(server.url("/jobs/simple")).send().unwrap());
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was queued");
    let accepted = http
        .post(server.url("/jobs"))
        .header("content-type", "application/json; charset=utf-8")
        .body(job.clone())
        .send()
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);

    // DNS rebinding: a page at evil.example whose name now resolves to this server.
    let port = server.base.rsplit(':').next().unwrap().to_string();
    for host in [format!("evil.example:{port}"), "evil.example".to_string()] {
        let (status, error) = body(
            http.get(server.url("/jobs/simple"))
                .header("host", host.as_str())
                .send()
                .unwrap(),
        );
        assert_eq!(status, StatusCode::FORBIDDEN, "{host}: {error}");
        assert!(message(&error).contains("service.allowed_hosts"), "{error}");
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let response = http
            .get(server.url("/jobs/simple"))
            .header("host", host.as_str())
            .send()
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{host}");
    }
    // A page on another origin, even one that asks first with JSON.
    let (status, error) = body(
        http.post(server.url("/jobs"))
            .header("content-type", "application/json")
            .header("origin", "https://evil.example")
            .body(p5_job("from-page", &red_circle(20), 20).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert!(message(&error).contains("evil.example"), "{error}");
    let (status, _) = body(http.get(server.url("/jobs/from-page")).send().unwrap());
    assert_eq!(status, StatusCode::NOT_FOUND);
    let same_origin = http
        .get(server.url("/jobs/simple"))
        .header("origin", format!("http://localhost:{port}"))
        .send()
        .unwrap();
    assert_eq!(same_origin.status(), StatusCode::OK);

    // A name the operator adds is answered.
    drop(server);
    let dir = TestDir::new();
    let server = Server::start_with(
        dir.path(),
        "[service]\nallowed_hosts = [\"render.example\"]\n",
        &["--api-only"],
        &[],
    );
    let response = http
        .get(server.url("/health"))
        .header("host", "render.example")
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .get(server.url("/health"))
        .header("host", "evil.example")
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

/// Case 14: `GET /render` renders only for a request a web page elsewhere cannot send (an
/// `<img>` cannot add headers); from the cache it answers anyone. `POST /render` takes JSON.
#[test]
fn get_render_renders_only_for_requests_a_page_cannot_send() {
    let dir = TestDir::new();
    let server = Server::start(dir.path(), "");
    let http = client();
    let code = "function setup() { createCanvas(32, 24); background(0, 0, 255); }";
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("width", "32")
        .append_pair("height", "24")
        .append_pair("code", code)
        .finish();
    let path = format!("/render/p5.png?{query}");

    // What an <img src> sends: nothing is rendered.
    let (status, error) = body(http.get(server.url(&path)).send().unwrap());
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{error}");
    assert!(message(&error).contains("Kiln-Render"), "{error}");
    let metrics = http
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        !metrics
            .lines()
            .any(|l| l.starts_with("kiln_jobs_submitted_total") && !l.ends_with(" 0")),
        "a job was submitted:\n{metrics}"
    );

    let rendered = http
        .get(server.url(&path))
        .header("kiln-render", "1")
        .send()
        .unwrap();
    assert_eq!(rendered.status(), StatusCode::OK);
    assert!(rendered.headers().get("kiln-cache").is_none());
    let image = image::load_from_memory(&rendered.bytes().unwrap())
        .unwrap()
        .to_rgba8();
    assert_eq!(image.dimensions(), (32, 24));

    // Now cached: a plain GET is answered from the cache, and forcing a render needs the header.
    let cached = http.get(server.url(&path)).send().unwrap();
    assert_eq!(cached.status(), StatusCode::OK);
    assert_eq!(cached.headers()["kiln-cache"], "hit");
    let (status, _) = body(
        http.get(server.url(&format!("{path}&force=true")))
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);

    // POST with the input as JSON.
    let posted = post_json(
        &http,
        server.url("/render/p5.png"),
        &json!({"code": "function setup() { createCanvas(16, 16); background(0, 255, 0); }", "width": 16, "height": 16}),
    );
    assert_eq!(posted.status(), StatusCode::OK);
    let image = image::load_from_memory(&posted.bytes().unwrap())
        .unwrap()
        .to_rgba8();
    assert!(near(image.get_pixel(8, 8), [0, 255, 0, 255], 2));
}

/// Case 14: listening beyond loopback without submit tokens prints a loud warning.
#[test]
fn listening_beyond_loopback_without_tokens_warns() {
    let dir = TestDir::new();
    let (server, before) = Server::start_listening(dir.path(), "", "0.0.0.0:0", &["--api-only"]);
    let warning = before.join("\n");
    assert!(
        warning.contains("WARNING") && warning.contains("service.submit_tokens"),
        "stderr before the listening line:\n{warning}"
    );
    drop(server);

    let (server, before) = Server::start_listening(dir.path(), "", "127.0.0.1:0", &["--api-only"]);
    assert!(!before.join("\n").contains("WARNING"), "{before:?}");
    drop(server);
    let (_server, before) = Server::start_listening(
        dir.path(),
        "[service]\nsubmit_tokens = [\"t\"]\n",
        "0.0.0.0:0",
        &["--api-only"],
    );
    assert!(!before.join("\n").contains("WARNING"), "{before:?}");
}

/// The port of a server's base URL.
fn port_of(server: &Server) -> u16 {
    server.base.rsplit(':').next().unwrap().parse().unwrap()
}

/// Reads from `stream` until the server closes it (or `limit` passes); what it sent.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    while started.elapsed() < limit {
        match stream.read(&mut buffer) {
            Ok(0) => return (String::from_utf8_lossy(&received).into_owned(), true),
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (String::from_utf8_lossy(&received).into_owned(), true),
        }
    }
    (String::from_utf8_lossy(&received).into_owned(), false)
}

/// Case 15: connections that send half their headers are closed after
/// `service.header_read_timeout_ms`; past `service.max_connections` a connection is answered 503
/// at once; the server answers normally once the slow ones are gone.
#[test]
fn slow_headers_are_cut_off_and_connections_are_capped() {
    let dir = TestDir::new();
    let server = Server::start_with(
        dir.path(),
        "[service]\nheader_read_timeout_ms = 3000\nmax_connections = 400\n",
        &["--api-only"],
        &[],
    );
    let port = port_of(&server);
    let started = Instant::now();
    let mut slow: Vec<TcpStream> = (0..400)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream
                .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                .unwrap();
            stream
        })
        .collect();

    // All 400 slots are taken: one more is answered 503 at once and closed.
    let mut extra = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (answer, closed) = read_until_closed(&mut extra, Duration::from_secs(5));
    assert!(closed, "the connection over the cap was left open");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(answer.contains("service.max_connections"), "{answer:?}");

    // Each slow connection is closed by the server (with 408) within the timeout, not left open.
    for stream in &mut slow {
        let (answer, closed) = read_until_closed(stream, Duration::from_secs(10));
        assert!(closed, "a connection with half its headers stayed open");
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer:?}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "slow connections took {:?} to close",
        started.elapsed()
    );
    drop(slow);

    // Slots free again: a normal request is answered.
    let http = client();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match http.get(server.url("/health")).send() {
            Ok(response) if response.status() == StatusCode::OK => break,
            other => assert!(
                Instant::now() < deadline,
                "the server did not recover: {other:?}"
            ),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // An idle keep-alive connection is closed after the header timeout too.
    let mut idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let (answer, closed) = read_until_closed(&mut idle, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(closed, "an idle keep-alive connection stayed open");
}

/// Case 15: a body that trickles in (one byte every 200 ms) is cut off at
/// `service.body_read_timeout_ms` in all, answered 408, and nothing is queued.
#[test]
fn a_body_that_trickles_in_is_cut_off_at_its_deadline() {
    let dir = TestDir::new();
    let server = Server::start_with(
        dir.path(),
        "[service]\nbody_read_timeout_ms = 1500\n",
        &["--api-only"],
        &[],
    );
    let port = port_of(&server);
    let job = p5_job("trickled", &red_circle(20), 20).to_string();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        job.len()
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    // One byte per round, reading between them; the whole body would take job.len() × 200 ms.
    for byte in job.as_bytes() {
        if stream.write_all(std::slice::from_ref(byte)).is_err() {
            break;
        }
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
        if !received.is_empty() || started.elapsed() > Duration::from_secs(10) {
            break;
        }
    }
    let answer = String::from_utf8_lossy(&received).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.contains("body_read_timeout_ms"), "{answer:?}");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1400) && elapsed < Duration::from_secs(5),
        "cut off after {elapsed:?}"
    );
    let (status, _) = body(client().get(server.url("/jobs/trickled")).send().unwrap());
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Every response carries `x-request-id` (the client's own, or a new one); `serve` logs at info by
/// default, as JSON with `--log-format json`; and a `KILN_SECTION__KEY` variable reaches its key.
#[test]
fn requests_carry_ids_logs_are_json_and_the_env_overlay_applies() {
    let dir = TestDir::new();
    let (server, before) = Server::start_with_lines(
        dir.path(),
        "[service]\nmax_body_bytes = 1000000\n",
        &["--api-only"],
        &[
            ("KILN_LOG_FORMAT", "json".to_string()),
            ("KILN_SERVICE__MAX_BODY_BYTES", "100".to_string()),
        ],
    );
    let opened = before
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["fields"]["message"] == "artifact store opened");
    let opened = opened.unwrap_or_else(|| panic!("no JSON info line at start:\n{before:?}"));
    assert_eq!(opened["level"], "INFO", "{opened}");

    let http = client();
    let health = http.get(server.url("/health")).send().unwrap();
    let id = health.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let other = http.get(server.url("/no-such-route")).send().unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id);
    let own = http
        .get(server.url("/health"))
        .header("x-request-id", "client-chose-this")
        .send()
        .unwrap();
    assert_eq!(own.headers()["x-request-id"], "client-chose-this");

    // The variable wins over the file's service.max_body_bytes.
    let big = post_json(
        &http,
        server.url("/jobs"),
        &p5_job("big", &"x".repeat(200), 20),
    );
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(big.headers().contains_key("x-request-id"));
}
