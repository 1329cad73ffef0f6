//! Baking a tape into an MP4 (with AAC audio when it has a soundtrack) and a thumbnail.

use super::frames::{decode_rgba, no_frames, uniform_size};
use super::timing::{FramePlan, check_durations};
use super::unzip::Tape;
use super::wav::wav_duration;
use crate::error::RenderError;
use crate::media::encode::process::{Ffmpeg, work_dir};
use crate::media::encode::{
    EncodeSettings, EncodedVideo, FrameKind, MAX_FPS, MIN_FPS, VideoEncoder, VideoFormat,
    rational_parts,
};
use crate::media::{HostImage, ImageFormat};
use bytes::Bytes;
use std::io::Cursor;

/// How to bake a tape.
#[derive(Debug, Clone, PartialEq)]
pub struct BakeSettings {
    /// Frames per second for an untimed tape without a soundtrack (default 30). Ignored when the
    /// tape has timings or a soundtrack: those decide the rate.
    pub fps: Option<f64>,
    /// MP4 quality 1..=100 (see [`EncodeSettings::quality`]); default x264 CRF 23.
    pub quality: Option<u8>,
    /// Integer nearest-neighbour upscale, for the video and the thumbnail; 1 keeps the size.
    pub scale: u32,
    /// The thumbnail's encoding: [`ImageFormat::Png`] or [`ImageFormat::Jpeg`].
    pub thumbnail: ImageFormat,
}

impl Default for BakeSettings {
    fn default() -> Self {
        Self {
            fps: None,
            quality: None,
            scale: 1,
            thumbnail: ImageFormat::Png,
        }
    }
}

/// A baked tape.
#[derive(Debug, Clone)]
pub struct Baked {
    /// The MP4 (H.264, plus AAC audio when the tape has a soundtrack).
    pub video: EncodedVideo,
    /// The first frame, scaled like the video (but not padded to even sides).
    pub thumbnail: HostImage,
    /// The video's frame rate.
    pub fps: f64,
    /// Frames in the video: with timings, a frame that lasts several video frames counts as
    /// many (see [`bake`]).
    pub frames: u32,
    /// The soundtrack's length, when there is one.
    pub audio_seconds: Option<f64>,
    /// The video's length: `frames / fps`.
    pub video_seconds: f64,
}

/// JPEG thumbnails use this quality: near-transparent artefacts at a third of PNG's size.
const THUMBNAIL_JPEG_QUALITY: u8 = 90;

