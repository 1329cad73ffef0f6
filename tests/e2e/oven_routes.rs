//! The oven's card and backdrop routes (shared/OVEN.md §5.4, §6, §7) on a real `kiln serve`,
//! its piece store a stand-in API on loopback: status codes, redirects to the public URL,
//! `Cache-Control`, `X-Cache` and the `X-OG-*`/`X-Backdrop-Piece` headers, one cache entry per
//! layout and day, yesterday's card while today's renders, and `force` only with a token.

use axum::extract::Query;
use axum::response::IntoResponse;
use chrono::Datelike;
use kiln_test_support::processes::*;
use kiln_test_support::*;
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const CDN: &str = "http://cdn.example/kiln";
const TOKEN: &str = "oven-test-token";
const ADMIN: &str = "oven-test-admin";

/// The listing, most played first: three of @jeffrey's pieces and one of @amby's.
fn listing() -> Vec<Value> {
    vec![
        json!({"code": "navy", "source": "(wipe navy)", "hits": 5000, "owner": {"handle": "@jeffrey"}}),
        json!({"code": "teal", "source": "(wipe teal)", "hits": 900, "owner": {"handle": "@amby"}}),
        json!({"code": "plum", "source": "(wipe plum)", "hits": 300, "owner": {"handle": "@jeffrey"}}),
        json!({"code": "gold", "source": "(wipe gold)", "hits": 20, "owner": {"handle": "@jeffrey"}}),
        // One flat colour per frame, changing: a dud, not frozen.
        json!({"code": "blink", "source": "(wipe (? red lime blue))", "hits": 2, "owner": null}),
        // Slow on purpose: a whole-canvas blur every frame, for the placeholder while it renders.
        json!({"code": "slow", "source": "(wipe navy) (ink yellow) (box 0 0 w/2 h/2) (blur 4)", "hits": 1, "owner": null}),
    ]
}

async fn tv(Query(query): Query<HashMap<String, String>>) -> axum::response::Response {
    let limit: usize = query["limit"].parse().unwrap();
    let items: Vec<Value> = listing().into_iter().take(limit).collect();
    axum::Json(json!({"media": {"kidlisp": items}})).into_response()
}

async fn store_kidlisp(Query(query): Query<HashMap<String, String>>) -> axum::response::Response {
    let code = query.get("code").cloned().unwrap_or_default();
    match listing().into_iter().find(|p| p["code"] == code.as_str()) {
        Some(piece) => {
            axum::Json(json!({"source": piece["source"], "handle": piece["owner"]["handle"]}))
                .into_response()
        }
        None => (axum::http::StatusCode::NOT_FOUND, "{}").into_response(),
    }
}

/// `kiln serve` over the stand-in piece store; `schedules` is TOML appended to its config.
fn start(schedules: &str) -> (Server, TestDir) {
    start_with("", "", schedules)
}

/// As [`start`], with `service` and `jobs` (TOML keys) added to its `[service]` and `[jobs]`
/// tables.
fn start_with(service: &str, jobs: &str, schedules: &str) -> (Server, TestDir) {
    let api = block_on(async {
        let app = axum::Router::new()
            .route("/api/tv", axum::routing::get(tv))
            .route("/api/store-kidlisp", axum::routing::get(store_kidlisp));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });
    let dir = TestDir::new();
    let config = format!(
        "[service]\nsubmit_tokens = [\"{TOKEN}\"]\nmax_wait_s = 120\nallowed_hosts = [\"kidlisp.com\"]\nadmin_token = \"{ADMIN}\"\n{service}\
         [storage]\npublic_base_url = \"{CDN}\"\n\
         [jobs]\ntimeout_ms = 120000\n{jobs}\
         [plugins]\ncpu_ms = 120000\n\
         [sources]\nbase_url = \"http://{api}\"\nallowed_hosts = [\"127.0.0.1\"]\nallow_private = true\n{schedules}"
    );
    (Server::start(dir.path(), &config), dir)
}

fn no_redirects() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(150))
        .build()
        .unwrap()
}

fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header: {:?}", response.headers()))
        .to_str()
        .unwrap()
        .to_string()
}

fn png_size(response: Response) -> (u32, u32) {
    assert_eq!(header(&response, "content-type"), "image/png");
    let image = image::load_from_memory(&response.bytes().unwrap()).unwrap();
    (image.width(), image.height())
}

