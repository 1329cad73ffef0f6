//! The `bundle` job type (issue 17): real jobs through the bundle plugin, and each file it makes
//! opened in a bare Chromium (launched as the pool launches one) where the file is the only thing
//! that loads: every other request is refused and recorded, and a test fails if there was any.
//! A KidLisp bundle's canvas is compared byte for byte with the `kidlisp` job type's still of the
//! same frame; a js bundle's with the `js` job type's PNG.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::fetch::{
    EnableParams, EventRequestPaused, FailRequestParams, FulfillRequestParams, HeaderEntry,
    RequestPattern,
};
use chromiumoxide::cdp::browser_protocol::input::{
    DispatchMouseEventParams, DispatchMouseEventType, MouseButton,
};
use chromiumoxide::cdp::browser_protocol::network::ErrorReason;
use chromiumoxide::cdp::browser_protocol::page::AddScriptToEvaluateOnNewDocumentParams;
use futures::StreamExt;
use kiln::ErrorKind;
use kiln::browser::bare::BareBrowser;
use kiln::jobs::JobOutcome;
use kiln_test_support::*;
use serde_json::{Value, json};
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Where the browser is told the bundle is; the test answers this URL with the file itself.
const FILE_URL: &str = "https://bundle.kiln.invalid/index.html";

fn kiln() -> &'static TestKiln {
    static KILN: OnceLock<TestKiln> = OnceLock::new();
    KILN.get_or_init(|| {
        TestKiln::start_in(TestDir::with(&["kiln_plugin_bundle"]), |c| {
            c.jobs.timeout_ms = 60_000
        })
    })
}

fn browser() -> &'static BareBrowser {
    static BROWSER: OnceLock<BareBrowser> = OnceLock::new();
    BROWSER.get_or_init(|| {
        block_on(BareBrowser::launch(&kiln::Config::default().browser)).expect("chromium starts")
    })
}

fn bundle(input: Value) -> JobOutcome {
    kiln().run(json!({"type": "bundle", "input": input}))
}

fn read(outcome: &JobOutcome, name: &str) -> Vec<u8> {
    std::fs::read(artifact(outcome, name)).unwrap()
}

fn report(outcome: &JobOutcome) -> Value {
    serde_json::from_slice(&read(outcome, "bundle.json")).unwrap()
}

/// A page showing one bundle, and the requests it made besides the file.
struct Opened {
    page: Page,
    refused: Arc<Mutex<Vec<String>>>,
}

impl Opened {
    /// Opens `html` as the page's only file; with `hide`, the named globals are deleted before any
    /// script of the page runs (to play an older browser).
    fn new(html: &[u8], hide: &[&str]) -> Opened {
        let html = html.to_vec();
        let hide: Vec<String> = hide
            .iter()
            .map(|name| format!("delete window.{name};"))
            .collect();
        let browser = browser();
        block_on(async move {
            let page = browser.open_page().await.unwrap();
            let refused = Arc::new(Mutex::new(Vec::new()));
            let mut requests = page.event_listener::<EventRequestPaused>().await.unwrap();
            let (serving, log) = (page.clone(), refused.clone());
            tokio::spawn(async move {
                while let Some(event) = requests.next().await {
                    if event.request.url == FILE_URL {
                        let answer = FulfillRequestParams::builder()
                            .request_id(event.request_id.clone())
                            .response_code(200)
                            .response_headers(vec![HeaderEntry::new(
                                "Content-Type",
                                "text/html; charset=utf-8",
                            )])
                            .body(STANDARD.encode(&html))
                            .build()
                            .unwrap();
                        let _ = serving.execute(answer).await;
                    } else {
                        log.lock().unwrap().push(event.request.url.clone());
                        let _ = serving
                            .execute(FailRequestParams::new(
                                event.request_id.clone(),
                                ErrorReason::BlockedByClient,
                            ))
                            .await;
                    }
                }
            });
            page.execute(EnableParams {
                patterns: Some(vec![RequestPattern {
                    url_pattern: Some("*".into()),
                    resource_type: None,
                    request_stage: None,
                }]),
                handle_auth_requests: None,
            })
            .await
            .unwrap();
            if !hide.is_empty() {
                page.execute(AddScriptToEvaluateOnNewDocumentParams::new(hide.join("")))
                    .await
                    .unwrap();
            }
            page.goto(FILE_URL).await.unwrap();
            Opened { page, refused }
        })
    }

