//! The WIT `storage` interface on [`StorageView`]. `mod.rs` implements the newest contract;
//! `v1_0_0.rs` adapts 1.0.0 to it.

mod v1_0_0;

use super::context::StorageView;
use crate::contract::latest::kiln::render::storage::Host;
use crate::contract::latest::kiln::render::types::Artifact;
use crate::error::RenderError;
use crate::jobs::StoredArtifact;
use crate::media::HostBlob;
use wasmtime::component::Resource;

impl Host for StorageView<'_> {
    async fn put(
        &mut self,
        name: String,
        data: Resource<HostBlob>,
    ) -> Result<Artifact, RenderError> {
        let blob = self.table.get(&data)?.clone();
        Ok(self.ctx.store_artifact(&name, blob).await?.into())
    }

    async fn get(&mut self, key: String) -> Result<Resource<HostBlob>, RenderError> {
        let blob = self.ctx.read_object(&key).await?;
        Ok(self.table.push(blob)?)
    }
}

impl From<StoredArtifact> for Artifact {
    fn from(a: StoredArtifact) -> Self {
        Artifact {
            name: a.name,
            key: a.key,
            url: a.url,
            content_type: a.content_type,
            bytes: a.bytes,
        }
    }
}
