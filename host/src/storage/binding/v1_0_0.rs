//! `kiln:render/storage@1.0.0` (`put` only), served by the newest implementation.

use super::super::context::StorageView;
use crate::contract::latest::kiln::render::storage as latest;
use crate::contract::latest::kiln::render::types::Artifact;
use crate::contract::v1_0_0::kiln::render::storage::Host;
use crate::error::RenderError;
use crate::media::HostBlob;
use wasmtime::component::Resource;

impl Host for StorageView<'_> {
    async fn put(
        &mut self,
        name: String,
        data: Resource<HostBlob>,
    ) -> Result<Artifact, RenderError> {
        latest::Host::put(self, name, data).await
    }
}
