//! The live dashboard at `GET /` of a real `kiln serve`, in real headless Chromium: the page loads
//! with nothing from elsewhere, follows a recording while it runs (stage, progress bar, its live
//! frame) and then shows its thumbnail, draws something, throws nothing and logs no error; its
//! admin actions pass the operator's token to routes that refuse them without it; with
//! `service.status_views = "admin"` the page and the other status views need the admin token, which
//! a browser presents once (`/?token=`) and then carries as a cookie that is good for nothing else.

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::log::{
    EnableParams as LogEnable, EventEntryAdded, LogEntryLevel,
};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EnableParams as RuntimeEnable, EventConsoleApiCalled,
    EventExceptionThrown,
};
use chromiumoxide::page::ScreenshotParams;
use futures::StreamExt;
use kiln::browser::bare::BareBrowser;
use kiln_test_support::processes::*;
use kiln_test_support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Chromium as Kiln launches it, but with direct connections: Kiln's own browsers send every
/// request to a black hole (loopback included), and this one must reach the server under test.
fn browser() -> &'static BareBrowser {
    static BROWSER: OnceLock<BareBrowser> = OnceLock::new();
    BROWSER.get_or_init(|| {
        let mut settings = kiln::Config::default().browser;
        settings.extra_args.push("no-proxy-server".into());
        block_on(BareBrowser::launch(&settings)).expect("chromium starts")
    })
}

/// A recording that takes some seconds: every frame does a few million multiplications (the
/// page's clock is virtual, so a wait on `Date.now()` would never end) and paints a colour of its
/// own.
fn slow_recording(id: &str, frames: u32) -> Value {
    json!({"id": id, "type": "video", "input": {
        "code": "let x = 0;\nfunction setup() { createCanvas(96, 96); }\n\
                 function draw() { for (let i = 0; i < 4e6; i++) { x += Math.sqrt(i); }\n\
                 background(frameCount * 3 % 255, 40, 200); fill(255, 220, 0); circle(48, 48, 30 + frameCount % 40); }",
        "width": 96, "height": 96, "fps": 30, "frames": frames,
        "formats": ["webp"], "poster": "png"
    }})
}

/// The dashboard open in a page, with every exception, console error and browser log error it
/// reported.
struct Dashboard {
    page: Page,
    problems: Arc<Mutex<Vec<String>>>,
}

impl Dashboard {
    fn open(server: &Server) -> Dashboard {
        Self::open_at(server, "/")
    }

