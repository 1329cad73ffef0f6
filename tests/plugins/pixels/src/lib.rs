//! Draws RGBA frames itself and hands them to the host through `kiln:render/pixels@1.2.0`, as a
//! software renderer (KidLisp's) does: frame `i` of a `width × height` recording is a horizontal
//! red ramp with green `i * 40` and a white pixel at `(i, 0)`. It stores `image.png` (frame 0
//! through `encode-image`, at `scale`) and, when `frames` is given, the videos of every frame
//! through a `frame-encoder`, `poster.png` and `recording.json`. `wrongSize` pushes a 7-byte
//! frame as frame 1, to check the host refuses it.
//!
//! It is built straight from `wit/v1.2.0` with wit-bindgen (not the SDK, which follows the newest
//! contract), so that a plugin compiled against 1.2.0 keeps being served.

wit_bindgen::generate!({
    path: "../../../wit/v1.2.0",
    world: "kiln:render/plugin@1.2.0",
});

use kiln::render::media::{Blob, EncodeOptions, VideoFormat};
use kiln::render::pixels::{self, EncoderOptions, FrameEncoder};
use kiln::render::storage;
use kiln::render::types::{ErrorKind, ImageFormat};
use schemars::JsonSchema;
use serde::Deserialize;

fn invalid(message: String) -> Error {
    Error {
        kind: ErrorKind::InvalidInput,
        message,
    }
}

/// The job's input.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Input {
    width: u32,
    height: u32,
    #[serde(default = "one")]
    scale: u32,
    #[serde(default)]
    frames: u32,
    #[serde(default)]
    formats: Vec<String>,
    #[serde(default)]
    poster_frame: Option<u32>,
    #[serde(default)]
    wrong_size: bool,
}

fn one() -> u32 {
    1
}

fn frame(width: u32, height: u32, index: u32) -> Vec<u8> {
    let mut rgba = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height {
        for x in 0..width {
            if (x, y) == (index % width, 0) {
                rgba.extend_from_slice(&[255, 255, 255, 255]);
            } else {
                let red = (x * 255 / width.max(2).saturating_sub(1)).min(255) as u8;
                rgba.extend_from_slice(&[red, (index * 40 % 256) as u8, 0, 255]);
            }
        }
    }
    rgba
}

fn video_format(name: &str) -> Result<VideoFormat, Error> {
    Ok(match name {
        "mp4" => VideoFormat::Mp4,
        "webm" => VideoFormat::Webm,
        "webp" => VideoFormat::Webp,
        "gif" => VideoFormat::Gif,
        other => return Err(invalid(format!("unknown format {other}"))),
    })
}

fn extension(format: VideoFormat) -> &'static str {
    match format {
        VideoFormat::Mp4 => "mp4",
        VideoFormat::Webm => "webm",
        VideoFormat::Webp => "webp",
        VideoFormat::Gif => "gif",
    }
}

struct Pixels;

impl Guest for Pixels {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "pixels".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            summary: "Test plugin (kiln:render@1.2.0): stills and videos from RGBA frames it draws"
                .into(),
            input_schema: serde_json::to_string(&schemars::schema_for!(Input))
                .expect("the schema serializes"),
            capabilities: vec![Capability::Media, Capability::Storage],
        }
    }

    fn run(job: Job) -> Result<Vec<Artifact>, Error> {
        let input: Input =
            serde_json::from_str(&job.input).map_err(|e| invalid(format!("input: {e}")))?;
        let (width, height) = (input.width, input.height);
        let still = pixels::encode_image(
            width,
            height,
            &frame(width, height, 0),
            ImageFormat::Png,
            None,
            input.scale,
        )?;
        let mut artifacts = vec![storage::put("image.png", &still.to_blob())?];
        if input.frames == 0 {
            return Ok(artifacts);
        }
        let formats = input
            .formats
            .iter()
            .map(|f| video_format(f))
            .collect::<Result<Vec<_>, _>>()?;
        let encoder = FrameEncoder::start(&EncoderOptions {
            width,
            height,
            fps: 10.0,
            encode: EncodeOptions {
                formats: formats.clone(),
                quality: None,
                scale: input.scale,
            },
            poster_frame: input.poster_frame,
        })?;
        for index in 0..input.frames {
            let rgba = if input.wrong_size && index == 1 {
                vec![0; 7]
            } else {
                frame(width, height, index)
            };
            encoder.push(&rgba)?;
        }
        let frames = FrameEncoder::finish(encoder)?;
        for format in formats {
            let name = format!("video.{}", extension(format));
            artifacts.push(storage::put(&name, &frames.video(format)?)?);
        }
        artifacts.push(storage::put(
            "poster.png",
            &frames.poster(ImageFormat::Png, None)?.to_blob(),
        )?);
        let report = format!(
            "{{\"frames\":{},\"width\":{},\"height\":{},\"allIdentical\":{}}}",
            frames.count(),
            frames.width(),
            frames.height(),
            frames.all_identical()
        );
        artifacts.push(storage::put(
            "recording.json",
            &Blob::new(report.as_bytes(), "application/json"),
        )?);
        Ok(artifacts)
    }
}

export!(Pixels);
