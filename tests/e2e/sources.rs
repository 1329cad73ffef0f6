//! Piece sources end to end: a real host with real plugins (`kidlisp`, and `sources-probe`, a
//! third-party plugin) fetching from a real HTTP server on loopback that stands in for
//! aesthetic.computer's API and counts the requests it gets.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kiln::jobs::JobOutcome;
use kiln::{Config, ErrorKind, Kiln};
use kiln_test_support::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const COW: &str = "(wipe navy) ($sun 4 4 24 24) (ink yellow) (circle 48 40 12)";
const SUN: &str = "(wipe orange) ($dot:24 1 1 6 6)";
const DOT: &str = "(wipe red)";

/// The stand-in API: pieces by code, a listing, and some codes that misbehave.
#[derive(Default)]
struct Api {
    pieces: HashMap<String, String>,
    /// Requests per code (`store-kidlisp`) and per listing (`tv`).
    counts: Mutex<HashMap<String, usize>>,
}

impl Api {
    fn count(&self, key: &str) -> usize {
        self.counts.lock().unwrap().get(key).copied().unwrap_or(0)
    }
}

async fn store_kidlisp(
    State(api): State<Arc<Api>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let code = query.get("code").cloned().unwrap_or_default();
    *api.counts.lock().unwrap().entry(code.clone()).or_default() += 1;
    match code.as_str() {
        "garbage" => (StatusCode::OK, "<html>oops</html>").into_response(),
        "nosource" => axum::Json(json!({"user": "auth0|1"})).into_response(),
        "huge" => axum::Json(json!({"source": format!("(wipe red) ; {}", "x".repeat(100_000))}))
            .into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            axum::Json(json!({"source": "(wipe red)"})).into_response()
        }
        _ => match api.pieces.get(&code) {
            Some(source) => {
                axum::Json(json!({"source": source, "user": "auth0|1", "handle": "@jeffrey"}))
                    .into_response()
            }
            None => (StatusCode::NOT_FOUND, "{\"error\":\"not found\"}").into_response(),
        },
    }
}

async fn tv(State(api): State<Arc<Api>>, Query(query): Query<HashMap<String, String>>) -> Response {
    let limit: usize = query["limit"].parse().unwrap();
    *api.counts
        .lock()
        .unwrap()
        .entry(format!("tv?limit={limit}"))
        .or_default() += 1;
    assert_eq!(query["types"], "kidlisp");
    assert_eq!(query["sort"], "hits");
    let items = [
        json!({"code": "$cow", "source": COW, "hits": 10023, "owner": {"handle": "@jeffrey"}}),
        json!({"code": "roz", "source": "(wipe blue)", "hits": 4634, "owner": {"handle": "@amby"}}),
        json!({"code": "sun", "source": SUN, "hits": 12, "owner": {"handle": "@jeffrey"}}),
        json!({"code": "anon", "source": "(wipe)", "hits": 3, "owner": null}),
    ];
    let items: Vec<Value> = items.into_iter().take(limit).collect();
    axum::Json(json!({"media": {"kidlisp": items}})).into_response()
}

/// The API's address, started once for this file.
fn api() -> &'static (Arc<Api>, String) {
    static API: OnceLock<(Arc<Api>, String)> = OnceLock::new();
    API.get_or_init(|| {
        let mut pieces: HashMap<String, String> = [("cow", COW), ("sun", SUN), ("dot", DOT)]
            .into_iter()
            .map(|(c, s)| (c.to_string(), s.to_string()))
            .collect();
        // A copy of cow under its own code, for the cache test's count.
        pieces.insert("cached".into(), "(wipe lime) ($dot)".into());
        // d1 → d2 → … → d5: five levels.
        for i in 1..5 {
            pieces.insert(format!("d{i}"), format!("(wipe) ($d{} 0 0 4 4)", i + 1));
        }
        pieces.insert("d5".into(), "(wipe red)".into());
        // Six embeds side by side.
        let many: Vec<String> = (1..=6).map(|i| format!("($m{i} {i} 0 1 1)")).collect();
        pieces.insert("many".into(), many.join(" "));
        for i in 1..=6 {
            pieces.insert(format!("m{i}"), "(wipe red)".into());
        }
        pieces.insert("dangling".into(), "(wipe) ($nope)".into());
        let api = Arc::new(Api {
            pieces,
            ..Api::default()
        });
        let app = axum::Router::new()
            .route("/api/store-kidlisp", axum::routing::get(store_kidlisp))
            .route("/api/tv", axum::routing::get(tv))
            .with_state(api.clone());
        let addr = block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            addr
        });
        (api, format!("http://{addr}"))
    })
}

