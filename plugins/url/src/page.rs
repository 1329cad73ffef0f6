//! Opens the piece's page on the virtual clock and brings it to the moment of capture.

use crate::input::Plan;
use kiln_sdk::browser::{self, Page, PageOptions};
use kiln_sdk::host::{self, LogLevel};
use kiln_sdk::{Error, ErrorKind};

const READY_JS: &str = include_str!("ready.js");
/// The page made its canvas.
const CANVAS: &str = "() => !!document.querySelector('canvas')";
/// The page says the piece painted (aesthetic.computer's `disk.mjs` sets it on the first paint).
const READY: &str = "() => window.acPieceReady === true";
/// The longest one waiting call may take: DevTools gives up on a call after 30 s.
const SLICE_MS: u32 = 5_000;

/// Opens the page of the piece (the host fetches it from the site behind the job's origin),
/// waits for its canvas and its ready signal, and runs it for the settle time.
pub fn open(plan: &Plan, seed: Option<u64>) -> Result<Page, Error> {
    let page = browser::open(PageOptions {
        width: plan.width,
        height: plan.height,
        scale: plan.density,
        seed,
    })?;
    page.use_virtual_time()?;
    page.navigate(&plan.path).map_err(|err| match err.kind {
        ErrorKind::Timeout => Error::timeout(format!(
            "the page {} did not finish loading: {}",
            plan.path, err.message
        )),
        _ => err,
    })?;
    if let Some(status) = not_found(&page)? {
        return Err(Error::invalid_input(format!(
            "the site has no piece at {}: {status} (is the plugin granted the site? \
             plugins.per_plugin.url.network)",
            plan.path
        )));
    }
    if !wait_for(&page, CANVAS, plan.canvas_timeout_ms)? {
        return Err(Error::timeout(format!(
            "the page {} made no <canvas> within {} ms (canvasTimeoutMs)",
            plan.path, plan.canvas_timeout_ms
        )));
    }
    if !wait_for(&page, READY, plan.ready_timeout_ms)? {
        host::log(
            LogLevel::Warn,
            &format!(
                "the page did not set window.acPieceReady = true within {} ms; capturing \
                 anyway, as the oven did",
                plan.ready_timeout_ms
            ),
        );
        // What the oven did when the signal never came: hide the boot screen and go on.
        page.evaluate(
            "(() => { const b = document.getElementById('boot-canvas'); \
               if (b) b.style.display = 'none'; return true; })()",
        )?;
    }
    page.evaluate(&format!("({READY_JS}).settle({})", plan.settle_ms))?;
    Ok(page)
}

/// Steps the virtual clock until `test` holds in the page or `budget_ms` of real time passed;
/// says whether it held.
fn wait_for(page: &Page, test: &str, budget_ms: u32) -> Result<bool, Error> {
    let mut left = budget_ms;
    loop {
        let slice = left.min(SLICE_MS);
        let held = page.evaluate(&format!("({READY_JS}).until({test}, {slice})"))?;
        if held == "true" {
            return Ok(true);
        }
        left -= slice;
        if left == 0 {
            return Ok(false);
        }
    }
}

/// The page's own words when the navigation answered an error page (the site's 404, or the
/// host's "serves nothing" when the site is not granted).
fn not_found(page: &Page) -> Result<Option<String>, Error> {
    let answer = page.evaluate(
        "(() => { const e = performance.getEntriesByType('navigation')[0]; \
           return e && e.responseStatus >= 400 ? `HTTP ${e.responseStatus}` : null; })()",
    )?;
    Ok((answer != "null").then(|| answer.trim_matches('"').to_string()))
}
