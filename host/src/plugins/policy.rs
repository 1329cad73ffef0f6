//! What the host grants each plugin (capabilities, read-only directories) and the limits its jobs
//! run under, resolved from config when the plugin is loaded.

use super::engine::EPOCH_TICK;
use super::limits::SandboxLimits;
use super::settings::{PluginOverrides, PluginSettings};
use crate::contract::latest::kiln::render::types::Capability;
use crate::jobs::JobSettings;
use anyhow::{Result, anyhow};
use std::path::PathBuf;
use std::time::Duration;

/// The job types this project ships that open pages. Unless config says otherwise, they are
/// granted every capability; any other plugin, the built-in ones that draw their own pixels
/// (`kidlisp`, `kidlisp-og`, `notepat-og`) included, gets `plugins.default_grants`.
pub const BUILT_IN: &[&str] = &["p5", "js", "video"];

/// Job types this project ships that are granted less than everything unless config says
/// otherwise: `kidlisp` and `kidlisp-og` draw their own frames and need no browser, but fetch
/// pieces by code and the top pieces listing; `bundle` only packs files (no page), fetching a
/// KidLisp piece by code. (`notepat-og` needs only `plugins.default_grants`.)
pub const BUILT_IN_NARROW: &[(&str, &[&str])] = &[
    ("kidlisp", &["media", "storage", "sources"]),
    ("kidlisp-og", &["media", "storage", "sources"]),
    ("url", &["browser", "media", "storage"]),
    ("bundle", &["media", "storage", "sources"]),
];

/// Job types this project ships whose pages reach more than their own files unless config
/// says otherwise (`plugins.per_plugin.<name>.network`): `url` captures pages of the site.
pub const BUILT_IN_NETWORK: &[(&str, &[&str])] = &[("url", &[crate::browser::SITE])];

/// Each capability, by the name config and `describe` use, and the WIT interface that needs it.
const CAPABILITIES: [(&str, Capability); 4] = [
    ("browser", Capability::Browser),
    ("media", Capability::Media),
    ("storage", Capability::Storage),
    ("sources", Capability::Sources),
];

/// Capabilities a plugin may import and declare without the grant: it loads, and each call
/// fails `denied` (so a job type can offer fetching piece sources as an option that the
/// operator turns on). `sources` is one: it reaches the network, which an operator may well
/// not want for a plugin that otherwise runs fine.
const CALL_TIME: [Capability; 1] = [Capability::Sources];

/// The capability's name in config and messages.
pub fn capability_name(capability: Capability) -> &'static str {
    CAPABILITIES
        .iter()
        .find(|(_, c)| *c == capability)
        .map(|(name, _)| *name)
        .expect("every capability is listed")
}

fn capability_named(name: &str) -> Option<Capability> {
    CAPABILITIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
}

/// Checks that every name in a grant list is a capability.
pub fn check_grant_names(names: &[String]) -> Result<()> {
    for name in names {
        if capability_named(name).is_none() {
            let known: Vec<&str> = CAPABILITIES.iter().map(|(n, _)| *n).collect();
            return Err(anyhow!(
                "{name:?} is not a capability; grant any of: {}",
                known.join(", ")
            ));
        }
    }
    Ok(())
}

/// Everything the host decides about one plugin.
#[derive(Debug, Clone)]
pub struct PluginPolicy {
    /// Capabilities granted.
    pub grants: Vec<Capability>,
    /// Read-only directories, guest path → host path.
    pub dirs: Vec<(String, PathBuf)>,
    pub sandbox: SandboxLimits,
    /// Wall-clock budget of one attempt.
    pub timeout: Duration,
    pub max_artifact_bytes: u64,
    pub max_pages: u32,
    /// Storage prefixes its jobs may read besides their own keys
    /// (`plugins.per_plugin.<name>.read_prefixes`; none by default). See
    /// [`crate::storage::ReadScope`].
    pub read_prefixes: Vec<String>,
    /// What its pages may reach besides their own files (`plugins.per_plugin.<name>.network`;
    /// see `browser/network.rs`).
    pub network: Vec<String>,
}