/// Bakes `tape` into an MP4 and a thumbnail.
///
/// The frame rate, in order of precedence:
/// - **timings**: each frame lasts its duration. The video is constant-rate at 1000 / gcd(durations)
///   fps (10 fps for `[100, 200, 300]`, each frame repeated 1, 2, 3 times), so the video lasts
///   exactly the sum. Above 60 fps the rate is capped at 60 and frames end at their time rounded
///   to the nearest frame (`timing.rs`). A soundtrack is then cut or padded with
///   silence to the video's length.
/// - **a soundtrack**: fps = frames / its seconds, so the video lasts as long as the audio
///   (within one frame; AAC's own priming and padding included).
/// - otherwise `settings.fps`, default 30.
///
/// Frames are decoded one at a time and streamed to ffmpeg as raw RGBA (memory stays flat; PNG,
/// JPEG and WebP can be mixed); a frame that does not decode is `invalid_input` naming it.
/// There is no deadline here: wrap the call in `tokio::time::timeout`; dropping the future kills
/// ffmpeg.
pub async fn bake(tape: Tape, settings: BakeSettings) -> Result<Baked, RenderError> {
    if tape.frames.is_empty() {
        return Err(no_frames());
    }
    if !matches!(settings.thumbnail, ImageFormat::Png | ImageFormat::Jpeg) {
        return Err(RenderError::invalid_input(format!(
            "`thumbnail` must be png or jpeg (got {:?})",
            settings.thumbnail
        )));
    }
    let (width, height) = uniform_size(&tape.frames)?;
    let audio_seconds = match &tape.soundtrack {
        Some(wav) => Some(wav_duration(wav)?.as_secs_f64()),
        None => None,
    };
    let count = tape.frames.len();
    let plan = match (&tape.durations_ms, audio_seconds) {
        (Some(durations), _) => {
            check_durations(durations, count)?;
            FramePlan::timed(durations)
        }
        (None, Some(seconds)) => {
            let fps = count as f64 / seconds;
            if fps < MIN_FPS {
                return Err(RenderError::invalid_input(format!(
                    "the soundtrack lasts {seconds:.3} s, too long for {count} frames: they \
                     would play at {fps:.6} fps, below the lowest rate of {MIN_FPS} (one frame \
                     per 10 000 s); use more frames or a shorter soundtrack"
                )));
            }
            if fps > MAX_FPS {
                return Err(RenderError::invalid_input(format!(
                    "the soundtrack lasts {seconds:.3} s, too short for {count} frames: they \
                     would play at {fps:.1} fps, above the limit of {MAX_FPS}; use a longer \
                     soundtrack or fewer frames"
                )));
            }
            FramePlan::constant(rational_parts(fps), count)
        }
        (None, None) => FramePlan::constant(rational_parts(settings.fps.unwrap_or(30.0)), count),
    };
    let fps = plan.fps();
    if fps < MIN_FPS {
        return Err(RenderError::invalid_input(format!(
            "the tape would play at {fps:.6} fps, below the lowest rate of {MIN_FPS} (one frame \
             per 10 000 s): give frames shorter than that, or a higher fps"
        )));
    }

    let mut encoder = VideoEncoder::start(EncodeSettings {
        width,
        height,
        fps,
        formats: vec![VideoFormat::Mp4],
        quality: settings.quality,
        scale: settings.scale,
        frame_kind: FrameKind::Rgba,
    })
    .await?;
    let mut thumbnail = None;
    for ((name, bytes), &repeats) in tape.frames.iter().zip(&plan.repeats) {
        if repeats == 0 && thumbnail.is_some() {
            continue;
        }
        let (name, bytes) = (name.clone(), bytes.clone());
        let frame = tokio::task::spawn_blocking(move || decode_rgba(&name, &bytes))
            .await
            .map_err(|e| RenderError::internal(format!("decoding a tape frame panicked: {e}")))??;
        if thumbnail.is_none() {
            let (frame, scale, format) = (frame.clone(), settings.scale, settings.thumbnail);
            thumbnail = Some(
                tokio::task::spawn_blocking(move || make_thumbnail(frame, scale, format))
                    .await
                    .map_err(|e| {
                        RenderError::internal(format!("making the thumbnail panicked: {e}"))
                    })??,
            );
        }
        for _ in 0..repeats {
            encoder.push(frame.as_raw()).await?;
        }
    }
    let mut video = encoder.finish().await?.remove(0);
    let frames = plan.frames();
    let video_seconds = plan.seconds();
    if let Some(wav) = &tape.soundtrack {
        video.bytes = add_soundtrack(&video.bytes, wav, video_seconds).await?;
    }
    Ok(Baked {
        video,
        thumbnail: thumbnail.ok_or_else(no_frames)?,
        fps,
        frames,
        audio_seconds,
        video_seconds,
    })
}

/// The first frame, upscaled nearest-neighbour, encoded as `format`.
fn make_thumbnail(
    frame: image::RgbaImage,
    scale: u32,
    format: ImageFormat,
) -> Result<HostImage, RenderError> {
    let frame = if scale > 1 {
        let (w, h) = frame.dimensions();
        image::imageops::resize(
            &frame,
            w * scale,
            h * scale,
            image::imageops::FilterType::Nearest,
        )
    } else {
        frame
    };
    let mut out = Cursor::new(Vec::new());
    let written = match format {
        ImageFormat::Jpeg => {
            let rgb = image::DynamicImage::ImageRgba8(frame).into_rgb8();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, THUMBNAIL_JPEG_QUALITY)
                .encode_image(&rgb)
        }
        _ => frame.write_to(&mut out, image::ImageFormat::Png),
    };
    written.map_err(|e| RenderError::internal(format!("encoding the thumbnail failed: {e}")))?;
    HostImage::from_encoded(Bytes::from(out.into_inner()), format)
}

