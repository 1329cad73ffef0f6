//! `kiln:render/media@1.0.0` (images and blobs), served by the newest implementation: the same
//! resources, so each call forwards unchanged.

use super::super::context::MediaView;
use super::super::{HostBlob, HostImage};
use crate::contract::latest::kiln::render::media as latest;
use crate::contract::latest::kiln::render::types::ImageFormat;
use crate::contract::v1_0_0::kiln::render::media::{
    Host, HostBlob as HostBlobApi, HostImage as HostImageApi,
};
use wasmtime::component::Resource;

impl Host for MediaView<'_> {}

impl HostImageApi for MediaView<'_> {
    async fn width(&mut self, image: Resource<HostImage>) -> wasmtime::Result<u32> {
        latest::HostImage::width(self, image).await
    }

    async fn height(&mut self, image: Resource<HostImage>) -> wasmtime::Result<u32> {
        latest::HostImage::height(self, image).await
    }

    async fn format(&mut self, image: Resource<HostImage>) -> wasmtime::Result<ImageFormat> {
        latest::HostImage::format(self, image).await
    }

    async fn to_blob(
        &mut self,
        image: Resource<HostImage>,
    ) -> wasmtime::Result<Resource<HostBlob>> {
        latest::HostImage::to_blob(self, image).await
    }

    async fn drop(&mut self, image: Resource<HostImage>) -> wasmtime::Result<()> {
        latest::HostImage::drop(self, image).await
    }
}

impl HostBlobApi for MediaView<'_> {
    async fn new(
        &mut self,
        bytes: Vec<u8>,
        content_type: String,
    ) -> wasmtime::Result<Resource<HostBlob>> {
        latest::HostBlob::new(self, bytes, content_type).await
    }

    async fn content_type(&mut self, blob: Resource<HostBlob>) -> wasmtime::Result<String> {
        latest::HostBlob::content_type(self, blob).await
    }

    async fn size(&mut self, blob: Resource<HostBlob>) -> wasmtime::Result<u64> {
        latest::HostBlob::size(self, blob).await
    }

    async fn read(
        &mut self,
        blob: Resource<HostBlob>,
        offset: u64,
        length: u64,
    ) -> wasmtime::Result<Vec<u8>> {
        latest::HostBlob::read(self, blob, offset, length).await
    }

    async fn drop(&mut self, blob: Resource<HostBlob>) -> wasmtime::Result<()> {
        latest::HostBlob::drop(self, blob).await
    }
}
