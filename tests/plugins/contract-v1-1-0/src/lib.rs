//! A plugin built straight from `wit/v1.1.0`, with wit-bindgen and nothing else, as a plugin
//! compiled before 1.2.0 existed would be. It uses what 1.1.0 added: `host.recording-limits`,
//! `page.use-virtual-time`, `page.record` and the `frames` resource (a video and a poster).
//! Its input is `{"size": N}`; the page fills its canvas with red for the first 100 ms of its
//! virtual clock and blue after, and the plugin records four frames at 10 fps into
//! `video.gif`, stores the poster (frame 2) as `poster.png`, and `report.json`.

wit_bindgen::generate!({
    path: "../../../wit/v1.1.0",
    world: "kiln:render/plugin@1.1.0",
});

use kiln::render::browser::{self, PageOptions, RecordOptions, RecordSource};
use kiln::render::host::{self, LogLevel};
use kiln::render::media::{Blob, EncodeOptions, VideoFormat};
use kiln::render::storage;
use kiln::render::types::{ErrorKind, ImageFormat};

struct ContractV110;

fn invalid(message: &str) -> Error {
    Error {
        kind: ErrorKind::InvalidInput,
        message: message.to_string(),
    }
}

/// The number after `"size":` in `input` (no JSON parser, to stay small).
fn size_of(input: &str) -> Option<u32> {
    let rest = &input[input.find("\"size\"")? + 6..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

impl Guest for ContractV110 {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "contract-v1-1-0".into(),
            version: "1.1.0".into(),
            summary: "Test plugin built against kiln:render@1.1.0".into(),
            input_schema: r#"{"type":"object","required":["size"],"additionalProperties":false,"properties":{"size":{"type":"integer","minimum":1,"maximum":256}}}"#.into(),
            capabilities: vec![Capability::Browser, Capability::Media, Capability::Storage],
        }
    }

    fn run(job: Job) -> Result<Vec<Artifact>, Error> {
        let size = size_of(&job.input).ok_or_else(|| invalid("no size"))?;
        let limits = host::recording_limits();
        host::log(
            LogLevel::Info,
            &format!("1.1.0 plugin: max frames {}", limits.max_frames),
        );
        let page = browser::open(PageOptions {
            width: size,
            height: size,
            scale: 1.0,
            seed: None,
        })?;
        page.use_virtual_time()?;
        let html = format!(
            "<!doctype html><canvas id=c width={size} height={size}></canvas><script>\
             const g=document.getElementById('c').getContext('2d');\
             function paint(t){{g.fillStyle=t<100?'#ff0000':'#0000ff';g.fillRect(0,0,{size},{size});\
             requestAnimationFrame(paint);}}requestAnimationFrame(paint);window.ready=true;</script>"
        );
        page.serve("/index.html", "text/html", html.as_bytes())?;
        page.navigate("/index.html")?;
        page.wait_until("window.ready === true", 5000)?;
        let frames = page.record(&RecordOptions {
            frames: 4,
            fps: 10.0,
            source: RecordSource::Canvas("#c".into()),
            encode: EncodeOptions {
                formats: vec![VideoFormat::Gif],
                quality: None,
                scale: 1,
            },
            poster_frame: Some(2),
        })?;
        let video = storage::put("video.gif", &frames.video(VideoFormat::Gif)?)?;
        let poster = storage::put(
            "poster.png",
            &frames.poster(ImageFormat::Png, None)?.to_blob(),
        )?;
        let report = format!(
            "{{\"contract\":\"1.1.0\",\"frames\":{},\"allIdentical\":{},\"maxFrames\":{}}}",
            frames.count(),
            frames.all_identical(),
            limits.max_frames
        );
        let report = storage::put(
            "report.json",
            &Blob::new(report.as_bytes(), "application/json"),
        )?;
        Ok(vec![video, poster, report])
    }
}

export!(ContractV110);
