//! Animated WebP without ffmpeg: every frame is encoded on its own by libwebp (`WebPEncode`,
//! several frames at once on the blocking pool), then libwebp's muxer puts the frames, whole and
//! in order, into one looping animation.
//!
//! ffmpeg's `libwebp_anim` hands frames to libwebp's `WebPAnimEncoder`, which encodes each frame
//! several times on one thread (sub-rectangles, with and without blending, as a keyframe) to keep
//! the smallest. For recordings whose whole canvas moves that search saves little and costs most
//! of a grab: 90 frames of 512² took 1.9 s there against 1.2 s encoded once each, and encoding
//! once each lets both cores work. The measurements are in docs/benchmarks.md.
//!
//! Each frame is a keyframe that replaces the canvas (no blending, no disposal), so a frame with
//! transparency shows exactly its own pixels, as with ffmpeg.

use super::format::FrameKind;
use super::settings::EncodeSettings;
use crate::error::RenderError;
use bytes::Bytes;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

/// libwebp's encoding effort, 0 (fastest) to 6. At 1 a frame costs about a third less than at
/// the default 4 for a few percent more bytes, the trade ffmpeg's path made too.
const METHOD: i32 = 1;

/// The animation's background colour (ARGB), which players show before the first frame: libwebp's
/// own default, opaque white.
const BACKGROUND: u32 = 0xFFFF_FFFF;

/// A frame's display time is stored in 24 bits of milliseconds.
const MAX_DURATION_MS: i64 = 0xFF_FFFF;

/// An animated WebP being encoded: frames go in one by one and are encoded in the background,
/// at most as many at once as there are cores (further pushes wait, which bounds memory as
/// ffmpeg's pipe does).
pub(crate) struct WebpAnimation {
    settings: EncodeSettings,
    workers: Arc<Semaphore>,
    frames: Vec<JoinHandle<Result<Vec<u8>, String>>>,
}

impl WebpAnimation {
    /// Ready for frames of `settings`' size and kind.
    pub(crate) fn new(settings: &EncodeSettings) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            settings: settings.clone(),
            workers: Arc::new(Semaphore::new(cores)),
            frames: Vec::new(),
        }
    }

    /// Queues one frame (already checked for size) for encoding; waits while every worker is busy.
    pub(crate) async fn push(&mut self, frame: Bytes) {
        let permit = self
            .workers
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let settings = self.settings.clone();
        self.frames.push(tokio::task::spawn_blocking(move || {
            encode_frame(&settings, &frame, permit)
        }));
    }

    /// Waits for every frame and assembles the animation.
    pub(crate) async fn finish(self) -> Result<Vec<u8>, RenderError> {
        let mut encoded = Vec::with_capacity(self.frames.len());
        for (index, frame) in self.frames.into_iter().enumerate() {
            let bytes = frame
                .await
                .map_err(|e| RenderError::internal(format!("the WebP encoder stopped: {e}")))?
                .map_err(|e| {
                    RenderError::internal(format!(
                        "the WebP encoder failed on frame {}: {e}",
                        index + 1
                    ))
                })?;
            encoded.push(bytes);
        }
        let settings = self.settings;
        tokio::task::spawn_blocking(move || mux(&encoded, settings.fps))
            .await
            .map_err(|e| RenderError::internal(format!("the WebP muxer stopped: {e}")))?
            .map_err(|e| RenderError::internal(format!("cannot assemble the animated WebP: {e}")))
    }
}

/// One frame as a still WebP file: decoded to RGBA if it is a PNG, scaled, encoded.
fn encode_frame(
    settings: &EncodeSettings,
    frame: &[u8],
    _worker: OwnedSemaphorePermit,
) -> Result<Vec<u8>, String> {
    let decoded;
    let rgba = match settings.frame_kind {
        FrameKind::Rgba => frame,
        FrameKind::Png => {
            decoded = image::load_from_memory_with_format(frame, image::ImageFormat::Png)
                .map_err(|e| format!("the frame is not a readable PNG: {e}"))?
                .into_rgba8();
            if decoded.dimensions() != (settings.width, settings.height) {
                return Err(format!(
                    "the frame is {}×{}, not {}×{}",
                    decoded.width(),
                    decoded.height(),
                    settings.width,
                    settings.height
                ));
            }
            decoded.as_raw()
        }
    };
    let scaled;
    let rgba = if settings.scale > 1 {
        scaled = upscale_nearest(rgba, settings.width, settings.height, settings.scale);
        &scaled
    } else {
        rgba
    };
    let (width, height) = settings.scaled_size();
    let mut config = webp::WebPConfig::new().map_err(|()| "libwebp refused its own defaults")?;
    config.lossless = 0;
    config.quality = f32::from(settings.webp_quality());
    config.method = METHOD;
    config.alpha_compression = 1;
    webp::Encoder::from_rgba(rgba, width, height)
        .encode_advanced(&config)
        .map(|memory| memory.to_vec())
        .map_err(|e| format!("libwebp: {e:?}"))
}

