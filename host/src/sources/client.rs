//! The one HTTP client of the piece store: only allowlisted hosts, only public addresses unless
//! config allows private ones, a timeout and a size cap on every answer, and a cache with a
//! time to live shared by every job of the process.

use super::api::{self, ListedPiece, StoredSource};
use super::settings::SourcesSettings;
use crate::error::RenderError;
use crate::storage::error_chain;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// Longest code accepted: AC's codes are a few letters and digits; this only keeps a URL sane.
const MAX_CODE_LEN: usize = 64;

/// Fetches pieces and listings from the configured store, caching what it got.
pub struct SourceClient {
    settings: SourcesSettings,
    http: reqwest::Client,
    sources: Option<moka::future::Cache<String, StoredSource>>,
    listings: Option<moka::future::Cache<u32, Arc<Vec<ListedPiece>>>>,
}

impl std::fmt::Debug for SourceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceClient")
            .field("base_url", &self.settings.base_url)
            .finish_non_exhaustive()
    }
}

/// The code without one leading `$`, refused unless it is ASCII letters and digits (so it
/// cannot change the URL it is put into).
pub fn normalize_code(code: &str) -> Result<String, RenderError> {
    let bare = code.strip_prefix('$').unwrap_or(code);
    if bare.is_empty()
        || bare.len() > MAX_CODE_LEN
        || !bare.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(RenderError::invalid_input(format!(
            "{code:?} is not a piece code: a code is 1 to {MAX_CODE_LEN} ASCII letters and \
             digits, with or without a leading $"
        )));
    }
    Ok(bare.to_string())
}

/// `host` or `host:port` of a URL, as the allowlist names hosts.
pub fn host_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// Whether `url`'s host is on `allowed` (an entry without a port allows any port).
pub fn host_allowed(allowed: &[String], url: &Url) -> bool {
    let name = url.host_str().unwrap_or("").to_ascii_lowercase();
    let with_port = host_of(url);
    allowed.iter().any(|entry| {
        let entry = entry.to_ascii_lowercase();
        entry == name || entry == with_port
    })
}

impl SourceClient {
    /// A client for `settings` (checked by `check_settings` first).
    pub fn new(settings: &SourcesSettings) -> Self {
        let http = crate::net::outbound_client(
            settings.allow_private,
            "piece sources are fetched",
            "sources.allow_private",
        );
        let cache = |ttl_s: u64| (ttl_s > 0).then_some(Duration::from_secs(ttl_s));
        let (sources, listings) = match cache(settings.cache_ttl_s) {
            Some(ttl) => (
                Some(
                    moka::future::Cache::builder()
                        .max_capacity(settings.cache_entries)
                        .time_to_live(ttl)
                        .build(),
                ),
                Some(
                    moka::future::Cache::builder()
                        .max_capacity(settings.cache_entries)
                        .time_to_live(ttl)
                        .build(),
                ),
            ),
            None => (None, None),
        };
        Self {
            settings: settings.clone(),
            http,
            sources,
            listings,
        }
    }

    /// The settings it fetches under.
    pub fn settings(&self) -> &SourcesSettings {
        &self.settings
    }

    /// The URL of piece `code`'s source (`code` already normalized).
    pub fn source_url(&self, code: &str) -> Result<Url, RenderError> {
        self.url(&self.settings.kidlisp_path.replace("{code}", code))
    }

    /// The URL of a listing of `limit` pieces.
    pub fn listing_url(&self, limit: u32) -> Result<Url, RenderError> {
        self.url(
            &self
                .settings
                .top_kidlisp_path
                .replace("{limit}", &limit.to_string()),
        )
    }

    fn url(&self, path: &str) -> Result<Url, RenderError> {
        let text = format!("{}{path}", self.settings.base_url.trim_end_matches('/'));
        Url::parse(&text).map_err(|e| {
            RenderError::internal(format!(
                "{text:?} (sources.base_url and its paths) is not a URL: {e}"
            ))
        })
    }

    /// Piece `code`'s source (normalized code), from the cache or the store. A code the store
    /// does not have is `invalid-input` naming it.
    pub async fn source(&self, code: &str, deadline: Instant) -> Result<StoredSource, RenderError> {
        let fetch = async {
            let url = self.source_url(code)?;
            let Some(body) = self.get(&url, deadline).await? else {
                return Err(RenderError::invalid_input(format!(
                    "piece ${code} was not found: {url} answered 404 Not Found"
                )));
            };
            api::parse_source(&body).map_err(|why| wrong_answer(&url, &why))
        };
        match &self.sources {
            Some(cache) => cache
                .try_get_with(code.to_string(), fetch)
                .await
                .map_err(|e| (*e).clone()),
            None => fetch.await,
        }
    }

    /// The listing of the `limit` most-played pieces, from the cache or the store.
    pub async fn listing(
        &self,
        limit: u32,
        deadline: Instant,
    ) -> Result<Arc<Vec<ListedPiece>>, RenderError> {
        let fetch = async {
            let url = self.listing_url(limit)?;
            let Some(body) = self.get(&url, deadline).await? else {
                return Err(RenderError::unavailable(format!(
                    "the top-pieces listing {url} answered 404 Not Found (sources.top_kidlisp_path)"
                )));
            };
            api::parse_listing(&body)
                .map(Arc::new)
                .map_err(|why| wrong_answer(&url, &why))
        };
        match &self.listings {
            Some(cache) => cache
                .try_get_with(limit, fetch)
                .await
                .map_err(|e| (*e).clone()),
            None => fetch.await,
        }
    }

