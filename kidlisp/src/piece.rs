//! The public renderer: a parsed [`Program`] run frame by frame on a
//! persistent canvas, as aesthetic.computer's conformance host runs it.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::eval::{Interp, Log, Shared};
use crate::raster::{Canvas, Gfx};
use crate::syntax::{self, ParseError};
use crate::value::Value;

pub use crate::eval::Event;

/// Largest width or height accepted, in pixels.
pub const MAX_SIDE: usize = 4096;
/// Largest number of pixels accepted (width × height).
pub const MAX_PIXELS: usize = 4096 * 4096;

/// A parsed KidLisp program.
#[derive(Debug, Clone)]
pub struct Program {
    forms: Vec<Value>,
    warnings: Vec<String>,
}

impl Program {
    /// Parse source text. Missing closing parentheses are added (AC tolerates
    /// them; see [`Program::warnings`]); a surplus `)`, an unterminated string
    /// or nesting deeper than 128 is an error with its line and column.
    pub fn parse(source: &str) -> Result<Program, ParseError> {
        let mut warnings = Vec::new();
        let forms = syntax::parse_program(source, &mut warnings)?;
        Ok(Program { forms, warnings })
    }

    /// The codes (without `$`) of the pieces this program may embed: every `$code` word in it
    /// (1–12 ASCII letters and digits after the `$`, as the interpreter takes them), each once,
    /// in the order first met. Quoted strings are not words, so `"$cow"` is not one. Whoever
    /// supplies [`Options::embeds`] fetches these (and, recursively, theirs).
    pub fn embedded_codes(&self) -> Vec<String> {
        fn walk(value: &Value, out: &mut Vec<String>) {
            match value {
                Value::Str(s) => {
                    // A code may carry a frame rate: `$cow:24`.
                    let word = s.split(':').next().unwrap_or(s);
                    if let Some(code) = word.strip_prefix('$').filter(|c| {
                        (1..=12).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric())
                    }) && !out.iter().any(|seen| seen == code)
                    {
                        out.push(code.to_string());
                    }
                }
                Value::List(items) => items.iter().for_each(|item| walk(item, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        self.forms.iter().for_each(|form| walk(form, &mut out));
        out
    }

    /// What the parser tolerated but reports.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Number of top-level forms.
    pub fn len(&self) -> usize {
        self.forms.len()
    }

    /// True for an empty program (which paints the grey checkerboard).
    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }
}

/// An RGBA image supplied for a `#code` stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height * 4` bytes, row-major, straight alpha.
    pub rgba: Vec<u8>,
}

/// How a piece is run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seed of the generator behind `random`, `?`, `wiggle`, `choose` and default inks.
    pub seed: u32,
    /// Clock time of frame 0 in milliseconds (timers fire on its absolute multiples).
    pub epoch_ms: f64,
    /// Milliseconds between frames.
    pub step_ms: f64,
    /// Evaluation steps allowed per frame (AC's `maxSteps`); `repeat n` costs n.
    pub max_steps_per_frame: u64,
    /// Deepest evaluation nesting allowed (AC's `maxDepth`).
    pub max_depth: u32,
    /// Sources of `$code` embeds, keyed `"$code"` (or `"code"`).
    pub embeds: HashMap<String, String>,
    /// Images for `#code` stamps, keyed `"#code"` (or `"code"`).
    pub stamps: HashMap<String, Image>,
}

impl Default for Options {
    /// AC's conformance defaults: seed 0, epoch 0, 1000/60 ms per frame,
    /// 100,000 steps, depth 128.
    fn default() -> Self {
        Options {
            seed: 0,
            epoch_ms: 0.0,
            step_ms: 1000.0 / 60.0,
            max_steps_per_frame: 100_000,
            max_depth: 128,
            embeds: HashMap::new(),
            stamps: HashMap::new(),
        }
    }
}

/// An input the piece asked for that [`Options`] did not supply. The piece
/// goes on without it (nothing is drawn in its place, as AC does when a code
/// does not resolve); a host that wants every reference satisfied can read
/// [`Renderer::missing`] after each frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// A `$code` embed with no source in [`Options::embeds`].
    Source {
        /// The code as the piece wrote it, with its `$`.
        code: String,
        /// The 0-based frame that first asked for it.
        frame: u64,
    },
    /// A `#code` stamp or `paste` with no image in [`Options::stamps`].
    Image {
        /// The key as the piece wrote it (usually `#code`).
        key: String,
        /// The 0-based frame that first asked for it.
        frame: u64,
    },
}

impl Missing {
    /// Whether two notes name the same input (whatever the frame).
    pub(crate) fn same_input(&self, other: &Missing) -> bool {
        match (self, other) {
            (Missing::Source { code: a, .. }, Missing::Source { code: b, .. }) => a == b,
            (Missing::Image { key: a, .. }, Missing::Image { key: b, .. }) => a == b,
            _ => false,
        }
    }
}

