//! The Chromium pool and offline pages: the `browser` capability.
//!
//! - [`launch`]: starting one Chromium process with the flags that keep it offline and quiet, as an
//!   unprivileged user in its sandbox where the machine allows, driven over a pipe ([`devtools`]).
//! - [`procfs`]: what Kiln reads of Chromium's processes in `/proc` (liveness, renderer memory).
//! - [`pool`]: warm processes × pages, leases, retiring finished jobs' pages, crash replacement.
//! - [`slot`]: one warm page and the event listeners that route its traffic to the current job.
//! - [`intercept`]: every request a page makes — the job's origin and the libraries answer,
//!   everything else is refused and logged.
//! - [`page`]: what a plugin does with a page (serve, navigate, wait, evaluate, capture).
//! - [`record`]: frames on the virtual clock (`clock.js`) streamed into the encoders.
//! - [`libraries`]: p5.js and friends, installed from npm and served unmodified.

mod binding;
pub(crate) mod blackhole;
mod context;
mod devtools;
mod intercept;
pub(crate) mod launch;
mod libraries;
mod origins;
mod page;
mod pool;
mod procfs;
mod record;
mod settings;
pub(crate) mod shim;
mod slot;

pub use context::{BrowserAccess, BrowserCtx, BrowserView};
pub(crate) use intercept::{fulfil, library_headers};
pub use libraries::{Libraries, Library};
pub use page::{CaptureSource, JobPage, PageErrorRecord, PageOptions};
pub use pool::{BrowserPool, PageLimits};
pub use record::{RecordOptions, RecordSource};
pub use settings::BrowserSettings;

/// Job documents are served from origins `https://j<n>.kiln.invalid`, a few per page, reused only
/// once the document that used one is gone and its storage cleared (see `origins.rs`), so nothing
/// the web platform keys by origin (localStorage, IndexedDB, Cache Storage, BroadcastChannel)
/// reaches the next job. Cookies, which browsers share across origins of one site, are switched
/// off in pages (see `slot.rs` and `shim.rs`). `.invalid` never resolves, so nothing but
/// Kiln's interception can answer; https makes pages a secure context.
pub fn job_origin(n: u64) -> String {
    format!("https://j{n}.kiln.invalid")
}

/// Where libraries are served: this path on each job's own origin. Same-origin, so when a page's
/// origin ring comes back to an origin, Blink's memory cache still holds the library it loaded
/// there, compiled code included (a library at one shared URL is re-fetched and recompiled on every
/// origin change: the memory cache keeps one entry per URL, and a CORS entry only for the origin
/// that requested it; measured in docs/benchmarks.md).
pub const LIBRARY_PATH: &str = "/.kiln/lib/";

/// Splits a URL on any job origin into `(origin, path with query)`; `None` for any other URL.
pub fn split_job_url(url: &str) -> Option<(&str, &str)> {
    const PREFIX: &str = "https://j";
    const SUFFIX: &str = ".kiln.invalid";
    let rest = url.strip_prefix(PREFIX)?;
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    if digits == 0 {
        return None;
    }
    let after = rest[digits..].strip_prefix(SUFFIX)?;
    if !(after.is_empty() || after.starts_with('/')) {
        return None;
    }
    let origin_len = PREFIX.len() + digits + SUFFIX.len();
    Some((
        &url[..origin_len],
        if after.is_empty() { "/" } else { after },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_urls_split_into_origin_and_path() {
        assert_eq!(job_origin(7), "https://j7.kiln.invalid");
        assert_eq!(
            split_job_url("https://j7.kiln.invalid/a.js?x"),
            Some(("https://j7.kiln.invalid", "/a.js?x"))
        );
        assert_eq!(
            split_job_url("https://j12.kiln.invalid"),
            Some(("https://j12.kiln.invalid", "/"))
        );
        for other in [
            "https://j.kiln.invalid/",
            "https://j7.kiln.invalid.evil.com/",
            "https://j7.kiln.invalid@evil.com/",
            "http://j7.kiln.invalid/",
            "https://j7x.kiln.invalid/",
            "https://lib.kiln.invalid/p5.js",
            "file:///etc/passwd",
        ] {
            assert_eq!(split_job_url(other), None, "{other}");
        }
    }
}
