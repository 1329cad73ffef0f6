//! Pages of the operator's site (the `url` job type, shared/OVEN.md §2.4) end to end: a real
//! host and real Chromium capture pages that a loopback server plays as the site. The pages
//! load a script from the site, one from a granted origin (a second loopback server), and try
//! to reach a forbidden one (a third, which counts every connection it gets). Then the oven's
//! routes answer for such a page on a real `kiln serve`.

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiln::ErrorKind;
use kiln_test_support::processes::*;
use kiln_test_support::*;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The colour the granted origin's script sets; the page paints it, so a capture in this colour
/// shows that script ran.
const GRANTED_GREEN: [u8; 4] = [0, 128, 0, 255];

/// What the stand-in site and its neighbours saw.
#[derive(Default)]
struct Seen {
    /// Query strings `/drawpiece` was asked with.
    queries: Mutex<Vec<String>>,
    /// Requests for `/ungranted`, the page only the test without a grant asks for.
    ungranted: AtomicUsize,
    /// Connections the forbidden server accepted.
    forbidden: AtomicUsize,
}

struct Site {
    seen: Arc<Seen>,
    /// `127.0.0.1:port` of the site, the granted origin and the forbidden one.
    site: String,
    granted: String,
    forbidden: String,
}

/// The page of a piece that draws: the site's own script, the granted origin's colour, a request
/// to the forbidden origin, a white bar moving 8 px a frame, and the ready signal on its first
/// paint (as aesthetic.computer's `disk.mjs` sets it).
fn draw_page(granted: &str) -> String {
    format!(
        "<!doctype html><html><head><style>html,body{{margin:0;background:#000}}\
         canvas{{display:block;width:100vw;height:100vh}}</style>\
         <script src=\"http://{granted}/colour.js\"></script>\
         <script src=\"/scripts/piece.js\"></script></head><body></body></html>"
    )
}

fn piece_js(forbidden: &str) -> String {
    format!(
        "window.addEventListener('load', () => {{
           const c = document.createElement('canvas');
           c.width = innerWidth * devicePixelRatio; c.height = innerHeight * devicePixelRatio;
           document.body.appendChild(c);
           const ctx = c.getContext('2d');
           fetch('http://{forbidden}/steal?what=cookies').catch(() => {{}});
           let frame = 0;
           function draw() {{
             ctx.fillStyle = window.cdnColour || 'red';
             ctx.fillRect(0, 0, c.width, c.height);
             ctx.fillStyle = 'white';
             ctx.fillRect((frame * 8 * devicePixelRatio) % c.width, 0, 8 * devicePixelRatio, c.height);
             frame++;
             window.acPieceReady = true;
             requestAnimationFrame(draw);
           }}
           requestAnimationFrame(draw);
         }});"
    )
}

/// A page with a canvas that paints blue and never says it is ready.
const NEVER_READY: &str = "<!doctype html><body style=margin:0><canvas id=c></canvas><script>\
    const c = document.getElementById('c'); c.width = innerWidth; c.height = innerHeight;\
    c.style.cssText = 'display:block;width:100vw;height:100vh';\
    c.getContext('2d').fillStyle = 'blue'; c.getContext('2d').fillRect(0, 0, c.width, c.height);\
    </script></body>";

/// A page whose canvas is black (blank) in even 100 ms slots of its clock and red in odd ones,
/// and throws in the red slots from 800 ms on (after it drew).
const BLINKING: &str = "<!doctype html><body style='margin:0;background:#000'><canvas id=c></canvas><script>\
    const c = document.getElementById('c'); c.width = innerWidth; c.height = innerHeight;\
    c.style.cssText = 'display:block;width:100vw;height:100vh';\
    const ctx = c.getContext('2d');\
    function draw() {\
      requestAnimationFrame(draw);\
      const slot = Math.floor(performance.now() / 100);\
      ctx.fillStyle = slot % 2 ? 'red' : 'black'; ctx.fillRect(0, 0, c.width, c.height);\
      window.acPieceReady = true;\
      if (slot >= 8 && slot % 2) throw new Error('boom in slot ' + slot);\
    }\
    requestAnimationFrame(draw);\
    </script></body>";

/// A page that never makes a canvas.
const NO_CANVAS: &str = "<!doctype html><body><p>words only</p></body>";

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

