//! Pixels a plugin drew itself (a software renderer such as KidLisp's): RGBA frames made into
//! stills, and [`HostFrameEncoder`], which streams them into the encoders a recording uses.

use super::encode::{EncodeSettings, FrameKind, VideoEncoder, VideoFormat};
use super::{HostFrames, HostImage, ImageFormat};
use crate::error::RenderError;
use crate::jobs::JobLimits;
use std::time::Instant;

/// The largest nearest-neighbour upscale a plugin may ask for, as `page.record` allows.
pub const MAX_SCALE: u32 = 16;

/// Checks a frame's size against the host's limits, naming what is over.
fn check_size(
    what: &str,
    width: u32,
    height: u32,
    scale: u32,
    limits: &JobLimits,
) -> Result<u64, RenderError> {
    if width == 0 || height == 0 {
        return Err(RenderError::invalid_input(format!(
            "{what}: a frame must be at least 1×1 pixels (got {width}×{height})"
        )));
    }
    if !(1..=MAX_SCALE).contains(&scale) {
        return Err(RenderError::invalid_input(format!(
            "{what}: scale {scale} is outside 1..={MAX_SCALE}"
        )));
    }
    let (scaled_w, scaled_h) = (
        u64::from(width) * u64::from(scale),
        u64::from(height) * u64::from(scale),
    );
    let side = u64::from(limits.max_dimension);
    if scaled_w > side || scaled_h > side {
        return Err(RenderError::invalid_input(format!(
            "{what}: {width}×{height} at scale {scale} is {scaled_w}×{scaled_h} pixels, over this \
             host's {side} pixels per side (jobs.max_dimension)"
        )));
    }
    let pixels = scaled_w * scaled_h;
    if pixels > limits.max_pixels {
        return Err(RenderError::invalid_input(format!(
            "{what}: {scaled_w}×{scaled_h} is {pixels} pixels, over this host's cap of {} \
             (jobs.max_pixels)",
            limits.max_pixels
        )));
    }
    Ok(pixels)
}

/// Fails unless `rgba` holds exactly one `width × height` RGBA frame.
fn check_length(what: &str, rgba: &[u8], width: u32, height: u32) -> Result<(), RenderError> {
    let expected = u64::from(width) * u64::from(height) * 4;
    if rgba.len() as u64 != expected {
        return Err(RenderError::invalid_input(format!(
            "{what}: got {} bytes, but a {width}×{height} RGBA frame is {expected} \
             (width × height × 4, rows top to bottom)",
            rgba.len()
        )));
    }
    Ok(())
}

/// One RGBA frame (checked to be `width × height`) as an image buffer, upscaled by `scale`.
fn frame_image(
    rgba: Vec<u8>,
    width: u32,
    height: u32,
    scale: u32,
) -> Result<::image::RgbaImage, RenderError> {
    let frame = ::image::RgbaImage::from_raw(width, height, rgba)
        .ok_or_else(|| RenderError::internal("an RGBA frame of the checked length was refused"))?;
    Ok(if scale > 1 {
        ::image::imageops::resize(
            &frame,
            width * scale,
            height * scale,
            ::image::imageops::FilterType::Nearest,
        )
    } else {
        frame
    })
}

/// Encodes one RGBA frame as a still in `format`, after checking it against `limits`.
pub fn encode_rgba(
    width: u32,
    height: u32,
    rgba: Vec<u8>,
    format: ImageFormat,
    quality: Option<u8>,
    scale: u32,
    limits: &JobLimits,
) -> Result<HostImage, RenderError> {
    check_size("encode-image", width, height, scale, limits)?;
    check_length("encode-image", &rgba, width, height)?;
    if let Some(q) = quality
        && !(1..=100).contains(&q)
    {
        return Err(RenderError::invalid_input(format!(
            "encode-image: quality {q} is outside 1..=100"
        )));
    }
    HostImage::encode(&frame_image(rgba, width, height, scale)?, format, quality)
}

/// What a [`HostFrameEncoder`] makes.
#[derive(Debug, Clone)]
pub struct FrameEncoderOptions {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub formats: Vec<VideoFormat>,
    pub quality: Option<u8>,
    pub scale: u32,
    /// The frame kept as the poster (the first when `None`).
    pub poster_frame: Option<u32>,
}

