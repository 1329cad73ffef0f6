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

/// The listing, most played first: three of @jeffrey's pieces and one of @amby's.
fn listing() -> Vec<Value> {
    vec![
        json!({"code": "navy", "source": "(wipe navy)", "hits": 5000, "owner": {"handle": "@jeffrey"}}),
        json!({"code": "teal", "source": "(wipe teal)", "hits": 900, "owner": {"handle": "@amby"}}),
        json!({"code": "plum", "source": "(wipe plum)", "hits": 300, "owner": {"handle": "@jeffrey"}}),
        json!({"code": "gold", "source": "(wipe gold)", "hits": 20, "owner": {"handle": "@jeffrey"}}),
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

fn start() -> (Server, TestDir) {
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
        "[service]\nsubmit_tokens = [\"{TOKEN}\"]\nmax_wait_s = 120\n\
         [storage]\npublic_base_url = \"{CDN}\"\n\
         [jobs]\ntimeout_ms = 120000\n\
         [plugins]\ncpu_ms = 120000\n\
         [sources]\nbase_url = \"http://{api}\"\nallowed_hosts = [\"127.0.0.1\"]\nallow_private = true\n"
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
    let (server, _dir) = start();
    let client = no_redirects();
    let get = |path: &str| client.get(server.url(path)).send().unwrap();
    let today = chrono::Utc::now().date_naive();
    // Every listed source is short (never compared), so all four are unique: today's featured
    // piece is index dayOfYear mod 4.
    let codes = ["navy", "teal", "plum", "gold"];
    let featured = format!("${}", codes[today.ordinal() as usize % 4]);

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
