//! `[bake]`: the oven's tape-baking route (`POST /bake`, shared/OVEN.md §10): its shared secret
//! and the limits on fetching a tape's ZIP.

use anyhow::{Result, ensure};
use serde::Deserialize;

/// The `/bake` route's secret and the bounds on the ZIP the host fetches for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BakeRouteSettings {
    /// The oven's `CALLBACK_SECRET`: a `POST /bake` must carry it as `callbackSecret`, and it is
    /// sent back as `secret` in the callback's body. Without it, `/bake` is off (403).
    pub secret: Option<String>,
    /// Largest ZIP the host fetches from a bake's `zipUrl`, in bytes; a larger one fails the
    /// bake (it is also capped by `jobs.max_read_bytes`, as the job reads it from the store).
    pub max_zip_bytes: u64,
    /// Time fetching the ZIP may take in all, in milliseconds.
    pub fetch_timeout_ms: u64,
    /// Whether `zipUrl` may lead to loopback, private and link-local addresses. Off, a name
    /// that resolves to such an address is refused (SSRF), as webhooks are.
    pub allow_private: bool,
    /// Frame rate of a tape with neither `timing.json` nor a soundtrack (the oven's 60).
    pub default_fps: f64,
    /// How long the route follows its bake job (queued and running) before it gives up and
    /// calls back with an error, in seconds.
    pub job_wait_s: u64,
}

impl Default for BakeRouteSettings {
    fn default() -> Self {
        Self {
            secret: None,
            max_zip_bytes: 256 << 20,
            fetch_timeout_ms: 120_000,
            allow_private: false,
            default_fps: 60.0,
            job_wait_s: 1800,
        }
    }
}

/// Refuses `[bake]` values that could never work, naming the key.
pub fn check_settings(settings: &BakeRouteSettings) -> Result<()> {
    ensure!(
        settings.secret.as_ref().is_none_or(|s| !s.is_empty()),
        "bake.secret must not be empty (leave it out to turn /bake off)"
    );
    ensure!(
        settings.max_zip_bytes >= 1,
        "bake.max_zip_bytes must be at least 1"
    );
    ensure!(
        settings.fetch_timeout_ms >= 1,
        "bake.fetch_timeout_ms must be at least 1"
    );
    ensure!(
        settings.default_fps.is_finite() && (1.0..=120.0).contains(&settings.default_fps),
        "bake.default_fps must be between 1 and 120"
    );
    ensure!(
        settings.job_wait_s >= 1,
        "bake.job_wait_s must be at least 1"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::Config;

    #[test]
    fn bake_is_off_by_default_and_its_limits_are_checked() {
        let config: Config = toml::from_str("").unwrap();
        assert!(config.bake.secret.is_none());
        assert!(!config.bake.allow_private);
        config.validate().unwrap();
        for (toml, needle) in [
            ("[bake]\nsecret = \"\"", "bake.secret"),
            ("[bake]\nmax_zip_bytes = 0", "bake.max_zip_bytes"),
            ("[bake]\ndefault_fps = 0.0", "bake.default_fps"),
        ] {
            let config: Config = toml::from_str(toml).unwrap();
            let err = format!("{:#}", config.validate().unwrap_err());
            assert!(err.contains(needle), "{toml}: {err}");
        }
    }
}