/// The `frame-encoder` resource: RGBA frames go to ffmpeg as the plugin pushes them, so a
/// recording of any length holds one frame at a time (two: the first is kept to tell whether
/// every frame was the same, and the poster until it is encoded).
pub struct HostFrameEncoder {
    encoder: VideoEncoder,
    options: FrameEncoderOptions,
    /// The most frames this encoder takes: `jobs.max_frames`, or fewer when the frame pixel
    /// budget (`jobs.max_frame_pixels`) runs out first.
    max_frames: u32,
    pushed: u32,
    first: Option<Vec<u8>>,
    all_identical: bool,
    poster: Option<Vec<u8>>,
    deadline: Instant,
}

impl HostFrameEncoder {
    /// Checks `options` against `limits` and starts the encoders.
    pub async fn start(
        options: FrameEncoderOptions,
        limits: &JobLimits,
        deadline: Instant,
    ) -> Result<Self, RenderError> {
        let per_frame = check_size(
            "frame-encoder",
            options.width,
            options.height,
            options.scale,
            limits,
        )?;
        // The frame pixel budget bounds the whole video; it is charged as frames arrive.
        let by_budget = limits.max_frame_pixels / per_frame.max(1);
        if by_budget == 0 {
            return Err(RenderError::invalid_input(format!(
                "frame-encoder: one frame of {per_frame} pixels is over this host's budget of {} \
                 pixels for a whole recording (jobs.max_frame_pixels)",
                limits.max_frame_pixels
            )));
        }
        let max_frames = limits
            .max_frames
            .min(u32::try_from(by_budget).unwrap_or(u32::MAX));
        if let Some(poster) = options.poster_frame
            && poster >= max_frames
        {
            return Err(RenderError::invalid_input(format!(
                "frame-encoder: poster-frame {poster} is beyond the {max_frames} frames this \
                 encoder can take (frames count from 0)"
            )));
        }
        let encoder = VideoEncoder::start(EncodeSettings {
            width: options.width,
            height: options.height,
            fps: options.fps,
            formats: options.formats.clone(),
            quality: options.quality,
            scale: options.scale,
            frame_kind: FrameKind::Rgba,
        })
        .await?;
        Ok(Self {
            encoder,
            options,
            max_frames,
            pushed: 0,
            first: None,
            all_identical: true,
            poster: None,
            deadline,
        })
    }

    /// Encodes the next frame, waiting while the encoders are busy (never past the job's
    /// deadline).
    pub async fn push(&mut self, rgba: Vec<u8>) -> Result<(), RenderError> {
        let index = self.pushed;
        let (width, height) = (self.options.width, self.options.height);
        check_length(&format!("frame {index}"), &rgba, width, height)?;
        if index >= self.max_frames {
            return Err(RenderError::invalid_input(format!(
                "frame {index}: this encoder takes at most {} frames of {width}×{height} at scale \
                 {} (jobs.max_frames, jobs.max_frame_pixels): finish it, or encode fewer or \
                 smaller frames",
                self.max_frames, self.options.scale
            )));
        }
        tokio::time::timeout_at(self.deadline.into(), self.encoder.push(&rgba))
            .await
            .map_err(|_| {
                RenderError::timeout(format!(
                    "encoding frame {index} did not finish before the job's deadline"
                ))
            })??;
        match &self.first {
            None => self.first = Some(rgba.clone()),
            Some(first) => self.all_identical &= *first == rgba,
        }
        if index == self.options.poster_frame.unwrap_or(0) {
            self.poster = Some(rgba);
        }
        self.pushed += 1;
        Ok(())
    }

