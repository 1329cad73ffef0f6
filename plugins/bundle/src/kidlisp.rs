//! A KidLisp bundle: the `kidlisp` job type's renderer compiled to WebAssembly
//! (`kiln-kidlisp-player`, built by build.rs), the piece encoded for it (source, embeds, stamps,
//! size, seed, clock), and player.js, which blits each frame to a canvas at the piece's rate.
//! Frame `n` on the canvas is frame `n` of the `kidlisp` job type with the same input.

use std::collections::{BTreeMap, VecDeque};
use std::io::Cursor;

use base64::Engine;
use kiln_kidlisp_player::{Piece, Stamp};
use kiln_sdk::{Error, host, template};

use crate::colophon::Colophon;
use crate::input::{BundleInput, DEFAULT_FPS, DEFAULT_MAX_STEPS};
use crate::minify::Minifier;
use crate::pack::Page;

/// The renderer's module, built for `wasm32-unknown-unknown` by build.rs.
const RENDERER_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/kidlisp-player.wasm"));
const PAGE_HTML: &str = include_str!("kidlisp.html");
const PLAYER_JS: &str = include_str!("player.js");
/// Largest side of one stamp image, the renderer's own canvas bound.
const MAX_STAMP_SIDE: u32 = kidlisp::MAX_SIDE as u32;

/// The piece a KidLisp bundle plays, resolved: its source, its embeds' sources and, when it came
/// from the piece store, its code and owner.
pub struct Resolved {
    /// The piece's source.
    pub source: String,
    /// Sources of its embeds, keyed `$code`.
    pub embeds: BTreeMap<String, String>,
    /// Its `$code`, when fetched by code.
    pub code: Option<String>,
    /// Its owner's handle, when the store names one.
    pub handle: Option<String>,
}

/// The piece: `input.source` with `input.sources`, or what the host's piece store has for
/// `input.code` (an entry of `input.sources` replacing a fetched embed).
pub fn resolve(input: &BundleInput) -> Result<Resolved, Error> {
    let mut embeds: BTreeMap<String, String> = input
        .sources
        .iter()
        .map(|(code, source)| (dollar(code), source.clone()))
        .collect();
    if let Some(source) = &input.source {
        return Ok(Resolved {
            source: source.clone(),
            embeds,
            code: None,
            handle: None,
        });
    }
    let code = input.code.as_deref().unwrap_or_default();
    let fetched = kiln_sdk::sources::kidlisp_source(code).map_err(|e| Error {
        kind: e.kind,
        message: format!("input.code: {}", e.message),
    })?;
    for embed in fetched.embeds {
        embeds.entry(dollar(&embed.code)).or_insert(embed.source);
    }
    Ok(Resolved {
        source: fetched.source,
        embeds,
        code: Some(dollar(&fetched.code)),
        handle: fetched.handle,
    })
}

fn dollar(code: &str) -> String {
    format!("${}", code.trim_start_matches('$'))
}

/// Checks the piece before it is packed: it and every embed parse, every `$code` it or an embed
/// names has a source (the bundle cannot fetch one later), and its first frame runs with nothing
/// missing.
pub fn check(piece: &Piece, resolved: &Resolved) -> Result<(), Error> {
    let from = |code: &Option<String>| match code {
        Some(code) => format!("input.code: the source of {code}"),
        None => "input.source".to_string(),
    };
    let program = parse(&from(&resolved.code), &resolved.source)?;
    // Breadth first, so the piece's own embeds are named before theirs.
    let mut queue: VecDeque<(String, Vec<String>)> = program
        .embedded_codes()
        .into_iter()
        .map(|code| (format!("${code}"), Vec::new()))
        .collect();
    let mut seen = Vec::new();
    while let Some((code, chain)) = queue.pop_front() {
        if seen.contains(&code) {
            continue;
        }
        seen.push(code.clone());
        let Some(source) = resolved.embeds.get(&code) else {
            let via = if chain.is_empty() {
                String::new()
            } else {
                format!(" (embedded by {})", chain.join(" → "))
            };
            return Err(Error::invalid_input(format!(
                "input.sources: the piece embeds {code}{via} but has no source for it, and a \
                 bundle plays offline; add \"{code}\": \"<its KidLisp source>\""
            )));
        };
        let embedded = parse(&format!("input.sources.{code}"), source)?;
        let mut next = chain.clone();
        next.push(code);
        queue.extend(
            embedded
                .embedded_codes()
                .into_iter()
                .map(|c| (format!("${c}"), next.clone())),
        );
    }
    let mut renderer = piece
        .renderer()
        .map_err(|e| Error::invalid_input(format!("input.width, input.height: {e}")))?;
    renderer.render_frame(&[]).map_err(|stop| {
        Error::piece_failed(format!(
            "the piece was stopped in frame 0: {}",
            stop.message
        ))
    })?;
    if let Some(kidlisp::Missing::Image { key, .. }) = renderer.missing().first() {
        return Err(Error::invalid_input(format!(
            "input.stamps: the piece draws {key} but input.stamps has no image for it; add \
             \"{key}\": \"<a PNG in base64>\""
        )));
    }
    Ok(())
}

