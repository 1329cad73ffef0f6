//! What a job does with a page: serve files, navigate, wait, evaluate, capture.
//!
//! Every operation is bounded by the job's deadline. A page that times out, or whose renderer
//! crashed, is tainted and replaced after the job instead of being reused.

use super::pool::{BrowserPool, PageLease};
use super::shim::init_script;
use super::slot::PageErrorRecord as SlotError;
use crate::error::RenderError;
use crate::jobs::JobContext;
use crate::media::{HostImage, ImageFormat};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chromiumoxide::cdp::browser_protocol::emulation::{
    SetDeviceMetricsOverrideParams, SetScriptExecutionDisabledParams,
};
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, CaptureScreenshotFormat, CaptureScreenshotParams,
    EventLoadEventFired, NavigateParams, RemoveScriptToEvaluateOnNewDocumentParams, Viewport,
};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::error::CdpError;
use futures::StreamExt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

pub use super::slot::PageErrorRecord;

/// Largest total of files one page may serve.
const MAX_SERVED_BYTES: usize = 64 << 20;

/// How a page is opened.
#[derive(Debug, Clone, Copy)]
pub struct PageOptions {
    pub width: u32,
    pub height: u32,
    pub scale: f32,
    pub seed: Option<u64>,
}

/// Where a capture reads pixels from.
#[derive(Debug, Clone)]
pub enum CaptureSource {
    Viewport,
    Canvas(String),
}

/// A page leased to one job.
pub struct JobPage {
    pub(super) lease: PageLease,
    pub(super) job: Arc<JobContext>,
    options: PageOptions,
    /// Marks the job's documents for the shim (see `shim.rs`).
    nonce: String,
    /// Whether the page runs on Kiln's virtual clock (see `clock.js`).
    virtual_time: bool,
}

impl JobPage {
    /// Checks the options against the job's limits, leases a page and prepares it.
    pub async fn open(
        pool: &Arc<BrowserPool>,
        job: Arc<JobContext>,
        options: PageOptions,
    ) -> Result<Self, RenderError> {
        check_options(&options, &job)?;
        let waited = Instant::now();
        let lease = pool.acquire(job.deadline).await?;
        tracing::debug!(
            ms = waited.elapsed().as_secs_f64() * 1e3,
            "page: waiting for a free page"
        );
        lease.slot().shared.current().log = Some(job.log.clone());
        let page = Self {
            lease,
            job,
            options,
            nonce: uuid::Uuid::new_v4().simple().to_string(),
            virtual_time: false,
        };
        let slot = page.lease.slot();
        let viewport = (options.width, options.height, options.scale.to_bits());
        if slot
            .viewport
            .lock()
            .expect("viewport lock")
            .replace(viewport)
            != Some(viewport)
        {
            let metrics = SetDeviceMetricsOverrideParams::new(
                i64::from(options.width),
                i64::from(options.height),
                f64::from(options.scale),
                false,
            );
            page.cdp("setting the viewport", slot.page.execute(metrics))
                .await?;
        }
        page.install_shim().await?;
        Ok(page)
    }

    /// Registers the shim for the job's documents, replacing the one registered before.
    async fn install_shim(&self) -> Result<(), RenderError> {
        let slot = self.lease.slot();
        // Cleared once both commands are answered; if this future is dropped in between, the
        // page is replaced when it is retired (see `SlotJob::init_script_unsettled`).
        slot.shared.current().init_script_unsettled = true;
        let previous = slot.shared.current().init_script.take();
        if let Some(identifier) = previous {
            self.cdp(
                "replacing the page shim",
                slot.page
                    .execute(RemoveScriptToEvaluateOnNewDocumentParams::new(identifier)),
            )
            .await?;
        }
        let script = init_script(
            self.options.seed,
            &self.nonce,
            self.virtual_time,
            slot.shared.max_console_lines as u32,
        );
        let script = self
            .cdp(
                "installing the page shim",
                slot.page
                    .execute(AddScriptToEvaluateOnNewDocumentParams::new(script)),
            )
            .await?;
        let mut current = slot.shared.current();
        current.init_script = Some(script.result.identifier);
        current.init_script_unsettled = false;
        Ok(())
    }