    /// Finishes every encoding into the `frames` a recording gives.
    pub async fn finish(self) -> Result<HostFrames, RenderError> {
        let options = self.options;
        let Some(poster) = self.poster else {
            return Err(RenderError::invalid_input(format!(
                "frame-encoder: {} frames were pushed, so poster-frame {} does not exist; push \
                 at least one frame, and the poster frame, before finishing",
                self.pushed,
                options.poster_frame.unwrap_or(0)
            )));
        };
        let videos = tokio::time::timeout_at(self.deadline.into(), self.encoder.finish())
            .await
            .map_err(|_| {
                RenderError::timeout("the encoders did not finish before the job's deadline")
            })??;
        // Kept unscaled; `HostFrames::poster` scales it like the videos.
        let poster = HostImage::encode(
            &frame_image(poster, options.width, options.height, 1)?,
            ImageFormat::Png,
            None,
        )?;
        Ok(HostFrames {
            count: self.pushed,
            width: options.width * options.scale,
            height: options.height * options.scale,
            fps: options.fps,
            all_identical: self.all_identical,
            audio_seconds: None,
            videos,
            poster: poster.bytes,
            poster_scale: options.scale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits() -> JobLimits {
        JobLimits {
            max_frames: 10,
            max_frame_pixels: 4 * 4 * 6,
            ..JobLimits::from(&crate::jobs::JobSettings::default())
        }
    }

    fn solid(width: u32, height: u32, rgba: [u8; 4]) -> Vec<u8> {
        rgba.repeat((width * height) as usize)
    }

    #[test]
    fn a_still_is_checked_then_encoded_with_its_scale() {
        let limits = limits();
        let image = encode_rgba(
            3,
            2,
            solid(3, 2, [9, 8, 7, 255]),
            ImageFormat::Png,
            None,
            2,
            &limits,
        )
        .unwrap();
        assert_eq!((image.width, image.height), (6, 4));
        let decoded = ::image::load_from_memory(&image.bytes).unwrap().to_rgba8();
        assert!(decoded.pixels().all(|p| p.0 == [9, 8, 7, 255]));

        let short = encode_rgba(3, 2, vec![0; 5], ImageFormat::Png, None, 1, &limits);
        let message = short.unwrap_err().message;
        assert!(
            message.contains("got 5 bytes") && message.contains("24"),
            "{message}"
        );
        let huge = encode_rgba(100_000, 1, Vec::new(), ImageFormat::Png, None, 1, &limits);
        assert!(huge.unwrap_err().message.contains("jobs.max_dimension"));
        let scaled = encode_rgba(
            3,
            2,
            solid(3, 2, [0; 4]),
            ImageFormat::Png,
            None,
            17,
            &limits,
        );
        assert!(scaled.unwrap_err().message.contains("scale 17"));
    }

    #[tokio::test]
    async fn frames_stream_into_the_encoders_within_the_budget() {
        let deadline = Instant::now() + Duration::from_secs(30);
        let options = FrameEncoderOptions {
            width: 4,
            height: 4,
            fps: 10.0,
            formats: vec![VideoFormat::Gif],
            quality: None,
            scale: 1,
            poster_frame: Some(1),
        };
        let mut encoder = HostFrameEncoder::start(options.clone(), &limits(), deadline)
            .await
            .unwrap();
        // The pixel budget allows 6 frames of 4×4, fewer than jobs.max_frames.
        for shade in 0..6u8 {
            encoder
                .push(solid(4, 4, [shade * 40, 0, 0, 255]))
                .await
                .unwrap();
        }
        let over = encoder.push(solid(4, 4, [0; 4])).await.unwrap_err();
        assert!(
            over.message.contains("at most 6 frames"),
            "{}",
            over.message
        );
        let wrong = encoder.push(vec![0; 3]).await.unwrap_err();
        assert!(wrong.message.contains("got 3 bytes"), "{}", wrong.message);
        let frames = encoder.finish().await.unwrap();
        assert_eq!((frames.count, frames.width, frames.height), (6, 4, 4));
        assert!(!frames.all_identical);
        let poster = frames.poster(ImageFormat::Png, None).unwrap();
        let poster = ::image::load_from_memory(&poster.bytes).unwrap().to_rgba8();
        assert_eq!(poster.get_pixel(0, 0).0, [40, 0, 0, 255]);
        assert!(
            frames
                .video(VideoFormat::Gif)
                .unwrap()
                .bytes
                .starts_with(b"GIF8")
        );

        let mut empty = HostFrameEncoder::start(options, &limits(), deadline)
            .await
            .unwrap();
        empty.push(solid(4, 4, [1, 2, 3, 255])).await.unwrap();
        let message = empty.finish().await.unwrap_err().message;
        assert!(
            message.contains("poster-frame 1 does not exist"),
            "{message}"
        );
    }
}
