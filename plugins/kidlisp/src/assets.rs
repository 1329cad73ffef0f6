//! What a piece brings with it: its source and the sources of its `$code` embeds (parsed here,
//! so a syntax error is the client's, with its line and column) and the PNG images of its
//! `#code` stamps (decoded here, within bounds, so a broken or oversized image is named).

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use base64::Engine;
use kiln_sdk::Error;

use crate::input::{KidlispInput, StampImage, TopPick};
use kiln_sdk::date::Date;

/// Largest width or height of one stamp image: the kidlisp library's own canvas bound.
pub const MAX_STAMP_SIDE: u32 = kidlisp::MAX_SIDE as u32;
/// Most pixels of all stamp images together (4096², 64 MiB as RGBA): they stay in memory for the
/// whole job, next to the piece's own canvases.
pub const MAX_STAMP_PIXELS: u64 = 4096 * 4096;

/// Parses `source` as the piece in `field` (e.g. `input.source`), with the parse error's line and
/// column in the message.
pub fn parse(field: &str, source: &str) -> Result<kidlisp::Program, Error> {
    kidlisp::Program::parse(source).map_err(|e| {
        Error::invalid_input(format!(
            "{field}: KidLisp syntax error at line {}, column {}: {}",
            e.line, e.column, e.message
        ))
    })
}

/// The piece to run and its embeds' sources: `input.source` and `input.sources`, or, for
/// `input.code`, what the host's piece store has for it, each checked to parse (an entry of
/// `input.sources` takes the place of the fetched embed of that code).
pub fn piece(input: &KidlispInput) -> Result<Chosen, Error> {
    let mut embeds = sources(&input.sources)?;
    let picked = match &input.top {
        Some(top) if input.source.is_none() && input.code.is_none() => Some(pick_top(top)?),
        Some(_) => {
            return Err(Error::invalid_input(
                "input.top: give one of source, code or top, not several",
            ));
        }
        None => None,
    };
    match (&input.source, picked.as_ref().or(input.code.as_ref())) {
        (Some(source), None) => Ok(Chosen {
            program: parse("input.source", source)?,
            embeds,
            code: None,
        }),
        (None, Some(code)) => {
            let fetched = kiln_sdk::sources::kidlisp_source(code).map_err(|e| Error {
                kind: e.kind,
                message: format!("input.code: {}", e.message),
            })?;
            let program = parse(
                &format!(
                    "input.code: the source of ${} (from the piece store)",
                    fetched.code
                ),
                &fetched.source,
            )?;
            kiln_sdk::host::log(
                kiln_sdk::host::LogLevel::Info,
                &format!(
                    "piece ${} from the piece store, with {} embedded piece(s)",
                    fetched.code,
                    fetched.embeds.len()
                ),
            );
            for embed in fetched.embeds {
                let key = format!("${}", embed.code);
                if embeds.contains_key(&key) || embeds.contains_key(&embed.code) {
                    continue;
                }
                parse(
                    &format!(
                        "input.code: the source of ${}'s embed {key} (from the piece store)",
                        fetched.code
                    ),
                    &embed.source,
                )?;
                embeds.insert(key, embed.source);
            }
            Ok(Chosen {
                program,
                embeds,
                code: Some(format!("${}", fetched.code)),
            })
        }
        (Some(_), Some(_)) => Err(Error::invalid_input(
            "input.source, input.code: give one: the piece's KidLisp as source, or its $code as \
             code for the host to fetch",
        )),
        (None, None) => Err(Error::invalid_input(
            "input: give source (the piece's KidLisp), code (a $code the host fetches from \
             its piece store) or top (the day's piece of the top pieces)",
        )),
    }
}

/// The piece a job runs.
pub struct Chosen {
    /// The parsed piece.
    pub program: kidlisp::Program,
    /// Sources of the pieces it may embed, keyed by `$code`.
    pub embeds: HashMap<String, String>,
    /// Its `$code`, when it came from the piece store (by `code` or `top`).
    pub code: Option<String>,
}

/// The code `input.top` picks: the day's piece of the listing.
fn pick_top(top: &TopPick) -> Result<String, Error> {
    let date = match &top.date {
        Some(text) => Date::parse("input.top.date", text)?,
        None => Date::today_utc(),
    };
    let listing =
        kiln_sdk::sources::top_kidlisp(top.limit, top.handle.as_deref()).map_err(|e| Error {
            kind: e.kind,
            message: format!("input.top: {}", e.message),
        })?;
    if listing.is_empty() {
        return Err(Error::invalid_input(format!(
            "input.top: the top {} pieces{} are none",
            top.limit,
            top.handle
                .as_deref()
                .map(|h| format!(" of {h}"))
                .unwrap_or_default()
        )));
    }
    let index = top.index(date.day_of_year(), listing.len());
    let code = listing[index].code.clone();
    kiln_sdk::host::log(
        kiln_sdk::host::LogLevel::Info,
        &format!(
            "input.top: ${code} is the piece of {}-{:02}-{:02} (day {}, index {index} of {} listed{})",
            date.year,
            date.month,
            date.day,
            date.day_of_year(),
            listing.len(),
            top.handle
                .as_deref()
                .map(|h| format!(" of {h}"))
                .unwrap_or_default()
        ),
    );
    Ok(code)
}

