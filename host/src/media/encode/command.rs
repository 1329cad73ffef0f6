//! The ffmpeg command line: one piped input, one filter graph, one output per format ffmpeg
//! writes (every format but animated WebP, which `webp.rs` encodes in-process).
//!
//! One `-filter_complex` with `split` feeds every output from a single decode of the input.
//! Mapping the input once per output measured the same (90 frames 512², all four formats:
//! 1.65 s vs 1.63 s), and the graph keeps every format's filters in one readable place.

use super::format::{FrameKind, VideoFormat};
use super::settings::EncodeSettings;
use std::path::Path;

/// The formats of `settings` that ffmpeg writes, in the order asked for.
pub(crate) fn ffmpeg_formats(settings: &EncodeSettings) -> Vec<VideoFormat> {
    let formats = settings.formats.iter().copied();
    formats.filter(|&f| f != VideoFormat::Webp).collect()
}

/// ffmpeg's arguments for `settings`, writing `<dir>/out.<ext>` for each of [`ffmpeg_formats`].
pub(crate) fn ffmpeg_args(settings: &EncodeSettings, dir: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        // A frame that does not decode ends the encode instead of being skipped, so the output
        // has exactly the frames pushed or an error says why.
        "-xerror",
        "-y",
    ]
    .map(String::from)
    .to_vec();
    let rate = rational(settings.fps);
    match settings.frame_kind {
        // Without a small probe ffmpeg reads ~5 MB of PNGs before it starts encoding: at 512²
        // that is nearly a whole 90-frame grab, so encoding could not overlap the capture (the
        // WebP finished 0.75 s after the last frame; with these two flags 0.03 s; see
        // docs/benchmarks.md). Every frame is a PNG of one size, so there is nothing to probe.
        FrameKind::Png => args.extend(
            [
                "-probesize",
                "32",
                "-analyzeduration",
                "0",
                "-f",
                "image2pipe",
                "-c:v",
                "png",
                "-framerate",
                &rate,
            ]
            .map(String::from),
        ),
        FrameKind::Rgba => args.extend(
            [
                "-f",
                "rawvideo",
                "-pix_fmt",
                "rgba",
                "-s",
                &format!("{}x{}", settings.width, settings.height),
                "-framerate",
                &rate,
            ]
            .map(String::from),
        ),
    }
    args.extend(["-i", "pipe:0"].map(String::from));
    args.push("-filter_complex".into());
    args.push(filter_graph(settings));
    for (i, format) in ffmpeg_formats(settings).into_iter().enumerate() {
        args.push("-map".into());
        args.push(format!("[o{i}]"));
        args.extend(codec_args(settings, format));
        args.push(dir.join(output_name(format)).to_string_lossy().into_owned());
    }
    args
}

/// The file each format is written to inside the encoder's temporary directory.
pub(crate) fn output_name(format: VideoFormat) -> String {
    format!("out.{}", format.extension())
}

/// `[0:v]` → nearest-neighbour upscale → split → one chain per format ending in `[o<i>]`.
fn filter_graph(settings: &EncodeSettings) -> String {
    let formats = ffmpeg_formats(settings);
    let n = formats.len();
    let mut graph = String::from("[0:v]");
    if settings.scale > 1 {
        let s = settings.scale;
        graph.push_str(&format!("scale=iw*{s}:ih*{s}:flags=neighbor,"));
    }
    if n == 1 {
        graph.push_str("null[s0]");
    } else {
        graph.push_str(&format!("split={n}"));
        for i in 0..n {
            graph.push_str(&format!("[s{i}]"));
        }
    }
    let (w, h) = settings.scaled_size();
    for (i, format) in formats.into_iter().enumerate() {
        graph.push(';');
        graph.push_str(&format!("[s{i}]"));
        match format {
            VideoFormat::Mp4 | VideoFormat::Webm => {
                let (ew, eh) = settings.output_size(format);
                if (ew, eh) != (w, h) {
                    // Grow to even sides, then copy the edge pixels into the new row/column
                    // (see `EncodeSettings::output_size` for why not rescale).
                    graph.push_str(&format!(
                        "pad={ew}:{eh}:0:0,fillborders=right={}:bottom={}:mode=smear,",
                        ew - w,
                        eh - h
                    ));
                }
                graph.push_str(&format!("format=yuv420p[o{i}]"));
            }
            VideoFormat::Webp => unreachable!("animated WebP is encoded in-process"),
            // A palette per frame (stats_mode=single, new=1). One palette for the whole clip
            // looks steadier, but ffmpeg 5.1 then writes the first frame twice and drops the
            // last (seen with its decoder and the `image` crate's, with the palette made in the
            // same graph or beforehand). Ordered dither does not crawl between frames the way
            // error diffusion does.
            VideoFormat::Gif => graph.push_str(&format!(
                "split[ga{i}][gb{i}];[ga{i}]palettegen=max_colors={}:stats_mode=single[gp{i}];\
                 [gb{i}][gp{i}]paletteuse=new=1:dither=bayer[o{i}]",
                settings.gif_colours()
            )),
        }
    }
    graph
}

