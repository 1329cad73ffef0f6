//! The WIT `storage` interface.

use crate::media::HostBlob;
use crate::plugins::bindings::kiln::render::storage::Host;
use crate::plugins::bindings::kiln::render::types::{Artifact, Error as WitError};
use crate::plugins::state::JobState;
use wasmtime::component::Resource;

impl Host for JobState {
    async fn put(
        &mut self,
        name: String,
        data: Resource<HostBlob>,
    ) -> wasmtime::Result<Result<Artifact, WitError>> {
        let blob = self.table.get(&data)?.clone();
        Ok(self.store_artifact(&name, blob).await.map_err(Into::into))
    }

    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Resource<HostBlob>, WitError>> {
        match self.read_object(&key).await {
            Ok(blob) => Ok(Ok(self.table.push(blob)?)),
            Err(err) => Ok(Err(err.into())),
        }
    }
}
