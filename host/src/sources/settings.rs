//! `[sources]`: where the host fetches KidLisp sources and the top-pieces listing from, which
//! hosts it may reach, and the limits on what it fetches.

use anyhow::{Result, bail, ensure};
use serde::Deserialize;

/// The piece store's endpoints and the limits on fetching from it.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourcesSettings {
    /// Base URL of the piece store's API; the paths below are appended to it.
    pub base_url: String,
    /// Path (and query) of one piece's source; `{code}` is the code without `$`. It answers
    /// `{"source": "…", "user": …}` (a `handle` is read when present).
    pub kidlisp_path: String,
    /// Path (and query) of the top-pieces listing; `{limit}` is how many. It answers
    /// `{"media": {"kidlisp": [{"code", "source", "hits", "owner": {"handle"}}]}}`.
    pub top_kidlisp_path: String,
    /// Hosts (`name` or `name:port`) the host may fetch from; a URL on any other host is
    /// refused. The base URL's host must be one of them.
    pub allowed_hosts: Vec<String>,
    /// Whether fetches may reach loopback, private and link-local addresses. Off, a name that
    /// resolves to such an address is refused (SSRF), as webhooks are.
    pub allow_private: bool,
    /// Time one request may take, in milliseconds (the job's own deadline applies too).
    pub timeout_ms: u64,
    /// Largest answer in bytes; a larger one is refused as `invalid-input`.
    pub max_response_bytes: u64,
    /// How long a fetched source or listing is reused, in seconds; 0 turns the cache off.
    pub cache_ttl_s: u64,
    /// Most answers the cache holds (sources and listings together).
    pub cache_entries: u64,
    /// How many levels of embeds are followed: 1 fetches the piece's own embeds only.
    pub max_embed_depth: u32,
    /// Most embedded pieces one source brings with it.
    pub max_embeds: u32,
    /// Largest `limit` of a listing.
    pub max_listing: u32,
}

impl Default for SourcesSettings {
    fn default() -> Self {
        Self {
            base_url: "https://aesthetic.computer".into(),
            kidlisp_path: "/api/store-kidlisp?code={code}".into(),
            top_kidlisp_path: "/api/tv?types=kidlisp&sort=hits&limit={limit}".into(),
            allowed_hosts: vec!["aesthetic.computer".into()],
            allow_private: false,
            timeout_ms: 5000,
            max_response_bytes: 4 << 20,
            cache_ttl_s: 300,
            cache_entries: 1000,
            max_embed_depth: 8,
            max_embeds: 32,
            max_listing: 100,
        }
    }
}

/// Refuses `[sources]` values that could never work, naming the key.
pub fn check_settings(settings: &SourcesSettings) -> Result<()> {
    let Ok(base) = url::Url::parse(&settings.base_url) else {
        bail!("sources.base_url {:?} is not a URL", settings.base_url);
    };
    ensure!(
        matches!(base.scheme(), "http" | "https") && base.host().is_some(),
        "sources.base_url {:?} must be an http:// or https:// URL",
        settings.base_url
    );
    ensure!(
        settings.kidlisp_path.contains("{code}"),
        "sources.kidlisp_path {:?} must contain {{code}}",
        settings.kidlisp_path
    );
    ensure!(
        settings.top_kidlisp_path.contains("{limit}"),
        "sources.top_kidlisp_path {:?} must contain {{limit}}",
        settings.top_kidlisp_path
    );
    let host = super::client::host_of(&base);
    ensure!(
        super::client::host_allowed(&settings.allowed_hosts, &base),
        "sources.base_url's host {host} is not in sources.allowed_hosts ({}); add it there",
        settings.allowed_hosts.join(", ")
    );
    ensure!(
        settings.timeout_ms >= 1,
        "sources.timeout_ms must be at least 1"
    );
    ensure!(
        settings.max_response_bytes >= 1,
        "sources.max_response_bytes must be at least 1"
    );
    ensure!(
        settings.max_listing >= 1,
        "sources.max_listing must be at least 1"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::Config;

    fn check(toml: &str) -> Result<(), String> {
        let config: Config = toml::from_str(toml).map_err(|e| e.to_string())?;
        config.validate().map_err(|e| format!("{e:#}"))
    }

    #[test]
    fn the_defaults_are_aesthetic_computers_and_valid() {
        let config: Config = toml::from_str("").unwrap();
        assert_eq!(config.sources.base_url, "https://aesthetic.computer");
        assert_eq!(config.sources.allowed_hosts, ["aesthetic.computer"]);
        assert!(!config.sources.allow_private);
        check("").unwrap();
    }

    #[test]
    fn a_base_url_off_the_allowlist_or_paths_without_placeholders_are_refused() {
        let err = check("[sources]\nbase_url = \"https://example.com\"\n").unwrap_err();
        assert!(
            err.contains("example.com") && err.contains("sources.allowed_hosts"),
            "{err}"
        );
        let err = check("[sources]\nkidlisp_path = \"/api/x\"\n").unwrap_err();
        assert!(err.contains("sources.kidlisp_path"), "{err}");
        let err = check("[sources]\nbase_url = \"ftp://aesthetic.computer\"\n").unwrap_err();
        assert!(err.contains("http://"), "{err}");
        check(
            "[sources]\nbase_url = \"http://127.0.0.1:8080\"\nallowed_hosts = [\"127.0.0.1:8080\"]\n",
        )
        .unwrap();
    }
}