/// The embed sources, keyed as given, each checked to parse.
pub fn sources(sources: &BTreeMap<String, String>) -> Result<HashMap<String, String>, Error> {
    let mut checked = HashMap::with_capacity(sources.len());
    for (code, source) in sources {
        let field = format!("input.sources[\"{code}\"]");
        check_code(&field, code, '$')?;
        parse(&field, source)?;
        checked.insert(code.clone(), source.clone());
    }
    Ok(checked)
}

/// The stamp images, keyed as given, decoded to RGBA from base64 PNG or from a PNG that
/// `read` fetches from the store by key.
pub fn stamps(
    stamps: &BTreeMap<String, StampImage>,
    read: impl Fn(&str) -> Result<Vec<u8>, Error>,
) -> Result<HashMap<String, kidlisp::Image>, Error> {
    let mut decoded = HashMap::with_capacity(stamps.len());
    let mut pixels = 0u64;
    for (code, stamp) in stamps {
        let field = format!("input.stamps[\"{code}\"]");
        check_code(&field, code, '#')?;
        let image = match stamp {
            StampImage::Inline(data) => decode(data),
            StampImage::Stored { key } => {
                // The host names the key and why it could not be read (not found, outside
                // the job's read scope, too large); the field says which stamp it was.
                let bytes = read(key).map_err(|e| Error {
                    message: format!("{field}: {}", e.message),
                    ..e
                })?;
                decode_png(&bytes).map_err(|why| format!("the object {key:?}: {why}"))
            }
        }
        .map_err(|why| Error::invalid_input(format!("{field}: {why}")))?;
        pixels += (image.width * image.height) as u64;
        if pixels > MAX_STAMP_PIXELS {
            return Err(Error::invalid_input(format!(
                "{field}: the stamps add up to more than {MAX_STAMP_PIXELS} pixels (4096²), the \
                 most a job holds: send smaller images"
            )));
        }
        decoded.insert(code.clone(), image);
    }
    Ok(decoded)
}

/// A code is what follows `$` or `#` in the piece: the key may carry that sigil or not (the
/// library looks up both), but it must not be empty.
fn check_code(field: &str, code: &str, sigil: char) -> Result<(), Error> {
    if code.strip_prefix(sigil).unwrap_or(code).is_empty() {
        return Err(Error::invalid_input(format!(
            "{field}: an empty code; key each entry by its code, e.g. \"{sigil}abc\""
        )));
    }
    Ok(())
}

/// Decodes base64 PNG text (whitespace and a `data:` URL prefix allowed) to an RGBA image.
fn decode(data: &str) -> Result<kidlisp::Image, String> {
    let data = match data.split_once(',') {
        Some((prefix, rest)) if prefix.starts_with("data:") => rest,
        _ => data,
    };
    let text: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|e| format!("not base64 ({e}); send the PNG file's bytes in standard base64"))?;
    decode_png(&bytes)
}

