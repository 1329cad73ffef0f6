//! What a job's pages may reach besides their own files and the host's libraries: the
//! operator's site (`[pieces]`) and the origins granted to the job's plugin
//! (`plugins.per_plugin.<name>.network`, none by default).
//!
//! Chromium itself stays offline. A request the grant allows is fetched by the host, through one
//! client per process that reaches only public addresses unless `pieces.allow_private`, follows
//! no redirect itself (a redirect goes back to the page, whose next request is checked again),
//! and bounds every answer by `pieces.timeout_ms` and `pieces.max_response_bytes`; a job's pages
//! make at most `pieces.max_requests_per_job` such requests. Successful GETs are kept for
//! `pieces.cache_ttl_s`, so a site's scripts are fetched once for many jobs.
//!
//! "The site" is `pieces.base_url`: a plugin granted `"site"` has every path of its job origin
//! that it did not serve itself fetched from `{base_url}{path}`, so a page of the site runs on
//! the job's own origin (its storage is the job's, and cleared after it) while loading the
//! site's files.

use anyhow::{Result, bail, ensure};
use bytes::Bytes;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The grant entry that stands for `pieces.base_url` with every path of the job origin.
pub const SITE: &str = "site";

/// `[pieces]`: the operator's site, whose pages the `url` job type captures, and the limits on
/// what the host fetches for pages.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PiecesSettings {
    /// The site pieces are pages of: a piece `prompt` is `{base_url}/prompt`.
    pub base_url: String,
    /// Whether fetches for pages may reach loopback, private and link-local addresses. Off, a
    /// name that resolves to such an address is refused (SSRF), as webhooks are.
    pub allow_private: bool,
    /// Time one fetch may take, in milliseconds.
    pub timeout_ms: u64,
    /// Largest answer one fetch may bring, in bytes.
    pub max_response_bytes: u64,
    /// Most fetches the pages of one job may make; later requests are refused.
    pub max_requests_per_job: u32,
    /// How long a successful GET is reused for later requests of the same URL, in seconds; 0
    /// turns the cache off.
    pub cache_ttl_s: u64,
    /// Most bytes the cache holds, in MiB.
    pub cache_mib: u64,
}

impl Default for PiecesSettings {
    fn default() -> Self {
        Self {
            base_url: "https://aesthetic.computer".into(),
            allow_private: false,
            timeout_ms: 15_000,
            max_response_bytes: 16 << 20,
            max_requests_per_job: 1000,
            cache_ttl_s: 300,
            cache_mib: 128,
        }
    }
}

/// Refuses `[pieces]` values that could never work, naming the key.
pub fn check_pieces_settings(settings: &PiecesSettings) -> Result<()> {
    let base = parse_http_url(&settings.base_url)
        .map_err(|why| anyhow::anyhow!("pieces.base_url {:?} {why}", settings.base_url))?;
    ensure!(
        base.query().is_none() && base.fragment().is_none(),
        "pieces.base_url {:?} must carry no query or fragment (piece paths are appended to it)",
        settings.base_url
    );
    ensure!(
        settings.timeout_ms >= 100,
        "pieces.timeout_ms must be at least 100"
    );
    ensure!(
        settings.max_response_bytes >= 1024,
        "pieces.max_response_bytes must be at least 1024"
    );
    Ok(())
}

/// Refuses a `network` grant entry that is neither `"site"` nor an origin
/// (`https://cdn.example.com`, `http://127.0.0.1:8080`).
pub fn check_network_grant(entries: &[String]) -> Result<()> {
    for entry in entries {
        if entry == SITE {
            continue;
        }
        let url = parse_http_url(entry).map_err(|why| anyhow::anyhow!("{entry:?} {why}"))?;
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            bail!(
                "{entry:?} is not an origin: give scheme, host and port only (e.g. \
                 \"https://cdn.example.com\"), or \"{SITE}\" for pieces.base_url"
            );
        }
    }
    Ok(())
}

fn parse_http_url(text: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("must be an http:// or https:// URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must carry no user name or password".into());
    }
    Ok(url)
}

/// An answer the host fetched for a page.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    /// The headers passed on to the page (content type, CORS, redirect target).
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// Headers of a fetched answer the page sees; the rest (cookies above all) stay with the host.
const PASSED_HEADERS: [&str; 5] = [
    "content-type",
    "location",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-expose-headers",
];

/// The process's one client for pages' fetches, with its cache.
pub struct SiteFetcher {
    settings: PiecesSettings,
    base: Url,
    http: reqwest::Client,
    cache: Option<moka::future::Cache<String, Arc<Fetched>>>,
}

impl std::fmt::Debug for SiteFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteFetcher")
            .field("base_url", &self.settings.base_url)
            .finish_non_exhaustive()
    }
}