/// `rgba` (`width`×`height`) with every pixel repeated `scale`×`scale` times.
fn upscale_nearest(rgba: &[u8], width: u32, height: u32, scale: u32) -> Vec<u8> {
    let (width, scale) = (width as usize, scale as usize);
    let row_out = width * scale * 4;
    let mut out = Vec::with_capacity(row_out * height as usize * scale);
    for row in rgba.chunks_exact(width * 4) {
        let start = out.len();
        for pixel in row.chunks_exact(4) {
            for _ in 0..scale {
                out.extend_from_slice(pixel);
            }
        }
        for _ in 1..scale {
            out.extend_from_within(start..start + row_out);
        }
    }
    out
}

/// How long frame `index` shows at `fps`, in whole milliseconds, so that the durations add up
/// to the recording's length (30 fps: 33, 33, 34, …) as ffmpeg's timestamps do.
fn duration_ms(index: usize, fps: f64) -> i32 {
    let at = |i: usize| (i as f64 * 1000.0 / fps).round() as i64;
    (at(index + 1) - at(index)).clamp(1, MAX_DURATION_MS) as i32
}

/// Puts still WebP files, in order, into one looping animation with libwebp's muxer.
fn mux(frames: &[Vec<u8>], fps: f64) -> Result<Vec<u8>, String> {
    use libwebp_sys::*;

    /// Owns a `WebPMux` so every way out of [`mux`] frees it.
    struct Mux(*mut WebPMux);
    impl Drop for Mux {
        fn drop(&mut self) {
            // SAFETY: the pointer came from WebPMuxNew and is deleted only here.
            unsafe { WebPMuxDelete(self.0) }
        }
    }
    let check = |what: &str, status: WebPMuxError| match status {
        WebPMuxError::WEBP_MUX_OK => Ok(()),
        other => Err(format!("{what}: {other:?}")),
    };

    let handle = WebPMuxNew();
    if handle.is_null() {
        return Err("libwebp could not allocate a muxer".into());
    }
    let handle = Mux(handle);
    for (index, frame) in frames.iter().enumerate() {
        let info = WebPMuxFrameInfo {
            bitstream: WebPData {
                bytes: frame.as_ptr(),
                size: frame.len(),
            },
            x_offset: 0,
            y_offset: 0,
            duration: duration_ms(index, fps),
            id: WebPChunkId::WEBP_CHUNK_ANMF,
            dispose_method: WebPMuxAnimDispose::WEBP_MUX_DISPOSE_NONE,
            blend_method: WebPMuxAnimBlend::WEBP_MUX_NO_BLEND,
            pad: [0],
        };
        // SAFETY: `info` points into `frame`, which the caller keeps for longer than the muxer
        // lives (`handle` is deleted when this function returns). copy_data = 0: the muxer
        // refers to the frames instead of copying them, so a long recording is not held twice
        // before it is assembled.
        check(&format!("adding frame {}", index + 1), unsafe {
            WebPMuxPushFrame(handle.0, &info, 0)
        })?;
    }
    let params = WebPMuxAnimParams {
        bgcolor: BACKGROUND,
        loop_count: 0,
    };
    // SAFETY: the muxer is live and `params` is a valid struct for the call's duration.
    check("setting the loop", unsafe {
        WebPMuxSetAnimationParams(handle.0, &params)
    })?;
    let mut assembled = WebPData {
        bytes: std::ptr::null(),
        size: 0,
    };
    // SAFETY: the muxer is live; `assembled` receives a buffer libwebp allocated, copied out
    // and freed below with WebPDataClear.
    let status = unsafe { WebPMuxAssemble(handle.0, &mut assembled) };
    let bytes = (status == WebPMuxError::WEBP_MUX_OK && !assembled.bytes.is_null())
        // SAFETY: on success `assembled` holds `size` readable bytes.
        .then(|| unsafe { std::slice::from_raw_parts(assembled.bytes, assembled.size) }.to_vec());
    // SAFETY: clearing a WebPData that libwebp filled (or left empty) is always valid.
    unsafe { WebPDataClear(&mut assembled) };
    check("assembling", status)?;
    bytes.ok_or_else(|| "libwebp assembled nothing".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upscaling_repeats_each_pixel_in_a_square() {
        let rgba = [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4];
        let out = upscale_nearest(&rgba, 2, 2, 2);
        let firsts: Vec<u8> = out.chunks_exact(4).map(|p| p[0]).collect();
        assert_eq!(firsts, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    }

    #[test]
    fn durations_add_up_to_the_recording() {
        let total: i32 = (0..90).map(|i| duration_ms(i, 30.0)).sum();
        assert_eq!(total, 3000);
        assert_eq!(
            (0..3).map(|i| duration_ms(i, 30.0)).collect::<Vec<_>>(),
            [33, 34, 33]
        );
        assert_eq!(duration_ms(0, 1e-4), 10_000_000);
        assert_eq!(duration_ms(0, 2000.0), 1, "never zero");
    }
}