#[test]
fn the_card_and_backdrop_routes_answer_as_the_oven_did() {
    let (server, _dir) = start(
        "[[schedules]]\nname = \"og-filmstrip\"\ncron = \"0 */6 * * *\"\nrun_at_start = true\n\
         job = { type = \"kidlisp-og\", input = { layout = \"filmstrip\", date = \"{fire_date}\" } }\n",
    );
    let client = no_redirects();
    let get = |path: &str| client.get(server.url(path)).send().unwrap();
    let today = chrono::Utc::now().date_naive();
    // Every listed source is short (never compared), so all six are unique: today's featured
    // piece is index dayOfYear mod 6.
    let codes = ["navy", "teal", "plum", "gold", "blink", "slow"];
    let featured = format!("${}", codes[today.ordinal() as usize % 6]);

    // An unknown layout names the four.
    let response = get("/kidlisp-og.png?layout=grid");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let text = response.text().unwrap();
    assert!(
        text.contains("featured, mosaic, filmstrip, code-split"),
        "{text}"
    );

    // Made now: the PNG itself, with what it shows.
    let response = get("/kidlisp-og?layout=featured");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-cache"), "MISS");
    assert_eq!(header(&response, "cache-control"), "public, max-age=86400");
    assert_eq!(header(&response, "x-og-layout"), "featured");
    assert_eq!(header(&response, "x-og-featured"), featured);
    assert!(header(&response, "x-og-generated").starts_with(&today.to_string()));
    assert_eq!(png_size(response), (1200, 630));

    // Asked again: a redirect to the public URL.
    let response = get("/kidlisp-og?layout=featured");
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(header(&response, "x-cache"), "HIT");
    let location = header(&response, "location");
    assert!(
        location.starts_with(CDN) && location.ends_with("/card.png"),
        "{location}"
    );
    // The og:image route finds the same card: 301, cached an hour.
    let response = get("/kidlisp-og.png?layout=featured");
    assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(header(&response, "x-cache"), "CDN");
    assert_eq!(header(&response, "cache-control"), "public, max-age=3600");
    assert_eq!(header(&response, "location"), location);

    // Another layout is another entry: the status says which are cached, and what they feature.
    let (status, report) = body(get("/kidlisp-og/status"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["layouts"]["featured"]["cached"], true);
    assert_eq!(
        report["layouts"]["featured"]["featuredPiece"],
        featured.as_str()
    );
    assert_eq!(report["layouts"]["featured"]["url"], location.as_str());
    assert_eq!(report["layouts"]["code-split"]["cached"], false);
    assert_eq!(report["date"], today.to_string());

    // Yesterday's card answers while today's renders in the background.
    let yesterday = (today - chrono::Duration::days(1)).to_string();
    let made = client
        .post(server.url("/jobs?wait=120"))
        .bearer_auth(TOKEN)
        .json(&json!({"type": "kidlisp-og", "input": {"layout": "code-split", "date": yesterday}}))
        .send()
        .unwrap();
    let (status, job) = body(made);
    assert_eq!(
        (status, job["status"].as_str()),
        (StatusCode::OK, Some("succeeded")),
        "{job}"
    );
    let response = get("/kidlisp-og.png?layout=code-split");
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(header(&response, "x-cache"), "STALE");
    assert_eq!(header(&response, "cache-control"), "public, max-age=300");
    assert_eq!(
        header(&response, "location"),
        job["artifacts"][0]["url"].as_str().unwrap()
    );
    let waited = Instant::now();
    loop {
        let (_, report) = body(get("/kidlisp-og/status"));
        if report["layouts"]["code-split"]["cached"] == true {
            break;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(120),
            "today's code-split card never came: {report}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(
        get("/kidlisp-og.png?layout=code-split").status(),
        StatusCode::MOVED_PERMANENTLY
    );

    // force renders again, only for a caller with a submit token.
    let response = get("/kidlisp-og?layout=featured&force=true");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = client
        .get(server.url("/kidlisp-og?layout=featured&force=true"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-cache"), "MISS");

    // The preview page, and its old address.
    let response = get("/kidlisp-og/preview");
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(header(&response, "location"), "/og-preview");
    let page = get("/og-preview").text().unwrap();
    for layout in ["featured", "mosaic", "filmstrip", "code-split"] {
        assert!(
            page.contains(&format!("/kidlisp-og?layout={layout}")),
            "{page}"
        );
    }
    assert!(page.contains("/notepat-og.png"), "{page}");

    // Notepat's card is always the bytes, a week in caches.
    let response = get("/notepat-og.png");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-cache"), "MISS");
    assert_eq!(header(&response, "cache-control"), "public, max-age=604800");
    assert_eq!(png_size(response), (1200, 630));
    let response = get("/notepat-og.png");
    assert_eq!(
        (response.status(), header(&response, "x-cache")),
        (StatusCode::OK, "HIT".into())
    );
    assert_eq!(png_size(response), (1200, 630));

    // A schedule whose input names `{fire_date}` made today's filmstrip at start, under the
    // input the route asks for: the route answers from the cache with the schedule's job.
    let waited = Instant::now();
    let filmstrip = loop {
        let (_, report) = body(get("/kidlisp-og/status"));
        if report["layouts"]["filmstrip"]["cached"] == true {
            break report["layouts"]["filmstrip"].clone();
        }
        assert!(
            waited.elapsed() < Duration::from_secs(120),
            "the scheduled filmstrip never came: {report}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let (_, schedules) = body(get("/schedules"));
    assert_eq!(
        schedules["schedules"][0]["last_job"], filmstrip["job"],
        "{schedules}"
    );
    let response = get("/kidlisp-og.png?layout=filmstrip");
    assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(header(&response, "x-cache"), "CDN");
    assert_eq!(
        header(&response, "location"),
        filmstrip["url"].as_str().unwrap()
    );

    // The backdrop: the day's piece of @jeffrey's (navy, plum, gold), index dayOfYear mod 3.
    let piece = format!(
        "${}",
        ["navy", "plum", "gold"][today.ordinal() as usize % 3]
    );
    let response = get("/kidlisp-backdrop.webp");
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "{:?}",
        response.headers()
    );
    assert_eq!(header(&response, "x-cache"), "MISS");
    assert_eq!(header(&response, "x-backdrop-piece"), piece);
    let location = header(&response, "location");
    assert!(
        location.starts_with(CDN) && location.ends_with("/video.webp"),
        "{location}"
    );
    let response = get("/kidlisp-backdrop.webp");
    assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(header(&response, "x-cache"), "CDN");
    assert_eq!(header(&response, "location"), location);
    let response = get("/kidlisp-backdrop");
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(header(&response, "x-cache"), "HIT");
    assert_eq!(header(&response, "x-backdrop-piece"), piece);
    assert_eq!(
        get("/kidlisp-backdrop?force=true").status(),
        StatusCode::UNAUTHORIZED
    );
}

fn pixel(bytes: &[u8], x: u32, y: u32) -> [u8; 4] {
    image::load_from_memory(bytes)
        .unwrap()
        .to_rgba8()
        .get_pixel(x, y)
        .0
}

#[test]
fn grabs_icons_and_previews_of_a_code_answer_as_the_oven_did() {
    let (server, _dir) = start("");
    let client = no_redirects();
    let get = |path: &str| client.get(server.url(path)).send().unwrap();
    let navy = [0, 0, 128, 255];

    // A still: art pixels × density, the piece's frame after the settle, cached.
    let response = get("/grab/png/80/60/$navy?density=2");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-cache"), "MISS");
    assert_eq!(header(&response, "cache-control"), "public, max-age=3600");
    let id = header(&response, "x-grab-id");
    let bytes = response.bytes().unwrap();
    let image = image::load_from_memory(&bytes).unwrap();
    assert_eq!((image.width(), image.height()), (160, 120));
    assert_eq!(pixel(&bytes, 100, 100), navy);
    let response = get("/grab/png/80/60/$navy?density=2");
    assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(header(&response, "x-cache"), "HIT");
    assert_eq!(header(&response, "x-grab-id"), id);
    assert!(header(&response, "location").starts_with(CDN));
    // A page on another origin gets the bytes (the CDN has no CORS).
    let response = client
        .get(server.url("/grab/png/80/60/$navy?density=2"))
        .header("origin", "https://kidlisp.com")
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-proxy"), "CDN");
    assert_eq!(response.bytes().unwrap(), bytes);

    // A recording: frames = ceil(duration × fps), one kept every round(60 / fps) frames.
    let response = client
        .post(server.url("/grab"))
        .json(&json!({"piece": "$teal", "format": "gif", "width": 32, "height": 32, "duration": 1000, "fps": 7.5}))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "image/gif");
    assert!(header(&response, "x-grab-duration").parse::<u64>().is_ok());
    let id = header(&response, "x-grab-id");
    assert!(response.bytes().unwrap().starts_with(b"GIF89a"));
    let (_, job) = body(
        client
            .get(server.url(&format!("/jobs/{id}")))
            .send()
            .unwrap(),
    );
    assert_eq!(job["input"]["frames"], 8, "{job}");
    assert_eq!(job["input"]["every"], 8, "{job}");
    assert_eq!(job["input"]["fps"], 15.0, "{job}");
    let response = get("/grab/webp/32/32/$plum?duration=2000&fps=7");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.bytes().unwrap();
    assert_eq!((&bytes[0..4], &bytes[8..12]), (&b"RIFF"[..], &b"WEBP"[..]));

    // Those two recordings never moved: both are noted as frozen; a piece of one flat colour a
    // frame is a dud. Only an admin clears one.
    let response = get("/grab/webp/32/32/$blink?duration=2000&fps=7.5");
    assert_eq!(response.status(), StatusCode::OK);
    let (status, list) = body(get("/api/frozen"));
    assert_eq!(status, StatusCode::OK);
    let noted = |code: &str| {
        list["frozen"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["piece"] == code)
            .cloned()
            .unwrap_or_else(|| panic!("{code} is not listed: {list}"))
    };
    for code in ["$teal", "$plum"] {
        let note = noted(code);
        assert_eq!(
            (note["reason"].as_str(), note["attempts"].as_u64()),
            (Some("frozen"), Some(1)),
            "{note}"
        );
        assert!(
            note["previewUrl"]
                .as_str()
                .unwrap()
                .ends_with("/poster.png"),
            "{note}"
        );
    }
    let reason = noted("$blink")["reason"].as_str().unwrap().to_string();
    assert!(reason.starts_with("UNIFORM_COLOR:#"), "{reason}");
    assert!(
        !list.to_string().contains("$navy"),
        "a still is never noted: {list}"
    );
    let clear = |auth: Option<&str>| {
        let request = client.delete(server.url("/api/frozen/%24teal"));
        match auth {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
        .unwrap()
    };
    assert_eq!(clear(None).status(), StatusCode::UNAUTHORIZED);
    assert_eq!(clear(Some(TOKEN)).status(), StatusCode::UNAUTHORIZED);
    let (status, cleared) = body(clear(Some(ADMIN)));
    assert_eq!(
        (status, cleared),
        (StatusCode::OK, json!({"success": true, "piece": "$teal"}))
    );
    assert_eq!(clear(Some(ADMIN)).status(), StatusCode::NOT_FOUND);
    let (_, list) = body(get("/api/frozen"));
    assert!(
        !list.to_string().contains("$teal") && list.to_string().contains("$plum"),
        "{list}"
    );

    // Bad requests are named.
    for (path, status, words) in [
        (
            "/grab/bmp/100/100/$navy",
            StatusCode::BAD_REQUEST,
            "invalid format",
        ),
        (
            "/grab/png/5000/100/$navy",
            StatusCode::BAD_REQUEST,
            "between 16 and 1000",
        ),
        (
            "/grab/png/100/100/$navy?density=1.5",
            StatusCode::BAD_REQUEST,
            "whole number",
        ),
        (
            "/grab/png/100/100/$navy?fps=0",
            StatusCode::BAD_REQUEST,
            "fps=",
        ),
        (
            "/grab/png/100/100/evil.com",
            StatusCode::BAD_REQUEST,
            "not a URL",
        ),
        (
            "/grab/png/100/100/~prompt",
            StatusCode::BAD_REQUEST,
            "a piece name is",
        ),
    ] {
        let response = get(path);
        assert_eq!(response.status(), status, "{path}");
        let text = response.text().unwrap();
        assert!(text.contains(words), "{path}: {text}");
    }
    // skipCache renders again only for a caller that may submit.
    assert_eq!(
        get("/grab/png/80/60/$navy?density=2&skipCache=true").status(),
        StatusCode::UNAUTHORIZED
    );

    // nowait: while the same grab renders, a placeholder of the format and size, never cached.
    let slow = "/grab/webp/400/400/$slow?duration=10000&fps=7.5&density=2";
    let first = {
        let url = server.url(slow);
        std::thread::spawn(move || no_redirects().get(url).send().map(|r| r.status()))
    };
    // Once the first request's job is in flight (the metrics say so), the same grab with
    // nowait answers at once.
    let waited = Instant::now();
    while !get("/metrics").text().unwrap().lines().any(|l| {
        l.starts_with("kiln_jobs_in_flight ") && l.ends_with(" 1")
            || l.starts_with("kiln_queue_depth{lane=\"interactive\"} ") && !l.ends_with(" 0")
    }) {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the slow grab never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let placeholder = get(&format!("{slow}&nowait=true"));
    assert!(waited.elapsed() < Duration::from_secs(30));
    assert_eq!(placeholder.status(), StatusCode::OK);
    assert_eq!(header(&placeholder, "x-oven-status"), "baking");
    assert_eq!(
        header(&placeholder, "cache-control"),
        "no-cache, no-store, must-revalidate"
    );
    assert_eq!(header(&placeholder, "content-type"), "image/webp");
    let image = image::load_from_memory(&placeholder.bytes().unwrap()).unwrap();
    assert_eq!((image.width(), image.height()), (800, 800));
    drop(first);

    // Icons and previews: sizes clamped, cached, a redirect to the public URL on a hit.
    let response = get("/icon/64x48/$navy.png");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-cache"), "MISS");
    assert_eq!(header(&response, "cache-control"), "public, max-age=3600");
    assert_eq!(png_size(response), (64, 48));
    let response = get("/icon/64x48/$navy.png");
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(header(&response, "x-cache"), "HIT");
    assert_eq!(header(&response, "cache-control"), "public, max-age=86400");
    let response = get("/icon/9999x9999/$gold.webp?frames=4&fps=10");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "cache-control"), "public, max-age=86400");
    let image = image::load_from_memory(&response.bytes().unwrap()).unwrap();
    assert_eq!((image.width(), image.height()), (128, 128));
    assert_eq!(
        get("/icon/64x64/$navy.bmp").status(),
        StatusCode::BAD_REQUEST
    );
    let response = get("/preview/300x200/$navy.png");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.bytes().unwrap();
    assert_eq!(pixel(&bytes, 299, 199), navy);
    let image = image::load_from_memory(&bytes).unwrap();
    assert_eq!((image.width(), image.height()), (300, 200));
}

#[test]
fn app_store_screenshots_of_a_code_answer_as_the_oven_did() {
    // The 10" tablet presets (1600×2560 output: 4 096 000 pixels) are over this host's pixel
    // cap, so the ZIP must skip them and say so.
    let (server, _dir) = start_with("", "max_pixels = 3000000\n", "");
    let client = no_redirects();
    let get = |path: &str| client.get(server.url(path)).send().unwrap();
    let navy = [0, 0, 128, 255];

    let response = get("/app-screenshots/phone-portrait/$navy.png");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-cache"), "MISS");
    assert_eq!(header(&response, "cache-control"), "public, max-age=86400");
    assert_eq!(header(&response, "x-screenshot-preset"), "phone-portrait");
    assert_eq!(header(&response, "x-screenshot-dimensions"), "1080x1920");
    let bytes = response.bytes().unwrap();
    let image = image::load_from_memory(&bytes).unwrap();
    assert_eq!((image.width(), image.height()), (1080, 1920));
    assert_eq!(pixel(&bytes, 1079, 1919), navy);
    let response = get("/app-screenshots/phone-portrait/$navy.png");
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(header(&response, "x-cache"), "HIT");
    assert_eq!(header(&response, "cache-control"), "public, max-age=604800");
    assert!(header(&response, "location").starts_with(CDN));
    // Rendering again needs a submit token.
    let forced = "/app-screenshots/phone-portrait/$navy.png?force=true";
    assert_eq!(get(forced).status(), StatusCode::UNAUTHORIZED);
    let response = client
        .get(server.url(forced))
        .bearer_auth(TOKEN)
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-cache"), "REGENERATED");
    assert_eq!(
        header(&response, "cache-control"),
        "no-store, no-cache, must-revalidate"
    );

    let response = get("/app-screenshots/watch-round/$navy.png");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let text = response.text().unwrap();
    assert!(
        text.contains("phone-portrait") && text.contains("tablet10-landscape"),
        "{text}"
    );

    let response = get("/api/app-screenshots/$teal");
    assert_eq!(response.status(), StatusCode::OK);
    let info: Value = response.json().unwrap();
    assert_eq!(info["zipUrl"], "/app-screenshots/download/$teal");
    assert_eq!(info["presets"].as_object().unwrap().len(), 6);
    assert_eq!(
        info["presets"]["tablet7-landscape"],
        json!({"width": 1920, "height": 1200, "label": "7\" Tablet Landscape", "category": "tablet7",
               "url": "/app-screenshots/tablet7-landscape/$teal.png",
               "downloadUrl": "/app-screenshots/tablet7-landscape/$teal.png?download=true"})
    );

    let response = get("/app-screenshots/download/$teal");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "application/zip");
    assert_eq!(
        header(&response, "content-disposition"),
        "attachment; filename=\"$teal-app-screenshots.zip\""
    );
    let bytes = response.bytes().unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "missing.txt",
            "phone/$teal-phone-landscape.png",
            "phone/$teal-phone-portrait.png",
            "tablet7/$teal-tablet7-landscape.png",
            "tablet7/$teal-tablet7-portrait.png",
        ]
    );
    let read = |zip: &mut zip::ZipArchive<_>, name: &str| {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut zip.by_name(name).unwrap(), &mut bytes).unwrap();
        bytes
    };
    let png = read(&mut zip, "tablet7/$teal-tablet7-portrait.png");
    let image = image::load_from_memory(&png).unwrap();
    assert_eq!((image.width(), image.height()), (1200, 1920));
    assert_eq!(pixel(&png, 600, 960), [0, 128, 128, 255]);
    let missing = String::from_utf8(read(&mut zip, "missing.txt")).unwrap();
    assert!(
        missing.contains("tablet10-portrait") && missing.contains("tablet10-landscape"),
        "{missing}"
    );
    assert!(missing.contains("max_pixels"), "{missing}");
}

