//! The KidLisp renderer (the `kidlisp` crate, the same one the `kidlisp` job type runs) as a
//! WebAssembly module for `wasm32-unknown-unknown`, which an offline bundle's page instantiates
//! with no imports, and the binary format ([`Piece`]) the bundle plugin hands it a piece in.
//!
//! The page calls, in order: `kiln_input(len)` (a buffer of `len` bytes to copy the encoded
//! piece into), `kiln_start()` (0, or an error whose text is at `kiln_message()` /
//! `kiln_message_len()`), `kiln_width()` / `kiln_height()`, then `kiln_frame()` once per frame:
//! it runs the next frame and answers where its `width × height × 4` RGBA bytes are (0 when the
//! frame failed, the message then set). Frame `n` shown by the page is byte for byte frame `n` of
//! the `kidlisp` job type with the same piece, size, seed, epoch and step.
//!
//! A piece is encoded rather than JSON so the module carries no JSON parser (it would double
//! its size).

use std::collections::HashMap;

/// The first bytes of an encoded piece: the format's name and version.
const MAGIC: &[u8; 4] = b"KLP1";

/// Everything the renderer needs to play a piece.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    /// The piece's KidLisp source.
    pub source: String,
    /// Width in art pixels.
    pub width: u32,
    /// Height in art pixels.
    pub height: u32,
    /// The renderer's seed.
    pub seed: u32,
    /// The piece's clock at frame 0, ms since 1970.
    pub epoch_ms: f64,
    /// Milliseconds of the piece's clock per frame.
    pub step_ms: f64,
    /// Evaluation steps a frame may take.
    pub max_steps: u64,
    /// Sources of its `$code` embeds, keyed `$code`.
    pub embeds: Vec<(String, String)>,
    /// Its `#code` stamps.
    pub stamps: Vec<Stamp>,
}

