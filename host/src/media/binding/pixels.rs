//! `kiln:render/pixels` (added in 1.2.0, unchanged since) on [`MediaView`]: stills and videos from RGBA frames a plugin drew.

use super::super::context::MediaView;
use super::super::pixels::{FrameEncoderOptions, HostFrameEncoder, encode_rgba};
use super::super::{HostFrames, HostImage};
use crate::contract::latest::kiln::render::pixels::{
    EncoderOptions, Host, HostFrameEncoder as HostFrameEncoderApi,
};
use crate::contract::latest::kiln::render::types::ImageFormat as WitImageFormat;
use crate::error::RenderError;
use wasmtime::component::Resource;

impl Host for MediaView<'_> {
    async fn encode_image(
        &mut self,
        width: u32,
        height: u32,
        rgba: Vec<u8>,
        format: WitImageFormat,
        quality: Option<u8>,
        scale: u32,
    ) -> Result<Resource<HostImage>, RenderError> {
        self.ctx.require_media()?;
        let limits = self.ctx.job.limits;
        // Encoding a large still takes a while: off the async threads.
        let image = tokio::task::spawn_blocking(move || {
            encode_rgba(width, height, rgba, format.into(), quality, scale, &limits)
        })
        .await
        .map_err(|e| RenderError::internal(format!("the image encoder task failed: {e}")))??;
        Ok(self.table.push(image)?)
    }
}

impl HostFrameEncoderApi for MediaView<'_> {
    async fn start(
        &mut self,
        options: EncoderOptions,
    ) -> Result<Resource<HostFrameEncoder>, RenderError> {
        self.ctx.require_media()?;
        let job = &self.ctx.job;
        let encoder = HostFrameEncoder::start(
            FrameEncoderOptions {
                width: options.width,
                height: options.height,
                fps: options.fps,
                formats: options.encode.formats.into_iter().map(Into::into).collect(),
                quality: options.encode.quality,
                scale: options.encode.scale,
                poster_frame: options.poster_frame,
            },
            &job.limits,
            job.deadline,
        )
        .await?;
        Ok(self.table.push(encoder)?)
    }

    async fn push(
        &mut self,
        encoder: Resource<HostFrameEncoder>,
        rgba: Vec<u8>,
    ) -> Result<(), RenderError> {
        self.table.get_mut(&encoder)?.push(rgba).await
    }

    async fn finish(
        &mut self,
        encoder: Resource<HostFrameEncoder>,
    ) -> Result<Resource<HostFrames>, RenderError> {
        let frames = self.table.delete(encoder)?.finish().await?;
        Ok(self.table.push(frames)?)
    }

    async fn drop(&mut self, encoder: Resource<HostFrameEncoder>) -> wasmtime::Result<()> {
        // Dropping the encoder kills its ffmpeg and removes its files.
        self.table.delete(encoder)?;
        Ok(())
    }
}
