//! A plugin ready to instantiate, whichever released contract version it was built against: one
//! generated `PluginPre` per version behind one type, the way Zed's extension host keeps one
//! enum over its `since_vX` APIs. Calls return the newest version's types.

use super::store::PluginStore;
use crate::contract::latest::kiln::render::types::{Artifact, Capability, Error as WitError};
use crate::contract::{ContractVersion, latest, v1_0_0, v1_1_0, v1_2_0, v1_3_0};
use wasmtime::Store;
use wasmtime::component::InstancePre;

/// The call into the plugin's exports, per contract version.
pub enum VersionedPre {
    V1_0_0(v1_0_0::PluginPre<PluginStore>),
    V1_1_0(v1_1_0::PluginPre<PluginStore>),
    V1_2_0(v1_2_0::PluginPre<PluginStore>),
    V1_3_0(v1_3_0::PluginPre<PluginStore>),
    V1_4_0(latest::PluginPre<PluginStore>),
}

/// Each version's `plugin-info` as the newest version's. The fields have not changed; the
/// capabilities of a version before 1.3.0 are 1.1.0's enum, which has no `sources`, and 1.3.0's
/// are that world's own enum (the same cases as 1.4.0's).
macro_rules! newest_info {
    ($info:expr) => {
        newest_info!($info, newest_capability)
    };
    ($info:expr, $convert:expr) => {{
        let info = $info;
        latest::PluginInfo {
            name: info.name,
            version: info.version,
            summary: info.summary,
            input_schema: info.input_schema,
            capabilities: info.capabilities.into_iter().map($convert).collect(),
        }
    }};
}

/// A capability of 1.0.0–1.2.0 as the newest version's.
fn newest_capability(capability: v1_1_0::kiln::render::types::Capability) -> Capability {
    use v1_1_0::kiln::render::types::Capability as Old;
    match capability {
        Old::Browser => Capability::Browser,
        Old::Media => Capability::Media,
        Old::Storage => Capability::Storage,
    }
}

/// A capability of 1.3.0 as 1.4.0's.
fn capability_of_1_3(capability: v1_3_0::Capability) -> Capability {
    use v1_3_0::Capability as Old;
    match capability {
        Old::Browser => Capability::Browser,
        Old::Media => Capability::Media,
        Old::Storage => Capability::Storage,
        Old::Sources => Capability::Sources,
    }
}

impl VersionedPre {
    /// Checks that the component exports `describe` and `run` as `version` defines them.
    pub fn new(version: ContractVersion, pre: InstancePre<PluginStore>) -> wasmtime::Result<Self> {
        Ok(match version {
            ContractVersion::V1_0_0 => Self::V1_0_0(v1_0_0::PluginPre::new(pre)?),
            ContractVersion::V1_1_0 => Self::V1_1_0(v1_1_0::PluginPre::new(pre)?),
            ContractVersion::V1_2_0 => Self::V1_2_0(v1_2_0::PluginPre::new(pre)?),
            ContractVersion::V1_3_0 => Self::V1_3_0(v1_3_0::PluginPre::new(pre)?),
            ContractVersion::V1_4_0 => Self::V1_4_0(latest::PluginPre::new(pre)?),
        })
    }

    /// The contract version the plugin was built against.
    pub fn version(&self) -> ContractVersion {
        match self {
            Self::V1_0_0(_) => ContractVersion::V1_0_0,
            Self::V1_1_0(_) => ContractVersion::V1_1_0,
            Self::V1_2_0(_) => ContractVersion::V1_2_0,
            Self::V1_3_0(_) => ContractVersion::V1_3_0,
            Self::V1_4_0(_) => ContractVersion::V1_4_0,
        }
    }

    /// Instantiates the plugin in `store` and calls `describe`.
    pub async fn describe(
        &self,
        store: &mut Store<PluginStore>,
    ) -> wasmtime::Result<latest::PluginInfo> {
        Ok(match self {
            Self::V1_0_0(pre) => newest_info!(
                pre.instantiate_async(&mut *store)
                    .await?
                    .call_describe(&mut *store)
                    .await?
            ),
            Self::V1_1_0(pre) => newest_info!(
                pre.instantiate_async(&mut *store)
                    .await?
                    .call_describe(&mut *store)
                    .await?
            ),
            Self::V1_2_0(pre) => newest_info!(
                pre.instantiate_async(&mut *store)
                    .await?
                    .call_describe(&mut *store)
                    .await?
            ),
            Self::V1_3_0(pre) => newest_info!(
                pre.instantiate_async(&mut *store)
                    .await?
                    .call_describe(&mut *store)
                    .await?,
                capability_of_1_3
            ),
            Self::V1_4_0(pre) => {
                pre.instantiate_async(&mut *store)
                    .await?
                    .call_describe(&mut *store)
                    .await?
            }
        })
    }

    /// Instantiates the plugin in `store` and runs job `id` on `input`.
    pub async fn run(
        &self,
        store: &mut Store<PluginStore>,
        id: &str,
        input: String,
    ) -> wasmtime::Result<Result<Vec<Artifact>, WitError>> {
        match self {
            Self::V1_0_0(pre) => {
                let job = v1_0_0::Job {
                    id: id.to_string(),
                    input,
                };
                let instance = pre.instantiate_async(&mut *store).await?;
                instance.call_run(&mut *store, &job).await
            }
            Self::V1_1_0(pre) => {
                let job = v1_1_0::Job {
                    id: id.to_string(),
                    input,
                };
                let instance = pre.instantiate_async(&mut *store).await?;
                instance.call_run(&mut *store, &job).await
            }
            Self::V1_2_0(pre) => {
                let job = v1_2_0::Job {
                    id: id.to_string(),
                    input,
                };
                let instance = pre.instantiate_async(&mut *store).await?;
                instance.call_run(&mut *store, &job).await
            }
            Self::V1_3_0(pre) => {
                let job = v1_3_0::Job {
                    id: id.to_string(),
                    input,
                };
                let instance = pre.instantiate_async(&mut *store).await?;
                instance.call_run(&mut *store, &job).await
            }
            Self::V1_4_0(pre) => {
                let job = latest::Job {
                    id: id.to_string(),
                    input,
                };
                let instance = pre.instantiate_async(&mut *store).await?;
                instance.call_run(&mut *store, &job).await
            }
        }
    }
}