/// An image for a `#code` stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// Its key, `#code`.
    pub key: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width × height × 4` RGBA bytes, straight alpha.
    pub rgba: Vec<u8>,
}

/// Why an encoded piece could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl Piece {
    /// The piece as bytes: [`MAGIC`], then little-endian numbers and length-prefixed UTF-8 and
    /// byte strings, in field order.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.source.len());
        out.extend_from_slice(MAGIC);
        put_bytes(&mut out, self.source.as_bytes());
        out.extend_from_slice(&self.width.to_le_bytes());
        out.extend_from_slice(&self.height.to_le_bytes());
        out.extend_from_slice(&self.seed.to_le_bytes());
        out.extend_from_slice(&self.epoch_ms.to_le_bytes());
        out.extend_from_slice(&self.step_ms.to_le_bytes());
        out.extend_from_slice(&self.max_steps.to_le_bytes());
        out.extend_from_slice(&(self.embeds.len() as u32).to_le_bytes());
        for (code, source) in &self.embeds {
            put_bytes(&mut out, code.as_bytes());
            put_bytes(&mut out, source.as_bytes());
        }
        out.extend_from_slice(&(self.stamps.len() as u32).to_le_bytes());
        for stamp in &self.stamps {
            put_bytes(&mut out, stamp.key.as_bytes());
            out.extend_from_slice(&stamp.width.to_le_bytes());
            out.extend_from_slice(&stamp.height.to_le_bytes());
            put_bytes(&mut out, &stamp.rgba);
        }
        out
    }

    /// Reads what [`Piece::encode`] wrote.
    pub fn decode(bytes: &[u8]) -> Result<Piece, DecodeError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != MAGIC {
            return Err(DecodeError("not an encoded KidLisp piece (KLP1)".into()));
        }
        let source = r.string()?;
        let width = r.u32()?;
        let height = r.u32()?;
        let seed = r.u32()?;
        let epoch_ms = f64::from_le_bytes(r.array()?);
        let step_ms = f64::from_le_bytes(r.array()?);
        let max_steps = u64::from_le_bytes(r.array()?);
        let mut embeds = Vec::new();
        for _ in 0..r.u32()? {
            embeds.push((r.string()?, r.string()?));
        }
        let mut stamps = Vec::new();
        for _ in 0..r.u32()? {
            let key = r.string()?;
            let (width, height) = (r.u32()?, r.u32()?);
            let len = r.u32()? as usize;
            let rgba = r.take(len)?.to_vec();
            stamps.push(Stamp {
                key,
                width,
                height,
                rgba,
            });
        }
        Ok(Piece {
            source,
            width,
            height,
            seed,
            epoch_ms,
            step_ms,
            max_steps,
            embeds,
            stamps,
        })
    }

    /// A renderer at frame 0 for this piece.
    pub fn renderer(&self) -> Result<kidlisp::Renderer, String> {
        let program = kidlisp::Program::parse(&self.source).map_err(|e| {
            format!(
                "KidLisp syntax error at line {}, column {}: {}",
                e.line, e.column, e.message
            )
        })?;
        let options = kidlisp::Options {
            seed: self.seed,
            epoch_ms: self.epoch_ms,
            step_ms: self.step_ms,
            max_steps_per_frame: self.max_steps,
            embeds: self.embeds.iter().cloned().collect::<HashMap<_, _>>(),
            stamps: self
                .stamps
                .iter()
                .map(|stamp| {
                    let image = kidlisp::Image {
                        width: stamp.width as usize,
                        height: stamp.height as usize,
                        rgba: stamp.rgba.clone(),
                    };
                    (stamp.key.clone(), image)
                })
                .collect(),
            ..kidlisp::Options::default()
        };
        kidlisp::Renderer::new(&program, self.width as usize, self.height as usize, options)
            .map_err(|e| e.message)
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| DecodeError(format!("the piece ends early, at byte {}", self.at)))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        Ok(self.take(N)?.try_into().expect("take returns N bytes"))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let len = self.u32()? as usize;
        String::from_utf8(self.take(len)?.to_vec())
            .map_err(|_| DecodeError(format!("a string before byte {} is not UTF-8", self.at)))
    }
}

/// The exports the page calls. Only in the `wasm32-unknown-unknown` module: the bundle plugin
/// (wasm32-wasip2) links this crate for [`Piece::encode`], and these symbols must not become
/// exports of its component.
#[cfg(all(target_family = "wasm", target_os = "unknown"))]
mod exports {
    use super::Piece;
    use std::cell::RefCell;

    #[derive(Default)]
    struct State {
        input: Vec<u8>,
        renderer: Option<kidlisp::Renderer>,
        message: String,
        /// Pointer events since the last frame, delivered before the next one is drawn (as the
        /// `kidlisp` job type delivers its input's events).
        events: Vec<kidlisp::Event>,
    }

    thread_local! {
        // The module is single-threaded: one page, one piece.
        static STATE: RefCell<State> = RefCell::new(State::default());
    }

    /// A buffer of `len` bytes for the encoded piece; the page copies it there.
    #[unsafe(no_mangle)]
    pub extern "C" fn kiln_input(len: u32) -> *mut u8 {
        STATE.with_borrow_mut(|s| {
            s.input = vec![0; len as usize];
            s.input.as_mut_ptr()
        })
    }

    /// Reads the piece from the input buffer and sets up its renderer: 0, or 1 with the reason
    /// in the message.
    #[unsafe(no_mangle)]
    pub extern "C" fn kiln_start() -> u32 {
        STATE.with_borrow_mut(|s| {
            let made = Piece::decode(&s.input)
                .map_err(|e| e.0)
                .and_then(|piece| piece.renderer());
            s.input = Vec::new();
            match made {
                Ok(renderer) => {
                    s.renderer = Some(renderer);
                    0
                }
                Err(message) => {
                    s.message = message;
                    1
                }
            }
        })
    }

    /// Width of the piece's canvas (0 before `kiln_start`).
    #[unsafe(no_mangle)]
    pub extern "C" fn kiln_width() -> u32 {
        STATE.with_borrow(|s| s.renderer.as_ref().map_or(0, |r| r.width() as u32))
    }

    /// Height of the piece's canvas (0 before `kiln_start`).
    #[unsafe(no_mangle)]
    pub extern "C" fn kiln_height() -> u32 {
        STATE.with_borrow(|s| s.renderer.as_ref().map_or(0, |r| r.height() as u32))
    }

    /// Runs the next frame and answers where its RGBA bytes are, or 0 with the message set.
    #[unsafe(no_mangle)]
    pub extern "C" fn kiln_frame() -> *const u8 {
        STATE.with_borrow_mut(|s| {
            let Some(renderer) = s.renderer.as_mut() else {
                s.message = "kiln_frame before kiln_start".into();
                return std::ptr::null();
            };
            let events = std::mem::take(&mut s.events);
            match renderer.render_frame(&events) {
                Ok(pixels) => pixels.as_ptr(),
                Err(stop) => {
                    s.message = format!(
                        "the piece was stopped in frame {}: {}",
                        stop.frame, stop.message
                    );
                    std::ptr::null()
                }
            }
        })
    }

    /// Queues a pointer event for the next frame: `kind` 0 touch (down), 1 draw (moved while
    /// down, by `dx`, `dy`), 2 lift (up); `x`, `y` in art pixels. Other kinds are ignored.
    #[unsafe(no_mangle)]
    pub extern "C" fn kiln_event(kind: u32, x: f64, y: f64, dx: f64, dy: f64) {
        let event = match kind {
            0 => kidlisp::Event::Touch { x, y },
            1 => kidlisp::Event::Draw { x, y, dx, dy },
            2 => kidlisp::Event::Lift { x, y },
            _ => return,
        };
        // A page that never draws (paused) must not grow the queue without bound.
        const MAX_PENDING: usize = 1024;
        STATE.with_borrow_mut(|s| {
            if s.events.len() < MAX_PENDING {
                s.events.push(event);
            }
        });
    }

    /// Where the last error's UTF-8 text is.
    #[unsafe(no_mangle)]
    pub extern "C" fn kiln_message() -> *const u8 {
        STATE.with_borrow(|s| s.message.as_ptr())
    }

    /// The last error's length in bytes.
    #[unsafe(no_mangle)]
    pub extern "C" fn kiln_message_len() -> u32 {
        STATE.with_borrow(|s| s.message.len() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_survives_encoding() {
        let piece = Piece {
            source: "(wipe navy) $roz".into(),
            width: 32,
            height: 16,
            seed: 9,
            epoch_ms: 1.5,
            step_ms: 1000.0 / 60.0,
            max_steps: 100_000,
            embeds: vec![("$roz".into(), "(ink red) (box 0 0 4 4)".into())],
            stamps: vec![Stamp {
                key: "#abc".into(),
                width: 1,
                height: 1,
                rgba: vec![1, 2, 3, 4],
            }],
        };
        assert_eq!(Piece::decode(&piece.encode()), Ok(piece.clone()));
        let mut cut = piece.encode();
        cut.truncate(cut.len() - 1);
        assert!(Piece::decode(&cut).unwrap_err().0.contains("ends early"));
        assert!(Piece::decode(b"nope").is_err());
    }
}