impl SiteFetcher {
    /// The fetcher of `settings` (checked by [`check_pieces_settings`] first).
    pub fn new(settings: &PiecesSettings) -> Self {
        let cache = (settings.cache_ttl_s > 0).then(|| {
            moka::future::Cache::builder()
                .max_capacity(settings.cache_mib << 20)
                .weigher(|key: &String, value: &Arc<Fetched>| {
                    u32::try_from(key.len() + value.body.len()).unwrap_or(u32::MAX)
                })
                .time_to_live(Duration::from_secs(settings.cache_ttl_s))
                .build()
        });
        Self {
            base: Url::parse(&settings.base_url).expect("pieces.base_url was checked"),
            settings: settings.clone(),
            http: crate::net::outbound_client(
                settings.allow_private,
                "pages' requests are fetched",
                "pieces.allow_private",
            ),
            cache,
        }
    }

    /// The settings it fetches under.
    pub fn settings(&self) -> &PiecesSettings {
        &self.settings
    }

    /// The URL of `path_and_query` (starting with `/`) on the site.
    fn site_url(&self, path_and_query: &str) -> Option<Url> {
        let base = self.settings.base_url.trim_end_matches('/');
        Url::parse(&format!("{base}{path_and_query}")).ok()
    }

    /// Fetches `url` for a page: `GET` or `HEAD` only.
    async fn fetch(&self, method: &str, url: &Url) -> std::result::Result<Arc<Fetched>, String> {
        let method = match method {
            "GET" => reqwest::Method::GET,
            "HEAD" => reqwest::Method::HEAD,
            other => {
                return Err(format!(
                    "{other} is not fetched for pages (GET and HEAD only)"
                ));
            }
        };
        if !self.settings.allow_private
            && let Some(ip) = literal_ip(url)
            && let Some(kind) = crate::net::non_public(ip)
        {
            return Err(format!(
                "{ip} is {kind}; pages' requests are fetched only from public addresses unless \
                 pieces.allow_private = true"
            ));
        }
        let cacheable = method == reqwest::Method::GET;
        if cacheable
            && let Some(cache) = &self.cache
            && let Some(hit) = cache.get(url.as_str()).await
        {
            return Ok(hit);
        }
        let timeout = Duration::from_millis(self.settings.timeout_ms);
        let fetched = tokio::time::timeout(timeout, self.fetch_uncached(method, url))
            .await
            .map_err(|_| {
                format!(
                    "no answer within pieces.timeout_ms ({} ms)",
                    timeout.as_millis()
                )
            })??;
        let fetched = Arc::new(fetched);
        if cacheable
            && (200..300).contains(&fetched.status)
            && let Some(cache) = &self.cache
        {
            cache.insert(url.to_string(), fetched.clone()).await;
        }
        Ok(fetched)
    }

    async fn fetch_uncached(
        &self,
        method: reqwest::Method,
        url: &Url,
    ) -> std::result::Result<Fetched, String> {
        let mut response = self
            .http
            .request(method, url.clone())
            .send()
            .await
            .map_err(|e| crate::storage::error_chain(&e))?;
        let status = response.status().as_u16();
        let headers = PASSED_HEADERS
            .iter()
            .filter_map(|name| {
                let value = response.headers().get(*name)?.to_str().ok()?;
                Some((name.to_string(), value.to_string()))
            })
            .collect();
        let cap = self.settings.max_response_bytes;
        if response.content_length().is_some_and(|n| n > cap) {
            return Err(format!(
                "the answer is larger than pieces.max_response_bytes ({cap} bytes)"
            ));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| crate::storage::error_chain(&e))?
        {
            if (body.len() + chunk.len()) as u64 > cap {
                return Err(format!(
                    "the answer is larger than pieces.max_response_bytes ({cap} bytes)"
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            status,
            headers,
            body: body.into(),
        })
    }
}

fn literal_ip(url: &Url) -> Option<std::net::IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(ip.into()),
        url::Host::Ipv6(ip) => Some(ip.into()),
        url::Host::Domain(_) => None,
    }
}

/// What one plugin's pages may reach, given to each of its jobs' pages.
#[derive(Debug, Clone)]
pub struct NetworkGrant {
    fetcher: Arc<SiteFetcher>,
    /// Unserved paths of the job origin come from the site, and the site's origin is allowed.
    site: bool,
    /// Granted origins, serialized (`https://cdn.example.com`, `http://127.0.0.1:8080`).
    origins: Vec<String>,
}