/// Codec options per format. Speed settings were measured on 90 frames 512² (docs/architecture.md).
fn codec_args(settings: &EncodeSettings, format: VideoFormat) -> Vec<String> {
    let crf = settings.crf(format).map(|c| c.to_string());
    let args: Vec<&str> = match format {
        VideoFormat::Mp4 => vec![
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            crf.as_deref().unwrap_or("23"),
            "-pix_fmt",
            "yuv420p",
            // The index goes first so a browser can start playing before the download ends.
            "-movflags",
            "+faststart",
        ],
        VideoFormat::Webm => vec![
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-row-mt",
            "1",
            "-crf",
            crf.as_deref().unwrap_or("32"),
            // Constant quality: without a zero bitrate libvpx caps the rate as well.
            "-b:v",
            "0",
            "-pix_fmt",
            "yuv420p",
            // Matroska writes random segment and track UIDs otherwise, so the same frames gave
            // different bytes on every run (MP4, WebP and GIF are already reproducible).
            "-fflags",
            "+bitexact",
        ],
        VideoFormat::Webp => unreachable!("animated WebP is encoded in-process"),
        VideoFormat::Gif => vec!["-c:v", "gif", "-loop", "0"],
    };
    args.into_iter().map(String::from).collect()
}

/// `fps` as the exact fraction ffmpeg should use: 30 → `30/1`, 12.5 → `25/2`, 29.97 → `2997/100`,
/// 30000/1001 → `30000/1001`. Rates no small denominator fits are rounded to microseconds.
pub(crate) fn rational(fps: f64) -> String {
    let (n, d) = rational_parts(fps);
    format!("{n}/{d}")
}

/// The numerator and denominator [`rational`] writes.
pub(crate) fn rational_parts(fps: f64) -> (u64, u64) {
    for d in 1..=1001u64 {
        let n = fps * d as f64;
        if (n - n.round()).abs() < 1e-6 * d as f64 {
            return (n.round() as u64, d);
        }
    }
    ((fps * 1_000_000.0).round() as u64, 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 4×4 raw frames at 10 fps in `formats`, unscaled.
    fn settings(formats: &[VideoFormat]) -> EncodeSettings {
        EncodeSettings {
            width: 4,
            height: 4,
            fps: 10.0,
            formats: formats.to_vec(),
            quality: None,
            scale: 1,
            frame_kind: FrameKind::Rgba,
        }
    }

    #[test]
    fn rates_are_exact_fractions() {
        assert_eq!(rational(30.0), "30/1");
        assert_eq!(rational(12.5), "25/2");
        assert_eq!(rational(30000.0 / 1001.0), "30000/1001");
        assert_eq!(rational(100.0 / 3.0), "100/3");
    }

    #[test]
    fn graph_scales_once_then_splits_per_format() {
        let settings = EncodeSettings {
            width: 5,
            scale: 3,
            frame_kind: FrameKind::Png,
            ..settings(&[VideoFormat::Mp4, VideoFormat::Gif])
        };
        let graph = filter_graph(&settings);
        assert!(
            graph.starts_with("[0:v]scale=iw*3:ih*3:flags=neighbor,split=2[s0][s1];"),
            "{graph}"
        );
        assert!(
            graph.contains("pad=16:12:0:0,fillborders=right=1:bottom=0"),
            "{graph}"
        );
        assert!(graph.contains("palettegen=max_colors=256"), "{graph}");
    }

    #[test]
    fn animated_webp_is_left_out_of_ffmpegs_outputs() {
        let settings = settings(&[VideoFormat::Webp, VideoFormat::Gif]);
        assert_eq!(ffmpeg_formats(&settings), [VideoFormat::Gif]);
        let graph = filter_graph(&settings);
        assert!(graph.starts_with("[0:v]null[s0];[s0]split"), "{graph}");
        let args = ffmpeg_args(&settings, Path::new("/out"));
        assert!(args.iter().any(|a| a == "/out/out.gif"), "{args:?}");
        assert!(!args.iter().any(|a| a.contains("webp")), "{args:?}");
    }

    #[test]
    fn webm_is_muxed_bit_exactly() {
        let settings = settings(&[VideoFormat::Webm]);
        let args = codec_args(&settings, VideoFormat::Webm);
        assert!(
            args.windows(2).any(|a| a == ["-fflags", "+bitexact"]),
            "{args:?}"
        );
    }
}
