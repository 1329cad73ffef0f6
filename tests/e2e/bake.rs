//! The oven's tape baker (shared/OVEN.md §10) on a real `kiln serve`: a ZIP of frames, timings
//! and a soundtrack served from loopback, baked by the `video` plugin, stored at
//! `tapes/{code}.mp4` and `tapes/{code}-thumb.jpg`, and called back once, signed, after a
//! receiver that fails twice; the secret, missing fields, a private `zipUrl`, and the site's
//! `/bake-status` and `/bake-complete`.

use kiln_test_support::fixtures::{png_of, wav_tone};
use kiln_test_support::loopback::post_receiver;
use kiln_test_support::processes::*;
use kiln_test_support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const SECRET: &str = "bake-test-secret";
const WEBHOOK_SECRET: &str = "bake-webhook-secret";

/// Serves `zip` at `/tape.zip` on loopback; the URL.
fn zip_server(zip: Vec<u8>) -> String {
    block_on(async move {
        let app = axum::Router::new().route(
            "/tape.zip",
            axum::routing::get(move || {
                let zip = zip.clone();
                async move { ([("content-type", "application/zip")], zip) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/tape.zip")
    })
}

/// Frame `i` of the tape: 16 × 10, one colour each.
fn png_frame(i: u32) -> Vec<u8> {
    png_of(16, 10, [(i * 50) as u8, 200, 40])
}

/// The site's tape: 5 frames of 100 ms (`frame-%05d.png`), `timing.json` and a 0.5 s soundtrack.
fn tape_zip() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for i in 0..5 {
        zip.start_file(format!("frame-{i:05}.png"), options)
            .unwrap();
        zip.write_all(&png_frame(i)).unwrap();
    }
    zip.start_file("timing.json", options).unwrap();
    let timing: Vec<Value> = (0..5).map(|_| json!({"duration": 100})).collect();
    zip.write_all(Value::from(timing).to_string().as_bytes())
        .unwrap();
    zip.start_file("soundtrack.wav", options).unwrap();
    zip.write_all(&wav_tone(0.5)).unwrap();
    zip.finish().unwrap().into_inner()
}

/// The local file a `file://` URL of the test's store names.
fn file_of(url: &str) -> PathBuf {
    PathBuf::from(
        url.strip_prefix("file://")
            .unwrap_or_else(|| panic!("{url} is not a file:// URL")),
    )
}

fn probe(path: &Path) -> Value {
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(
        output.status.success(),
        "ffprobe failed on {}",
        path.display()
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn post(server: &Server, path: &str, body: &Value) -> (StatusCode, Value) {
    body_of(
        client()
            .post(server.url(path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap(),
    )
}

fn body_of(response: reqwest::blocking::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn message(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn config(allow_private_zip: bool) -> String {
    format!(
        "[service]\nwebhook_secret = \"{WEBHOOK_SECRET}\"\nwebhook_backoff_ms = 200\nwebhook_allow_private = true\n\
         [jobs]\ntimeout_ms = 120000\n\
         [bake]\nsecret = \"{SECRET}\"\nallow_private = {allow_private_zip}\n"
    )
}

#[test]
fn a_tape_with_a_soundtrack_is_baked_stored_and_called_back_once_after_two_failures() {
    let dir = TestDir::new();
    let server = Server::start(dir.path(), &config(true));
    let zip_url = zip_server(tape_zip());
    let (callback, deliveries) = post_receiver("/oven-complete", vec![500, 500]);
    let request = json!({
        "mongoId": "65f0c0ffee",
        "slug": "tape-slug",
        "code": "tApE1",
        "zipUrl": zip_url,
        "callbackUrl": callback,
        "callbackSecret": SECRET,
        "metadata": {"user": "@jeffrey"},
    });

    // A wrong secret, then missing fields named.
    let mut wrong = request.clone();
    wrong["callbackSecret"] = json!("nope");
    let (status, body) = post(&server, "/bake", &wrong);
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(message(&body), "Invalid callback secret");
    let (status, body) = post(
        &server,
        "/bake",
        &json!({"slug": "s", "code": "c", "callbackSecret": SECRET}),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        message(&body),
        "Missing required fields: mongoId, zipUrl, callbackUrl"
    );

    // Accepted at once.
    let (status, body) = post(&server, "/bake", &request);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"status": "accepted", "slug": "tape-slug", "code": "tApE1", "message": "Baking started"})
    );

    // Two refusals, then the delivery that is taken; nothing after it.
    let mut answered = Vec::new();
    let mut bodies = Vec::new();
    let mut heads = Vec::new();
    for _ in 0..3 {
        let (status, head, body) = deliveries
            .recv_timeout(Duration::from_secs(180))
            .expect("a callback");
        answered.push(status);
        heads.push(head);
        bodies.push(body);
    }
    assert_eq!(answered, [500, 500, 200]);
    assert!(
        deliveries.recv_timeout(Duration::from_secs(2)).is_err(),
        "called back again after a 200"
    );
    assert!(bodies.iter().all(|b| *b == bodies[2]));
    let delivered: Value = serde_json::from_slice(&bodies[2]).unwrap();
    assert_eq!(delivered["mongoId"], "65f0c0ffee");
    assert_eq!(delivered["slug"], "tape-slug");
    assert_eq!(delivered["code"], "tApE1");
    assert_eq!(delivered["secret"], SECRET);
    assert!(delivered.get("error").is_none(), "{delivered}");
    let signature = kiln::service::webhook_signature(WEBHOOK_SECRET, &bodies[2]);
    assert!(
        heads[2]
            .to_ascii_lowercase()
            .contains(&format!("x-kiln-signature: {signature}")),
        "{}",
        heads[2]
    );

    // The MP4: 3× the frames, H.264 with an AAC soundtrack, as long as the tape.
    let mp4_url = delivered["mp4Url"].as_str().unwrap();
    assert!(mp4_url.ends_with("/tapes/tApE1.mp4"), "{mp4_url}");
    let probe = probe(&file_of(mp4_url));
    let streams = probe["streams"].as_array().unwrap();
    let video = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    assert_eq!(
        (video["width"].as_u64(), video["height"].as_u64()),
        (Some(48), Some(30))
    );
    assert_eq!(video["codec_name"], "h264");
    let audio = streams
        .iter()
        .find(|s| s["codec_type"] == "audio")
        .unwrap_or_else(|| panic!("no audio stream: {probe:#}"));
    assert_eq!(audio["codec_name"], "aac");
    let seconds: f64 = probe["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((seconds - 0.5).abs() < 0.15, "the tape lasts {seconds} s");

    // The thumbnail: a JPEG of the middle frame, inside 512 × 512.
    let thumbnail_url = delivered["thumbnailUrl"].as_str().unwrap();
    assert!(
        thumbnail_url.ends_with("/tapes/tApE1-thumb.jpg"),
        "{thumbnail_url}"
    );
    let bytes = std::fs::read(file_of(thumbnail_url)).unwrap();
    assert_eq!(
        image::guess_format(&bytes).unwrap(),
        image::ImageFormat::Jpeg
    );
    let thumbnail = image::load_from_memory(&bytes).unwrap().into_rgb8();
    assert!(thumbnail.width() <= 512 && thumbnail.height() <= 512);
    let centre = thumbnail
        .get_pixel(thumbnail.width() / 2, thumbnail.height() / 2)
        .0;
    assert!(
        centre[0].abs_diff(100) < 12 && centre[1].abs_diff(200) < 12 && centre[2].abs_diff(40) < 12,
        "the middle frame (2) is rgb(100, 200, 40): {centre:?}"
    );
    // The ZIP the job read is gone; the tapes stay.
    assert!(
        !std::fs::read_dir(dir.path().join("artifacts"))
            .map(|entries| entries
                .flatten()
                .any(|e| e.path().join("tape.zip").exists()))
            .unwrap_or(false),
        "tape.zip was left in the store"
    );

    // The site's statuses, seen in GET /status.
    let (status, body) = post(
        &server,
        "/bake-status",
        &json!({"code": "tApE1", "status": "syncing", "details": "atproto"}),
    );
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, now) = body_of(client().get(server.url("/status")).send().unwrap());
    assert_eq!(status, StatusCode::OK, "{now}");
    assert_eq!(now["active"][0]["code"], "tApE1", "{now}");
    assert_eq!(now["active"][0]["status"], "syncing", "{now}");
    assert!(
        now["uptime"].is_u64() && now["serverStartTime"].is_u64(),
        "{now}"
    );
    // The video job that baked it is among the recent jobs.
    let job = now["active"][0]["job"].as_str().unwrap().to_string();
    assert!(
        now["grabs"]["recent"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["id"] == job.as_str() && j["type"] == "video"),
        "{now}"
    );
    let (status, body) = post(
        &server,
        "/bake-complete",
        &json!({"slug": "tape-slug", "code": "tApE1", "success": true, "mp4Url": mp4_url,
                "thumbnailUrl": thumbnail_url, "atprotoRkey": "3kabc"}),
    );
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (_, now) = body_of(client().get(server.url("/status")).send().unwrap());
    assert!(now["active"].as_array().unwrap().is_empty(), "{now}");
    assert_eq!(now["recent"][0]["code"], "tApE1", "{now}");
    assert_eq!(now["recent"][0]["atprotoRkey"], "3kabc", "{now}");
    for path in ["/bake-status", "/bake-complete"] {
        let (status, body) = post(&server, path, &json!({"status": "syncing"}));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
    }
}

#[test]
fn a_zip_url_on_a_private_address_fails_the_bake_and_says_so_in_the_callback() {
    let dir = TestDir::new();
    // The ZIP is never fetched, so no job runs: the API alone answers.
    let server = Server::start_with(dir.path(), &config(false), &["--api-only"], &[]);
    let (callback, deliveries) = post_receiver("/oven-complete", vec![]);
    for zip_url in [
        "http://127.0.0.1:9/tape.zip".to_string(),
        zip_server(tape_zip()).replace("127.0.0.1", "localhost"),
    ] {
        let (status, body) = post(
            &server,
            "/bake",
            &json!({"mongoId": "m", "slug": "s", "code": "priv", "zipUrl": zip_url,
                    "callbackUrl": callback, "callbackSecret": SECRET}),
        );
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, _, body) = deliveries
            .recv_timeout(Duration::from_secs(30))
            .expect("a failure callback");
        let delivered: Value = serde_json::from_slice(&body).unwrap();
        let error = delivered["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("bake.allow_private") && error.contains("loopback"),
            "{zip_url}: {delivered}"
        );
        assert_eq!(delivered["secret"], SECRET);
        assert!(delivered.get("mp4Url").is_none(), "{delivered}");
    }
    assert!(
        !dir.path().join("artifacts").join("tapes").exists(),
        "a refused bake stored a tape"
    );
}