/// Decodes a PNG of any colour type and bit depth to 8-bit RGBA, refusing sizes over
/// [`MAX_STAMP_SIDE`] before any pixel buffer is made.
pub fn decode_png(bytes: &[u8]) -> Result<kidlisp::Image, String> {
    let not_png = |e: png::DecodingError| format!("not a PNG image that decodes ({e})");
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    let (width, height) = {
        let info = decoder.read_header_info().map_err(not_png)?;
        (info.width, info.height)
    };
    if width > MAX_STAMP_SIDE || height > MAX_STAMP_SIDE {
        return Err(format!(
            "the image is {width}×{height} pixels; stamps may be at most {MAX_STAMP_SIDE} per side"
        ));
    }
    // Palette and low-bit images become 8-bit RGB(A) or grey; 16-bit channels keep their high byte.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(not_png)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| "the image is too large to decode".to_string())?;
    let mut buffer = vec![0; size];
    let frame = reader.next_frame(&mut buffer).map_err(not_png)?;
    buffer.truncate(frame.buffer_size());
    let pixels = (width * height) as usize;
    let rgba = match frame.color_type {
        png::ColorType::Rgba => buffer,
        png::ColorType::Rgb => buffer
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => buffer
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        png::ColorType::Grayscale => buffer.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        png::ColorType::Indexed => {
            return Err("a palette image the decoder did not expand".to_string());
        }
    };
    if rgba.len() != pixels * 4 {
        return Err(format!(
            "decoded to {} bytes, not the {} of a {width}×{height} RGBA image",
            rgba.len(),
            pixels * 4
        ));
    }
    Ok(kidlisp::Image {
        width: width as usize,
        height: height as usize,
        rgba,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG made by the `png` crate's encoder.
    fn png(width: u32, height: u32, color: png::ColorType, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(color);
        encoder.set_depth(png::BitDepth::Eight);
        encoder
            .write_header()
            .unwrap()
            .write_image_data(data)
            .unwrap();
        out
    }

    fn no_store(key: &str) -> Result<Vec<u8>, Error> {
        panic!("read {key} from the store")
    }

    #[test]
    fn stored_stamps_are_read_by_key_and_named_when_they_fail() {
        let dot = png(1, 1, png::ColorType::Rgba, &[10, 20, 30, 40]);
        let read = |key: &str| match key {
            "job-1/dot.png" => Ok(dot.clone()),
            "job-1/notes.txt" => Ok(b"hello".to_vec()),
            _ => Err(Error::invalid_input(format!("no object {key:?}"))),
        };
        let stored = |key: &str| StampImage::Stored { key: key.into() };
        let map = BTreeMap::from([("#dot".to_string(), stored("job-1/dot.png"))]);
        assert_eq!(stamps(&map, read).unwrap()["#dot"].rgba, [10, 20, 30, 40]);

        let map = BTreeMap::from([("#dot".to_string(), stored("job-1/gone.png"))]);
        let message = stamps(&map, read).unwrap_err().message;
        assert_eq!(
            message,
            "input.stamps[\"#dot\"]: no object \"job-1/gone.png\""
        );
        let map = BTreeMap::from([("#dot".to_string(), stored("job-1/notes.txt"))]);
        let message = stamps(&map, read).unwrap_err().message;
        assert!(
            message
                .starts_with("input.stamps[\"#dot\"]: the object \"job-1/notes.txt\": not a PNG"),
            "{message}"
        );
    }

    #[test]
    fn rgb_grey_and_rgba_pngs_become_rgba() {
        let rgb = decode_png(&png(2, 1, png::ColorType::Rgb, &[1, 2, 3, 4, 5, 6])).unwrap();
        assert_eq!(rgb.rgba, [1, 2, 3, 255, 4, 5, 6, 255]);
        let grey = decode_png(&png(1, 2, png::ColorType::Grayscale, &[9, 200])).unwrap();
        assert_eq!((grey.width, grey.height), (1, 2));
        assert_eq!(grey.rgba, [9, 9, 9, 255, 200, 200, 200, 255]);
        let rgba = decode_png(&png(1, 1, png::ColorType::Rgba, &[1, 2, 3, 4])).unwrap();
        assert_eq!(rgba.rgba, [1, 2, 3, 4]);
    }

    #[test]
    fn base64_with_a_data_prefix_and_line_breaks_decodes() {
        let bytes = png(1, 1, png::ColorType::Rgba, &[10, 20, 30, 40]);
        let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let (a, b) = text.split_at(8);
        let wrapped = format!("data:image/png;base64,{a}\n{b}");
        let mut map = BTreeMap::new();
        map.insert("#dot".to_string(), StampImage::Inline(wrapped));
        let stamps = stamps(&map, no_store).unwrap();
        assert_eq!(stamps["#dot"].rgba, [10, 20, 30, 40]);
    }

    #[test]
    fn bad_stamps_and_sources_are_named() {
        let mut map = BTreeMap::new();
        map.insert(
            "#cat".to_string(),
            StampImage::Inline("not base64!".to_string()),
        );
        let message = stamps(&map, no_store).unwrap_err().message;
        assert!(
            message.starts_with("input.stamps[\"#cat\"]: not base64"),
            "{message}"
        );
        let mut map = BTreeMap::new();
        map.insert(
            "#cat".to_string(),
            StampImage::Inline(base64::engine::general_purpose::STANDARD.encode(b"GIF89a")),
        );
        let message = stamps(&map, no_store).unwrap_err().message;
        assert!(message.contains("not a PNG"), "{message}");
        let huge = png(4097, 1, png::ColorType::Grayscale, &vec![0; 4097]);
        assert!(decode_png(&huge).unwrap_err().contains("4097×1"));

        let mut map = BTreeMap::new();
        map.insert("$bad".to_string(), "(wipe red))".to_string());
        let message = sources(&map).unwrap_err().message;
        assert!(
            message
                .starts_with("input.sources[\"$bad\"]: KidLisp syntax error at line 1, column 11"),
            "{message}"
        );
        let mut map = BTreeMap::new();
        map.insert("$".to_string(), "(wipe red)".to_string());
        assert!(sources(&map).unwrap_err().message.contains("empty code"));
    }
}