fn parse(field: &str, source: &str) -> Result<kidlisp::Program, Error> {
    kidlisp::Program::parse(source).map_err(|e| {
        Error::invalid_input(format!(
            "{field}: KidLisp syntax error at line {}, column {}: {}",
            e.line, e.column, e.message
        ))
    })
}

/// The encoded piece the renderer plays.
pub fn piece(input: &BundleInput, resolved: &Resolved) -> Result<Piece, Error> {
    let fps = input.fps.unwrap_or(DEFAULT_FPS);
    Ok(Piece {
        source: resolved.source.clone(),
        width: input.side(input.width),
        height: input.side(input.height),
        seed: input.seed.unwrap_or(0) as u32,
        epoch_ms: 0.0,
        step_ms: 1000.0 / fps,
        max_steps: input.max_steps.unwrap_or(DEFAULT_MAX_STEPS),
        embeds: resolved
            .embeds
            .iter()
            .map(|(code, source)| (code.clone(), source.clone()))
            .collect(),
        stamps: stamps(&input.stamps)?,
    })
}

/// The stamps' PNGs decoded to RGBA, each named in its error.
fn stamps(given: &BTreeMap<String, String>) -> Result<Vec<Stamp>, Error> {
    let mut out = Vec::new();
    for (key, text) in given {
        let field = format!("input.stamps.{key}");
        let text = text.trim();
        let text = text.strip_prefix("data:image/png;base64,").unwrap_or(text);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| Error::invalid_input(format!("{field}: not base64: {e}")))?;
        let bad = |e: &dyn std::fmt::Display| {
            Error::invalid_input(format!("{field}: not a PNG we can read: {e}"))
        };
        let mut decoder = png::Decoder::new(Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().map_err(|e| bad(&e))?;
        let (width, height) = (reader.info().width, reader.info().height);
        if width > MAX_STAMP_SIDE || height > MAX_STAMP_SIDE {
            return Err(Error::invalid_input(format!(
                "{field}: {width}×{height} is larger than {MAX_STAMP_SIDE} a side"
            )));
        }
        let mut buf = vec![
            0;
            reader
                .output_buffer_size()
                .ok_or_else(|| bad(&"too large"))?
        ];
        let info = reader.next_frame(&mut buf).map_err(|e| bad(&e))?;
        let rgba = to_rgba(&buf[..info.buffer_size()], info.color_type)
            .ok_or_else(|| bad(&format!("colour type {:?}", info.color_type)))?;
        let key = format!("#{}", key.trim_start_matches('#'));
        out.push(Stamp {
            key,
            width,
            height,
            rgba,
        });
    }
    Ok(out)
}

fn to_rgba(pixels: &[u8], colour: png::ColorType) -> Option<Vec<u8>> {
    Some(match colour {
        png::ColorType::Rgba => pixels.to_vec(),
        png::ColorType::Rgb => pixels
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => pixels
            .chunks(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        png::ColorType::Grayscale => pixels.iter().flat_map(|&v| [v, v, v, 255]).collect(),
        png::ColorType::Indexed => return None,
    })
}

/// The KidLisp bundle's page.
pub fn page(
    input: &BundleInput,
    piece: &Piece,
    colophon: &Colophon,
    minifier: &mut Minifier,
) -> Page {
    let settings = serde_json::json!({
        "fps": input.fps.unwrap_or(DEFAULT_FPS),
        "density": input.density,
    });
    let script = format!(
        "window.acPACK_COLOPHON = JSON.parse(document.getElementById(\"kiln-colophon\").textContent);\n\
         const KILN_PLAYER = {settings};\n{PLAYER_JS}"
    );
    let script = minifier.minify("player.js", &script);
    let fit = if input.density.is_some() {
        ""
    } else {
        "canvas{width:100vw;height:100vh;object-fit:contain}"
    };
    let html = template::fill(
        PAGE_HTML,
        &[
            ("fit", fit),
            ("script", &kiln_js_document::escape_js(&script)),
            ("colophon", &colophon.json()),
            ("title", &template::html_escape(&colophon.name)),
        ],
    );
    Page {
        title: colophon.name.clone(),
        html,
        files: vec![
            ("renderer.wasm".to_string(), RENDERER_WASM.to_vec()),
            ("piece.bin".to_string(), piece.encode()),
        ],
    }
}

/// The number of files a KidLisp bundle holds: the player, the renderer, the piece and each
/// embed and stamp packed inside it.
pub fn file_count(piece: &Piece) -> usize {
    3 + piece.embeds.len() + piece.stamps.len()
}

/// Says in the job's log what was packed.
pub fn log_packed(piece: &Piece) {
    host::log(
        host::LogLevel::Info,
        &format!(
            "KidLisp piece {}×{} with {} embed(s) and {} stamp(s)",
            piece.width,
            piece.height,
            piece.embeds.len(),
            piece.stamps.len()
        ),
    );
}
