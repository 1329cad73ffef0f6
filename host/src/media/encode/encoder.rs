//! [`VideoEncoder`]: frames stream into one ffmpeg, which writes MP4, WebM and GIF, and into
//! libwebp for animated WebP.

use super::command::{ffmpeg_args, ffmpeg_formats, output_name};
use super::format::{FrameKind, VideoFormat};
use super::process::{Ffmpeg, work_dir};
use super::settings::EncodeSettings;
use super::webp::WebpAnimation;
use crate::error::RenderError;
use bytes::Bytes;
use tempfile::TempDir;
use tokio::io::AsyncWriteExt;

/// One encoded video (or animated image).
#[derive(Debug, Clone)]
pub struct EncodedVideo {
    pub format: VideoFormat,
    pub bytes: Bytes,
    /// Output width in pixels: the source width times `scale`, rounded up to even for MP4/WebM.
    pub width: u32,
    /// Output height in pixels, like `width`.
    pub height: u32,
    /// Frames in the output: the number pushed.
    pub frames: u32,
}

/// A running encode. Push frames in order, then [`finish`](VideoEncoder::finish). Dropping it
/// (or the future using it) kills ffmpeg and deletes its temporary files.
pub struct VideoEncoder {
    settings: EncodeSettings,
    /// Writes every format but WebP; none when WebP is the only one asked for.
    // Declared before `dir` so ffmpeg is killed before its output directory goes away.
    ffmpeg: Option<Ffmpeg>,
    /// Encodes animated WebP, when asked for.
    webp: Option<WebpAnimation>,
    dir: TempDir,
    frames: u32,
    /// Set once ffmpeg has failed; every later call returns it again.
    failed: Option<RenderError>,
}

impl VideoEncoder {
    /// Gives the encode up: kills ffmpeg and waits until it has exited. (Dropping the encoder
    /// also kills it, but does not wait for the process to be gone.)
    pub async fn abandon(mut self) {
        if let Some(ffmpeg) = &mut self.ffmpeg {
            ffmpeg.kill().await;
        }
    }

    /// Checks `settings` and starts ffmpeg (when a format other than WebP is asked for), ready
    /// for frames.
    pub async fn start(settings: EncodeSettings) -> Result<Self, RenderError> {
        settings.validate()?;
        let dir = work_dir("encode", "the encoder")?;
        let ffmpeg = if ffmpeg_formats(&settings).is_empty() {
            None
        } else {
            Some(Ffmpeg::spawn(&ffmpeg_args(&settings, dir.path()))?)
        };
        let webp = settings
            .formats
            .contains(&VideoFormat::Webp)
            .then(|| WebpAnimation::new(&settings));
        Ok(Self {
            settings,
            ffmpeg,
            webp,
            dir,
            frames: 0,
            failed: None,
        })
    }

