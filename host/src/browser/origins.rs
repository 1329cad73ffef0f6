//! The origins one page's jobs take turns on.
//!
//! A job's document gets an origin no living document of this page uses, and whose storage is
//! known to be empty. When a navigation replaces a document, that document's origin becomes dirty:
//! nothing alive can write to it any more, so clearing its storage afterwards (off the job path,
//! when the job is retired) really empties it, and the origin is clean for a later job. Reusing a
//! handful of origins instead of minting one per job keeps Chromium's per-origin caches warm
//! (docs/benchmarks.md: one fresh origin per job cost 1.4× throughput).

/// Job documents are served from origins `https://j<n>.kiln.invalid`, a few per page, reused only
/// once the document that used one is gone and its storage cleared (see [`OriginRing`]), so nothing
/// the web platform keys by origin (localStorage, IndexedDB, Cache Storage, BroadcastChannel)
/// reaches the next job. Cookies, which browsers share across origins of one site, are switched
/// off in pages (see `slot.rs` and `shim.rs`). `.invalid` never resolves, so nothing but
/// Kiln's interception can answer; https makes pages a secure context.
pub fn job_origin(n: u64) -> String {
    format!("https://j{n}.kiln.invalid")
}

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

/// Where an origin stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Its storage is empty and no document uses it.
    Clean,
    /// The page's live document is on it.
    Live,
    /// Its document is gone; its storage must be cleared before reuse.
    Dirty,
}

/// A page's origins and their states.
#[derive(Debug)]
pub struct OriginRing {
    origins: Vec<(String, State)>,
}

impl OriginRing {
    /// A ring of origins that have never been used.
    pub fn new(origins: Vec<String>) -> Self {
        Self {
            origins: origins.into_iter().map(|o| (o, State::Clean)).collect(),
        }
    }

    /// Picks a clean origin for a navigation (minting one with `fresh` if none is clean) and
    /// marks the origin of the document it replaces dirty.
    pub fn enter(&mut self, fresh: impl FnOnce() -> String) -> String {
        let index = match self
            .origins
            .iter()
            .position(|(_, state)| *state == State::Clean)
        {
            Some(index) => index,
            None => {
                self.origins.push((fresh(), State::Clean));
                self.origins.len() - 1
            }
        };
        for (_, state) in &mut self.origins {
            if *state == State::Live {
                *state = State::Dirty;
            }
        }
        self.origins[index].1 = State::Live;
        self.origins[index].0.clone()
    }

    /// Records that the live document is gone (the page was sent to `about:blank`): its origin
    /// can be cleared now.
    pub fn leave(&mut self) {
        for (_, state) in &mut self.origins {
            if *state == State::Live {
                *state = State::Dirty;
            }
        }
    }

    /// Origins whose documents are gone and whose storage is not yet cleared.
    pub fn dirty(&self) -> Vec<String> {
        self.origins
            .iter()
            .filter(|(_, s)| *s == State::Dirty)
            .map(|(o, _)| o.clone())
            .collect()
    }

    /// Records that `origin`'s storage was cleared.
    pub fn cleared(&mut self, origin: &str) {
        for (o, state) in &mut self.origins {
            if o == origin && *state == State::Dirty {
                *state = State::Clean;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{OriginRing, job_origin, split_job_url};

    fn ring() -> OriginRing {
        OriginRing::new(vec!["a".into(), "b".into()])
    }

    #[test]
    fn jobs_alternate_and_reuse_only_cleared_origins() {
        let mut ring = ring();
        assert_eq!(ring.enter(|| unreachable!()), "a");
        assert!(ring.dirty().is_empty(), "a is live, not dirty");
        assert_eq!(ring.enter(|| unreachable!()), "b");
        assert_eq!(ring.dirty(), vec!["a".to_string()]);
        ring.cleared("a");
        assert_eq!(ring.enter(|| unreachable!()), "a");
        assert_eq!(ring.dirty(), vec!["b".to_string()]);
    }

    #[test]
    fn an_uncleared_origin_is_never_reused() {
        let mut ring = ring();
        ring.enter(|| unreachable!());
        ring.enter(|| unreachable!());
        // "a" is dirty (not cleared) and "b" is live: a third navigation needs a new origin.
        assert_eq!(ring.enter(|| "c".into()), "c");
        assert_eq!(ring.dirty(), vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn leaving_the_live_origin_lets_it_be_cleared_and_reused() {
        let mut ring = ring();
        assert_eq!(ring.enter(|| unreachable!()), "a");
        ring.leave();
        assert_eq!(ring.dirty(), vec!["a".to_string()]);
        ring.cleared("a");
        assert_eq!(ring.enter(|| unreachable!()), "a");
    }

    #[test]
    fn clearing_the_live_origin_does_nothing() {
        let mut ring = ring();
        ring.enter(|| unreachable!());
        ring.cleared("a");
        assert_eq!(ring.enter(|| unreachable!()), "b");
        assert_eq!(ring.dirty(), vec!["a".to_string()]);
    }

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
