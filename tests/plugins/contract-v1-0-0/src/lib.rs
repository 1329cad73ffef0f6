//! A plugin built straight from `wit/v1.0.0`, the first released contract, with wit-bindgen and
//! nothing else, as a plugin compiled before 1.1.0 existed would be. It uses every 1.0.0
//! interface: `host.limits` and `host.log`, `browser.libraries`, a page (`serve`, `navigate`,
//! `wait-until`, `evaluate`, `capture`), `media` (`image.to-blob`, a `blob` it makes) and
//! `storage.put`. Its input is `{"color": "#rrggbb", "size": N}`; it stores `image.png`, a
//! `size`² canvas filled with the colour, and `report.json`.

wit_bindgen::generate!({
    path: "../../../wit/v1.0.0",
    world: "kiln:render/plugin@1.0.0",
});

use kiln::render::browser::{self, CaptureOptions, CaptureSource, PageOptions};
use kiln::render::host::{self, LogLevel};
use kiln::render::media::Blob;
use kiln::render::storage;
use kiln::render::types::{ErrorKind, ImageFormat};

struct ContractV100;

fn invalid(message: &str) -> Error {
    Error {
        kind: ErrorKind::InvalidInput,
        message: message.to_string(),
    }
}

/// The value of `"key": …` in the flat JSON object `input` (no JSON parser, to stay small).
fn field<'a>(input: &'a str, key: &str) -> Option<&'a str> {
    let at = input.find(&format!("\"{key}\""))?;
    let rest = input[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim().trim_matches('"'))
}

impl Guest for ContractV100 {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "contract-v1-0-0".into(),
            version: "1.0.0".into(),
            summary: "Test plugin built against kiln:render@1.0.0".into(),
            input_schema: r#"{"type":"object","required":["color","size"],"additionalProperties":false,"properties":{"color":{"type":"string","pattern":"^#[0-9a-f]{6}$"},"size":{"type":"integer","minimum":1,"maximum":512}}}"#.into(),
            capabilities: vec![Capability::Browser, Capability::Media, Capability::Storage],
        }
    }

    fn run(job: Job) -> Result<Vec<Artifact>, Error> {
        let color = field(&job.input, "color").ok_or_else(|| invalid("no color"))?;
        let size: u32 = field(&job.input, "size")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid("no size"))?;
        let limits = host::limits();
        host::log(
            LogLevel::Info,
            &format!("1.0.0 plugin: max dimension {}", limits.max_dimension),
        );

        let page = browser::open(PageOptions {
            width: size,
            height: size,
            scale: 1.0,
            seed: None,
        })?;
        let html = format!(
            "<!doctype html><canvas id=c width={size} height={size}></canvas><script>\
             const g=document.getElementById('c').getContext('2d');g.fillStyle='{color}';\
             g.fillRect(0,0,{size},{size});window.drawn=true;</script>"
        );
        page.serve("/index.html", "text/html", html.as_bytes())?;
        page.navigate("/index.html")?;
        page.wait_until("window.drawn === true", 5000)?;
        let drawn = page.evaluate("document.getElementById('c').width")?;
        let image = page.capture(&CaptureOptions {
            source: CaptureSource::Canvas("#c".into()),
            format: ImageFormat::Png,
            quality: None,
        })?;
        let png = storage::put("image.png", &image.to_blob())?;

        let report = format!(
            "{{\"contract\":\"1.0.0\",\"canvasWidth\":{drawn},\"libraries\":{},\"errors\":{}}}",
            browser::libraries().len(),
            page.errors().len()
        );
        let report = storage::put(
            "report.json",
            &Blob::new(report.as_bytes(), "application/json"),
        )?;
        Ok(vec![png, report])
    }
}

export!(ContractV100);