/// A host without browsers whose piece store is `base_url`, with the sources-probe plugin too.
fn start(base_url: &str, adjust: impl FnOnce(&mut Config)) -> anyhow::Result<(Kiln, TestDir)> {
    let dir = TestDir::new();
    std::fs::copy(
        plugin_wasm("kiln_test_plugin_sources_probe"),
        dir.path().join("plugins/sources-probe.wasm"),
    )
    .unwrap();
    let mut config = dir.config();
    config.jobs.unavailable_retries = 0;
    config.sources.base_url = base_url.to_string();
    config.sources.allowed_hosts = vec!["127.0.0.1".into()];
    config.sources.allow_private = true;
    config.sources.timeout_ms = 1000;
    config.sources.max_response_bytes = 64 * 1024;
    config.sources.max_embed_depth = 3;
    config.sources.max_embeds = 5;
    adjust(&mut config);
    let kiln = block_on(Kiln::start_with(config, false))?;
    Ok((kiln, dir))
}

/// The host for most tests: the stand-in API, and the probe granted `sources`.
fn kiln() -> &'static (Kiln, TestDir) {
    static KILN: OnceLock<(Kiln, TestDir)> = OnceLock::new();
    KILN.get_or_init(|| {
        start(&api().1, |c| {
            grant(c, "sources-probe", &["media", "storage", "sources"])
        })
        .unwrap()
    })
}

fn run_on(kiln: &Kiln, job: Value) -> JobOutcome {
    let spec = serde_json::from_value(job).unwrap();
    block_on(kiln.runner.run(&spec))
}

fn kidlisp(input: Value) -> JobOutcome {
    run_on(&kiln().0, json!({"type": "kidlisp", "input": input}))
}

/// Asserts the job failed with `kind`, stored nothing, and returns its message.
fn failed(outcome: &JobOutcome, kind: ErrorKind, dir: &TestDir) -> String {
    let message = failure(outcome, kind);
    assert!(outcome.artifacts.is_empty(), "{:?}", outcome.artifacts);
    let stored = dir.path().join("artifacts").join(&outcome.id);
    assert!(!stored.exists(), "{} exists", stored.display());
    message
}

fn read(outcome: &JobOutcome, name: &str) -> Vec<u8> {
    std::fs::read(artifact(outcome, name)).unwrap()
}

#[test]
fn a_piece_by_code_renders_the_same_bytes_as_by_source_with_its_embeds_fetched() {
    let by_code = kidlisp(json!({"code": "$cow", "width": 64, "height": 64}));
    let by_source = kidlisp(json!({"source": COW, "sources": {"$sun": SUN, "$dot": DOT},
        "width": 64, "height": 64}));
    let png = read(&by_code, "image.png");
    assert_eq!(png, read(&by_source, "image.png"));
    // The embeds were drawn: inside $sun's box is not the navy background, and $dot's red sits
    // inside $sun's orange.
    let image = image::load_from_memory(&png).unwrap().to_rgba8();
    assert_ne!(image.get_pixel(20, 20), image.get_pixel(60, 2));
    assert_ne!(image.get_pixel(6, 6), image.get_pixel(20, 20));
    // Without `$` works too, and each piece was fetched once (the second job hit the cache).
    let again = kidlisp(json!({"code": "cow", "width": 64, "height": 64}));
    assert_eq!(read(&again, "image.png"), png);
    let api = &api().0;
    assert_eq!(
        (api.count("cow"), api.count("sun"), api.count("dot")),
        (1, 1, 1)
    );
    assert!(
        by_code.log.iter().any(|l| l
            .message
            .contains("piece $cow from the piece store, with 2 embedded")),
        "{:#?}",
        by_code.log
    );
}