impl NetworkGrant {
    /// The grant of `entries` (checked by [`check_network_grant`]); `None` when it grants
    /// nothing.
    pub fn new(fetcher: Arc<SiteFetcher>, entries: &[String]) -> Option<Self> {
        if entries.is_empty() {
            return None;
        }
        let site = entries.iter().any(|e| e == SITE);
        let mut origins: Vec<String> = entries
            .iter()
            .filter(|e| *e != SITE)
            .filter_map(|e| Url::parse(e).ok())
            .map(|u| u.origin().ascii_serialization())
            .collect();
        if site {
            origins.push(fetcher.base.origin().ascii_serialization());
        }
        Some(Self {
            fetcher,
            site,
            origins,
        })
    }

    /// Most fetches one job's pages may make.
    pub fn max_requests(&self) -> u32 {
        self.fetcher.settings.max_requests_per_job
    }

    /// Where a request for `path_and_query` on the job's origin, not served by the job, is
    /// fetched from: the site, when granted.
    pub fn on_job_origin(&self, path_and_query: &str) -> Option<Url> {
        self.site
            .then(|| self.fetcher.site_url(path_and_query))
            .flatten()
    }

    /// `url` when its origin is granted.
    pub fn elsewhere(&self, url: &str) -> Option<Url> {
        let url = Url::parse(url).ok()?;
        let origin = url.origin().ascii_serialization();
        self.origins.contains(&origin).then_some(url)
    }

    /// Fetches `url` for a page.
    pub async fn fetch(
        &self,
        method: &str,
        url: &Url,
    ) -> std::result::Result<Arc<Fetched>, String> {
        self.fetcher.fetch(method, url).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetcher(base: &str) -> Arc<SiteFetcher> {
        Arc::new(SiteFetcher::new(&PiecesSettings {
            base_url: base.into(),
            ..PiecesSettings::default()
        }))
    }

    #[test]
    fn grants_name_the_site_or_origins() {
        check_network_grant(&["site".into(), "https://cdn.example.com".into()]).unwrap();
        check_network_grant(&["http://127.0.0.1:8080".into()]).unwrap();
        for bad in [
            "cdn.example.com",
            "ftp://x.org",
            "https://x.org/scripts",
            "https://x.org/?a=1",
            "https://user:pw@x.org",
        ] {
            let err = check_network_grant(&[bad.into()]).unwrap_err().to_string();
            assert!(err.contains(bad), "{bad}: {err}");
        }
        check_pieces_settings(&PiecesSettings::default()).unwrap();
        let err = check_pieces_settings(&PiecesSettings {
            base_url: "aesthetic.computer".into(),
            ..PiecesSettings::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("pieces.base_url"), "{err}");
    }

    #[test]
    fn only_granted_origins_and_the_granted_site_are_reached() {
        let none = NetworkGrant::new(fetcher("https://aesthetic.computer"), &[]);
        assert!(none.is_none(), "an empty grant grants nothing");

        let cdn_only = NetworkGrant::new(
            fetcher("https://aesthetic.computer"),
            &["https://cdn.example.com".into()],
        )
        .unwrap();
        assert!(cdn_only.on_job_origin("/prompt").is_none());
        assert!(cdn_only.elsewhere("https://cdn.example.com/a.js").is_some());
        assert!(
            cdn_only
                .elsewhere("https://cdn.example.com:443/a.js")
                .is_some()
        );
        for refused in [
            "https://aesthetic.computer/prompt",
            "http://cdn.example.com/a.js",
            "https://cdn.example.com.evil.org/a.js",
            "https://cdn.example.com:8443/a.js",
            "file:///etc/passwd",
        ] {
            assert!(cdn_only.elsewhere(refused).is_none(), "{refused}");
        }

        let site =
            NetworkGrant::new(fetcher("https://aesthetic.computer/"), &["site".into()]).unwrap();
        assert_eq!(
            site.on_job_origin("/prompt?density=2&tv=true")
                .unwrap()
                .as_str(),
            "https://aesthetic.computer/prompt?density=2&tv=true"
        );
        assert!(site.elsewhere("https://aesthetic.computer/api/x").is_some());
        assert!(site.elsewhere("https://cdn.example.com/a.js").is_none());
    }

    #[tokio::test]
    async fn private_literals_and_other_methods_are_refused_without_the_setting() {
        let grant = NetworkGrant::new(
            fetcher("https://aesthetic.computer"),
            &["http://127.0.0.1:9".into(), "http://169.254.169.254".into()],
        )
        .unwrap();
        for url in [
            "http://127.0.0.1:9/x",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let url = grant.elsewhere(url).unwrap();
            let err = grant.fetch("GET", &url).await.unwrap_err();
            assert!(err.contains("pieces.allow_private"), "{url}: {err}");
        }
        let url = grant.elsewhere("http://127.0.0.1:9/x").unwrap();
        let err = grant.fetch("POST", &url).await.unwrap_err();
        assert!(err.contains("GET and HEAD only"), "{err}");
    }
}
