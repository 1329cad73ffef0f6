//! The WIT `media` interface on [`MediaView`]: image, blob and frames resources, and tape
//! baking. `mod.rs` implements the newest contract's `media` (unchanged since 1.1.0);
//! `pixels.rs` its `pixels` (1.2.0); `v1_0_0.rs` adapts 1.0.0's `media` to the newest.

mod pixels;
mod v1_0_0;

use super::context::MediaView;
use super::encode::VideoFormat;
use super::tape::{self, BakeSettings, Tape, TapeLimits};
use super::{HostBlob, HostFrames, HostImage, ImageFormat};
use crate::contract::latest::kiln::render::media::{
    EncodeOptions, Host, HostBlob as HostBlobApi, HostFrames as HostFramesApi,
    HostImage as HostImageApi, Tape as WitTape, TapeSource, VideoFormat as WitVideoFormat,
};
use crate::contract::latest::kiln::render::types::ImageFormat as WitImageFormat;
use crate::error::RenderError;
use wasmtime::component::Resource;

impl From<WitVideoFormat> for VideoFormat {
    fn from(format: WitVideoFormat) -> Self {
        match format {
            WitVideoFormat::Mp4 => VideoFormat::Mp4,
            WitVideoFormat::Webm => VideoFormat::Webm,
            WitVideoFormat::Webp => VideoFormat::Webp,
            WitVideoFormat::Gif => VideoFormat::Gif,
        }
    }
}

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

impl Host for MediaView<'_> {
    async fn bake_tape(
        &mut self,
        tape: WitTape,
        options: EncodeOptions,
    ) -> Result<Resource<HostFrames>, RenderError> {
        let baked = async {
            self.ctx.require_media()?;
            // Used only when neither timings nor a soundtrack set the rate.
            let fps = tape.fps;
            let tape = self.gather_tape(tape).await?;
            let settings = BakeSettings {
                fps,
                quality: options.quality,
                scale: options.scale.max(1),
                thumbnail: ImageFormat::Png,
            };
            let all_identical = tape.frames.windows(2).all(|w| w[0].1 == w[1].1);
            let job = self.ctx.job.clone();
            let baked = tokio::time::timeout_at(job.deadline.into(), tape::bake(tape, settings))
                .await
                .map_err(|_| {
                    RenderError::timeout(format!(
                        "baking the tape did not finish within the job's {} ms",
                        job.limits.timeout.as_millis()
                    ))
                })??;
            Ok::<_, RenderError>(HostFrames {
                count: baked.frames,
                width: baked.thumbnail.width,
                height: baked.thumbnail.height,
                fps: baked.fps,
                all_identical,
                audio_seconds: baked.audio_seconds,
                videos: vec![baked.video],
                poster: baked.thumbnail.bytes,
                poster_scale: 1,
            })
        }
        .await?;
        Ok(self.table.push(baked)?)
    }
}

impl MediaView<'_> {
    /// The tape's frames, timings and soundtrack as bytes, from a ZIP or from the store.
    async fn gather_tape(&mut self, tape: WitTape) -> Result<Tape, RenderError> {
        let limits = self.ctx.job.limits;
        let tape_limits = TapeLimits {
            max_frames: limits.max_frames,
            max_total_bytes: limits.max_read_bytes,
            max_pixels: limits.max_pixels,
        };
        let mut gathered = match tape.source {
            TapeSource::Zip(zip) => {
                let zip = self.take_blob(zip)?;
                tape::unzip(&zip.bytes, &tape_limits)?
            }
            TapeSource::Keys(keys) => {
                if keys.is_empty() || keys.len() as u64 > u64::from(limits.max_frames) {
                    return Err(RenderError::invalid_input(format!(
                        "a tape of {} stored frames is outside 1..={} (jobs.max_frames)",
                        keys.len(),
                        limits.max_frames
                    )));
                }
                let mut frames = Vec::with_capacity(keys.len());
                let mut total = 0u64;
                for key in keys {
                    let blob = self.ctx.read_object(&key).await?;
                    total += blob.bytes.len() as u64;
                    if total > limits.max_read_bytes {
                        return Err(RenderError::invalid_input(format!(
                            "the tape's frames are over {} bytes together (jobs.max_read_bytes)",
                            limits.max_read_bytes
                        )));
                    }
                    frames.push((key, blob.bytes));
                }
                Tape {
                    frames,
                    durations_ms: None,
                    soundtrack: None,
                }
            }
        };
        if let Some(durations) = tape.durations_ms {
            gathered.durations_ms = Some(durations);
        }
        if let Some(soundtrack) = tape.soundtrack {
            gathered.soundtrack = Some(self.take_blob(soundtrack)?.bytes);
        }
        Ok(gathered)
    }

    /// Takes a blob the plugin handed over (an owned handle) out of the table.
    fn take_blob(&mut self, blob: Resource<HostBlob>) -> Result<HostBlob, RenderError> {
        Ok(self.table.delete(blob)?)
    }
}

impl HostFramesApi for MediaView<'_> {
    async fn count(&mut self, frames: Resource<HostFrames>) -> wasmtime::Result<u32> {
        Ok(self.table.get(&frames)?.count)
    }

    async fn width(&mut self, frames: Resource<HostFrames>) -> wasmtime::Result<u32> {
        Ok(self.table.get(&frames)?.width)
    }

    async fn height(&mut self, frames: Resource<HostFrames>) -> wasmtime::Result<u32> {
        Ok(self.table.get(&frames)?.height)
    }

    async fn fps(&mut self, frames: Resource<HostFrames>) -> wasmtime::Result<f64> {
        Ok(self.table.get(&frames)?.fps)
    }

    async fn all_identical(&mut self, frames: Resource<HostFrames>) -> wasmtime::Result<bool> {
        Ok(self.table.get(&frames)?.all_identical)
    }

    async fn audio_seconds(
        &mut self,
        frames: Resource<HostFrames>,
    ) -> wasmtime::Result<Option<f64>> {
        Ok(self.table.get(&frames)?.audio_seconds)
    }

    async fn video(
        &mut self,
        frames: Resource<HostFrames>,
        format: WitVideoFormat,
    ) -> Result<Resource<HostBlob>, RenderError> {
        let blob = self.table.get(&frames)?.video(format.into())?;
        Ok(self.table.push(blob)?)
    }

    async fn poster(
        &mut self,
        frames: Resource<HostFrames>,
        format: WitImageFormat,
        quality: Option<u8>,
    ) -> Result<Resource<HostImage>, RenderError> {
        let image = self.table.get(&frames)?.poster(format.into(), quality)?;
        Ok(self.table.push(image)?)
    }

    async fn drop(&mut self, frames: Resource<HostFrames>) -> wasmtime::Result<()> {
        self.table.delete(frames)?;
        Ok(())
    }
}

impl HostImageApi for MediaView<'_> {
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

impl HostBlobApi for MediaView<'_> {
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