async fn site_page(
    State(site): State<Arc<(Arc<Seen>, String, String)>>,
    axum::extract::Path(piece): axum::extract::Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let (seen, granted, _) = &*site;
    match piece.as_str() {
        "drawpiece" => {
            seen.queries.lock().unwrap().push(query.unwrap_or_default());
            html(draw_page(granted))
        }
        "ungranted" => {
            seen.ungranted.fetch_add(1, Ordering::SeqCst);
            html(draw_page(granted))
        }
        "neverready" => html(NEVER_READY.into()),
        "blinking" => html(BLINKING.into()),
        "nocanvas" => html(NO_CANVAS.into()),
        _ => (StatusCode::NOT_FOUND, "no such piece").into_response(),
    }
}

async fn site_script(State(site): State<Arc<(Arc<Seen>, String, String)>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript")],
        piece_js(&site.2),
    )
        .into_response()
}

/// The three servers, started once for this file.
fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        block_on(async {
            let seen = Arc::new(Seen::default());
            let bind = || async { tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap() };
            let (site_listener, granted_listener, forbidden_listener) =
                (bind().await, bind().await, bind().await);
            let addr = |l: &tokio::net::TcpListener| l.local_addr().unwrap().to_string();
            let (site, granted, forbidden) = (
                addr(&site_listener),
                addr(&granted_listener),
                addr(&forbidden_listener),
            );

            let state = Arc::new((seen.clone(), granted.clone(), forbidden.clone()));
            let app = axum::Router::new()
                .route("/scripts/piece.js", axum::routing::get(site_script))
                .route("/{piece}", axum::routing::get(site_page))
                .with_state(state);
            tokio::spawn(async move { axum::serve(site_listener, app).await.unwrap() });

            let cdn = axum::Router::new().route(
                "/colour.js",
                axum::routing::get(|| async {
                    (
                        [(header::CONTENT_TYPE, "text/javascript")],
                        "window.cdnColour = 'rgb(0, 128, 0)';",
                    )
                }),
            );
            tokio::spawn(async move { axum::serve(granted_listener, cdn).await.unwrap() });

            let counter = seen.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = forbidden_listener.accept().await {
                    counter.forbidden.fetch_add(1, Ordering::SeqCst);
                    drop(stream);
                }
            });
            Site {
                seen,
                site,
                granted,
                forbidden,
            }
        })
    })
}

/// A host whose `url` plugin reaches the site and the granted origin.
fn kiln_for_site(site: &Site) -> TestKiln {
    kiln_with(
        site,
        vec!["site".into(), format!("http://{}", site.granted)],
        true,
    )
}

/// A host over the stand-in site whose `url` plugin has the grant `network`, and may reach
/// loopback addresses when `allow_private`.
fn kiln_with(site: &Site, network: Vec<String>, allow_private: bool) -> TestKiln {
    let base = site.site.clone();
    TestKiln::start_with(move |config| {
        config.pieces.base_url = format!("http://{base}");
        config.pieces.allow_private = allow_private;
        config.jobs.timeout_ms = 30_000;
        config
            .plugins
            .per_plugin
            .entry("url".into())
            .or_default()
            .network = Some(network);
    })
}

fn log_has(outcome: &kiln::jobs::JobOutcome, text: &str) -> bool {
    outcome.log.iter().any(|line| line.message.contains(text))
}

#[test]
fn a_page_of_the_site_is_captured_with_only_its_granted_origins() {
    let site = site();
    let kiln = kiln_for_site(site);
    let outcome = kiln.run(json!({"type": "url", "input": {
        "piece": "drawpiece", "width": 64, "height": 48, "density": 2,
    }}));
    let image = artifact_image(&outcome);
    assert_eq!((image.width(), image.height()), (128, 96));
    // The granted origin's script set the colour; the site's own script drew it.
    assert_eq!(
        image.get_pixel(120, 90).0,
        GRANTED_GREEN,
        "{:#?}",
        outcome.log
    );
    assert!(
        site.seen
            .queries
            .lock()
            .unwrap()
            .iter()
            .any(|q| q == "density=2&tv=true&nolabel=true&nogap=true"),
        "{:?}",
        site.seen.queries
    );
    // The forbidden origin was never contacted, and the job's log says what was refused.
    assert_eq!(site.seen.forbidden.load(Ordering::SeqCst), 0);
    let refused = format!("refused GET http://{}/steal", site.forbidden);
    assert!(log_has(&outcome, &refused), "{:#?}", outcome.log);

    // A recording on the virtual clock: the bar moves, so the frames differ and it is not frozen.
    let outcome = kiln.run(json!({"type": "url", "input": {
        "piece": "drawpiece", "width": 64, "height": 48, "frames": 6, "fps": 15,
        "formats": ["gif"],
    }}));
    assert!(
        outcome.succeeded(),
        "{:?} {:#?}",
        outcome.error,
        outcome.log
    );
    let mut names = names(&outcome);
    names.sort();
    assert_eq!(names, ["poster.png", "recording.json", "video.gif"]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(artifact(&outcome, "recording.json")).unwrap())
            .unwrap();
    assert_eq!(report["frames"], 6, "{report}");
    assert_eq!(report["frozen"], false, "{report}");
    assert_eq!(report["piece"], "drawpiece", "{report}");
    let first = decode_frame(&artifact(&outcome, "video.gif"), 0);
    let last = decode_frame(&artifact(&outcome, "video.gif"), 5);
    assert_ne!(first, last, "the bar moves from frame to frame");
}

