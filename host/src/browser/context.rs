//! The `browser` capability's per-job state: whether the plugin may open pages, the pool it opens
//! them from, and how many it has open.

use super::pool::BrowserPool;
use crate::error::RenderError;
use crate::jobs::JobContext;
use std::sync::Arc;
use wasmtime::component::{HasData, ResourceTable};

/// One job's use of the Chromium pool.
pub struct BrowserCtx {
    pub(super) job: Arc<JobContext>,
    /// `None` in a process started without browsers (`kiln serve --api-only`).
    pool: Option<Arc<BrowserPool>>,
    /// Whether the plugin declared (and was granted) the `browser` capability.
    granted: bool,
    /// Whether it may record (`page.record` streams into the media encoders).
    media_granted: bool,
    max_pages: u32,
    pages_open: u32,
    /// What the plugin's pages may reach besides their own files.
    network: Option<super::NetworkGrant>,
}

impl BrowserCtx {
    /// The context of one job: `granted` and `media_granted` say which of the `browser` and
    /// `media` capabilities the plugin holds; it may have `max_pages` pages open at once.
    pub fn new(
        job: Arc<JobContext>,
        pool: Option<Arc<BrowserPool>>,
        granted: bool,
        media_granted: bool,
        max_pages: u32,
    ) -> Self {
        Self {
            job,
            pool,
            granted,
            media_granted,
            max_pages,
            pages_open: 0,
            network: None,
        }
    }

    /// The context with the plugin's `network` grant, given to every page it opens.
    pub fn with_network(mut self, grant: Option<super::NetworkGrant>) -> Self {
        self.network = grant;
        self
    }

    /// The plugin's `network` grant.
    pub(super) fn network(&self) -> Option<super::NetworkGrant> {
        self.network.clone()
    }

    /// The pool, when the plugin may use it now.
    pub(super) fn pool(&self) -> Result<Arc<BrowserPool>, RenderError> {
        self.job.check_services_allowed()?;
        self.pool.clone().ok_or_else(|| {
            RenderError::unavailable(
                "this process runs no browsers (it was started API-only); the job needs a worker",
            )
        })
    }

    /// The libraries pages can load; none inside `describe` or without browsers.
    pub(super) fn pool_for_listing(&self) -> Option<&Arc<BrowserPool>> {
        self.job.check_services_allowed().ok()?;
        self.pool.as_ref()
    }

    /// Fails with `denied` unless the plugin holds the `browser` capability.
    pub(super) fn require_browser(&self) -> Result<(), RenderError> {
        RenderError::require_capability(self.granted, "browser", "browser")
    }

    /// Fails with `denied` unless the plugin holds the `media` capability (recordings).
    pub(super) fn require_media(&self) -> Result<(), RenderError> {
        RenderError::require_capability(self.media_granted, "media", "media")
    }

    /// Counts one more open page, or fails with `denied` at the plugin's limit.
    pub(super) fn reserve_page(&mut self) -> Result<(), RenderError> {
        if self.pages_open >= self.max_pages {
            return Err(RenderError::denied(format!(
                "this job already has {} page(s) open, the most its plugin may have at once \
                 (plugins.max_pages); drop a page before opening another",
                self.pages_open
            )));
        }
        self.pages_open += 1;
        Ok(())
    }

    /// Gives back a page counted by [`Self::reserve_page`].
    pub(super) fn release_page(&mut self) {
        self.pages_open = self.pages_open.saturating_sub(1);
    }

    /// Pages the job has open now.
    pub fn pages_open(&self) -> u32 {
        self.pages_open
    }
}

/// What the `browser` interface's host functions see: this job's browser state and the store's
/// resource table (pages, and the images and frames they make).
pub struct BrowserView<'a> {
    pub ctx: &'a mut BrowserCtx,
    pub table: &'a mut ResourceTable,
}

/// Links the `browser` interface to [`BrowserView`] (wasmtime's `HasData` pattern).
pub struct BrowserAccess;

impl HasData for BrowserAccess {
    type Data<'a> = BrowserView<'a>;
}

crate::impl_wit_types!(BrowserView<'_>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::jobs::{JobLimits, JobLog};
    use std::time::Duration;

    fn job() -> Arc<JobContext> {
        let limits = JobLimits::from(&crate::jobs::JobSettings::default());
        Arc::new(JobContext::new("j".into(), JobLog::default(), limits))
    }

    #[test]
    fn pages_are_counted_against_the_plugins_limit() {
        let mut ctx = BrowserCtx::new(job(), None, true, true, 2);
        ctx.reserve_page().unwrap();
        ctx.reserve_page().unwrap();
        let err = ctx.reserve_page().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Denied);
        assert!(err.message.contains("plugins.max_pages"), "{}", err.message);
        ctx.release_page();
        ctx.reserve_page().unwrap();
        assert_eq!(ctx.pages_open(), 2);
    }

    #[test]
    fn capabilities_and_services_are_checked_before_any_page() {
        let ctx = BrowserCtx::new(job(), None, false, false, 2);
        let err = ctx.require_browser().unwrap_err();
        assert!(
            err.message.contains("`browser` capability"),
            "{}",
            err.message
        );
        assert_eq!(ctx.require_media().unwrap_err().kind, ErrorKind::Denied);
        let err = ctx.pool().err().expect("no pool");
        assert_eq!(err.kind, ErrorKind::Unavailable);
        assert!(err.message.contains("API-only"), "{}", err.message);

        let describe = Arc::new(JobContext::for_describe(Duration::from_secs(1)));
        let ctx = BrowserCtx::new(describe, None, true, true, 2);
        let err = ctx.pool().err().expect("no pool");
        assert_eq!(err.kind, ErrorKind::Denied);
        assert!(err.message.contains("describe()"), "{}", err.message);
    }
}