/// Turns config into a [`PluginPolicy`] per plugin name.
#[derive(Debug, Clone)]
pub struct LoadPolicy {
    default_grants: Vec<String>,
    per_plugin: std::collections::BTreeMap<String, PluginOverrides>,
    memory_mib: u64,
    cpu_ms: u64,
    timeout_ms: u64,
    max_artifact_bytes: u64,
    max_pages: u32,
}

impl LoadPolicy {
    /// The policy of `[plugins]`, with `[jobs]`'s timeout for plugins that set none.
    pub fn new(plugins: &PluginSettings, jobs: &JobSettings) -> Self {
        Self {
            default_grants: plugins.default_grants.clone(),
            per_plugin: plugins.per_plugin.clone(),
            memory_mib: plugins.memory_mib,
            cpu_ms: plugins.cpu_ms,
            timeout_ms: jobs.timeout_ms,
            max_artifact_bytes: plugins.max_artifact_bytes,
            max_pages: plugins.max_pages,
        }
    }

    /// The policy for the plugin called `name`.
    pub fn for_plugin(&self, name: &str) -> PluginPolicy {
        let own = self.per_plugin.get(name).cloned().unwrap_or_default();
        let grant_names: Vec<String> = match &own.grants {
            Some(grants) => grants.clone(),
            None if BUILT_IN.contains(&name) => {
                CAPABILITIES.iter().map(|(n, _)| n.to_string()).collect()
            }
            None => match BUILT_IN_NARROW.iter().find(|(n, _)| *n == name) {
                Some((_, grants)) => grants.iter().map(|g| g.to_string()).collect(),
                None => self.default_grants.clone(),
            },
        };
        let memory_mib = own.memory_mib.unwrap_or(self.memory_mib);
        let cpu_ms = own.cpu_ms.unwrap_or(self.cpu_ms);
        PluginPolicy {
            grants: grant_names
                .iter()
                .filter_map(|n| capability_named(n))
                .collect(),
            dirs: own.dirs.into_iter().collect(),
            sandbox: SandboxLimits {
                memory_bytes: (memory_mib as usize) << 20,
                cpu_ticks: (cpu_ms / EPOCH_TICK.as_millis() as u64).max(1),
            },
            timeout: Duration::from_millis(own.timeout_ms.unwrap_or(self.timeout_ms)),
            max_artifact_bytes: own.max_artifact_bytes.unwrap_or(self.max_artifact_bytes),
            max_pages: own.max_pages.unwrap_or(self.max_pages),
            read_prefixes: own.read_prefixes,
            network: own.network.unwrap_or_else(|| {
                BUILT_IN_NETWORK
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, entries)| entries.iter().map(|e| e.to_string()).collect())
                    .unwrap_or_default()
            }),
        }
    }

    /// The limits `describe` runs under at load time, before the plugin's name is known.
    pub fn describe_limits(&self) -> SandboxLimits {
        SandboxLimits {
            memory_bytes: (self.memory_mib as usize) << 20,
            cpu_ticks: (self.cpu_ms / EPOCH_TICK.as_millis() as u64).max(1),
        }
    }
}

impl PluginPolicy {
    /// What a job of this plugin (called `plugin`) with id `job_id` may read from the store.
    pub fn read_scope(&self, plugin: &str, job_id: &str) -> crate::storage::ReadScope {
        crate::storage::ReadScope::new(job_id, plugin, self.read_prefixes.clone())
    }

    /// Refuses a plugin that imports or declares a capability it was not granted. `imports` are
    /// the component's import names (`kiln:render/browser@1.0.0`, `wasi:cli/stdout@0.2.6`, …).
    pub fn check(&self, plugin: &str, imports: &[String], declared: &[Capability]) -> Result<()> {
        for import in imports {
            let Some(capability) = capability_of_import(import) else {
                continue;
            };
            if !self.grants.contains(&capability) && !CALL_TIME.contains(&capability) {
                return Err(self.refusal(
                    plugin,
                    capability,
                    &format!("imports {import}, which needs"),
                ));
            }
        }
        for capability in declared {
            if !self.grants.contains(capability) && !CALL_TIME.contains(capability) {
                return Err(self.refusal(plugin, *capability, "declares"));
            }
        }
        for (guest, host) in &self.dirs {
            if !host.is_dir() {
                return Err(anyhow!(
                    "plugin {plugin} is granted directory {} as {guest}, but it is not a directory \
                     on this host (plugins.per_plugin.{plugin}.dirs)",
                    host.display()
                ));
            }
        }
        Ok(())
    }