    /// `expression`'s value (promises awaited).
    fn eval(&self, expression: &str) -> Value {
        crate::page_script::eval(&self.page, expression)
    }

    /// Waits until `expression` is true, failing with what the page shows after `limit`.
    fn wait_for(&self, expression: &str, limit: Duration) {
        crate::page_script::wait_for(&self.page, expression, limit)
    }

    /// The RGBA bytes of the canvas matching `selector`, with its size.
    fn canvas(&self, selector: &str) -> (u32, u32, Vec<u8>) {
        let value = self.eval(&format!(
            "(() => {{ const c = document.querySelector({selector:?}); \
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
             let s = ''; for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode.apply(null, d.subarray(i, i + 8192)); \
             return [c.width, c.height, btoa(s)]; }})()"
        ));
        (
            value[0].as_u64().unwrap() as u32,
            value[1].as_u64().unwrap() as u32,
            STANDARD.decode(value[2].as_str().unwrap()).unwrap(),
        )
    }

    /// Presses (`Pressed`), moves or releases the mouse at CSS pixel (x, y) of the viewport.
    fn mouse(&self, kind: DispatchMouseEventType, x: f64, y: f64) {
        let params = DispatchMouseEventParams::builder()
            .r#type(kind)
            .x(x)
            .y(y)
            .button(MouseButton::Left)
            .buttons(1)
            .click_count(1)
            .build()
            .unwrap();
        block_on(self.page.execute(params)).unwrap();
    }

    /// Every request the page made besides its own file (all refused).
    fn refused(&self) -> Vec<String> {
        self.refused.lock().unwrap().clone()
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        let page = self.page.clone();
        let _ = block_on(page.close());
    }
}

/// A piece with an embed, a stamp, a moving box and random boxes that pile up frame after frame:
/// frame n's pixels depend on every frame before it.
const PIECE: &str = "(wipe navy) ($sun 4 4 24 24) (paste #dot 40 10) (ink yellow) (box frame 30 6 6) (ink (? red lime white)) (box (? 0 90) (? 0 60) 3 3)";
const SUN: &str = "(wipe orange) (ink red) (box 2 2 8 8)";

fn dot_png() -> String {
    let mut dot = image::RgbaImage::new(3, 3);
    for (x, y, p) in dot.enumerate_pixels_mut() {
        *p = if (x + y) % 2 == 0 {
            image::Rgba([255, 255, 255, 255])
        } else {
            image::Rgba([0, 200, 0, 255])
        };
    }
    let mut bytes = std::io::Cursor::new(Vec::new());
    dot.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    STANDARD.encode(bytes.into_inner())
}

fn kidlisp_input(compress: &str) -> Value {
    json!({
        "kind": "kidlisp", "source": PIECE, "sources": {"$sun": SUN}, "stamps": {"#dot": dot_png()},
        "width": 96, "height": 64, "seed": 9, "fps": 30, "compress": compress,
        "title": "sun and boxes", "author": "@tester",
    })
}

/// How many RGBA pixels of `a` differ from `b`'s.
fn differing_pixels(a: &[u8], b: &[u8]) -> usize {
    a.chunks(4).zip(b.chunks(4)).filter(|(a, b)| a != b).count()
}

/// Plays the KidLisp bundle until at least `frames` frames were shown, pauses it, and checks
/// that the canvas is exactly the `kidlisp` job type's still of the frame it shows.
fn plays_as_kiln_renders(opened: &Opened, frames: u64) -> u64 {
    opened.wait_for(
        &format!("window.kilnPlayer && kilnPlayer.frame >= {frames}"),
        Duration::from_secs(20),
    );
    let frame = opened
        .eval("kilnPlayer.pause(), kilnPlayer.frame")
        .as_u64()
        .unwrap();
    let (width, height, rgba) = opened.canvas("#kiln-canvas");
    assert_eq!((width, height), (96, 64));
    let still = kiln().run(json!({"type": "kidlisp", "input": {
        "source": PIECE, "sources": {"$sun": SUN}, "stamps": {"#dot": dot_png()},
        "width": 96, "height": 64, "seed": 9, "fps": 30, "frame": frame,
    }}));
    let kiln_frame = image::load_from_memory(&read(&still, "image.png"))
        .unwrap()
        .to_rgba8()
        .into_raw();
    let differing = differing_pixels(&rgba, &kiln_frame);
    assert_eq!(
        differing, 0,
        "{differing} pixels of frame {frame} differ from Kiln's"
    );
    // Not a blank canvas: the embed's red box, the stamp and the moving box are there.
    let at = |x: usize, y: usize| rgba[(y * 96 + x) * 4..(y * 96 + x) * 4 + 4].to_vec();
    assert_eq!(at(6, 6), [255, 0, 0, 255], "the embed's red box");
    assert_eq!(at(40, 10), [255, 255, 255, 255], "the stamp");
    frame
}