    /// Writes one frame to ffmpeg's stdin and hands it to the WebP encoder. Backpressure keeps
    /// memory flat: this waits while ffmpeg is busy, or while every core is encoding a WebP
    /// frame, rather than queueing frames.
    ///
    /// A frame of the wrong size is `invalid_input` and leaves the encoder usable. If ffmpeg has
    /// died, this returns `internal` with its last stderr lines, as does every later call. A
    /// WebP frame that fails to encode is reported by [`finish`](VideoEncoder::finish).
    pub async fn push(&mut self, frame: &[u8]) -> Result<(), RenderError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        self.check_frame(frame)?;
        if let Some(ffmpeg) = &mut self.ffmpeg {
            let Some(stdin) = ffmpeg.stdin() else {
                return Err(RenderError::internal(
                    "the encoder's input is already closed",
                ));
            };
            if let Err(write) = stdin.write_all(frame).await {
                // ffmpeg stopped reading, so it has exited or is about to: its stderr says why.
                let reason = match ffmpeg.wait().await {
                    Ok(exit) => exit.reason(),
                    Err(_) => format!("its input pipe broke: {write}"),
                };
                let err = self.failure(&reason);
                self.failed = Some(err.clone());
                return Err(err);
            }
        }
        if let Some(webp) = &mut self.webp {
            webp.push(Bytes::copy_from_slice(frame)).await;
        }
        self.frames += 1;
        Ok(())
    }

    /// How many frames were written so far.
    pub fn frames_pushed(&self) -> u32 {
        self.frames
    }

    /// The settings this encoder was started with.
    pub fn settings(&self) -> &EncodeSettings {
        &self.settings
    }

    /// ffmpeg's process id while it runs.
    #[cfg(test)]
    pub(crate) fn pid(&self) -> Option<u32> {
        self.ffmpeg.as_ref().and_then(Ffmpeg::id)
    }

    /// Closes stdin, waits for ffmpeg and the WebP frames, returns one encoded output per
    /// requested format, in the order they were requested.
    ///
    /// There is no deadline here: wrap the call in `tokio::time::timeout`; dropping the future
    /// kills ffmpeg.
    pub async fn finish(mut self) -> Result<Vec<EncodedVideo>, RenderError> {
        if let Some(err) = self.failed.take() {
            return Err(err);
        }
        if self.frames == 0 {
            return Err(RenderError::invalid_input(
                "no frames were recorded, so there is nothing to encode: push at least one frame \
                 before finishing",
            ));
        }
        if let Some(ffmpeg) = &mut self.ffmpeg {
            let exit = ffmpeg.wait().await?;
            if !exit.status.success() {
                return Err(self.failure(&exit.reason()));
            }
        }
        let mut webp = match self.webp.take() {
            Some(animation) => Some(animation.finish().await?),
            None => None,
        };
        let mut videos = Vec::with_capacity(self.settings.formats.len());
        for &format in &self.settings.formats {
            let bytes = if format == VideoFormat::Webp {
                webp.take()
                    .ok_or_else(|| RenderError::internal("animated WebP was asked for twice"))?
            } else {
                let path = self.dir.path().join(output_name(format));
                let bytes = tokio::fs::read(&path).await.map_err(|e| {
                    self.failure(&format!("{} was not written: {e}", path.display()))
                })?;
                if bytes.is_empty() {
                    return Err(self.failure(&format!("the {format} output is empty")));
                }
                bytes
            };
            let (width, height) = self.settings.output_size(format);
            videos.push(EncodedVideo {
                format,
                bytes: Bytes::from(bytes),
                width,
                height,
                frames: self.frames,
            });
        }
        Ok(videos)
    }

    /// Refuses a frame ffmpeg would misread: raw frames of the wrong length would shift every
    /// later frame, PNGs of another size would change the filter graph's input mid-stream.
    /// Bytes that are not a PNG at all go through: ffmpeg's decoder reports them.
    fn check_frame(&self, frame: &[u8]) -> Result<(), RenderError> {
        let s = &self.settings;
        let index = self.frames + 1;
        match s.frame_kind {
            FrameKind::Rgba if frame.len() != s.rgba_frame_len() => {
                Err(RenderError::invalid_input(format!(
                    "frame {index} has {} bytes, but a {}×{} RGBA frame has {}",
                    frame.len(),
                    s.width,
                    s.height,
                    s.rgba_frame_len()
                )))
            }
            FrameKind::Png => match png_size(frame) {
                Some((w, h)) if (w, h) != (s.width, s.height) => {
                    Err(RenderError::invalid_input(format!(
                        "frame {index} is a {w}×{h} PNG, but the video is {}×{}: every frame \
                         must have the size the encoder was started with",
                        s.width, s.height
                    )))
                }
                _ => Ok(()),
            },
            FrameKind::Rgba => Ok(()),
        }
    }

    /// The error for a failed ffmpeg, with what it said.
    fn failure(&self, reason: &str) -> RenderError {
        let formats: Vec<&str> = ffmpeg_formats(&self.settings)
            .into_iter()
            .map(VideoFormat::extension)
            .collect();
        RenderError::internal(format!(
            "ffmpeg failed encoding {} after {} frames: {reason}",
            formats.join(", "),
            self.frames
        ))
    }
}