#[test]
fn a_recording_plays_at_its_own_rate_leaves_out_blank_frames_and_judges_flat_colour() {
    let site = site();
    let kiln = kiln_for_site(site);
    let input = |tolerate: bool, drop_blank: bool| {
        json!({"type": "url", "input": {
            "piece": "blinking", "width": 40, "height": 30, "frames": 12, "fps": 10,
            "playbackFps": 20, "formats": ["gif"], "dropBlankFrames": drop_blank,
            "toleratePageErrors": tolerate,
        }})
    };
    let report = |outcome: &kiln::jobs::JobOutcome| -> serde_json::Value {
        assert!(
            outcome.succeeded(),
            "{:?} {:#?}",
            outcome.error,
            outcome.log
        );
        serde_json::from_slice(&std::fs::read(artifact(outcome, "recording.json")).unwrap())
            .unwrap()
    };

    // As the oven's grabs: the black frames are left out, the page's errors are logged, and what
    // is left is one flat red (a dud, and frozen).
    let outcome = kiln.run(input(true, true));
    let recorded = report(&outcome);
    let (kept, blank) = (
        recorded["frames"].as_u64().unwrap(),
        recorded["blankFramesDropped"].as_u64().unwrap(),
    );
    assert_eq!(kept + blank, 12, "{recorded}");
    assert!(
        (5..=7).contains(&kept),
        "about every other frame is black: {recorded}"
    );
    assert_eq!(recorded["fps"], 20.0, "{recorded}");
    assert_eq!(recorded["dud"], true, "{recorded}");
    assert_eq!(recorded["dudColor"], "#ff0000", "{recorded}");
    assert_eq!(recorded["frozen"], true, "{recorded}");
    assert!(recorded["pageErrors"].as_u64().unwrap() >= 1, "{recorded}");
    assert!(log_has(&outcome, "boom in slot"), "{:#?}", outcome.log);
    let poster = image::load_from_memory(&std::fs::read(artifact(&outcome, "poster.png")).unwrap())
        .unwrap()
        .to_rgba8();
    assert_eq!(
        poster.get_pixel(20, 15).0,
        [255, 0, 0, 255],
        "the poster is a kept frame"
    );

    // Every frame kept: black and red alternate, so it is not frozen.
    let recorded = report(&kiln.run(input(true, false)));
    assert_eq!(recorded["frames"], 12, "{recorded}");
    assert_eq!(recorded["blankFramesDropped"], 0, "{recorded}");
    assert_eq!(recorded["frozen"], false, "{recorded}");

    // Without tolerance, the page's error fails the recording, naming the frame.
    let outcome = kiln.run(input(false, true));
    let error = outcome
        .error
        .as_ref()
        .expect("a page that throws fails the recording");
    assert_eq!(error.kind, ErrorKind::PieceFailed, "{error:?}");
    assert!(
        error.message.contains("threw while recording frame") && error.message.contains("boom"),
        "{error:?}"
    );
}