#[test]
fn a_kidlisp_bundle_plays_offline_exactly_the_frames_kiln_renders() {
    let outcome = bundle(kidlisp_input("gzip"));
    let html = read(&outcome, "index.html");
    let opened = Opened::new(&html, &[]);
    let first = plays_as_kiln_renders(&opened, 12);
    // It goes on playing from where it was paused.
    opened.eval("kilnPlayer.play()");
    opened.wait_for(
        &format!("kilnPlayer.frame >= {}", first + 5),
        Duration::from_secs(10),
    );
    assert_eq!(
        opened.refused(),
        Vec::<String>::new(),
        "the page asked the network"
    );
    assert_eq!(opened.eval("kilnPlayer.error"), Value::Null);

    // The colophon, as a global and as the page's JSON block.
    let colophon = opened.eval("window.acPACK_COLOPHON");
    assert_eq!(colophon["piece"]["name"], "sun and boxes");
    assert_eq!(colophon["piece"]["sourceCode"], PIECE);
    assert_eq!(colophon["piece"]["isKidLisp"], true);
    assert_eq!(colophon["build"]["author"], "@tester");
    assert!(
        colophon["build"]["plugin"]
            .as_str()
            .unwrap()
            .starts_with("bundle@")
    );
    assert_eq!(
        colophon["build"]["host"],
        format!("kiln {}", env!("CARGO_PKG_VERSION")),
        "the colophon names the Kiln that packed it"
    );
    assert_eq!(colophon["build"]["contract"], "kiln:render@1.4.0");
    assert!(
        colophon["build"]["packTime"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(
        opened.eval("JSON.parse(document.getElementById('kiln-colophon').textContent)"),
        colophon
    );

    // bundle.json's figures.
    let figures = report(&outcome);
    assert_eq!(figures["bytes"], html.len());
    assert_eq!(figures["compressor"], "gzip");
    assert_eq!(figures["minified"], true);
    // The player, the renderer, the piece, one embed and one stamp.
    assert_eq!(figures["files"], 5);
    assert_eq!(figures["bytesUncompressed"], plain_size(&html));
    let filename = figures["filename"].as_str().unwrap();
    assert!(
        filename.starts_with("sun-and-boxes-") && filename.ends_with(".lisp.html"),
        "{filename}"
    );
    assert_eq!(colophon["build"]["filename"], filename);
}

/// The size of the plain page a self-extracting one holds: its text (unpacked here with
/// flate2, not by the page) with each byte file as the plain page's base64 block.
fn plain_size(html: &[u8]) -> usize {
    let html = String::from_utf8(html.to_vec()).unwrap();
    let between = |start: &str, end: &str| {
        let from = html.find(start).unwrap() + start.len();
        html[from..from + html[from..].find(end).unwrap()].to_string()
    };
    let gzipped = STANDARD.decode(between("atob(\"", "\"")).unwrap();
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(&gzipped[..])
        .read_to_end(&mut bytes)
        .unwrap();
    let text: usize = between("const htmlBytes = ", ";").parse().unwrap();
    let files: Vec<(String, usize)> =
        serde_json::from_str(&between("for (const [name, length] of ", ")")).unwrap();
    assert_eq!(
        text + files.iter().map(|(_, n)| n).sum::<usize>(),
        bytes.len()
    );
    text + files
        .iter()
        .map(|(name, length)| {
            "<script type=\"application/octet-stream\" id=\"kiln-file-\">".len()
                + name.len()
                + length.div_ceil(3) * 4
                + "</script>\n".len()
        })
        .sum::<usize>()
}

#[test]
fn compress_none_gives_the_plain_page_and_it_plays_the_same() {
    let outcome = bundle(kidlisp_input("none"));
    let html = read(&outcome, "index.html");
    let text = String::from_utf8(html.clone()).unwrap();
    assert!(text.starts_with("<!doctype html>"), "{}", &text[..80]);
    assert!(!text.contains("DecompressionStream"));
    assert!(text.contains("id=\"kiln-file-renderer.wasm\""));
    let figures = report(&outcome);
    assert_eq!(figures["compressor"], "none");
    assert_eq!(figures["bytes"], html.len());
    assert_eq!(figures["bytesUncompressed"], html.len());
    let opened = Opened::new(&html, &[]);
    plays_as_kiln_renders(&opened, 3);
    assert_eq!(
        opened.refused(),
        Vec::<String>::new(),
        "the page asked the network"
    );
}

#[test]
fn without_decompression_stream_the_page_says_why() {
    let html = read(&bundle(kidlisp_input("gzip")), "index.html");
    let opened = Opened::new(&html, &["DecompressionStream"]);
    opened.wait_for(
        "document.getElementById('kiln-bundle-error')",
        Duration::from_secs(10),
    );
    let said = opened.eval("document.getElementById('kiln-bundle-error').textContent");
    let said = said.as_str().unwrap();
    assert!(
        said.starts_with("Bundle error: ") && said.contains("DecompressionStream"),
        "{said}"
    );
    assert_eq!(opened.eval("typeof window.kilnPlayer"), "undefined");
}

#[test]
fn a_missing_embed_is_invalid_input_naming_it() {
    let message = failure(
        &bundle(
            json!({"kind": "kidlisp", "source": "(wipe navy) ($sun 0 0 8 8)", "sources": {"$sun": "(wipe red) ($star 0 0 2 2)"}}),
        ),
        ErrorKind::InvalidInput,
    );
    assert!(
        message.contains("embeds $star (embedded by $sun)"),
        "{message}"
    );
    let message = failure(
        &bundle(json!({"kind": "kidlisp", "source": "(wipe navy) ($moon 8 8 8 8)"})),
        ErrorKind::InvalidInput,
    );
    assert!(
        message.contains("input.sources") && message.contains("$moon"),
        "{message}"
    );
    let message = failure(
        &bundle(json!({"kind": "kidlisp", "source": "(wipe navy) (paste #nope 0 0)"})),
        ErrorKind::InvalidInput,
    );
    assert!(
        message.contains("input.stamps") && message.contains("#nope"),
        "{message}"
    );
    let message = failure(
        &bundle(json!({"kind": "js", "html": "<p>x</p>", "source": "(wipe red)"})),
        ErrorKind::InvalidInput,
    );
    assert!(
        message.contains("input.source: not a field of a js bundle"),
        "{message}"
    );
}

/// Paints a grid of `Math.random()` colours on a canvas (as tests/e2e/js_render.rs does).
const RANDOM_GRID_JS: &str = "const canvas = document.querySelector('canvas');\n\
     const g = canvas.getContext('2d');\n\
     for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {\n\
       const red = Math.floor(Math.random() * 256), green = Math.floor(Math.random() * 256);\n\
       g.fillStyle = `rgb(${red}, ${green}, 99)`;\n\
       g.fillRect(x * 16, y * 16, 16, 16);\n\
     }\n\
     document.body.dataset.done = 'yes';";

#[test]
fn a_js_bundle_draws_what_the_js_job_type_draws() {
    let page = json!({
        "html": "<canvas width=\"128\" height=\"128\"></canvas>",
        "css": "html, body { margin: 0; } canvas { display: block; }",
        "javascript": RANDOM_GRID_JS, "seed": 11,
    });
    let mut input = page.clone();
    input["kind"] = "js".into();
    let outcome = bundle(input);
    let html = read(&outcome, "index.html");
    let figures = report(&outcome);
    assert_eq!(figures["minified"], true);
    assert_eq!(figures["files"], 3);

    let opened = Opened::new(&html, &[]);
    opened.wait_for(
        "document.body && document.body.dataset.done === 'yes'",
        Duration::from_secs(10),
    );
    assert_eq!(
        opened.refused(),
        Vec::<String>::new(),
        "the page asked the network"
    );
    let (width, height, rgba) = opened.canvas("canvas");
    assert_eq!((width, height), (128, 128));

    let mut job = page;
    job["width"] = 128.into();
    job["height"] = 128.into();
    job["outputType"] = "png".into();
    let png = kiln().run(json!({"type": "js", "input": job}));
    let kiln_image = artifact_image(&png).into_raw();
    assert_eq!(rgba.len(), kiln_image.len());
    let differing = differing_pixels(&rgba, &kiln_image);
    assert_eq!(differing, 0, "{differing} pixels differ from the js job's");
    assert_eq!(&rgba[3..4], &[255]);

    // Minified: the script's own long names are gone from the unpacked page.
    let plain = bundle(
        json!({"kind": "js", "html": "<canvas width=\"128\" height=\"128\"></canvas>",
        "javascript": RANDOM_GRID_JS, "seed": 11, "compress": "none"}),
    );
    let text = String::from_utf8(read(&plain, "index.html")).unwrap();
    // The colophon keeps the source as written; the script that runs is minified.
    let from = text.find("<script id=\"kiln-colophon\"").unwrap();
    let to = from + text[from..].find("</script>").unwrap();
    let script = format!("{}{}", &text[..from], &text[to..]);
    assert!(
        text.contains("\\nconst red = Math.floor(Math.random() * 256)"),
        "{text}"
    );
    assert!(!script.contains("const red = Math.floor"), "{script}");
    assert!(script.contains("Math.random"), "{script}");
}

/// A p5 sketch with no `draw`: seeded random boxes, drawn once in `setup`.
const P5_BOXES: &str = "function setup() {\n  createCanvas(96, 64);\n  background(20);\n  noStroke();\n  for (let i = 0; i < 40; i++) {\n    fill(random(255), random(255), random(255));\n    rect(random(96), random(64), 8, 8);\n  }\n  window.boxesDrawn = true;\n}\n";

#[test]
fn a_p5_bundle_carries_the_hosts_p5_and_draws_what_the_p5_job_type_draws() {
    for (version, line) in [(None, "2."), (Some("1"), "1.")] {
        let mut input = json!({"kind": "p5", "code": P5_BOXES, "seed": 5, "title": "boxes"});
        if let Some(version) = version {
            input["p5Version"] = version.into();
        }
        let outcome = bundle(input.clone());
        assert!(
            outcome.succeeded(),
            "{:?} {:#?}",
            outcome.error,
            outcome.log
        );
        let html = read(&outcome, "index.html");
        assert_eq!(report(&outcome)["kind"], "p5");

        let opened = Opened::new(&html, &[]);
        opened.wait_for("window.boxesDrawn === true", Duration::from_secs(10));
        assert_eq!(
            opened.refused(),
            Vec::<String>::new(),
            "the page asked the network"
        );
        assert!(
            opened
                .eval("p5.VERSION")
                .as_str()
                .unwrap()
                .starts_with(line),
            "{version:?}: {}",
            opened.eval("p5.VERSION")
        );
        // The colophon names the p5 it carries; the licence notice is in the page.
        let colophon =
            opened.eval("JSON.parse(document.getElementById('kiln-colophon').textContent)");
        assert!(
            colophon["build"]["runtime"]
                .as_str()
                .unwrap()
                .starts_with(&format!("p5@{line}")),
            "{colophon}"
        );
        let notice = opened.eval("document.getElementById('kiln-license-p5').textContent");
        assert!(notice.as_str().unwrap().contains("LGPL"), "{notice}");
        let (width, height, rgba) = opened.canvas("canvas");
        assert_eq!((width, height), (96, 64));

        let mut job = json!({"code": P5_BOXES, "width": 96, "height": 64, "seed": 5});
        if let Some(version) = version {
            job["p5Version"] = version.into();
        }
        let png = kiln().run(json!({"type": "p5", "input": job}));
        let kiln_image = artifact_image(&png).into_raw();
        assert_eq!(rgba.len(), kiln_image.len());
        let differing = differing_pixels(&rgba, &kiln_image);
        assert_eq!(
            differing, 0,
            "{version:?}: {differing} pixels differ from the p5 job's"
        );
    }
    // A p5 bundle needs its sketch, and takes no KidLisp fields.
    let outcome = bundle(json!({"kind": "p5", "source": "(wipe red)", "code": "x"}));
    let error = outcome.error.expect("foreign fields are refused");
    assert!(error.message.contains("input.source"), "{error:?}");
    let outcome = bundle(json!({"kind": "p5", "code": "  "}));
    let error = outcome.error.expect("an empty sketch is refused");
    assert!(error.message.contains("input.code"), "{error:?}");
}

/// A piece that shows where the pointer is and whether it is down: a 4×4 box at the pen,
/// yellow while down, dark blue when up.
const POINTER_PIECE: &str = "(wipe black) (ink (* down 255) (* down 255) 40) (box penx peny 4 4)";

#[test]
fn a_kidlisp_bundle_passes_pointer_events_to_the_piece() {
    let outcome = bundle(json!({
        "kind": "kidlisp", "source": POINTER_PIECE, "width": 64, "height": 48, "density": 4,
        "compress": "none",
    }));
    assert!(
        outcome.succeeded(),
        "{:?} {:#?}",
        outcome.error,
        outcome.log
    );
    let opened = Opened::new(&read(&outcome, "index.html"), &[]);
    opened.wait_for(
        "window.kilnPlayer && kilnPlayer.frame >= 2",
        Duration::from_secs(10),
    );
    // The canvas is 64×48 art pixels at 4 CSS pixels each; art pixel (x, y) is at
    // left + 4x + 2, top + 4y + 2.
    let left_top = opened.eval(
        "(() => { const r = document.getElementById('kiln-canvas').getBoundingClientRect();          return [r.left, r.top]; })()",
    );
    let (left, top) = (left_top[0].as_f64().unwrap(), left_top[1].as_f64().unwrap());
    let css = |x: f64, y: f64| (left + 4.0 * x + 2.0, top + 4.0 * y + 2.0);
    // The pixel at art (x, y), waited for (up to 5 s: a loaded machine plays late), with what
    // the canvas shows when it does not come.
    let expect = |x: usize, y: usize, want: [u8; 4], what: &str| {
        let start = Instant::now();
        loop {
            let (width, _, rgba) = opened.canvas("#kiln-canvas");
            let width = width as usize;
            if rgba[(y * width + x) * 4..][..4] == want {
                return;
            }
            if start.elapsed() > Duration::from_secs(5) {
                let lit: Vec<(usize, usize, &[u8])> = rgba
                    .chunks(4)
                    .enumerate()
                    .filter(|(_, p)| p[..3] != [0, 0, 0])
                    .map(|(i, p)| (i % width, i / width, p))
                    .take(4)
                    .collect();
                panic!(
                    "{what}: art ({x}, {y}) is not {want:?}; lit pixels {lit:?}, frame {}, error {}",
                    opened.eval("kilnPlayer.frame"),
                    opened.eval("kilnPlayer.error")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };

    let (x, y) = css(20.0, 10.0);
    opened.mouse(DispatchMouseEventType::MousePressed, x, y);
    expect(
        21,
        11,
        [255, 255, 40, 255],
        "down at art (20, 10): a yellow box",
    );

    // Dragged to (40, 30): the pen follows; released there: the box turns dark.
    let (x, y) = css(40.0, 30.0);
    opened.mouse(DispatchMouseEventType::MouseMoved, x, y);
    expect(
        41,
        31,
        [255, 255, 40, 255],
        "dragged: the box follows the pen",
    );
    expect(21, 11, [0, 0, 0, 255], "and left (20, 10)");
    opened.mouse(DispatchMouseEventType::MouseReleased, x, y);
    expect(41, 31, [0, 0, 40, 255], "lifted: the box is dark");
    assert_eq!(opened.eval("kilnPlayer.error"), Value::Null);
}

#[test]
fn a_script_the_minifier_cannot_read_is_kept_and_logged() {
    let broken = "function draw( { not javascript";
    let outcome =
        bundle(json!({"kind": "js", "html": "<p>x</p>", "javascript": broken, "compress": "none"}));
    let text = String::from_utf8(read(&outcome, "index.html")).unwrap();
    assert!(text.contains(broken), "{text}");
    let figures = report(&outcome);
    assert_eq!(figures["minified"], false);
    assert_eq!(figures["minifyKept"], json!(["javascript"]));
    let logged = outcome
        .log
        .iter()
        .any(|line| line.message.contains("minify: javascript kept as written"));
    assert!(logged, "{:#?}", outcome.log);

    // minify: false leaves scripts as written, and says so.
    let outcome = bundle(
        json!({"kind": "js", "html": "<p>x</p>", "javascript": "let  spaced = 1;", "minify": false, "compress": "none"}),
    );
    assert!(
        String::from_utf8(read(&outcome, "index.html"))
            .unwrap()
            .contains("let  spaced = 1;")
    );
    assert_eq!(report(&outcome)["minified"], false);
}

/// The stand-in piece store's pieces: `$sunny` (owned by @jeffrey) embeds `$ray`.
fn stored(code: &str) -> Option<Value> {
    match code {
        "sunny" => Some(
            json!({"source": "(wipe navy) ($ray 4 4 16 16) (ink yellow) (box frame 2 4 4)", "handle": "@jeffrey"}),
        ),
        "ray" => Some(json!({"source": "(wipe orange) (ink red) (box 1 1 4 4)"})),
        "lonely" => Some(json!({"source": "(wipe navy) ($gone 0 0 8 8)"})),
        _ => None,
    }
}

/// `kiln serve` over a stand-in piece store on loopback.
fn serve() -> (kiln_test_support::processes::Server, TestDir) {
    use axum::extract::Query;
    use axum::response::IntoResponse;
    use std::collections::HashMap;
    async fn store_kidlisp(
        Query(query): Query<HashMap<String, String>>,
    ) -> axum::response::Response {
        match stored(query.get("code").map(String::as_str).unwrap_or_default()) {
            Some(piece) => axum::Json(piece).into_response(),
            None => (axum::http::StatusCode::NOT_FOUND, "{}").into_response(),
        }
    }
    let api = block_on(async {
        let app =
            axum::Router::new().route("/api/store-kidlisp", axum::routing::get(store_kidlisp));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });
    let dir = TestDir::with(&["kiln_plugin_bundle"]);
    let config = format!(
        "[service]\nmax_wait_s = 120\n[jobs]\ntimeout_ms = 60000\n\
         [sources]\nbase_url = \"http://{api}\"\nallowed_hosts = [\"127.0.0.1\"]\nallow_private = true\n"
    );
    (
        kiln_test_support::processes::Server::start(dir.path(), &config),
        dir,
    )
}

/// An SSE body's events, as (event, data as JSON).
fn sse_events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|line| line.strip_prefix(name).map(|v| v.trim().to_string()))
            };
            Some((
                field("event:")?,
                serde_json::from_str(&field("data:")?).unwrap(),
            ))
        })
        .collect()
}