#[test]
fn grab_status_shows_running_waiting_and_ended_jobs() {
    let (server, _dir) = start_with("workers = 1\n", "", "");
    let client = no_redirects();
    // Two recordings of the slow piece: with one worker the second waits behind the first.
    let job = json!({"type": "kidlisp", "input": {"code": "slow", "width": 400, "height": 400,
                     "frames": 90, "fps": 30, "formats": ["webp"]}});
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = client
            .post(server.url("/jobs"))
            .bearer_auth(TOKEN)
            .json(&job)
            .send()
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        ids.push(
            response.json::<Value>().unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let status = || -> Value {
        client
            .get(server.url("/grab-status"))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    // While the first renders: it is active with its piece and stage, the second is next.
    let deadline = Instant::now() + Duration::from_secs(60);
    let seen = loop {
        let now = status();
        let active = &now["active"];
        if active.as_array().unwrap().len() == 1
            && active[0]["id"] == ids[0].as_str()
            && active[0]["stage"] == "rendering"
        {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "never saw the first job rendering: {now}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(seen["active"][0]["piece"], "$slow", "{seen}");
    assert_eq!(seen["active"][0]["type"], "kidlisp", "{seen}");
    assert_eq!(seen["active"][0]["format"], "webp", "{seen}");
    assert_eq!(seen["queue"][0]["id"], ids[1].as_str(), "{seen}");
    assert_eq!(seen["queue"][0]["position"], 1, "{seen}");
    assert!(
        seen["queue"][0]["estimatedWait"].as_u64().unwrap() > 0,
        "{seen}"
    );
    assert_eq!(seen["concurrency"]["max"], 1, "{seen}");
    assert_eq!(seen["concurrency"]["queueDepth"], 1, "{seen}");
    assert_eq!(seen["progress"]["piece"], "$slow", "{seen}");
    assert!(seen["grabProgress"][&ids[0]]["percent"].is_u64(), "{seen}");

    for id in &ids {
        let deadline = Instant::now() + Duration::from_secs(120);
        let done = loop {
            let job: Value = client
                .get(server.url(&format!("/jobs/{id}")))
                .send()
                .unwrap()
                .json()
                .unwrap();
            if !matches!(job["status"].as_str(), Some("queued" | "running")) {
                break job;
            }
            assert!(Instant::now() < deadline, "{job}");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(done["status"], "succeeded", "{done}");
    }
    // The record ends a moment before its final event reaches the view.
    let deadline = Instant::now() + Duration::from_secs(5);
    let now = loop {
        let now = status();
        if now["recent"].as_array().unwrap().len() == 2 || Instant::now() > deadline {
            break now;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(now["active"].as_array().unwrap().is_empty(), "{now}");
    assert!(now["queue"].as_array().unwrap().is_empty(), "{now}");
    let recent = now["recent"].as_array().unwrap();
    assert_eq!(recent[0]["id"], ids[1].as_str(), "{now}");
    assert_eq!(recent[1]["id"], ids[0].as_str(), "{now}");
    assert_eq!(recent[0]["status"], "succeeded", "{now}");
    assert!(recent[0]["url"].as_str().unwrap().starts_with(CDN), "{now}");
}