    /// Puts the job's documents on the virtual clock. Only before the first navigation: a
    /// document already running on real time cannot be moved onto it consistently.
    pub async fn use_virtual_time(&mut self) -> Result<(), RenderError> {
        if self.lease.slot().shared.current().origin.is_some() {
            return Err(RenderError::invalid_input(
                "use-virtual-time must come before navigate: the document is already running on real time",
            ));
        }
        if !self.virtual_time {
            self.virtual_time = true;
            self.install_shim().await?;
        }
        Ok(())
    }

    /// Whether the page runs on the virtual clock.
    pub fn has_virtual_time(&self) -> bool {
        self.virtual_time
    }

    /// The options the page was opened with.
    pub fn options(&self) -> &PageOptions {
        &self.options
    }

    /// Lets this job's pages reach what `grant` allows (see `network.rs`); without it they reach
    /// only their own files and the libraries.
    pub fn grant_network(&self, grant: Option<super::NetworkGrant>) {
        self.lease.slot().shared.current().network = grant;
    }

    /// Serves `body` at `path` on this job's origin.
    pub fn serve(&self, path: &str, content_type: &str, body: Vec<u8>) -> Result<(), RenderError> {
        if !path.starts_with('/') || path.contains(['?', '#']) {
            return Err(RenderError::invalid_input(format!(
                "cannot serve at {path:?}: paths start with '/' and carry no query or fragment"
            )));
        }
        if path.starts_with(super::LIBRARY_PATH) {
            return Err(RenderError::invalid_input(format!(
                "cannot serve at {path:?}: {} is where the host serves its libraries",
                super::LIBRARY_PATH
            )));
        }
        let mut job = self.lease.slot().shared.current();
        let total: usize = job.files.values().map(|(_, b)| b.len()).sum::<usize>() + body.len();
        if total > MAX_SERVED_BYTES {
            return Err(RenderError::invalid_input(format!(
                "serving {path} would put {total} bytes on this page, over the limit of {MAX_SERVED_BYTES}"
            )));
        }
        job.files
            .insert(path.to_string(), (content_type.to_string(), body.into()));
        Ok(())
    }

    /// The origin of this job's document. The job's first navigation takes one from the page's
    /// origin ring (see `origins.rs`).
    fn origin_for_navigation(&self) -> String {
        let slot = self.lease.slot();
        let mut job = slot.shared.current();
        if let Some(origin) = &job.origin {
            return origin.clone();
        }
        let pool = self.lease.pool();
        let origin = slot
            .origins
            .lock()
            .expect("origin ring lock")
            .enter(|| pool.fresh_origin());
        job.origin = Some(origin.clone());
        origin
    }

    /// Until the job navigates, the page still shows the previous job's document: nothing may
    /// look at it.
    pub(super) fn require_document(&self, what: &str) -> Result<(), RenderError> {
        if self.lease.slot().shared.current().origin.is_none() {
            return Err(RenderError::invalid_input(format!(
                "{what} needs this job's document: serve a page and call navigate first"
            )));
        }
        Ok(())
    }