#[test]
fn pages_that_never_get_ready_or_never_draw_or_do_not_exist_answer_clearly() {
    let site = site();
    let kiln = kiln_for_site(site);

    // No ready signal: captured after the bound anyway, as the oven did, and the log says so.
    let outcome = kiln.run(json!({"type": "url", "input": {
        "piece": "neverready", "width": 32, "height": 32, "readyTimeoutMs": 300,
    }}));
    let image = artifact_image(&outcome);
    assert_eq!(image.get_pixel(16, 16).0, [0, 0, 255, 255]);
    assert!(
        log_has(&outcome, "did not set window.acPieceReady"),
        "{:#?}",
        outcome.log
    );

    // No canvas: a timeout naming it.
    let outcome = kiln.run(json!({"type": "url", "input": {
        "piece": "nocanvas", "width": 32, "height": 32, "canvasTimeoutMs": 400,
    }}));
    let message = failure(&outcome, ErrorKind::Timeout);
    assert!(message.contains("no <canvas>"), "{message}");

    // A piece the site does not have.
    let outcome = kiln.run(json!({"type": "url", "input": {"piece": "nosuchpiece"}}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(message.contains("HTTP 404"), "{message}");

    // A name that would leave the site's paths, refused before any page opens.
    let outcome = kiln.run(json!({"type": "url", "input": {"piece": "../admin"}}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(message.contains("input.piece"), "{message}");
}

#[test]
fn without_a_network_grant_a_page_reaches_nothing() {
    let site = site();
    let kiln = kiln_with(site, vec![], true);
    let outcome = kiln.run(json!({"type": "url", "input": {"piece": "ungranted"}}));
    let message = failure(&outcome, ErrorKind::InvalidInput);
    assert!(
        message.contains("plugins.per_plugin.url.network"),
        "{message}"
    );
    assert_eq!(site.seen.ungranted.load(Ordering::SeqCst), 0);

    // And the site's private address is refused unless config allows private addresses.
    let kiln = kiln_with(
        site,
        vec!["site".into(), format!("http://{}", site.granted)],
        false,
    );
    let outcome = kiln.run(json!({"type": "url", "input": {"piece": "drawpiece"}}));
    assert!(!outcome.succeeded());
    assert!(
        log_has(&outcome, "pieces.allow_private"),
        "{:?} {:#?}",
        outcome.error,
        outcome.log
    );
}

#[test]
fn the_oven_routes_answer_for_a_page_of_the_site() {
    let site = site();
    let dir = TestDir::new();
    let config = format!(
        "[service]\nmax_wait_s = 120\n[jobs]\ntimeout_ms = 60000\n\
         [pieces]\nbase_url = \"http://{}\"\nallow_private = true\n\
         [plugins.per_plugin.url]\nnetwork = [\"site\", \"http://{}\"]\n",
        site.site, site.granted
    );
    let server = Server::start(dir.path(), &config);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let get = |path: &str| client.get(server.url(path)).send().unwrap();
    let image_of = |response: reqwest::blocking::Response| {
        assert_eq!(response.status(), StatusCode::OK);
        image::load_from_memory(&response.bytes().unwrap())
            .unwrap()
            .to_rgba8()
    };

    let image = image_of(get("/grab/png/40/30/drawpiece?density=2"));
    assert_eq!((image.width(), image.height()), (80, 60));
    assert_eq!(image.get_pixel(70, 50).0, GRANTED_GREEN);

    let response = get("/grab/webp/40/40/drawpiece?duration=1000&fps=4");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/webp");
    let bytes = response.bytes().unwrap();
    assert!(&bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP");

    let image = image_of(get("/icon/32x32/drawpiece.png"));
    assert_eq!((image.width(), image.height()), (32, 32));
    let image = image_of(get("/preview/64x40/drawpiece.png"));
    assert_eq!((image.width(), image.height()), (64, 40));
    let response = get("/app-screenshots/phone-landscape/drawpiece.png");
    assert!(
        response.headers().contains_key("x-screenshot-dimensions"),
        "{:?}: {}",
        response.status(),
        response.text().unwrap()
    );
    let response = get("/app-screenshots/phone-landscape/drawpiece.png");
    assert_eq!(response.headers()["x-screenshot-dimensions"], "1920x1080");
    let image = image_of(response);
    assert_eq!((image.width(), image.height()), (1920, 1080));
    assert_eq!(image.get_pixel(1900, 1000).0, GRANTED_GREEN);

    // Not URLs, and not names that could leave the site's paths.
    for bad in ["/grab/png/40/30/https:%2F%2Fevil.com", "/icon/32x32/~x.png"] {
        assert_eq!(get(bad).status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(site.seen.forbidden.load(Ordering::SeqCst), 0);
}
