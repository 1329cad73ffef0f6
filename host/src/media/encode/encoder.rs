//! [`VideoEncoder`]: frames stream into one ffmpeg, which writes every requested format.

use super::command::{ffmpeg_args, output_name};
use super::format::{FrameKind, VideoFormat};
use super::process::{Ffmpeg, work_dir};
use super::settings::EncodeSettings;
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
    // Declared before `dir` so ffmpeg is killed before its output directory goes away.
    ffmpeg: Ffmpeg,
    dir: TempDir,
    frames: u32,
    /// Set once ffmpeg has failed; every later call returns it again.
    failed: Option<RenderError>,
}

impl VideoEncoder {
    /// Gives the encode up: kills ffmpeg and waits until it has exited. (Dropping the encoder
    /// also kills it, but does not wait for the process to be gone.)
    pub async fn abandon(mut self) {
        self.ffmpeg.kill().await;
    }

    /// Checks `settings` and starts ffmpeg, ready for frames.
    pub async fn start(settings: EncodeSettings) -> Result<Self, RenderError> {
        settings.validate()?;
        let dir = work_dir("encode", "the encoder")?;
        let ffmpeg = Ffmpeg::spawn(&ffmpeg_args(&settings, dir.path()))?;
        Ok(Self {
            settings,
            ffmpeg,
            dir,
            frames: 0,
            failed: None,
        })
    }

    /// Writes one frame to ffmpeg's stdin. Backpressure through the pipe keeps memory flat: this
    /// waits while ffmpeg is busy rather than queueing frames.
    ///
    /// A frame of the wrong size is `invalid_input` and leaves the encoder usable. If ffmpeg has
    /// died, this returns `internal` with its last stderr lines, as does every later call.
    pub async fn push(&mut self, frame: &[u8]) -> Result<(), RenderError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        self.check_frame(frame)?;
        let Some(stdin) = self.ffmpeg.stdin() else {
            return Err(RenderError::internal(
                "the encoder's input is already closed",
            ));
        };
        if let Err(write) = stdin.write_all(frame).await {
            // ffmpeg stopped reading, so it has exited or is about to: its stderr says why.
            let err = match self.ffmpeg.wait().await {
                Ok(exit) => self.failure(&exit.reason()),
                Err(_) => self.failure(&format!("its input pipe broke: {write}")),
            };
            self.failed = Some(err.clone());
            return Err(err);
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
        self.ffmpeg.id()
    }

    /// Closes stdin, waits for ffmpeg, returns one encoded output per requested format, in the
    /// order they were requested.
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
        let exit = self.ffmpeg.wait().await?;
        if !exit.status.success() {
            return Err(self.failure(&exit.reason()));
        }
        let mut videos = Vec::with_capacity(self.settings.formats.len());
        for &format in &self.settings.formats {
            let path = self.dir.path().join(output_name(format));
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|e| self.failure(&format!("{} was not written: {e}", path.display())))?;
            if bytes.is_empty() {
                return Err(self.failure(&format!("the {format} output is empty")));
            }
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
        let formats: Vec<&str> = self
            .settings
            .formats
            .iter()
            .map(|f| f.extension())
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
    async fn one_process_writes_all_four_formats_scaled_at_a_fractional_rate() {
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