#[test]
fn the_bundle_route_answers_html_json_and_a_stream_from_one_cached_job() {
    let (server, _dir) = serve();
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(180))
        .build()
        .unwrap();
    let get = |query: &str| {
        client
            .get(server.url(&format!("/bundle-html{query}")))
            .send()
            .unwrap()
    };
    let error_of = |response: reqwest::blocking::Response| {
        let status = response.status().as_u16();
        let body: Value = response.json().unwrap();
        (
            status,
            body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    };

    let (status, message) = error_of(get(""));
    assert_eq!(status, 400);
    assert!(
        message.starts_with("Missing 'code' or 'piece' parameter"),
        "{message}"
    );
    assert_eq!(error_of(get("?piece=notepat")).0, 501);

    // json: made now, with the oven's fields and every stage reported.
    let response = get("?code=$sunny&format=json");
    assert_eq!(response.status(), 200);
    let json: Value = response.json().unwrap();
    let filename = json["filename"].as_str().unwrap();
    assert!(
        filename.starts_with("$sunny-jeffrey-20") && filename.ends_with(".lisp.html"),
        "{filename}"
    );
    let html = STANDARD.decode(json["content"].as_str().unwrap()).unwrap();
    assert_eq!(json["sizeKB"], (html.len() as f64 / 1024.0).round() as u64);
    assert_eq!(json["bytes"], html.len());
    assert_eq!(json["depCount"], 1);
    assert_eq!(json["authorHandle"], "@jeffrey");
    assert_eq!(json["compressor"], "gzip");
    assert_eq!(json["minified"], true);
    assert!(
        json["sourceCode"]
            .as_str()
            .unwrap()
            .contains("($ray 4 4 16 16)")
    );
    assert!(json["packDate"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        json["progress"],
        json!([
            "Fetched the piece and its embeds",
            "Checked every embed and stamp it needs",
            "Built the page: player, renderer and piece",
            "Packed the page",
            "Stored the bundle"
        ])
    );

    // html: the same job's file, from the result cache.
    let response = get("?code=sunny");
    assert_eq!(response.status(), 200);
    let header = |response: &reqwest::blocking::Response, name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        header(&response, "content-type"),
        "text/html; charset=utf-8"
    );
    assert_eq!(header(&response, "cache-control"), "public, max-age=3600");
    assert_eq!(header(&response, "x-cache"), "HIT");
    assert_eq!(
        header(&response, "content-disposition"),
        format!("attachment; filename=\"{filename}\"")
    );
    assert_eq!(response.bytes().unwrap().to_vec(), html);
    let inline = get("?code=sunny&inline=1");
    assert_eq!(header(&inline, "content-disposition"), "");
    assert_eq!(inline.bytes().unwrap().to_vec(), html);

    // m4d: the same file inside a Max for Live device, named as the oven names it.
    let response = get("?code=sunny&format=m4d");
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "application/octet-stream"
    );
    assert_eq!(header(&response, "cache-control"), "no-cache");
    assert_eq!(header(&response, "x-cache"), "HIT");
    assert_eq!(
        header(&response, "content-disposition"),
        "attachment; filename=\"AC $sunny (offline).amxd\""
    );
    let device = response.bytes().unwrap().to_vec();
    assert_eq!(&device[..4], b"ampf");
    let patcher: Value = serde_json::from_slice(&device[32..]).unwrap();
    let url = patcher["patcher"]["boxes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|b| b["box"]["url"].as_str())
        .unwrap();
    let played = STANDARD
        .decode(url.strip_prefix("data:text/html;base64,").unwrap())
        .unwrap();
    assert_eq!(played, html, "the device's jweb~ plays the bundle");

    // The file plays its piece with the embed from the store.
    let opened = Opened::new(&html, &[]);
    opened.wait_for(
        "window.kilnPlayer && kilnPlayer.frame >= 2",
        Duration::from_secs(20),
    );
    opened.eval("kilnPlayer.pause()");
    let (width, _, rgba) = opened.canvas("#kiln-canvas");
    let at = (6 * width as usize + 6) * 4;
    assert_eq!(rgba[at..at + 4], [255, 0, 0, 255], "the embed's red box");
    assert_eq!(opened.refused(), Vec::<String>::new());

    // stream: a new input (plain page), so every stage, in order, then the file.
    let response = get("?code=sunny&format=stream&nocompress=1&density=2");
    assert_eq!(header(&response, "content-type"), "text/event-stream");
    assert_eq!(header(&response, "cache-control"), "no-cache");
    assert_eq!(header(&response, "x-accel-buffering"), "no");
    let events = sse_events(&response.text().unwrap());
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    let stages: Vec<&str> = events
        .iter()
        .filter(|(name, _)| name == "progress")
        .map(|(_, data)| data["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        ["fetch", "deps", "generate", "compress", "stored"],
        "{names:?}"
    );
    assert_eq!(names.last(), Some(&"complete"), "{names:?}");
    let complete = &events.last().unwrap().1;
    let plain = String::from_utf8(
        STANDARD
            .decode(complete["content"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(plain.starts_with("<!doctype html>") && !plain.contains("DecompressionStream"));
    // The player's settings, minified: `{fps:60,density:2}`.
    assert!(plain.contains("density:2"), "density reaches the player");
    assert!(
        complete["filename"]
            .as_str()
            .unwrap()
            .starts_with("$sunny-jeffrey-")
    );

    // The same stream again comes from the cache.
    let response = get("?code=sunny&format=stream&nocompress=1&density=2");
    let events = sse_events(&response.text().unwrap());
    assert_eq!(events[0].0, "progress");
    assert_eq!(events[0].1["stage"], "cache-hit");
    assert_eq!(events[1].0, "complete");
    assert_eq!(events[1].1["content"], complete["content"]);

    // A piece whose embed the store does not have: 422 naming it, or an error event.
    let (status, message) = error_of(get("?code=lonely"));
    assert_eq!(status, 422, "{message}");
    assert!(message.contains("$gone"), "{message}");
    let events = sse_events(&get("?code=lonely&format=stream").text().unwrap());
    let (name, data) = events.last().unwrap();
    assert_eq!(name, "error");
    assert!(data["error"].as_str().unwrap().contains("$gone"), "{data}");
}