    /// The page that `path` (the dashboard, or where it leads) shows.
    fn open_at(server: &Server, path: &str) -> Dashboard {
        let url = server.url(path);
        let browser = browser();
        block_on(async move {
            let page = browser.open_page().await.unwrap();
            page.execute(RuntimeEnable::default()).await.unwrap();
            page.execute(LogEnable::default()).await.unwrap();
            let problems = Arc::new(Mutex::new(Vec::new()));
            let mut thrown = page.event_listener::<EventExceptionThrown>().await.unwrap();
            let mut console = page
                .event_listener::<EventConsoleApiCalled>()
                .await
                .unwrap();
            let mut log = page.event_listener::<EventEntryAdded>().await.unwrap();
            let seen = problems.clone();
            tokio::spawn(async move {
                while let Some(event) = thrown.next().await {
                    seen.lock()
                        .unwrap()
                        .push(format!("exception: {:?}", event.exception_details));
                }
            });
            let seen = problems.clone();
            tokio::spawn(async move {
                while let Some(event) = console.next().await {
                    if matches!(
                        event.r#type,
                        ConsoleApiCalledType::Error | ConsoleApiCalledType::Assert
                    ) {
                        seen.lock()
                            .unwrap()
                            .push(format!("console.error: {:?}", event.args));
                    }
                }
            });
            let seen = problems.clone();
            tokio::spawn(async move {
                while let Some(event) = log.next().await {
                    if event.entry.level == LogEntryLevel::Error {
                        seen.lock().unwrap().push(format!(
                            "log error: {} ({:?})",
                            event.entry.text, event.entry.url
                        ));
                    }
                }
            });
            page.goto(url).await.unwrap();
            Dashboard { page, problems }
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

    /// Clicks the element `selector` matches.
    fn click(&self, selector: &str) {
        let clicked = self.eval(&format!(
            "(() => {{ const e = document.querySelector({selector:?}); if (!e) return false; e.click(); return true; }})()"
        ));
        assert_eq!(clicked, json!(true), "nothing matches {selector}");
    }

    fn problems(&self) -> Vec<String> {
        self.problems.lock().unwrap().clone()
    }

    /// The page as a PNG, decoded.
    fn screenshot(&self) -> image::RgbaImage {
        let params = ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .build();
        let png = block_on(self.page.screenshot(params)).unwrap();
        image::load_from_memory(&png).unwrap().to_rgba8()
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let page = self.page.clone();
        let _ = block_on(page.close());
    }
}

fn submit(server: &Server, http: &reqwest::blocking::Client, job: &Value, token: Option<&str>) {
    let mut request = http
        .post(server.url("/jobs"))
        .header("content-type", "application/json")
        .body(job.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let (status, answer) = body(request.send().unwrap());
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
}

#[test]
fn the_dashboard_follows_a_recording_to_its_thumbnail_with_no_console_errors() {
    let dir = TestDir::new();
    let server = Server::start(dir.path(), "[jobs]\ntimeout_ms = 120000\n");
    let http = client();

    // The page is one file with everything inline, and says so in its headers.
    let answer = http.get(server.url("/")).send().unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let csp = answer.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    let html = answer.text().unwrap();
    assert!(html.contains("new EventSource(\"/dashboard/events\")"));

    let dashboard = Dashboard::open(&server);
    dashboard.wait_for(
        "document.getElementById('conn').dataset.state === 'live' && document.getElementById('counts').textContent.includes('active')",
        Duration::from_secs(30),
    );
    // The slow part arrived: the plugins this server loaded, and its browser with its memory.
    dashboard.wait_for(
        "document.querySelector('#plugins [data-plugin=\"video\"]') && document.querySelector('#browsers [data-browser=\"0\"]')",
        Duration::from_secs(10),
    );
    let memory =
        dashboard.eval("document.querySelector('#browsers [data-browser=\"0\"]').textContent");
    assert!(memory.as_str().unwrap().contains("MiB"), "{memory}");

    submit(&server, &http, &slow_recording("dash-rec", 240), None);

    // Running: a card with the job's stage, a progress bar that moved, and the live frame.
    let card = "#active .job[data-job=\"dash-rec\"]";
    dashboard.wait_for(
        &format!("document.querySelector('{card}')"),
        Duration::from_secs(60),
    );
    dashboard.wait_for(
        &format!(
            "(() => {{ const c = document.querySelector('{card}'); if (!c) return false; \
             return c.querySelector('.stage').textContent.startsWith('recording') \
             && parseFloat(c.querySelector('.bar span').style.width) > 10; }})()"
        ),
        Duration::from_secs(60),
    );
    dashboard.wait_for(
        &format!(
            "(() => {{ const i = document.querySelector('{card} img.preview'); \
             return i && i.complete && i.naturalWidth === 96; }})()"
        ),
        Duration::from_secs(60),
    );
    let running = dashboard.eval("document.getElementById('counts').textContent");
    assert!(running.as_str().unwrap().starts_with("1/"), "{running}");

    // Finished: gone from the running jobs, in the recent ones with its thumbnail (the poster),
    // its size and its run time.
    let job = wait_final(&server, &http, "dash-rec", Duration::from_secs(120));
    assert_eq!(job["status"], "succeeded", "{job}");
    let row = "#recent li[data-job=\"dash-rec\"]";
    dashboard.wait_for(
        &format!(
            "(() => {{ const i = document.querySelector('{row} img.thumb'); \
             return i && i.complete && i.naturalWidth === 96 && !document.querySelector('{card}'); }})()"
        ),
        Duration::from_secs(30),
    );
    let text = dashboard.eval(&format!("document.querySelector('{row}').textContent"));
    let text = text.as_str().unwrap();
    assert!(
        text.contains("succeeded")
            && (text.contains(" KB") || text.contains(" MB"))
            && text.contains(" s ·"),
        "{text}"
    );
    let thumbnail = dashboard.eval(&format!(
        "document.querySelector('{row} img.thumb').getAttribute('src')"
    ));
    assert_eq!(thumbnail, "/jobs/dash-rec/artifacts/poster.png");
    // The last hour counts it.
    dashboard.wait_for(
        "document.getElementById('throughput').textContent.includes('1 ok') && document.querySelectorAll('#throughput rect.ok').length === 1",
        Duration::from_secs(10),
    );

    // The screenshot shows the page drawn: the thumbnail's colours, not only the background.
    let shot = dashboard.screenshot();
    let background = *shot.get_pixel(2, shot.height() - 2);
    let thumb_box = dashboard.eval(&format!(
        "(() => {{ const r = document.querySelector('{row} img.thumb').getBoundingClientRect(); \
         return [r.x * devicePixelRatio, r.y * devicePixelRatio, r.width * devicePixelRatio, r.height * devicePixelRatio]; }})()"
    ));
    let [x, y, w, h] = [0, 1, 2, 3].map(|i| thumb_box[i].as_f64().unwrap() as u32);
    assert!(w > 0 && h > 0, "the thumbnail is drawn at {thumb_box}");
    let differing = shot
        .enumerate_pixels()
        .filter(|(_, _, p)| **p != background)
        .count();
    assert!(
        differing > (shot.width() * shot.height() / 50) as usize,
        "only {differing} pixels differ from the background {background:?}"
    );
    let centre = *shot.get_pixel(
        (x + w / 2).min(shot.width() - 1),
        (y + h / 2).min(shot.height() - 1),
    );
    assert!(
        centre[0] > 200 && centre[1] > 180 && centre[2] < 120,
        "the thumbnail's centre (the poster's yellow circle) is {centre:?}"
    );

    let problems = dashboard.problems();
    assert!(
        problems.is_empty(),
        "the page reported problems: {problems:#?}"
    );
}

#[test]
fn admin_actions_from_the_page_carry_the_operators_token_and_are_refused_without_it() {
    let dir = TestDir::new();
    let server = Server::start(
        dir.path(),
        "[service]\nadmin_token = \"adm1n\"\nsubmit_tokens = [\"sub\"]\n[jobs]\ntimeout_ms = 120000\n",
    );
    let http = client();
    let dashboard = Dashboard::open(&server);
    dashboard.wait_for(
        "document.getElementById('conn').dataset.state === 'live'",
        Duration::from_secs(30),
    );
    submit(
        &server,
        &http,
        &slow_recording("dash-cancel", 3000),
        Some("sub"),
    );
    let card = "#active .job[data-job=\"dash-cancel\"]";
    dashboard.wait_for(
        &format!("document.querySelector('{card}')"),
        Duration::from_secs(60),
    );

    // Without a token: refused by the route, said on the page, and the job runs on.
    dashboard.click(&format!("{card} button.cancel"));
    dashboard.wait_for(
        "document.getElementById('notice').textContent.includes('401')",
        Duration::from_secs(10),
    );
    let (_, job) = body(http.get(server.url("/jobs/dash-cancel")).send().unwrap());
    assert_eq!(job["status"], "running", "{job}");
    // The dead letters' list is an admin route too: the page asks for the token instead.
    let (status, _) = body(http.get(server.url("/dead-letters")).send().unwrap());
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = body(http.delete(server.url("/api/frozen/$roz")).send().unwrap());
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // With the admin token typed in: the same button cancels it.
    dashboard.eval("document.getElementById('token').value = 'adm1n'");
    dashboard.click("#token-use");
    assert_eq!(
        dashboard.eval("sessionStorage.getItem('kiln.adminToken')"),
        "adm1n"
    );
    dashboard.click(&format!("{card} button.cancel"));
    let job = wait_final(&server, &http, "dash-cancel", Duration::from_secs(60));
    assert_eq!(job["status"], "cancelled", "{job}");
    dashboard.wait_for(
        "document.querySelector('#recent li[data-job=\"dash-cancel\"][data-status=\"cancelled\"]')",
        Duration::from_secs(30),
    );
    // With the token, the page lists the dead letters (none here) without a refusal.
    dashboard.wait_for(
        "!document.getElementById('notice').textContent.includes('401')",
        Duration::from_secs(10),
    );

    // The only errors the page saw are the refusal it was meant to get (the browser logs a 401
    // answer as a failed resource).
    let problems: Vec<String> = dashboard
        .problems()
        .into_iter()
        .filter(|p| !(p.starts_with("log error") && p.contains("401")))
        .collect();
    assert!(
        problems.is_empty(),
        "the page reported problems: {problems:#?}"
    );
}

#[test]
fn status_views_for_admins_need_the_token_once_per_browser_and_grant_nothing_else() {
    let dir = TestDir::new();
    let server = Server::start(
        dir.path(),
        "[service]\nadmin_token = \"adm1n\"\nstatus_views = \"admin\"\n",
    );
    let http = client();
    let views = [
        "/",
        "/dashboard/snapshot",
        "/dashboard/events",
        "/dashboard/preview/nothing",
        "/status",
        "/grab-status",
    ];
    for view in views {
        let (status, answer) = body(http.get(server.url(view)).send().unwrap());
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{view}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("/?token="),
            "{view}: {answer}"
        );
    }
    for view in ["/dashboard/snapshot", "/status", "/grab-status"] {
        let response = http
            .get(server.url(view))
            .bearer_auth("adm1n")
            .send()
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{view} with the token");
    }
    // Health, readiness and the jobs themselves are not status views.
    let response = http.get(server.url("/health")).send().unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let no_redirects = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (status, _) = body(
        no_redirects
            .get(server.url("/?token=wrong"))
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let signed_in = no_redirects
        .get(server.url("/?token=adm1n"))
        .send()
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()["location"], "/");
    let set_cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("Path=/"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert!(
        cookie.starts_with("kiln_status=") && !cookie.contains("adm1n"),
        "{cookie}"
    );
    let response = http
        .get(server.url("/grab-status"))
        .header("cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the cookie reads the views"
    );
    // The cookie's value is no token: the admin routes refuse it.
    let value = cookie.trim_start_matches("kiln_status=");
    let (status, _) = body(
        http.get(server.url("/dead-letters"))
            .bearer_auth(value)
            .header("cookie", &cookie)
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // In a browser: one visit with the token, then the page follows the service live (its
    // event stream passes on the cookie) with no refusal logged.
    let dashboard = Dashboard::open_at(&server, "/?token=adm1n");
    dashboard.wait_for(
        "location.pathname === '/' && location.search === '' \
         && document.getElementById('conn').dataset.state === 'live'",
        Duration::from_secs(30),
    );
    let problems = dashboard.problems();
    assert!(
        problems.is_empty(),
        "the page reported problems: {problems:#?}"
    );

    // Views for admins without an admin token: refused, saying what to set.
    let dir = TestDir::new();
    let server = Server::start(dir.path(), "[service]\nstatus_views = \"admin\"\n");
    let (status, answer) = body(http.get(server.url("/status")).send().unwrap());
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert!(
        answer.to_string().contains("service.admin_token"),
        "{answer}"
    );
}