    /// Navigates to `path` on the job's origin and waits for the load event.
    pub async fn navigate(&self, path: &str) -> Result<(), RenderError> {
        if !path.starts_with('/') {
            return Err(RenderError::invalid_input(format!(
                "navigate takes an absolute path like /index.html, not {path:?}"
            )));
        }
        let slot = self.lease.slot();
        let mut loaded = self
            .cdp(
                "navigating",
                slot.page.event_listener::<EventLoadEventFired>(),
            )
            .await?;
        if slot.shared.scripts_off.load(Ordering::SeqCst) {
            // The new document would inherit the finished job's switch (see `retire`).
            self.cdp(
                "switching scripts back on",
                slot.page
                    .execute(SetScriptExecutionDisabledParams::new(false)),
            )
            .await?;
            slot.shared.scripts_off.store(false, Ordering::SeqCst);
        }
        let origin = self.origin_for_navigation();
        let url = format!("{origin}{path}");
        slot.shared.current().expected_navigation = Some(url.clone());
        // chromiumoxide answers a `Page.navigate` only once every frame of the page has fired
        // `load`, and sends no later `Page.navigate` of the page before then (or its own 30 s
        // timeout). A frame Chromium refused to load (an iframe of a `file:` URL) never does,
        // though the document's own load event fires. So the document's load event is what is
        // waited for; the answer is read if it comes first, and while it has not come the page
        // cannot be reused (see `retire` in pool.rs).
        let (answer_tx, mut answer) = tokio::sync::oneshot::channel();
        let (page, shared) = (slot.page.clone(), slot.shared.clone());
        shared.navigation_pending.store(true, Ordering::SeqCst);
        tokio::spawn(async move {
            let response = page.execute(NavigateParams::new(url)).await;
            shared.navigation_pending.store(false, Ordering::SeqCst);
            let _ = answer_tx.send(response);
        });
        let mut answered = false;
        let wait = async {
            loop {
                let trouble = slot.shared.trouble.notified();
                if let Some(error) = self.fatal() {
                    return Err(error);
                }
                tokio::select! {
                    response = &mut answer, if !answered => {
                        answered = true;
                        match response {
                            Ok(Ok(response)) => {
                                if let Some(error) = &response.result.error_text {
                                    return Err(RenderError::piece_failed(format!(
                                        "navigating to {path} failed: {error}"
                                    )));
                                }
                            }
                            Ok(Err(err)) => return Err(self.cdp_error("navigating", err)),
                            Err(_) => return Err(self.lost("navigating")),
                        }
                    }
                    event = loaded.next() => {
                        return event.map(|_| ()).ok_or_else(|| self.lost("waiting for the page to load"));
                    }
                    _ = trouble => continue,
                }
            }
        };
        self.before_deadline(
            &format!(
                "loading {path} (a script may loop forever, or the page never finishes loading)"
            ),
            wait,
        )
        .await?
    }

    /// Waits until `expression` is truthy, failing at once if the page throws.
    pub async fn wait_until(&self, expression: &str, timeout: Duration) -> Result<(), RenderError> {
        self.require_document("wait-until")?;
        let slot = self.lease.slot();
        let poll = format!(
            "new Promise((resolve, reject) => {{ const check = () => {{ let ok; \
               try {{ ok = ({expression}); }} catch (e) {{ reject(e); return; }} \
               if (ok) resolve(true); else wait(check, 4); }}; \
               const wait = window.__kilnClock ? window.__kilnClock.native.setTimeout : setTimeout; check(); }})"
        );
        let evaluate = slot.page.execute(
            EvaluateParams::builder()
                .expression(poll)
                .await_promise(true)
                .return_by_value(true)
                .build()
                .map_err(RenderError::internal)?,
        );
        tokio::pin!(evaluate);
        let wait = async {
            loop {
                let trouble = slot.shared.trouble.notified();
                if let Some(error) = self.fatal() {
                    return Err(error);
                }
                if let Some(error) = self.first_error() {
                    return Err(RenderError::piece_failed(format!(
                        "the page threw: {error}"
                    )));
                }
                tokio::select! {
                    result = &mut evaluate => {
                        if let Some(error) = self.fatal() {
                            return Err(error);
                        }
                        let response = result.map_err(|e| self.cdp_error("waiting for the page", e))?;
                        if let Some(details) = response.result.exception_details {
                            let text = details.exception.and_then(|e| e.description).unwrap_or(details.text);
                            return Err(RenderError::piece_failed(format!("the wait condition threw: {}", first_line(&text))));
                        }
                        return match self.first_error() {
                            Some(error) => Err(RenderError::piece_failed(format!("the page threw: {error}"))),
                            None => Ok(()),
                        };
                    }
                    _ = trouble => continue,
                }
            }
        };
        let waited = timeout.min(self.job.remaining());
        tokio::select! {
            result = wait => result,
            _ = tokio::time::sleep(waited) => {
                self.lease.taint();
                Err(RenderError::timeout(format!("waited {} ms for `{expression}` to become true", waited.as_millis())))
            }
            _ = self.lease.slot().browser.exited() => Err(self.crash_error()),
        }
    }

