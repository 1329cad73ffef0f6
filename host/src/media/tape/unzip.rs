//! Reading a tape from a ZIP of frames.

use super::frames::{frame_size, no_frames};
use super::natural::natural_cmp;
use super::timing::parse_timing;
use crate::error::RenderError;
use bytes::Bytes;
use std::io::{Cursor, Read};

/// Frames, optional per-frame durations and an optional WAV soundtrack.
#[derive(Debug, Clone, Default)]
pub struct Tape {
    /// `(name, encoded image)` in playing order. Names are for messages only; nothing is ever
    /// written under them.
    pub frames: Vec<(String, Bytes)>,
    /// How long each frame shows, in milliseconds, one per frame.
    pub durations_ms: Option<Vec<u32>>,
    /// A PCM WAV played along.
    pub soundtrack: Option<Bytes>,
}

/// Bounds on what [`unzip`] accepts, so a small ZIP cannot expand into an outsized job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapeLimits {
    /// Most frames in one tape (default 3600: a minute at 60 fps).
    pub max_frames: u32,
    /// Most uncompressed bytes read from the ZIP, frames and soundtrack together (default 512 MiB).
    pub max_total_bytes: u64,
    /// Most pixels in one frame (default 4096 × 4096).
    pub max_pixels: u64,
}

impl Default for TapeLimits {
    fn default() -> Self {
        Self {
            max_frames: 3600,
            max_total_bytes: 512 * 1024 * 1024,
            max_pixels: 4096 * 4096,
        }
    }
}

/// What an entry of the ZIP is, by its name.
enum Entry {
    Frame,
    Timing,
    Soundtrack,
    Ignored,
}

fn classify(name: &str) -> Entry {
    let base = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    // macOS's Finder adds `__MACOSX/` copies and `._name` resource forks; `.DS_Store` and other
    // hidden files are never frames either.
    if name.starts_with("__MACOSX/") || name.contains("/__MACOSX/") || base.starts_with('.') {
        return Entry::Ignored;
    }
    if base == "timing.json" {
        return Entry::Timing;
    }
    match base.rsplit_once('.').map(|(_, ext)| ext) {
        Some("png" | "jpg" | "jpeg" | "webp") => Entry::Frame,
        Some("wav") => Entry::Soundtrack,
        _ => Entry::Ignored,
    }
}

/// Reads a ZIP of frames: image entries (`.png`, `.jpg`, `.jpeg`, `.webp`) in natural name order
/// (`frame2` before `frame10`), `timing.json` (see [`Tape::durations_ms`]; numbers, or objects
/// with a `duration` field) and one `.wav` soundtrack. Directories, `__MACOSX/`, hidden files and
/// other extensions are ignored. An entry whose path is absolute or climbs out with `..` is
/// refused. Every problem is `invalid_input` with what to fix.
pub fn unzip(zip: &[u8], limits: &TapeLimits) -> Result<Tape, RenderError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip))
        .map_err(|e| RenderError::invalid_input(format!("the tape is not a readable ZIP: {e}")))?;
    let mut tape = Tape::default();
    let mut timing_name: Option<String> = None;
    let mut soundtrack_name: Option<String> = None;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(|e| {
            RenderError::invalid_input(format!("the tape is not a readable ZIP: entry {i}: {e}"))
        })?;
        let name = file
            .name()
            .map_err(|e| {
                RenderError::invalid_input(format!("the tape's entry {i} has no usable name: {e}"))
            })?
            .into_owned();
        if file.is_dir() {
            continue;
        }
        let kind = classify(&name);
        if matches!(kind, Entry::Ignored) {
            continue;
        }
        // Names are never used as paths here, but a tape that tries to escape is refused
        // rather than read: zip's own check allows a leading `/`, so ours is stricter.
        let escapes = name.starts_with(['/', '\\'])
            || name.split(['/', '\\']).any(|part| part == "..")
            || file.enclosed_name().is_none();
        if escapes {
            return Err(RenderError::invalid_input(format!(
                "tape entry `{name}` has an unsafe path (absolute, or climbing out with `..`): \
                 rebuild the ZIP with relative names"
            )));
        }
        if matches!(kind, Entry::Frame) && tape.frames.len() as u64 >= u64::from(limits.max_frames)
        {
            return Err(RenderError::invalid_input(format!(
                "the tape has more than {} frames (the max_frames limit): split it or drop frames",
                limits.max_frames
            )));
        }
        // The declared size is checked first, the bytes actually read after: a ZIP can lie.
        let too_big = || {
            RenderError::invalid_input(format!(
                "the tape unpacks to more than {} bytes (the max_total_bytes limit, {} MiB): \
                 use fewer or smaller frames",
                limits.max_total_bytes,
                limits.max_total_bytes / (1024 * 1024)
            ))
        };
        let left = limits.max_total_bytes.saturating_sub(total);
        if file.size() > left {
            return Err(too_big());
        }
        let mut bytes = Vec::with_capacity(file.size() as usize);
        (&mut file)
            .take(left + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                RenderError::invalid_input(format!(
                    "the tape is not a readable ZIP: entry `{name}`: {e}"
                ))
            })?;
        if bytes.len() as u64 > left {
            return Err(too_big());
        }
        total += bytes.len() as u64;
        match kind {
            Entry::Frame => {
                let (w, h) = frame_size(&name, &bytes)?;
                if u64::from(w) * u64::from(h) > limits.max_pixels {
                    return Err(RenderError::invalid_input(format!(
                        "frame `{name}` is {w}×{h}, more than {} pixels (the max_pixels limit): \
                         use smaller frames",
                        limits.max_pixels
                    )));
                }
                tape.frames.push((name, Bytes::from(bytes)));
            }
            Entry::Timing => {
                if let Some(first) = timing_name.replace(name.clone()) {
                    return Err(twice("timing files", &first, &name));
                }
                tape.durations_ms = Some(parse_timing(&bytes)?);
            }
            Entry::Soundtrack => {
                if let Some(first) = soundtrack_name.replace(name.clone()) {
                    return Err(twice("soundtracks", &first, &name));
                }
                // Read the header now, so a bad soundtrack is refused before any encoding.
                super::wav::wav_duration(&bytes)?;
                tape.soundtrack = Some(Bytes::from(bytes));
            }
            Entry::Ignored => {}
        }
    }
    if tape.frames.is_empty() {
        return Err(no_frames());
    }
    tape.frames.sort_by(|a, b| natural_cmp(&a.0, &b.0));
    if let Some(durations) = &tape.durations_ms {
        super::timing::check_durations(durations, tape.frames.len())?;
    }
    Ok(tape)
}