    /// GETs `url`: the body of a 2xx answer, `None` for a 404. Refuses a host off the allowlist
    /// and (unless `allow_private`) a non-public address literal; bounded by the timeout, the
    /// job's deadline and the size cap.
    async fn get(&self, url: &Url, deadline: Instant) -> Result<Option<Vec<u8>>, RenderError> {
        self.check_destination(url)?;
        let left = deadline.saturating_duration_since(Instant::now());
        let configured = Duration::from_millis(self.settings.timeout_ms);
        let timeout = configured.min(left);
        if timeout.is_zero() {
            return Err(RenderError::timeout(format!(
                "the job's deadline passed before {url} could be fetched"
            )));
        }
        let request = async {
            let response = self
                .http
                .get(url.clone())
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(|e| {
                    RenderError::unavailable(format!(
                        "the piece store at {url} could not be reached: {}",
                        error_chain(&e)
                    ))
                })?;
            let status = response.status();
            if status == reqwest::StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(RenderError::unavailable(format!(
                    "the piece store at {url} answered {status}{}",
                    if status.is_redirection() {
                        " (redirects are not followed)"
                    } else {
                        ""
                    }
                )));
            }
            self.read_capped(url, response).await.map(Some)
        };
        match tokio::time::timeout(timeout, request).await {
            Ok(result) => result,
            Err(_) if timeout < configured => Err(RenderError::timeout(format!(
                "{url} did not answer before the job's deadline ({} ms left)",
                timeout.as_millis()
            ))),
            Err(_) => Err(RenderError::unavailable(format!(
                "the piece store at {url} did not answer within {} ms (sources.timeout_ms)",
                self.settings.timeout_ms
            ))),
        }
    }

    async fn read_capped(
        &self,
        url: &Url,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, RenderError> {
        let cap = self.settings.max_response_bytes;
        let too_large = || {
            wrong_answer(
                url,
                &format!("the answer is larger than {cap} bytes (sources.max_response_bytes)"),
            )
        };
        if response.content_length().is_some_and(|len| len > cap) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            RenderError::unavailable(format!(
                "reading the answer of {url} failed: {}",
                error_chain(&e)
            ))
        })? {
            if body.len() as u64 + chunk.len() as u64 > cap {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Refuses a URL on a host off the allowlist, and an address literal that is not public
    /// unless `allow_private` (names are checked by the resolver as they are resolved).
    fn check_destination(&self, url: &Url) -> Result<(), RenderError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(RenderError::denied(format!(
                "{url} is not an http or https URL; piece sources are fetched over HTTP only"
            )));
        }
        if !host_allowed(&self.settings.allowed_hosts, url) {
            return Err(RenderError::denied(format!(
                "{url}: host {} is not in sources.allowed_hosts ({}); the host fetches piece \
                 sources only from the hosts its operator allows",
                host_of(url),
                self.settings.allowed_hosts.join(", ")
            )));
        }
        if !self.settings.allow_private {
            let ip = match url.host() {
                Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
                _ => None,
            };
            if let Some(ip) = ip
                && let Some(kind) = crate::net::non_public(ip)
            {
                return Err(RenderError::denied(format!(
                    "{url}: {ip} is {kind}; piece sources are fetched only from public \
                     addresses unless sources.allow_private = true"
                )));
            }
        }
        Ok(())
    }
}

/// `invalid-input` for an answer that is not what the store should send.
fn wrong_answer(url: &Url, why: &str) -> RenderError {
    RenderError::invalid_input(format!(
        "the piece store's answer from {url} is not what was expected: {why}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_lose_their_dollar_and_cannot_change_the_url() {
        assert_eq!(normalize_code("$cow").unwrap(), "cow");
        assert_eq!(normalize_code("39i").unwrap(), "39i");
        for bad in ["", "$", "a/b", "a?x=1", "$$cow", "é"] {
            let err = normalize_code(bad).unwrap_err();
            assert_eq!(err.kind, crate::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn urls_are_built_from_the_settings_and_checked_against_the_allowlist() {
        let client = SourceClient::new(&SourcesSettings::default());
        assert_eq!(
            client.source_url("cow").unwrap().as_str(),
            "https://aesthetic.computer/api/store-kidlisp?code=cow"
        );
        assert_eq!(
            client.listing_url(40).unwrap().as_str(),
            "https://aesthetic.computer/api/tv?types=kidlisp&sort=hits&limit=40"
        );
        let allowed = vec!["aesthetic.computer".to_string(), "127.0.0.1:9".to_string()];
        let ok = |u: &str| host_allowed(&allowed, &Url::parse(u).unwrap());
        assert!(ok("https://aesthetic.computer/x"));
        assert!(ok("https://AESTHETIC.computer:8443/x"));
        assert!(ok("http://127.0.0.1:9/x"));
        assert!(!ok("http://127.0.0.1:10/x"));
        assert!(!ok("https://evil.aesthetic.computer.example/x"));
    }

    #[test]
    fn private_literals_and_hosts_off_the_list_are_denied_before_any_request() {
        let settings = SourcesSettings {
            allowed_hosts: vec!["127.0.0.1".into(), "aesthetic.computer".into()],
            ..SourcesSettings::default()
        };
        let client = SourceClient::new(&settings);
        let err = client
            .check_destination(&Url::parse("http://127.0.0.1:8/x").unwrap())
            .unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Denied);
        assert!(err.message.contains("sources.allow_private"), "{err}");
        let err = client
            .check_destination(&Url::parse("http://example.com/x").unwrap())
            .unwrap_err();
        assert!(err.message.contains("sources.allowed_hosts"), "{err}");
        client
            .check_destination(&Url::parse("https://aesthetic.computer/x").unwrap())
            .unwrap();
    }
}