    fn refusal(&self, plugin: &str, capability: Capability, what: &str) -> anyhow::Error {
        let granted: Vec<&str> = self.grants.iter().map(|c| capability_name(*c)).collect();
        anyhow!(
            "plugin {plugin} {what} the `{}` capability, which this host does not grant it \
             (granted: {}); an operator can grant it with `plugins.per_plugin.{plugin}.grants` \
             in the config",
            capability_name(capability),
            if granted.is_empty() {
                "nothing".to_string()
            } else {
                granted.join(", ")
            }
        )
    }
}

/// Interfaces named otherwise than the capability they need: `recording` records pages (and
/// its calls check `media` too, as `page.record`'s do).
const NEEDS_OTHER: [(&str, Capability); 1] = [("recording", Capability::Browser)];

/// The capability a `kiln:render` interface import needs; `None` for interfaces every plugin may
/// import (`types`, `host`, `libraries`) and for WASI, which the sandbox grants nothing through
/// unless config names a directory.
fn capability_of_import(import: &str) -> Option<Capability> {
    let interface = import.strip_prefix("kiln:render/")?;
    let interface = interface.split('@').next().unwrap_or(interface);
    NEEDS_OTHER
        .iter()
        .find(|(name, _)| *name == interface)
        .map(|(_, capability)| *capability)
        .or_else(|| capability_named(interface))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(toml: &str) -> LoadPolicy {
        let config: crate::Config = toml::from_str(toml).unwrap();
        LoadPolicy::new(&config.plugins, &config.jobs)
    }

    #[test]
    fn built_ins_get_everything_others_the_default_and_config_wins() {
        let load = policy("[plugins.per_plugin.card]\ngrants = [\"browser\"]\ntimeout_ms = 900\n");
        assert_eq!(load.for_plugin("p5").grants.len(), 4);
        assert_eq!(
            load.for_plugin("kidlisp").grants,
            vec![Capability::Media, Capability::Storage, Capability::Sources]
        );
        assert!(
            !load
                .for_plugin("stranger")
                .grants
                .contains(&Capability::Sources)
        );
        assert_eq!(
            load.for_plugin("stranger").grants,
            vec![Capability::Media, Capability::Storage]
        );
        let card = load.for_plugin("card");
        assert_eq!(card.grants, vec![Capability::Browser]);
        assert_eq!(card.timeout, Duration::from_millis(900));
        assert_eq!(load.for_plugin("stranger").timeout, Duration::from_secs(30));
    }

    #[test]
    fn an_ungranted_import_or_declaration_is_refused_by_name() {
        let stranger = policy("").for_plugin("stranger");
        let imports = vec![
            "wasi:cli/stdout@0.2.6".to_string(),
            "kiln:render/types@1.0.0".to_string(),
            "kiln:render/host@1.0.0".to_string(),
            "kiln:render/storage@1.0.0".to_string(),
        ];
        stranger
            .check("stranger", &imports, &[Capability::Storage])
            .unwrap();

        let mut with_browser = imports.clone();
        with_browser.push("kiln:render/browser@1.2.0".to_string());
        let err = stranger
            .check("stranger", &with_browser, &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("imports kiln:render/browser@1.2.0")
                && err.contains("`browser` capability")
                && err.contains("plugins.per_plugin.stranger.grants"),
            "{err}"
        );
        let err = stranger
            .check("stranger", &imports, &[Capability::Browser])
            .unwrap_err()
            .to_string();
        assert!(err.contains("declares the `browser` capability"), "{err}");

        // `sources` is checked at each call instead: importing or declaring it is no refusal.
        let mut with_sources = imports.clone();
        with_sources.push("kiln:render/sources@1.3.0".to_string());
        stranger
            .check("stranger", &with_sources, &[Capability::Sources])
            .unwrap();
    }
}
