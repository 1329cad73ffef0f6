//! `[storage]`: where artifacts go, how storage requests are bounded, and the checks of those
//! values that can be made before anything is opened.

use anyhow::{Result, bail, ensure};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Where artifacts go, how storage requests are bounded, and whether public URLs are checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    /// Store URL: `file:///dir`, `s3://bucket[/prefix]`, `az://container[/prefix]` (or
    /// `azure://`), `gs://bucket[/prefix]`. Default: `file://<data_dir>/artifacts`.
    pub url: Option<String>,
    /// Public base URL that clients fetch artifacts from (a CDN); `<base>/<key>`.
    pub public_base_url: Option<String>,
    /// Options for a remote store's client, on top of its standard environment variables
    /// (`AWS_*`, `AZURE_*`, `GOOGLE_*`): e.g. `aws_endpoint`, `aws_region`, `aws_allow_http`,
    /// `aws_access_key_id`. An unknown key is an error that names it.
    pub options: BTreeMap<String, String>,
    /// Time one request to a remote store may take, in milliseconds.
    pub request_timeout_ms: u64,
    /// Extra tries of a remote storage request after a connection error, a 5xx or a 429.
    pub max_retries: usize,
    /// Wait before the first retry of a storage request, in milliseconds; doubled after each.
    pub retry_backoff_ms: u64,
    /// Longest wait between retries of a storage request, in milliseconds.
    pub retry_max_backoff_ms: u64,
    /// No retry of a storage request starts this long after its first try, in milliseconds.
    pub retry_timeout_ms: u64,
    /// After each put, `HEAD <public_base_url>/<key>` until it answers 200 before the artifact
    /// is reported (a CDN serves it). Needs `public_base_url`.
    pub verify_public_url: bool,
    /// HEAD requests tried per artifact before the put fails as `unavailable`.
    pub verify_attempts: u32,
    /// Wait before the second HEAD, in milliseconds; doubled after each.
    pub verify_backoff_ms: u64,
    /// Longest wait between two HEADs, in milliseconds.
    pub verify_max_backoff_ms: u64,
    /// Time one HEAD may take, in milliseconds.
    pub verify_timeout_ms: u64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            url: None,
            public_base_url: None,
            options: BTreeMap::new(),
            request_timeout_ms: 20_000,
            max_retries: 2,
            retry_backoff_ms: 100,
            retry_max_backoff_ms: 1000,
            retry_timeout_ms: 5000,
            verify_public_url: false,
            verify_attempts: 10,
            verify_backoff_ms: 100,
            verify_max_backoff_ms: 1000,
            verify_timeout_ms: 1000,
        }
    }
}

/// Refuses `[storage]` values that could never work, naming the key.
pub fn check_settings(settings: &StorageSettings) -> Result<()> {
    if settings.verify_public_url {
        let Some(base) = &settings.public_base_url else {
            bail!(
                "storage.verify_public_url needs storage.public_base_url: it checks <public_base_url>/<key>; set one or turn verification off"
            );
        };
        let parsed = url::Url::parse(base).ok();
        ensure!(
            parsed.is_some_and(|u| matches!(u.scheme(), "http" | "https")),
            "storage.public_base_url {base:?} must be an http:// or https:// URL for storage.verify_public_url"
        );
        ensure!(
            settings.verify_attempts >= 1,
            "storage.verify_attempts must be at least 1"
        );
        ensure!(
            settings.verify_timeout_ms >= 1,
            "storage.verify_timeout_ms must be at least 1"
        );
    }
    ensure!(
        settings.request_timeout_ms >= 100,
        "storage.request_timeout_ms must be at least 100"
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
    fn storage_keys_parse_with_defaults() {
        let config: Config = toml::from_str(
            "[storage]\nurl = \"s3://b/p\"\nverify_attempts = 3\n[storage.options]\naws_region = \"eu-west-1\"\n",
        )
        .unwrap();
        assert_eq!(config.storage.verify_attempts, 3);
        assert_eq!(config.storage.options["aws_region"], "eu-west-1");
        assert!(!config.storage.verify_public_url);
        assert_eq!(config.storage.verify_backoff_ms, 100);
        check("[storage]\nurl = \"s3://b/p\"\n").unwrap();
    }

    #[test]
    fn verification_needs_an_http_public_base() {
        let err = check("[storage]\nverify_public_url = true\n").unwrap_err();
        assert!(
            err.contains("storage.verify_public_url needs storage.public_base_url"),
            "{err}"
        );
        let err = check("[storage]\nverify_public_url = true\npublic_base_url = \"s3://b\"\n")
            .unwrap_err();
        assert!(err.contains("must be an http:// or https:// URL"), "{err}");
        let err = check(
            "[storage]\nverify_public_url = true\npublic_base_url = \"https://cdn.example\"\nverify_attempts = 0\n",
        )
        .unwrap_err();
        assert!(err.contains("storage.verify_attempts"), "{err}");
        check("[storage]\nverify_public_url = true\npublic_base_url = \"https://cdn.example\"\n")
            .unwrap();
    }

    #[test]
    fn unknown_storage_keys_are_refused() {
        let err = check("[storage]\nverify = true\n").unwrap_err();
        assert!(err.contains("unknown field `verify`"), "{err}");
    }
}