    /// Evaluates `expression` (awaiting promises) and returns its JSON value.
    pub async fn evaluate(&self, expression: &str) -> Result<serde_json::Value, RenderError> {
        self.require_document("evaluate")?;
        let params = EvaluateParams::builder()
            .expression(expression)
            .await_promise(true)
            .return_by_value(true)
            .build()
            .map_err(RenderError::internal)?;
        let response = self
            .cdp("evaluating", self.lease.slot().page.execute(params))
            .await?;
        if let Some(details) = response.result.exception_details {
            let text = details
                .exception
                .and_then(|e| e.description)
                .unwrap_or(details.text);
            return Err(RenderError::piece_failed(format!(
                "evaluation threw: {}",
                first_line(&text)
            )));
        }
        Ok(response
            .result
            .result
            .value
            .unwrap_or(serde_json::Value::Null))
    }

    /// Captures pixels as an encoded image.
    pub async fn capture(
        &self,
        source: &CaptureSource,
        format: ImageFormat,
        quality: Option<u8>,
    ) -> Result<HostImage, RenderError> {
        self.require_document("capture")?;
        let quality = quality.map(|q| q.clamp(1, 100));
        let bytes = match source {
            CaptureSource::Viewport => self.screenshot(format, quality, None).await?,
            CaptureSource::Canvas(selector) => self.read_canvas(selector, format, quality).await?,
        };
        HostImage::from_encoded(bytes.into(), format)
    }

    /// The viewport, or the `clip` rectangle of it (CSS pixels), as an encoded image.
    pub(super) async fn screenshot(
        &self,
        format: ImageFormat,
        quality: Option<u8>,
        clip: Option<Viewport>,
    ) -> Result<Vec<u8>, RenderError> {
        let (cdp_format, quality) = match format {
            ImageFormat::Png => (CaptureScreenshotFormat::Png, None),
            ImageFormat::Jpeg => (
                CaptureScreenshotFormat::Jpeg,
                Some(i64::from(quality.unwrap_or(90))),
            ),
            ImageFormat::Webp => (
                CaptureScreenshotFormat::Webp,
                Some(i64::from(quality.unwrap_or(90))),
            ),
        };
        let params = CaptureScreenshotParams {
            format: Some(cdp_format),
            quality,
            clip,
            from_surface: Some(true),
            capture_beyond_viewport: Some(false),
            // Lossless either way: it only lowers PNG compression effort.
            optimize_for_speed: Some(true),
        };
        let response = self
            .cdp(
                "capturing the viewport",
                self.lease.slot().page.execute(params),
            )
            .await?;
        BASE64
            .decode(AsRef::<str>::as_ref(&response.result.data))
            .map_err(|e| {
                RenderError::internal(format!(
                    "the browser returned a screenshot that is not base64: {e}"
                ))
            })
    }

    pub(super) async fn read_canvas(
        &self,
        selector: &str,
        format: ImageFormat,
        quality: Option<u8>,
    ) -> Result<Vec<u8>, RenderError> {
        self.read_canvas_after(None, selector, format, quality)
            .await
    }

