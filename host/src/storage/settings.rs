//! Checks of `[storage]` that can be made before anything is opened.

use crate::config::StorageSettings;
use anyhow::{Result, bail, ensure};

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