/// A frame that could not finish (its budget ran out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeError {
    /// The 0-based frame index.
    pub frame: u64,
    /// What stopped it.
    pub message: String,
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "frame {}: {}", self.frame, self.message)
    }
}

impl std::error::Error for RuntimeError {}

/// Why a renderer could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeError {
    /// What is wrong with the size.
    pub message: String,
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SizeError {}

/// A KidLisp piece being rendered frame by frame.
pub struct Renderer {
    interp: Interp,
    shared: Shared,
    step_ms: f64,
    epoch_ms: f64,
    frame: u64,
}

impl Renderer {
    /// Set up a piece at `width × height` (each 1..=4096, at most 4096² pixels).
    pub fn new(
        program: &Program,
        width: usize,
        height: usize,
        options: Options,
    ) -> Result<Renderer, SizeError> {
        if width == 0
            || height == 0
            || width > MAX_SIDE
            || height > MAX_SIDE
            || width * height > MAX_PIXELS
        {
            return Err(SizeError {
                message: format!("size {width}x{height} outside 1..={MAX_SIDE} per side"),
            });
        }
        let stamps = options
            .stamps
            .into_iter()
            .filter(|(_, img)| {
                img.width > 0
                    && img.height > 0
                    && img.width <= MAX_SIDE
                    && img.height <= MAX_SIDE
                    && img.rgba.len() == img.width * img.height * 4
            })
            .map(|(k, img)| {
                (
                    k,
                    Canvas {
                        w: img.width,
                        h: img.height,
                        px: img.rgba,
                    },
                )
            })
            .collect();
        let mut forms = program.forms.clone();
        // A program that is a single `$code` is that piece's source (§2.1).
        if let [only] = forms.as_slice() {
            let code = match only {
                Value::Str(s) => Some(s.to_string()),
                Value::List(l) if l.len() == 1 => l[0].as_str().map(str::to_string),
                _ => None,
            };
            if let Some(src) = code.filter(|c| c.starts_with('$')).and_then(|c| {
                options
                    .embeds
                    .get(&c)
                    .or_else(|| options.embeds.get(&c[1..]))
            }) && let Ok(p) = Program::parse(src)
            {
                forms = p.forms;
            }
        }
        let mut shared = Shared {
            gfx: Gfx::new(options.seed ^ 0x9e37_79b9),
            log: Log::default(),
            steps: 0,
            max_steps: options.max_steps_per_frame,
            depth: 0,
            max_depth: options.max_depth.max(1),
            frame: 0,
            time_ms: options.epoch_ms,
            embeds: Arc::new(options.embeds),
            stamps: Arc::new(stamps),
            missing: Vec::new(),
        };
        for w in &program.warnings {
            shared.log.push(format!("parse: {w}"));
        }
        let mut interp = Interp::new(forms, width, height, options.seed);
        interp.boot(&mut shared);
        Ok(Renderer {
            interp,
            shared,
            step_ms: options.step_ms,
            epoch_ms: options.epoch_ms,
            frame: 0,
        })
    }

    /// Deliver this frame's `events`, run one sim tick and one paint, and
    /// answer the display's RGBA bytes (`width * height * 4`).
    pub fn render_frame(&mut self, events: &[Event]) -> Result<&[u8], RuntimeError> {
        let frame = self.frame;
        self.frame += 1;
        let sh = &mut self.shared;
        sh.frame = frame;
        sh.time_ms = self.epoch_ms + frame as f64 * self.step_ms;
        sh.steps = 0;
        sh.depth = 0;
        self.interp.paint_count = frame;
        let mut result = Ok(());
        for e in events {
            result = self.interp.act(sh, e);
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            self.interp.sim(sh);
            result = self.interp.paint(sh);
        }
        match result {
            Ok(()) => Ok(&self.interp.display.px),
            Err(h) => {
                sh.log.push(format!("frame {frame}: stopped: {}", h.0));
                Err(RuntimeError {
                    frame,
                    message: h.0,
                })
            }
        }
    }

    /// The display as last rendered.
    pub fn pixels(&self) -> &[u8] {
        &self.interp.display.px
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.interp.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.interp.height
    }

    /// Log lines so far (unknown words, refused calls, budget stops), oldest first.
    pub fn log(&self) -> &[String] {
        &self.shared.log.lines
    }

    /// Take the log lines, leaving it empty.
    pub fn take_log(&mut self) -> Vec<String> {
        std::mem::take(&mut self.shared.log.lines)
    }

    /// Embed sources and stamp images the piece asked for but was not given,
    /// each once, in the order first asked for (at most 64).
    pub fn missing(&self) -> &[Missing] {
        &self.shared.missing
    }

    /// The 0-based index of the next frame.
    pub fn next_frame(&self) -> u64 {
        self.frame
    }
}