    /// Reads the canvas `selector` matches as `format`, in one evaluation that first awaits the
    /// JS expression `first` when given (a recording advances the clock there).
    pub(super) async fn read_canvas_after(
        &self,
        first: Option<&str>,
        selector: &str,
        format: ImageFormat,
        quality: Option<u8>,
    ) -> Result<Vec<u8>, RenderError> {
        let selector_js = serde_json::to_string(selector).expect("a string serializes");
        let quality_js = f64::from(quality.unwrap_or(90)) / 100.0;
        let mime = format.content_type();
        let max_pixels = self.job.limits.max_pixels;
        // The canvas is checked before it is read: one over the pixel cap (Chromium gives it no
        // pixels, so it would read blank) or whose context is lost (blank too) fails the capture.
        let expression = format!(
            "Promise.resolve({}).then(() => {{ const c = document.querySelector({selector_js}); \
               if (!c) return {{ error: 'no element matches' }}; \
               if (!(c instanceof HTMLCanvasElement)) return {{ error: 'the element is a ' + c.tagName.toLowerCase() + ', not a canvas' }}; \
               if (c.width * c.height > {max_pixels}) return {{ error: `it is ${{c.width}}×${{c.height}} pixels (${{c.width * c.height}}), over the cap of {max_pixels} (jobs.max_pixels), so Chromium gives it no pixels to draw` }}; \
               const ctx = window.__kilnContextOf && window.__kilnContextOf(c); \
               if (ctx && typeof ctx.isContextLost === 'function' && ctx.isContextLost()) return {{ error: (typeof WebGLRenderingContext !== 'undefined' && (ctx instanceof WebGLRenderingContext || (typeof WebGL2RenderingContext !== 'undefined' && ctx instanceof WebGL2RenderingContext)) ? 'it lost its WebGL context' : 'it lost its 2D context') + ' (the piece called loseContext, or the renderer dropped it), so it holds nothing to read' }}; \
               return {{ url: c.toDataURL('{mime}', {quality_js}) }}; }})",
            first.unwrap_or("undefined")
        );
        let value = self.evaluate(&expression).await?;
        if let Some(error) = value.get("error").and_then(|e| e.as_str()) {
            return Err(RenderError::piece_failed(format!(
                "cannot capture canvas {selector:?}: {error}"
            )));
        }
        let url = value
            .get("url")
            .and_then(|u| u.as_str())
            .unwrap_or_default();
        if url == "data:," {
            return Err(RenderError::piece_failed(format!(
                "canvas {selector:?} has no pixels to read (is it zero-sized?)"
            )));
        }
        let prefix = format!("data:{mime};base64,");
        let data = url.strip_prefix(&prefix).ok_or_else(|| {
            RenderError::internal(format!(
                "the browser could not encode canvas {selector:?} as {mime}"
            ))
        })?;
        BASE64
            .decode(data)
            .map_err(|e| RenderError::internal(format!("canvas data URL is not base64: {e}")))
    }

    /// Uncaught errors so far.
    pub fn errors(&self) -> Vec<SlotError> {
        self.lease.slot().shared.current().errors.clone()
    }

    /// Console and browser log lines so far, as `(level, text)`.
    pub fn console(&self) -> Vec<(String, String)> {
        self.lease.slot().shared.current().console.clone()
    }

    fn first_error(&self) -> Option<SlotError> {
        self.error_at(0)
    }

    /// The uncaught error number `index` (from 0), if there are that many.
    pub(super) fn error_at(&self, index: usize) -> Option<SlotError> {
        self.lease
            .slot()
            .shared
            .current()
            .errors
            .get(index)
            .cloned()
    }

    /// How many uncaught errors the page has had.
    pub(super) fn error_count(&self) -> usize {
        self.lease.slot().shared.current().errors.len()
    }

    pub(super) fn crashed(&self) -> bool {
        self.lease.slot().shared.current().crashed || !self.lease.slot().browser.is_alive()
    }

    /// Why the page cannot go on, if it cannot: its renderer or browser is gone, or the piece
    /// navigated away from the document the plugin opened.
    pub(super) fn fatal(&self) -> Option<RenderError> {
        let slot = self.lease.slot();
        let navigated = slot.shared.current().navigated_away.clone();
        if let Some(url) = navigated {
            self.lease.taint();
            return Some(RenderError::piece_failed(format!(
                "the piece tried to navigate to {url}: a piece must stay on the page its plugin \
                 opened (no changes of location, reloads, meta refreshes or form submissions)"
            )));
        }
        self.crashed().then(|| self.crash_error())
    }

    pub(super) fn crash_error(&self) -> RenderError {
        self.lease.taint();
        let slot = self.lease.slot();
        if !slot.browser.is_alive() {
            return RenderError::unavailable(
                "the browser process rendering this page crashed; the job will be retried",
            );
        }
        match slot.shared.current().killed_for_memory {
            Some(held) => RenderError::piece_failed(format!(
                "the page used more than {} MiB of memory (jobs.max_page_memory_mib; its renderer \
                 held {held} MiB when it was stopped)",
                slot.browser.renderer_budget_mib()
            )),
            None => RenderError::unavailable(
                "the page's renderer process crashed or was killed; the job will be retried",
            ),
        }
    }

