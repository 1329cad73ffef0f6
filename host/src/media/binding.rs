//! The WIT `media` interface: image and blob resources.

use super::{HostBlob, HostImage, ImageFormat};
use crate::plugins::bindings::kiln::render::media::{
    Host, HostBlob as HostBlobApi, HostImage as HostImageApi,
};
use crate::plugins::bindings::kiln::render::types::ImageFormat as WitImageFormat;
use crate::plugins::state::JobState;
use wasmtime::component::Resource;

impl From<ImageFormat> for WitImageFormat {
    fn from(format: ImageFormat) -> Self {
        match format {
            ImageFormat::Png => WitImageFormat::Png,
            ImageFormat::Jpeg => WitImageFormat::Jpeg,
            ImageFormat::Webp => WitImageFormat::Webp,
        }
    }
}

impl From<WitImageFormat> for ImageFormat {
    fn from(format: WitImageFormat) -> Self {
        match format {
            WitImageFormat::Png => ImageFormat::Png,
            WitImageFormat::Jpeg => ImageFormat::Jpeg,
            WitImageFormat::Webp => ImageFormat::Webp,
        }
    }
}

impl Host for JobState {}

impl HostImageApi for JobState {
    async fn width(&mut self, image: Resource<HostImage>) -> wasmtime::Result<u32> {
        Ok(self.table.get(&image)?.width)
    }

    async fn height(&mut self, image: Resource<HostImage>) -> wasmtime::Result<u32> {
        Ok(self.table.get(&image)?.height)
    }

    async fn format(&mut self, image: Resource<HostImage>) -> wasmtime::Result<WitImageFormat> {
        Ok(self.table.get(&image)?.format.into())
    }

    async fn to_blob(
        &mut self,
        image: Resource<HostImage>,
    ) -> wasmtime::Result<Resource<HostBlob>> {
        let blob = self.table.get(&image)?.to_blob();
        Ok(self.table.push(blob)?)
    }

    async fn drop(&mut self, image: Resource<HostImage>) -> wasmtime::Result<()> {
        self.table.delete(image)?;
        Ok(())
    }
}

impl HostBlobApi for JobState {
    async fn new(
        &mut self,
        bytes: Vec<u8>,
        content_type: String,
    ) -> wasmtime::Result<Resource<HostBlob>> {
        Ok(self.table.push(HostBlob {
            bytes: bytes.into(),
            content_type,
        })?)
    }

    async fn content_type(&mut self, blob: Resource<HostBlob>) -> wasmtime::Result<String> {
        Ok(self.table.get(&blob)?.content_type.clone())
    }

    async fn size(&mut self, blob: Resource<HostBlob>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&blob)?.bytes.len() as u64)
    }

    async fn read(
        &mut self,
        blob: Resource<HostBlob>,
        offset: u64,
        length: u64,
    ) -> wasmtime::Result<Vec<u8>> {
        Ok(self.table.get(&blob)?.slice(offset, length).to_vec())
    }

    async fn drop(&mut self, blob: Resource<HostBlob>) -> wasmtime::Result<()> {
        self.table.delete(blob)?;
        Ok(())
    }
}