fn twice(what: &str, first: &str, second: &str) -> RenderError {
    RenderError::invalid_input(format!(
        "the tape has two {what}, `{first}` and `{second}`: keep one"
    ))
}

/// Builds a ZIP from `(name, bytes)` entries (tests).
#[cfg(test)]
pub(crate) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, bytes) in entries {
        if name.ends_with('/') {
            zip.add_directory(*name, options).unwrap();
        } else {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
    }
    zip.finish().unwrap().into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::media::encode::testing::solid_png;
    use crate::media::tape::wav::tone_wav;

    fn refused(zip: &[u8], limits: &TapeLimits, needle: &str) {
        let err = unzip(zip, limits).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput, "{err}");
        assert!(err.message.contains(needle), "{needle}: {err}");
    }

    #[test]
    fn frames_sort_naturally_and_clutter_is_ignored() {
        let png = solid_png(4, 4, [1, 2, 3]);
        let wav = tone_wav(8000, 0.25);
        let zip = zip_of(&[
            ("tape/", b""),
            ("tape/frame10.png", &png),
            ("tape/frame2.PNG", &png),
            ("tape/frame1.png", &png),
            ("__MACOSX/tape/._frame1.png", b"junk"),
            ("tape/.DS_Store", b"junk"),
            ("tape/readme.txt", b"hello"),
            ("tape/timing.json", b"[{\"duration\": 50}, 60, 70]"),
            ("tape/sound.wav", &wav),
        ]);
        let tape = unzip(&zip, &TapeLimits::default()).unwrap();
        let names: Vec<&str> = tape.frames.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            names,
            ["tape/frame1.png", "tape/frame2.PNG", "tape/frame10.png"]
        );
        assert_eq!(tape.durations_ms, Some(vec![50, 60, 70]));
        assert_eq!(tape.soundtrack.as_deref(), Some(&wav[..]));
    }

    #[test]
    fn bad_tapes_say_what_is_wrong() {
        let png = solid_png(4, 4, [1, 2, 3]);
        let wav = tone_wav(8000, 0.25);
        let limits = TapeLimits::default();
        refused(
            b"PK\x03\x04 not really",
            &limits,
            "the tape is not a readable ZIP: ",
        );
        refused(
            &zip_of(&[("a.txt", b"x")]),
            &limits,
            "the tape has no frames",
        );
        refused(
            &zip_of(&[("../a.png", &png)]),
            &limits,
            "`../a.png` has an unsafe path",
        );
        refused(&zip_of(&[("/etc/a.png", &png)]), &limits, "unsafe path");
        refused(
            &zip_of(&[("a.png", b"not an image")]),
            &limits,
            "frame `a.png` does not decode",
        );
        refused(
            &zip_of(&[("a.png", &png), ("timing.json", b"[1, 2]")]),
            &limits,
            "timing.json lists 2 durations but the tape has 1 frames",
        );
        refused(
            &zip_of(&[("a.png", &png), ("timing.json", b"{}")]),
            &limits,
            "timing.json must be a JSON list",
        );
        refused(
            &zip_of(&[("a.png", &png), ("x.wav", &wav), ("y.wav", &wav)]),
            &limits,
            "two soundtracks, `x.wav` and `y.wav`",
        );
        refused(
            &zip_of(&[("a.png", &png), ("x.wav", b"ID3 mp3")]),
            &limits,
            "the soundtrack is not a WAV file",
        );
        let few = TapeLimits {
            max_frames: 2,
            ..TapeLimits::default()
        };
        let three = zip_of(&[("1.png", &png), ("2.png", &png), ("3.png", &png)]);
        refused(&three, &few, "more than 2 frames (the max_frames limit)");
        let small = TapeLimits {
            max_total_bytes: png.len() as u64 * 2,
            ..TapeLimits::default()
        };
        refused(&three, &small, "the max_total_bytes limit");
        let tiny = TapeLimits {
            max_pixels: 15,
            ..TapeLimits::default()
        };
        refused(&three, &tiny, "frame `1.png` is 4×4, more than 15 pixels");
    }
}