/// Muxes `wav` as AAC beside the already-encoded video (copied, not re-encoded), cut or padded
/// with silence to exactly `seconds`. `-shortest` is not used: it cuts at the shorter stream,
/// while the video's length is the one that was decided.
async fn add_soundtrack(mp4: &[u8], wav: &[u8], seconds: f64) -> Result<Bytes, RenderError> {
    let dir = work_dir("bake", "the soundtrack")?;
    let (video, audio, out) = (
        dir.path().join("video.mp4"),
        dir.path().join("soundtrack.wav"),
        dir.path().join("out.mp4"),
    );
    let write = |e: std::io::Error| {
        RenderError::unavailable(format!(
            "cannot write the soundtrack's temporary files: {e}"
        ))
    };
    tokio::fs::write(&video, mp4).await.map_err(write)?;
    tokio::fs::write(&audio, wav).await.map_err(write)?;
    let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
    let args: Vec<String> = [
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-y",
        "-i",
        &path(&video),
        "-i",
        &path(&audio),
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-c:v",
        "copy",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        // Pad a short soundtrack with silence; `-t` cuts a long one at the video's end.
        "-af",
        "apad",
        "-t",
        &format!("{seconds:.6}"),
        "-movflags",
        "+faststart",
        &path(&out),
    ]
    .map(String::from)
    .to_vec();
    let mut ffmpeg = Ffmpeg::spawn(&args)?;
    let exit = ffmpeg.wait().await?;
    if !exit.status.success() {
        return Err(RenderError::internal(format!(
            "ffmpeg failed adding the soundtrack to the mp4: {}",
            exit.reason()
        )));
    }
    let bytes = tokio::fs::read(&out).await.map_err(|e| {
        RenderError::internal(format!("ffmpeg wrote no mp4 with the soundtrack: {e}"))
    })?;
    Ok(Bytes::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::media::encode::testing::*;
    use crate::media::tape::unzip::{TapeLimits, unzip, zip_of};
    use crate::media::tape::wav::tone_wav;

    fn png_frames(n: u32, w: u32, h: u32) -> Vec<(String, Bytes)> {
        (0..n)
            .map(|i| {
                (
                    format!("f{i}.png"),
                    Bytes::from(solid_png(w, h, frame_colour(i))),
                )
            })
            .collect()
    }

    fn seconds(value: &serde_json::Value) -> f64 {
        value["duration"].as_str().unwrap().parse().unwrap()
    }

    #[tokio::test]
    async fn a_soundtrack_sets_the_rate_and_the_video_lasts_as_long() {
        let frames: Vec<(String, Vec<u8>)> = (0..12)
            .map(|i| {
                (
                    format!("tape/frame{i}.png"),
                    solid_png(20, 14, frame_colour(i)),
                )
            })
            .collect();
        let wav = tone_wav(8000, 1.5);
        let mut entries: Vec<(&str, &[u8])> =
            frames.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
        entries.push(("tape/sound.wav", &wav));
        let tape = unzip(&zip_of(&entries), &TapeLimits::default()).unwrap();
        let baked = bake(tape, BakeSettings::default()).await.unwrap();
        assert_eq!((baked.fps, baked.frames), (8.0, 12));
        assert_eq!(baked.audio_seconds, Some(1.5));
        assert_eq!(baked.video_seconds, 1.5);
        assert_eq!((baked.video.width, baked.video.height), (20, 14));
        assert_eq!(baked.thumbnail.format, ImageFormat::Png);
        assert_eq!((baked.thumbnail.width, baked.thumbnail.height), (20, 14));

        let probe = probe(&baked.video.bytes, "mp4");
        let video = stream(&probe, "video");
        let audio = stream(&probe, "audio");
        assert_eq!(video["codec_name"], "h264");
        assert_eq!(video["nb_read_frames"], "12");
        assert_eq!(video["r_frame_rate"], "8/1");
        assert_eq!(audio["codec_name"], "aac");
        let (v, a) = (seconds(video), seconds(audio));
        assert!((v - 1.5).abs() < 0.01, "video lasts {v} s");
        assert!(
            (a - v).abs() <= 1.0 / 8.0,
            "audio {a} s vs video {v} s: more than a frame apart"
        );
        assert!(moov_before_mdat(&baked.video.bytes));
        for k in [0, 7, 11] {
            assert_colour_near(
                decode_frame(&baked.video.bytes, "mp4", k),
                frame_colour(k),
                k,
            );
        }
    }

    #[tokio::test]
    async fn timings_set_each_frames_length_across_mixed_formats() {
        let (w, h) = (9, 7);
        let formats = [
            image::ImageFormat::Png,
            image::ImageFormat::Jpeg,
            image::ImageFormat::WebP,
            image::ImageFormat::Png,
        ];
        let frames = formats
            .iter()
            .enumerate()
            .map(|(i, &f)| {
                let rgba = solid_rgba(w, h, frame_colour(i as u32));
                (format!("{i}"), Bytes::from(encode(w, h, &rgba, f)))
            })
            .collect();
        let tape = Tape {
            frames,
            durations_ms: Some(vec![100, 200, 300, 400]),
            // Longer than the timings: cut to the video.
            soundtrack: Some(Bytes::from(tone_wav(8000, 2.0))),
        };
        let settings = BakeSettings {
            scale: 3,
            thumbnail: ImageFormat::Jpeg,
            ..BakeSettings::default()
        };
        let baked = bake(tape, settings).await.unwrap();
        assert_eq!(
            (baked.fps, baked.frames, baked.video_seconds),
            (10.0, 10, 1.0)
        );
        assert_eq!(baked.audio_seconds, Some(2.0));
        assert_eq!((baked.video.width, baked.video.height), (28, 22));
        assert_eq!(baked.thumbnail.format, ImageFormat::Jpeg);
        assert_eq!((baked.thumbnail.width, baked.thumbnail.height), (27, 21));

        let probe = probe(&baked.video.bytes, "mp4");
        let video = stream(&probe, "video");
        assert_eq!(video["nb_read_frames"], "10");
        assert_eq!(video["avg_frame_rate"], "10/1");
        assert!((seconds(video) - 1.0).abs() < 0.01, "{video}");
        let audio = seconds(stream(&probe, "audio"));
        assert!(
            (audio - 1.0).abs() <= 0.1,
            "audio cut to the video: {audio} s"
        );
        // Frame 0 shows once, frame 1 twice, frame 2 three times, frame 3 four times.
        for (k, tape_frame) in [(0, 0), (2, 1), (3, 2), (5, 2), (6, 3), (9, 3)] {
            let got = decode_frame(&baked.video.bytes, "mp4", k);
            assert_colour_near(got, frame_colour(tape_frame), k);
        }
    }

    #[tokio::test]
    async fn an_untimed_silent_tape_plays_at_the_requested_rate() {
        let tape = Tape {
            frames: png_frames(5, 8, 8),
            ..Tape::default()
        };
        let settings = BakeSettings {
            fps: Some(12.5),
            ..BakeSettings::default()
        };
        let baked = bake(tape, settings).await.unwrap();
        assert_eq!(
            (baked.fps, baked.frames, baked.audio_seconds),
            (12.5, 5, None)
        );
        let probe = probe(&baked.video.bytes, "mp4");
        assert_eq!(
            probe["streams"].as_array().unwrap().len(),
            1,
            "no audio stream"
        );
        assert_eq!(stream(&probe, "video")["avg_frame_rate"], "25/2");
    }

    #[tokio::test]
    async fn bad_tapes_are_invalid_input_with_the_reason() {
        let cases: Vec<(Tape, &str)> = vec![
            (Tape::default(), "the tape has no frames"),
            (
                Tape {
                    frames: [
                        png_frames(2, 8, 8),
                        vec![("odd.png".into(), Bytes::from(solid_png(9, 8, [0, 0, 0])))],
                    ]
                    .concat(),
                    ..Tape::default()
                },
                "frame `odd.png` is 9×8 but the first frame `f0.png` is 8×8",
            ),
            (
                Tape {
                    frames: png_frames(3, 8, 8),
                    durations_ms: Some(vec![100, 100]),
                    ..Tape::default()
                },
                "timing.json lists 2 durations but the tape has 3 frames",
            ),
            (
                Tape {
                    frames: png_frames(3, 8, 8),
                    soundtrack: Some(Bytes::from_static(b"OggS not a wav")),
                    ..Tape::default()
                },
                "the soundtrack is not a WAV file",
            ),
            (
                Tape {
                    frames: png_frames(3, 8, 8),
                    soundtrack: Some(Bytes::from(tone_wav(8000, 0.01))),
                    ..Tape::default()
                },
                "too short for 3 frames",
            ),
        ];
        for (tape, needle) in cases {
            let err = bake(tape, BakeSettings::default()).await.unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidInput, "{err}");
            assert!(err.message.contains(needle), "{needle}: {err}");
        }
    }

    #[tokio::test]
    async fn a_frame_that_does_not_decode_is_named() {
        let mut frames = png_frames(3, 8, 8);
        // The header is intact (so sizes check out) but the pixels are cut off.
        let cut = frames[1].1.slice(..40);
        frames[1] = ("broken.png".into(), cut);
        let tape = Tape {
            frames,
            ..Tape::default()
        };
        let err = bake(tape, BakeSettings::default()).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput, "{err}");
        assert!(
            err.message.contains("frame `broken.png` does not decode"),
            "{err}"
        );
    }
}