/// The size in a PNG's IHDR chunk, if `bytes` starts like a PNG.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.len() < 24 || !bytes.starts_with(SIGNATURE) || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
    Some((w, h))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::ErrorKind;

    fn settings(w: u32, h: u32, formats: &[VideoFormat], kind: FrameKind) -> EncodeSettings {
        EncodeSettings {
            width: w,
            height: h,
            fps: 24.0,
            formats: formats.to_vec(),
            quality: None,
            scale: 1,
            frame_kind: kind,
        }
    }

    #[tokio::test]
    async fn mp4_from_odd_sized_png_frames_is_even_faststart_and_in_order() {
        let mut enc = VideoEncoder::start(settings(31, 17, &[VideoFormat::Mp4], FrameKind::Png))
            .await
            .unwrap();
        for i in 0..12 {
            enc.push(&solid_png(31, 17, frame_colour(i))).await.unwrap();
        }
        assert_eq!(enc.frames_pushed(), 12);
        let out = enc.finish().await.unwrap();
        assert_eq!(out.len(), 1);
        let mp4 = &out[0];
        assert_eq!(
            (mp4.format, mp4.width, mp4.height, mp4.frames),
            (VideoFormat::Mp4, 32, 18, 12)
        );
        let stream = probe_video(&mp4.bytes, "mp4");
        assert_eq!(stream["codec_name"], "h264");
        assert_eq!(stream["pix_fmt"], "yuv420p");
        assert_eq!(
            (stream["width"].as_u64(), stream["height"].as_u64()),
            (Some(32), Some(18))
        );
        assert_eq!(stream["nb_read_frames"], "12");
        assert_eq!(stream["r_frame_rate"], "24/1");
        assert_eq!(stream["avg_frame_rate"], "24/1");
        assert!(
            moov_before_mdat(&mp4.bytes),
            "faststart puts moov before mdat"
        );
        for k in [0, 5, 11] {
            assert_colour_near(decode_frame(&mp4.bytes, "mp4", k), frame_colour(k), k);
        }
    }

    #[tokio::test]
    async fn all_four_formats_at_once_scaled_at_a_fractional_rate() {
        let mut s = settings(16, 12, &VideoFormat::ALL, FrameKind::Rgba);
        s.scale = 3;
        s.fps = 12.5;
        let mut enc = VideoEncoder::start(s).await.unwrap();
        for i in 0..10 {
            enc.push(&solid_rgba(16, 12, frame_colour(i)))
                .await
                .unwrap();
        }
        let out = enc.finish().await.unwrap();
        let formats: Vec<_> = out.iter().map(|v| v.format).collect();
        assert_eq!(formats, VideoFormat::ALL);
        for video in &out {
            assert_eq!((video.width, video.height, video.frames), (48, 36, 10));
        }
        for (video, codec) in [(&out[0], "h264"), (&out[1], "vp9"), (&out[3], "gif")] {
            let stream = probe_video(&video.bytes, video.format.extension());
            assert_eq!(stream["codec_name"], codec);
            assert_eq!(
                (stream["width"].as_u64(), stream["height"].as_u64()),
                (Some(48), Some(36))
            );
            assert_eq!(stream["nb_read_frames"], "10", "{codec}");
            if codec != "gif" {
                assert_eq!(stream["pix_fmt"], "yuv420p");
                assert_eq!(stream["avg_frame_rate"], "25/2", "{codec}");
            }
        }
        assert_colour_near(decode_frame(&out[1].bytes, "webm", 7), frame_colour(7), 7);
        let info = webpmux_info(&out[2].bytes);
        assert!(info.contains("Canvas size: 48 x 36"), "{info}");
        assert!(info.contains("Loop Count : 0"), "{info}");
        assert!(info.contains("Number of frames: 10"), "{info}");
    }

    /// Every frame of an animated WebP: its RGBA pixels and how long it shows, in milliseconds.
    fn webp_frames(bytes: &[u8]) -> Vec<(image::RgbaImage, u32)> {
        use image::AnimationDecoder;
        let decoder = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(bytes)).unwrap();
        decoder
            .into_frames()
            .map(|frame| {
                let frame = frame.unwrap();
                let (ms, _) = frame.delay().numer_denom_ms();
                (frame.into_buffer(), ms)
            })
            .collect()
    }

    #[tokio::test]
    async fn webp_alone_starts_no_ffmpeg_and_keeps_colours_timing_scale_and_alpha() {
        let mut s = settings(8, 6, &[VideoFormat::Webp], FrameKind::Rgba);
        s.scale = 3;
        s.fps = 10.0;
        let mut enc = VideoEncoder::start(s).await.unwrap();
        assert_eq!(enc.pid(), None, "no ffmpeg for WebP alone");
        for i in 0..5 {
            enc.push(&solid_rgba(8, 6, frame_colour(i))).await.unwrap();
        }
        enc.push(&[0; 8 * 6 * 4]).await.unwrap();
        let out = enc.finish().await.unwrap();
        assert_eq!(
            (out[0].format, out[0].width, out[0].height, out[0].frames),
            (VideoFormat::Webp, 24, 18, 6)
        );
        let frames = webp_frames(&out[0].bytes);
        assert_eq!(frames.len(), 6);
        for (k, (pixels, ms)) in frames.iter().enumerate() {
            assert_eq!(pixels.dimensions(), (24, 18));
            assert_eq!(*ms, 100, "frame {k} shows for 1/10 s");
            let centre = pixels.get_pixel(12, 9).0;
            if k < 5 {
                let rgb = [centre[0], centre[1], centre[2]];
                assert_colour_near(rgb, frame_colour(k as u32), k as u32);
                assert_eq!(centre[3], 255);
            } else {
                assert_eq!(centre[3], 0, "a transparent frame stays transparent");
            }
        }
        let info = webpmux_info(&out[0].bytes);
        assert!(info.contains("Loop Count : 0"), "{info}");
    }

    #[tokio::test]
    async fn the_same_frames_give_the_same_webp() {
        let mut outputs = Vec::new();
        for _ in 0..2 {
            let s = settings(
                32,
                32,
                &[VideoFormat::Webp, VideoFormat::Gif],
                FrameKind::Png,
            );
            let mut enc = VideoEncoder::start(s).await.unwrap();
            for i in 0..8 {
                enc.push(&rgba_to_png(32, 32, &noise_rgba(32, 32, i)))
                    .await
                    .unwrap();
            }
            outputs.push(enc.finish().await.unwrap());
        }
        assert_eq!(outputs[0][0].format, VideoFormat::Webp);
        assert_eq!(outputs[0][0].bytes, outputs[1][0].bytes);
        assert_eq!(outputs[0][1].bytes, outputs[1][1].bytes);
    }

    #[tokio::test]
    async fn a_frame_that_is_not_a_png_fails_the_webp_naming_it() {
        let mut enc = VideoEncoder::start(settings(8, 8, &[VideoFormat::Webp], FrameKind::Png))
            .await
            .unwrap();
        enc.push(&solid_png(8, 8, [1, 2, 3])).await.unwrap();
        enc.push(b"this is not a png at all").await.unwrap();
        let err = enc.finish().await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Internal, "{err}");
        assert!(
            err.message.contains("frame 2") && err.message.contains("not a readable PNG"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn garbage_frames_fail_as_internal_with_ffmpegs_message() {
        let mut enc = VideoEncoder::start(settings(8, 8, &[VideoFormat::Mp4], FrameKind::Png))
            .await
            .unwrap();
        let pid = enc.pid().unwrap();
        let garbage = b"this is not a png at all ".repeat(40);
        // The pipe may swallow a few frames before ffmpeg gives up; either call reports it.
        let mut result = Ok(());
        for _ in 0..200 {
            result = enc.push(&garbage).await;
            if result.is_err() {
                break;
            }
        }
        let err = match result {
            Err(err) => err,
            Ok(()) => enc.finish().await.unwrap_err(),
        };
        assert_eq!(err.kind, ErrorKind::Internal, "{err}");
        assert!(
            err.message.starts_with("ffmpeg failed encoding mp4"),
            "{err}"
        );
        assert!(err.message.contains("PNG"), "ffmpeg's own words: {err}");
        assert_no_process(pid).await;
    }

    #[tokio::test]
    async fn wrong_sized_frames_are_refused_before_ffmpeg_sees_them() {
        let mut enc = VideoEncoder::start(settings(8, 8, &[VideoFormat::Gif], FrameKind::Rgba))
            .await
            .unwrap();
        let err = enc.push(&[0; 10]).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(err.message.contains("frame 1 has 10 bytes"), "{err}");
        enc.push(&solid_rgba(8, 8, [1, 2, 3])).await.unwrap();
        assert_eq!(enc.finish().await.unwrap()[0].frames, 1);

        let mut enc = VideoEncoder::start(settings(8, 8, &[VideoFormat::Mp4], FrameKind::Png))
            .await
            .unwrap();
        let err = enc.push(&solid_png(9, 8, [1, 2, 3])).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(
            err.message.contains("9×8 PNG, but the video is 8×8"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn zero_frames_is_an_error_and_leaves_no_ffmpeg() {
        let enc = VideoEncoder::start(settings(8, 8, &[VideoFormat::Webm], FrameKind::Png))
            .await
            .unwrap();
        let pid = enc.pid().unwrap();
        let err = enc.finish().await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(err.message.contains("no frames were recorded"), "{err}");
        assert_no_process(pid).await;
    }

    #[tokio::test]
    async fn dropping_an_encoder_kills_ffmpeg() {
        let mut enc = VideoEncoder::start(settings(64, 64, &VideoFormat::ALL, FrameKind::Rgba))
            .await
            .unwrap();
        enc.push(&solid_rgba(64, 64, [9, 9, 9])).await.unwrap();
        let pid = enc.pid().unwrap();
        drop(enc);
        assert_no_process(pid).await;
    }

    #[tokio::test]
    async fn invalid_settings_start_nothing() {
        let mut s = settings(8, 8, &[VideoFormat::Mp4], FrameKind::Png);
        s.fps = 0.0;
        let err = VideoEncoder::start(s.clone()).await.err().unwrap();
        assert!(err.message.contains("`fps`"), "{err}");
        // A rate ffmpeg would fail on (its error would be `internal`) is the caller's mistake.
        s.fps = 1e-6;
        let err = VideoEncoder::start(s).await.err().unwrap();
        assert_eq!(err.kind, crate::ErrorKind::InvalidInput, "{err}");
        assert!(err.message.contains("at least 0.0001"), "{err}");
    }

    /// The in-process WebP against ffmpeg's `libwebp_anim` (what the encoder used before) for the
    /// report (`cargo test -p kiln --lib measure_webp_against_ffmpeg -- --ignored --nocapture`):
    /// 90 frames 512² of ffmpeg's moving `testsrc2` at quality 75, each side's time, size and PSNR
    /// against the source frames.
    #[tokio::test]
    #[ignore]
    async fn measure_webp_against_ffmpeg() {
        let (w, h) = (512u32, 512u32);
        let raw = std::process::Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=512x512:rate=30",
            ])
            .args(["-frames:v", "90", "-f", "rawvideo", "-pix_fmt", "rgba", "-"])
            .output()
            .unwrap()
            .stdout;
        let frames: Vec<&[u8]> = raw.chunks_exact((w * h * 4) as usize).collect();
        assert_eq!(frames.len(), 90);
        let psnr = |webp: &[u8]| {
            let decoded = webp_frames(webp);
            assert_eq!(decoded.len(), 90);
            let mut squared = 0f64;
            for (source, (pixels, _)) in frames.iter().zip(&decoded) {
                for (a, b) in source.chunks_exact(4).zip(pixels.as_raw().chunks_exact(4)) {
                    for c in 0..3 {
                        squared += (f64::from(a[c]) - f64::from(b[c])).powi(2);
                    }
                }
            }
            let mse = squared / (90.0 * f64::from(w * h) * 3.0);
            10.0 * (255f64.powi(2) / mse).log10()
        };
        for _ in 0..3 {
            let start = std::time::Instant::now();
            let mut enc = VideoEncoder::start(EncodeSettings {
                fps: 30.0,
                ..settings(w, h, &[VideoFormat::Webp], FrameKind::Rgba)
            })
            .await
            .unwrap();
            for frame in &frames {
                enc.push(frame).await.unwrap();
            }
            let ours = enc.finish().await.unwrap().remove(0).bytes;
            let ours_s = start.elapsed().as_secs_f64();

            let dir = tempfile::tempdir().unwrap();
            let input = dir.path().join("in.rgba");
            let output = dir.path().join("out.webp");
            std::fs::write(&input, &raw).unwrap();
            let start = std::time::Instant::now();
            let status = std::process::Command::new("ffmpeg")
                .args([
                    "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgba", "-s", "512x512",
                ])
                .args(["-framerate", "30", "-i"])
                .arg(&input)
                .args(["-c:v", "libwebp_anim", "-loop", "0", "-lossless", "0"])
                .args(["-quality", "75", "-compression_level", "1", "-y"])
                .arg(&output)
                .status()
                .unwrap();
            assert!(status.success());
            let theirs_s = start.elapsed().as_secs_f64();
            let theirs = std::fs::read(&output).unwrap();
            println!(
                "in-process: {ours_s:.2} s, {} bytes, PSNR {:.2} dB | ffmpeg libwebp_anim: \
                 {theirs_s:.2} s, {} bytes, PSNR {:.2} dB",
                ours.len(),
                psnr(&ours),
                theirs.len(),
                psnr(&theirs)
            );
        }
    }

    /// Encode times for the report (`cargo test -p kiln --lib measure_ninety_frames -- --ignored
    /// --nocapture`): 90 frames 512², each format alone and all together, raw RGBA and PNG input.
    #[tokio::test]
    #[ignore]
    async fn measure_ninety_frames() {
        let (w, h) = (512, 512);
        let frames: Vec<Vec<u8>> = (0..90).map(|i| noise_rgba(w, h, i)).collect();
        let pngs: Vec<Vec<u8>> = frames.iter().map(|f| rgba_to_png(w, h, f)).collect();
        let mut sets: Vec<Vec<VideoFormat>> = VideoFormat::ALL.iter().map(|&f| vec![f]).collect();
        sets.push(VideoFormat::ALL.to_vec());
        for formats in sets {
            for kind in [FrameKind::Rgba, FrameKind::Png] {
                let input = if kind == FrameKind::Rgba {
                    &frames
                } else {
                    &pngs
                };
                let start = std::time::Instant::now();
                let mut enc = VideoEncoder::start(settings(w, h, &formats, kind))
                    .await
                    .unwrap();
                for f in input {
                    enc.push(f).await.unwrap();
                }
                let out = enc.finish().await.unwrap();
                let sizes: Vec<usize> = out.iter().map(|v| v.bytes.len()).collect();
                println!(
                    "{formats:?} {kind:?}: {:.2} s, {sizes:?} bytes",
                    start.elapsed().as_secs_f64()
                );
            }
        }
    }
}