    fn lost(&self, what: &str) -> RenderError {
        self.lease.taint();
        RenderError::unavailable(format!("lost the browser while {what}"))
    }

    fn cdp_error(&self, what: &str, err: CdpError) -> RenderError {
        self.lease.taint();
        match err {
            CdpError::Chrome(e) => RenderError::internal(format!("Chromium refused {what}: {e}")),
            other => RenderError::unavailable(format!("lost the browser while {what}: {other}")),
        }
    }

    /// Runs a DevTools call, bounded by the job's deadline.
    async fn cdp<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, CdpError>>,
    ) -> Result<T, RenderError> {
        match self.before_deadline(what, call).await? {
            Ok(value) => Ok(value),
            // A call dropped by the DevTools connection as the deadline passes (seen as
            // "oneshot canceled" while a page looped forever) is the deadline's doing, not a lost
            // browser: report the timeout, which is not retried.
            Err(CdpError::Chrome(e)) => Err(self.cdp_error(what, CdpError::Chrome(e))),
            Err(_) if Instant::now() >= self.job.deadline => Err(self.deadline_passed(what)),
            Err(e) => Err(self.cdp_error(what, e)),
        }
    }

    fn deadline_passed(&self, what: &str) -> RenderError {
        self.lease.taint();
        RenderError::timeout(format!(
            "{what} did not finish within the job's {} ms (jobs.timeout_ms)",
            self.job.limits.timeout.as_millis()
        ))
    }

    /// Runs `work` until it finishes, the job's deadline passes (`timeout`), or the page cannot go
    /// on (see [`Self::fatal`]: DevTools calls in flight when a renderer or browser dies are never
    /// answered, so this does not wait for them).
    pub(super) async fn before_deadline<T>(
        &self,
        what: &str,
        work: impl Future<Output = T>,
    ) -> Result<T, RenderError> {
        let started = Instant::now();
        let _took = defer(move || {
            tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "page: {what}")
        });
        let slot = self.lease.slot();
        tokio::pin!(work);
        loop {
            let trouble = slot.shared.trouble.notified();
            if let Some(error) = self.fatal() {
                return Err(error);
            }
            tokio::select! {
                done = &mut work => return Ok(done),
                _ = tokio::time::sleep_until(self.job.deadline.into()) => return Err(self.deadline_passed(what)),
                _ = slot.browser.exited() => return Err(self.crash_error()),
                // A page error, a crash or a navigation: only the last two end the work.
                _ = trouble => continue,
            }
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// Refuses sizes the host will not render, naming the field.
fn check_options(options: &PageOptions, job: &JobContext) -> Result<(), RenderError> {
    let limits = job.limits;
    for (field, value) in [("width", options.width), ("height", options.height)] {
        if value == 0 || value > limits.max_dimension {
            return Err(RenderError::invalid_input(format!(
                "page {field} {value} is outside 1..={} (jobs.max_dimension)",
                limits.max_dimension
            )));
        }
    }
    if !options.scale.is_finite() || !(0.1..=8.0).contains(&options.scale) {
        return Err(RenderError::invalid_input(format!(
            "page scale {} is outside 0.1..=8",
            options.scale
        )));
    }
    let scale = f64::from(options.scale);
    let pixels = f64::from(options.width) * f64::from(options.height) * scale * scale;
    if pixels > limits.max_pixels as f64 {
        return Err(RenderError::invalid_input(format!(
            "page of {}×{} at scale {} is {pixels:.0} pixels, over the cap of {} (jobs.max_pixels)",
            options.width, options.height, options.scale, limits.max_pixels
        )));
    }
    Ok(())
}

/// Runs `f` when dropped: logs how long an operation took however it ended.
fn defer(f: impl FnOnce()) -> impl Drop {
    struct Deferred<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Deferred<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Deferred(Some(f))
}