#[test]
fn the_cache_answers_a_second_job_without_a_request() {
    let first = kidlisp(json!({"code": "cached", "width": 8, "height": 8}));
    let second = kidlisp(json!({"code": "$cached", "width": 8, "height": 8}));
    assert_eq!(read(&first, "image.png"), read(&second, "image.png"));
    assert_eq!(api().0.count("cached"), 1);
}

#[test]
fn embed_depth_and_count_limits_are_invalid_input_naming_the_limit() {
    let dir = &kiln().1;
    let message = failed(
        &kidlisp(json!({"code": "d1", "width": 8, "height": 8})),
        ErrorKind::InvalidInput,
        dir,
    );
    assert!(
        message.contains("$d1 → $d2 → $d3 → $d4 → $d5")
            && message.contains("sources.max_embed_depth"),
        "{message}"
    );
    assert_eq!(
        api().0.count("d5"),
        0,
        "d5 is past the limit and never fetched"
    );
    let message = failed(
        &kidlisp(json!({"code": "many", "width": 8, "height": 8})),
        ErrorKind::InvalidInput,
        dir,
    );
    assert!(message.contains("sources.max_embeds"), "{message}");
}

#[test]
fn an_unknown_code_or_embed_is_invalid_input_naming_it() {
    let dir = &kiln().1;
    let message = failed(
        &kidlisp(json!({"code": "zzz", "width": 8, "height": 8})),
        ErrorKind::InvalidInput,
        dir,
    );
    assert!(message.contains("piece $zzz was not found"), "{message}");
    let message = failed(
        &kidlisp(json!({"code": "dangling", "width": 8, "height": 8})),
        ErrorKind::InvalidInput,
        dir,
    );
    assert!(message.contains("$dangling → $nope"), "{message}");
    let message = failed(
        &kidlisp(json!({"code": "a/b", "width": 8, "height": 8})),
        ErrorKind::InvalidInput,
        dir,
    );
    assert!(message.contains("is not a piece code"), "{message}");
    let message = failed(
        &kidlisp(json!({"code": "cow", "source": COW})),
        ErrorKind::InvalidInput,
        dir,
    );
    // Refused by the schema when the job is submitted, before the plugin runs.
    assert!(
        message.contains("more than one of the schemas listed in the 'oneOf'")
            && message.contains(r#"{"required":["source"]}, {"required":["code"]}"#),
        "{message}"
    );
}

#[test]
fn garbage_missing_fields_and_oversize_answers_are_invalid_input_naming_the_url() {
    let (_, base) = api();
    let dir = &kiln().1;
    for (code, why) in [
        ("garbage", "not JSON"),
        ("nosource", "no `source` field"),
        (
            "huge",
            "larger than 65536 bytes (sources.max_response_bytes)",
        ),
    ] {
        let message = failed(
            &kidlisp(json!({"code": code, "width": 8, "height": 8})),
            ErrorKind::InvalidInput,
            dir,
        );
        let url = format!("{base}/api/store-kidlisp?code={code}");
        assert!(
            message.contains(&url) && message.contains(why),
            "{code}: {message}"
        );
    }
}

#[test]
fn a_slow_store_is_unavailable_naming_the_url_and_the_timeout() {
    let (_, base) = api();
    let outcome = kidlisp(json!({"code": "slow", "width": 8, "height": 8}));
    let message = failed(&outcome, ErrorKind::Unavailable, &kiln().1);
    assert!(
        message.contains(&format!("{base}/api/store-kidlisp?code=slow"))
            && message.contains("1000 ms (sources.timeout_ms)"),
        "{message}"
    );
    // The store answers after 3 s; the job gave up at the 1 s timeout.
    assert!(outcome.elapsed_ms < 2900.0, "{}", outcome.elapsed_ms);
}

#[test]
fn a_store_that_is_down_is_unavailable_and_an_ungranted_plugin_is_denied() {
    let port = loopback::free_port();
    let (down, dir) = start(&format!("http://127.0.0.1:{port}"), |_| {}).unwrap();
    let outcome = run_on(
        &down,
        json!({"type": "kidlisp", "input": {"code": "cow", "width": 8, "height": 8}}),
    );
    let message = failed(&outcome, ErrorKind::Unavailable, &dir);
    assert!(
        message.contains(&format!(
            "http://127.0.0.1:{port}/api/store-kidlisp?code=cow"
        )) && message.contains("could not be reached"),
        "{message}"
    );
    // A third-party plugin that declares `sources` loads, but is not granted it by default.
    let outcome = run_on(
        &down,
        json!({"type": "sources-probe", "input": {"code": "cow"}}),
    );
    let message = failed(&outcome, ErrorKind::Denied, &dir);
    assert!(
        message.contains("plugin sources-probe")
            && message.contains("plugins.per_plugin.sources-probe.grants"),
        "{message}"
    );
    // The built-in kidlisp has it by default; config can take it away.
    block_on(down.shutdown());
    let (narrow, dir) = start(&api().1, |c| grant(c, "kidlisp", &["media", "storage"])).unwrap();
    let outcome = run_on(
        &narrow,
        json!({"type": "kidlisp", "input": {"code": "cow", "width": 8, "height": 8}}),
    );
    let message = failed(&outcome, ErrorKind::Denied, &dir);
    assert!(
        message.contains("plugins.per_plugin.kidlisp.grants"),
        "{message}"
    );
    // …and `source` keeps working without it.
    let outcome = run_on(
        &narrow,
        json!({"type": "kidlisp", "input": {"source": "(wipe red)", "width": 8, "height": 8}}),
    );
    assert!(outcome.succeeded(), "{:?}", outcome.error);
}

#[test]
fn hosts_off_the_allowlist_and_private_addresses_are_refused() {
    let Err(err) = start("http://localhost:9", |_| {}) else {
        panic!("a host whose piece store is off its allowlist started")
    };
    let err = format!("{err:#}");
    assert!(
        err.contains("localhost:9") && err.contains("sources.allowed_hosts"),
        "{err}"
    );
    // Loopback is a private address: refused unless allowed.
    let (strict, dir) = start(&api().1, |c| c.sources.allow_private = false).unwrap();
    let outcome = run_on(
        &strict,
        json!({"type": "kidlisp", "input": {"code": "cow", "width": 8, "height": 8}}),
    );
    let message = failed(&outcome, ErrorKind::Denied, &dir);
    assert!(
        message.contains("a loopback address") && message.contains("sources.allow_private = true"),
        "{message}"
    );
}

#[test]
fn the_listing_reaches_a_granted_plugin_filtered_by_handle_and_cached() {
    let snapshot = kiln().0.plugins.snapshot();
    assert!(snapshot.errors().is_empty(), "{:?}", snapshot.errors());
    let probe = |input: Value| run_on(&kiln().0, json!({"type": "sources-probe", "input": input}));
    let all = probe(json!({"limit": 4}));
    let listing: Value = serde_json::from_slice(&read(&all, "listing.json")).unwrap();
    assert_eq!(
        listing,
        json!([
            {"code": "cow", "source": COW, "hits": 10023, "handle": "@jeffrey"},
            {"code": "roz", "source": "(wipe blue)", "hits": 4634, "handle": "@amby"},
            {"code": "sun", "source": SUN, "hits": 12, "handle": "@jeffrey"},
            {"code": "anon", "source": "(wipe)", "hits": 3, "handle": null},
        ])
    );
    let jeffrey = probe(json!({"limit": 4, "handle": "jeffrey"}));
    let listing: Value = serde_json::from_slice(&read(&jeffrey, "listing.json")).unwrap();
    let codes: Vec<&str> = listing
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["cow", "sun"]);
    assert_eq!(api().0.count("tv?limit=4"), 1);
    // The resolved source as a plugin sees it.
    let piece = probe(json!({"code": "$cow"}));
    let piece: Value = serde_json::from_slice(&read(&piece, "piece.json")).unwrap();
    assert_eq!(
        piece,
        json!({"code": "cow", "source": COW, "handle": "@jeffrey", "embeds": [
            {"code": "sun", "source": SUN}, {"code": "dot", "source": DOT}]})
    );
    let message = failure(&probe(json!({"limit": 1000})), ErrorKind::InvalidInput);
    assert!(message.contains("sources.max_listing"), "{message}");
}

/// The backdrop's pick (shared/OVEN.md §7): of the owner's top pieces, index
/// `dayOfYear mod min(count, rotate)`, rendered as `code` would be, and named in
/// `recording.json`.
#[test]
fn top_picks_the_day_s_piece_of_an_owner_and_renders_it_as_its_code_would() {
    let recording = |pick: Value| {
        let mut input = json!({"width": 32, "height": 32, "density": 2, "frames": 3, "fps": 15,
            "formats": ["webp"], "quality": 85});
        input
            .as_object_mut()
            .unwrap()
            .extend(pick.as_object().unwrap().clone());
        kidlisp(input)
    };
    // @jeffrey's pieces of the listing are [cow, sun]: day 2 → index 0, day 3 → index 1.
    for (date, code) in [("2026-01-02", "cow"), ("2026-01-03", "sun")] {
        let picked = recording(json!({"top": {"handle": "@jeffrey", "date": date}}));
        let report: Value = serde_json::from_slice(&read(&picked, "recording.json")).unwrap();
        assert_eq!(report["code"], format!("${code}"), "{date}");
        assert_eq!(
            (report["frames"].as_u64(), report["width"].as_u64()),
            (Some(3), Some(64))
        );
        let by_code = recording(json!({"code": code}));
        assert_eq!(
            read(&picked, "video.webp"),
            read(&by_code, "video.webp"),
            "{date}"
        );
        assert!(
            picked.log.iter().any(|l| l
                .message
                .contains(&format!("input.top: ${code} is the piece of {date}"))),
            "{:#?}",
            picked.log
        );
    }
    // `rotate` bounds the rotation: with 1, every day is the most played.
    let first = recording(json!({"top": {"handle": "jeffrey", "rotate": 1, "date": "2026-01-03"}}));
    let report: Value = serde_json::from_slice(&read(&first, "recording.json")).unwrap();
    assert_eq!(report["code"], "$cow");
    // An owner with no piece in the listing, and a bad date, are named.
    let message = failed(
        &recording(json!({"top": {"handle": "@nobody"}})),
        ErrorKind::InvalidInput,
        &kiln().1,
    );
    assert!(
        message.contains("the top 50 pieces of @nobody are none"),
        "{message}"
    );
    let message = failed(
        &recording(json!({"top": {"date": "2026-02-30"}})),
        ErrorKind::InvalidInput,
        &kiln().1,
    );
    assert!(
        message.contains("input.top.date: \"2026-02-30\""),
        "{message}"
    );
}

/// A `kidlisp-og` card without `pieces` is made from the host's listing (the oven's top 40),
/// and `card.json` says which piece it featured.
#[test]
fn a_card_without_pieces_uses_the_top_pieces_listing() {
    let card = run_on(
        &kiln().0,
        json!({"type": "kidlisp-og", "input": {"layout": "featured", "date": "2026-01-01"}}),
    );
    let report: Value = serde_json::from_slice(&read(&card, "card.json")).unwrap();
    // The listing's four sources are all short (never compared), so none is dropped; day 1 →
    // index 1 → $roz.
    assert_eq!(report["featured"], "$roz");
    assert_eq!(report["featuredHandle"], "@amby");
    assert_eq!(report["pieces"], json!(["$cow", "$roz", "$sun", "$anon"]));
    assert_eq!(report["date"], "2026-01-01");
    let png = image::load_from_memory(&read(&card, "card.png")).unwrap();
    assert_eq!((png.width(), png.height()), (1200, 630));
    assert_eq!(api().0.count("tv?limit=40"), 1);
}
