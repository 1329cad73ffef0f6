//! The interpreter (KIDLISP.md §3): the whole program is walked every frame;
//! statements call built-ins with pre-evaluated arguments (or raw ones for
//! control forms); timers and cycles read the clock; drawing goes to the
//! current layer. Structure and quirks follow kidlisp.mjs's `evaluate` and
//! `fastEval`, whose split decides details such as `(/ x 0)`.

mod builtins;
mod draw;
mod embed;
pub mod frame;
mod timing;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::piece::Missing;
use crate::raster::{Canvas, Gfx};
use crate::rng::Lcg;
use crate::syntax::is_cycle_token;
use crate::value::{Lambda, Value, is_quoted};

pub(crate) use embed::EmbedLayer;
pub use frame::Event;

/// An evaluation that must stop the frame (budget or depth exceeded).
#[derive(Debug, Clone)]
pub(crate) struct Halt(pub String);

pub(crate) type R<T> = Result<T, Halt>;

/// Bounded log of what a piece did wrong (unknown words, refused calls).
#[derive(Debug, Default)]
pub(crate) struct Log {
    pub lines: Vec<String>,
    pub dropped: u64,
}

/// Most log lines kept; later ones are counted but dropped.
pub const MAX_LOG_LINES: usize = 1000;

impl Log {
    pub fn push(&mut self, line: String) {
        if self.lines.len() < MAX_LOG_LINES {
            self.lines.push(line);
        } else {
            self.dropped += 1;
        }
    }
}

/// State shared by a piece and the pieces it embeds: graph.mjs's globals,
/// the work ledger and the clock.
pub(crate) struct Shared {
    pub gfx: Gfx,
    pub log: Log,
    pub steps: u64,
    pub max_steps: u64,
    pub depth: u32,
    pub max_depth: u32,
    pub frame: u64,
    pub time_ms: f64,
    pub embeds: Arc<HashMap<String, String>>,
    pub stamps: Arc<HashMap<String, Canvas>>,
    /// Embed sources and stamp images the piece asked for but was not given.
    pub missing: Vec<Missing>,
}

/// Most distinct missing inputs remembered; a piece naming more is already
/// well described by the first ones.
const MAX_MISSING: usize = 64;

impl Shared {
    /// Remember that the piece asked for an input it was not given (once per input).
    pub fn note_missing(&mut self, missing: Missing) {
        if self.missing.len() < MAX_MISSING && !self.missing.iter().any(|m| m.same_input(&missing))
        {
            self.missing.push(missing);
        }
    }

    fn consume(&mut self, n: u64) -> R<()> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.max_steps {
            return Err(Halt(format!("step budget of {} exceeded", self.max_steps)));
        }
        Ok(())
    }

    fn enter(&mut self) -> R<()> {
        self.consume(1)?;
        if self.depth >= self.max_depth {
            return Err(Halt(format!(
                "evaluation depth of {} exceeded",
                self.max_depth
            )));
        }
        self.depth += 1;
        Ok(())
    }
}

/// Where drawing currently goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Layer0,
    Bake(usize),
    Burn,
    Display,
}

/// A bake layer (§7.7).
pub(crate) struct Bake {
    pub canvas: Canvas,
    pub erase_mask: Option<Vec<u8>>,
    pub burned: bool,
}

/// A drawing call postponed until embeds are composited (§7.4 step 3).
#[derive(Debug, Clone)]
pub(crate) enum Deferred {
    Ink(Vec<Value>),
    Draw(&'static str, Vec<Value>),
    Effect(&'static str, Vec<Value>),
}

/// One running KidLisp piece (the top-level one or an embedded one).
pub(crate) struct Interp {
    pub ast: Vec<Value>,
    pub first_line: Option<Value>,
    globals: HashMap<Arc<str>, Value>,
    locals: Vec<HashMap<Arc<str>, Value>>,
    handler_env: Option<HashMap<Arc<str>, Value>>,
    tapper: Option<Value>,
    drawer: Option<Value>,
    lifter: Option<Value>,
    pub frame_count: u64,
    pub paint_count: u64,
    timers: HashMap<String, f64>,
    cycles: HashMap<String, usize>,
    sequences: HashMap<String, usize>,
    once: HashSet<String>,
    pub rng: Lcg,
    pub seed: u32,
    ink_state: Option<Vec<Value>>,
    ink_set: bool,
    fill_mode: bool,
    scroll_fuzz: Option<(f64, f64)>,
    unknown_logged: HashSet<String>,
    pub width: usize,
    pub height: usize,
    pub display: Canvas,
    layer0: Option<Canvas>,
    layer0_needs_first_wipe: bool,
    needs_initial_wipe: bool,
    bakes: Vec<Bake>,
    bake_index: i64,
    burned: Option<Canvas>,
    target: Target,
    embeds: Vec<EmbedLayer>,
    in_embed_phase: bool,
    post_embed: Vec<Deferred>,
    post_composite: Vec<Deferred>,
    pub embed_depth: u32,
    pub is_embedded: bool,
}

/// Built-ins that receive their arguments unevaluated (§3.4).
const RAW_HEADS: &[&str] = &[
    "pluck", "bell", "sub", "flute", "hat", "voice", "later", "tap", "draw", "lift", "if", "not",
    ">", "<", "=", "net", "source", "choose", "?", "repeat", "once", "hop", "delay", "trans",
    "jump",
];

fn valid_identifier(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'$')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

fn is_note_literal(s: &str) -> bool {
    let b = s.as_bytes();
    match b.len() {
        2 => {
            b[0].to_ascii_lowercase().is_ascii_lowercase()
                && (b'a'..=b'g').contains(&b[0].to_ascii_lowercase())
                && (b'0'..=b'8').contains(&b[1])
        }
        3 => {
            (b'a'..=b'g').contains(&b[0].to_ascii_lowercase())
                && matches!(b[1], b'#' | b's' | b'b' | b'f')
                && (b'0'..=b'8').contains(&b[2])
        }
        _ => false,
    }
}

/// `$code` heads: 3–12 alphanumerics after the `$`.
fn embed_code(s: &str) -> Option<&str> {
    let code = s.strip_prefix('$')?;
    ((3..=12).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(code)
}

impl Interp {
    pub(crate) fn new(ast: Vec<Value>, width: usize, height: usize, seed: u32) -> Self {
        let mut it = Interp {
            ast,
            first_line: None,
            globals: HashMap::new(),
            locals: vec![HashMap::new()],
            handler_env: None,
            tapper: None,
            drawer: None,
            lifter: None,
            frame_count: 0,
            paint_count: 0,
            timers: HashMap::new(),
            cycles: HashMap::new(),
            sequences: HashMap::new(),
            once: HashSet::new(),
            rng: Lcg::new(seed),
            seed,
            ink_state: None,
            ink_set: false,
            fill_mode: true,
            scroll_fuzz: None,
            unknown_logged: HashSet::new(),
            width,
            height,
            display: Canvas::new(width, height),
            layer0: None,
            layer0_needs_first_wipe: false,
            needs_initial_wipe: true,
            bakes: Vec::new(),
            bake_index: -1,
            burned: None,
            target: Target::Display,
            embeds: Vec::new(),
            in_embed_phase: false,
            post_embed: Vec::new(),
            post_composite: Vec::new(),
            embed_depth: 0,
            is_embedded: false,
        };
        for name in [
            "amp", "leftAmp", "rightAmp", "beat", "kick", "mic", "bass", "mid", "treble",
            "highMid", "presence", "down", "penx", "peny",
        ] {
            it.globals.insert(Arc::from(name), Value::Num(0.0));
        }
        it.detect_first_line();
        it
    }

    /// The buffer drawing currently goes to.
    pub(crate) fn canvas(&mut self) -> &mut Canvas {
        match self.target {
            Target::Layer0 => self.layer0.as_mut().unwrap_or(&mut self.display),
            Target::Bake(i) => match self.bakes.get_mut(i) {
                Some(b) => &mut b.canvas,
                None => &mut self.display,
            },
            Target::Burn => self.burned.as_mut().unwrap_or(&mut self.display),
            Target::Display => &mut self.display,
        }
    }

    fn log_once(&mut self, sh: &mut Shared, word: &str) {
        if self.unknown_logged.len() < 256 && self.unknown_logged.insert(word.to_string()) {
            sh.log
                .push(format!("frame {}: unknown word: {word}", sh.frame));
        }
    }

    fn lookup(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.locals.last().and_then(|l| l.get(name)) {
            return Some(v.clone());
        }
        if let Some(v) = self.handler_env.as_ref().and_then(|e| e.get(name)) {
            return Some(v.clone());
        }
        self.globals.get(name).cloned()
    }

    /// `evaluate`: run a form or a body of forms and answer the last value.
    pub(crate) fn evaluate(
        &mut self,
        sh: &mut Shared,
        parsed: &Value,
        in_args: Option<&[Value]>,
        top: bool,
    ) -> R<Value> {
        sh.enter()?;
        let level = self.locals.len();
        let r = self.evaluate_inner(sh, parsed, in_args, top);
        self.locals.truncate(level.max(1));
        sh.depth -= 1;
        r
    }

    fn evaluate_inner(
        &mut self,
        sh: &mut Shared,
        parsed: &Value,
        in_args: Option<&[Value]>,
        top: bool,
    ) -> R<Value> {
        let empty = match parsed {
            Value::Undef => true,
            Value::Str(s) => s.is_empty(),
            Value::List(l) => l.is_empty(),
            _ => false,
        };
        if empty {
            self.checkerboard(sh);
            return Ok(Value::Undef);
        }
        let body: Vec<Value> = match parsed {
            Value::Lambda(f) => {
                let mut scope = self.locals.last().cloned().unwrap_or_default();
                for (i, p) in f.params.iter().enumerate() {
                    scope.insert(
                        p.clone(),
                        in_args
                            .and_then(|a| a.get(i))
                            .cloned()
                            .unwrap_or(Value::Undef),
                    );
                }
                self.locals.push(scope);
                f.body.clone()
            }
            Value::List(items) if matches!(items[0], Value::Str(_)) => vec![parsed.clone()],
            Value::List(items) => items.to_vec(),
            v => vec![v.clone()],
        };
        let body: &[Value] =
            if top && self.first_line.is_some() && !matches!(parsed, Value::Lambda(_)) {
                self.skip_first_line(&body)
            } else {
                &body
            };
        let body = body.to_vec();
        let mut result = Value::Undef;
        for (index, item) in body.iter().enumerate() {
            sh.consume(1)?;
            match item {
                Value::List(items) => match self.eval_call(sh, items, index, body.len())? {
                    Flow::Value(v) => result = v,
                    Flow::Keep => {}
                    Flow::Return(v) => return Ok(v),
                },
                _ => result = self.eval_atom_statement(sh, item)?,
            }
        }
        Ok(result)
    }

    fn eval_atom_statement(&mut self, sh: &mut Shared, item: &Value) -> R<Value> {
        if let Value::Str(s) = item {
            let root = s.split('.').next().unwrap_or("");
            if let Some(v) = self.handler_env.as_ref().and_then(|e| e.get(root)) {
                return Ok(v.clone());
            }
        }
        let result = self.fast_eval(sh, item)?;
        let same = match (&result, item) {
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Num(a), Value::Num(b)) => a == b,
            _ => false,
        };
        if !same {
            return Ok(result);
        }
        if let Value::Str(s) = item
            && let Some((head, colon)) = s.split_once(':')
            && builtins::is_builtin(head)
        {
            return self.call_builtin(sh, head, vec![], Some(colon));
        }
        self.eval_not_found(sh, item)
    }

    /// `evalNotFound`: what an unknown statement evaluates to.
    fn eval_not_found(&mut self, sh: &mut Shared, expr: &Value) -> R<Value> {
        let Value::Str(s) = expr else {
            return Ok(expr.clone());
        };
        if &**s == "fps" {
            return Ok(expr.clone());
        }
        if s.starts_with('#')
            && s.len() > 1
            && s.len() <= 9
            && s[1..].bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return self.call_builtin(sh, "stamp", vec![expr.clone()], None);
        }
        if is_cycle_token(s) {
            return self.evaluate(
                sh,
                &Value::list(vec![Value::list(vec![expr.clone()])]),
                None,
                false,
            );
        }
        if valid_identifier(s) && builtins::is_builtin(s) {
            return self.call_builtin(sh, s, vec![], None);
        }
        // AC falls back to evaluating the text as a JS expression with unknown
        // names replaced by 0; numbers (with an `s` suffix dropped) survive.
        let t = s.trim_end_matches('s');
        Ok(match crate::jsnum::parse_float(t) {
            Some(n) if crate::jsnum::string_to_number(t) == n => Value::Num(n),
            _ => Value::Num(0.0),
        })
    }

    /// `fastEval`: numbers as they are, names looked up (a zero-argument
    /// built-in is called), binary arithmetic on two numbers done directly
    /// (`/` and `%` by zero give 0), anything else through `evaluate`.
    pub(crate) fn fast_eval(&mut self, sh: &mut Shared, expr: &Value) -> R<Value> {
        sh.enter()?;
        let r = self.fast_eval_inner(sh, expr);
        sh.depth -= 1;
        r
    }

    fn fast_eval_inner(&mut self, sh: &mut Shared, expr: &Value) -> R<Value> {
        match expr {
            Value::Num(_) | Value::Bool(_) | Value::Undef | Value::Lambda(_) => Ok(expr.clone()),
            Value::Str(s) => {
                if &**s == "?" {
                    return Ok(Value::Num(self.rng.below(256.0)));
                }
                if let Some(base) = s.strip_prefix('-').filter(|b| !b.is_empty())
                    && let Value::Num(n) = self.fast_eval(sh, &Value::str(base))?
                {
                    return Ok(Value::Num(-n));
                }
                if let Some(v) = self.lookup(s)
                    && !v.is_undef()
                {
                    return Ok(v);
                }
                if builtins::is_builtin(s) {
                    if s.starts_with("fade:") {
                        return Ok(expr.clone());
                    }
                    return self.call_builtin(sh, s, vec![], None);
                }
                if let Some(code) = s.strip_prefix('$').filter(|c| {
                    (1..=12).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric())
                }) {
                    let code = code.to_string();
                    return self.embed(sh, &code, &[]);
                }
                if is_note_literal(s) {
                    return Ok(expr.clone());
                }
                if valid_identifier(s)
                    && &**s != "fps"
                    && &**s != "s"
                    && s.len() > 1
                    && !is_quoted(s)
                    // Words that arguments take as themselves: paint modes, and `write`'s
                    // `center` (KIDLISP.md §10), so none of them is logged as unknown.
                    && !matches!(&**s, "erase" | "fill" | "outline" | "center")
                {
                    let word = s.to_string();
                    self.log_once(sh, &word);
                }
                Ok(expr.clone())
            }
            Value::List(items) => {
                if items.len() == 3 {
                    if let Some(op) = items[0]
                        .as_str()
                        .filter(|o| matches!(*o, "+" | "-" | "*" | "/" | "%"))
                    {
                        let (l, r) = (
                            self.fast_eval(sh, &items[1])?,
                            self.fast_eval(sh, &items[2])?,
                        );
                        if let (Value::Num(a), Value::Num(b)) = (&l, &r) {
                            let (a, b) = (*a, *b);
                            return Ok(Value::Num(match op {
                                "+" => a + b,
                                "-" => a - b,
                                "*" => a * b,
                                "/" => {
                                    if b != 0.0 {
                                        a / b
                                    } else {
                                        0.0
                                    }
                                }
                                _ => {
                                    if b != 0.0 {
                                        a % b
                                    } else {
                                        0.0
                                    }
                                }
                            }));
                        }
                    }
                    if items[0].as_str() == Some("mod") {
                        let (a, m) = (
                            self.fast_eval(sh, &items[1])?,
                            self.fast_eval(sh, &items[2])?,
                        );
                        if let (Value::Num(a), Value::Num(m)) = (a, m)
                            && m != 0.0
                        {
                            return Ok(Value::Num(a % m));
                        }
                    }
                }
                self.evaluate(sh, expr, None, false)
            }
        }
    }

    /// Argument evaluation for a built-in: `?` becomes a context-aware random
    /// integer, cycle forms are evaluated, lists and bare names go through
    /// `fastEval`, double-quoted strings and numbers pass as they are.
    fn process_args(&mut self, sh: &mut Shared, head: &str, args: &[Value]) -> R<Vec<Value>> {
        let mut out = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            let v = match a {
                Value::Str(s) if &**s == "?" => Value::Num(self.context_random(head, i)),
                Value::List(items)
                    if items
                        .first()
                        .and_then(Value::as_str)
                        .is_some_and(is_cycle_token) =>
                {
                    self.evaluate(sh, &Value::list(vec![a.clone()]), None, false)?
                }
                Value::List(_) => self.fast_eval(sh, a)?,
                Value::Str(s) if !(s.len() >= 2 && s.starts_with('"') && s.ends_with('"')) => {
                    self.fast_eval(sh, a)?
                }
                _ => a.clone(),
            };
            out.push(v);
        }
        Ok(out)
    }

    /// `contextAwareRandom`: `?` in argument `index` of `head`.
    fn context_random(&mut self, head: &str, index: usize) -> f64 {
        let (w, h) = (self.width as f64, self.height as f64);
        let range = match (head, index) {
            ("box", 0)
            | ("line", 0)
            | ("line", 2)
            | ("circle", 0)
            | ("tri", 0)
            | ("tri", 2)
            | ("tri", 4)
            | ("write", 0)
            | ("flood", 0) => Some((0.0, w)),
            ("box", 1)
            | ("line", 1)
            | ("line", 3)
            | ("circle", 1)
            | ("tri", 1)
            | ("tri", 3)
            | ("tri", 5)
            | ("write", 1)
            | ("flood", 1) => Some((0.0, h)),
            ("box", 2) | ("box", 3) => Some((10.0, 100.0)),
            ("circle", 2) => Some((5.0, 50.0)),
            ("ink", 0..=3) => Some((0.0, 255.0)),
            ("embed", 0) | ("embed", 1) | ("embed", 4) | ("embed", 5) => Some((32.0, 512.0)),
            ("embed", 2) => Some((0.0, w)),
            ("embed", 3) => Some((0.0, h)),
            _ => None,
        };
        match range {
            Some((lo, hi)) => self.rng.below(hi - lo + 1.0) + lo,
            None => self.rng.below(256.0),
        }
    }

    /// A list statement: timing forms, list heads, then function calls.
    fn eval_call(
        &mut self,
        sh: &mut Shared,
        items: &[Value],
        index: usize,
        body_len: usize,
    ) -> R<Flow> {
        let Some(head) = items.first() else {
            return Ok(Flow::Return(Value::Undef));
        };
        let mut args: Vec<Value> = items[1..].to_vec();
        if args.len() >= 2 {
            args = self.reglue_fades(sh, args)?;
        }
        args = self.eval_fade_directions(sh, args)?;
        match head {
            Value::Num(n) if n.fract() == 0.0 => return self.integer_timing(sh, *n, &args),
            Value::Str(s) if crate::syntax::is_timer_token(s) => {
                return self.timer(sh, s, &args, index);
            }
            Value::Str(s) if is_cycle_token(s) => return self.cycle(sh, s, &args, body_len),
            Value::Undef => return Ok(Flow::Return(Value::Undef)),
            Value::List(_) => {
                let evaled = self.evaluate(sh, &Value::list(vec![head.clone()]), None, false)?;
                let mut call = vec![evaled];
                call.extend(args);
                let r = self.evaluate(sh, &Value::list(vec![Value::list(call)]), None, false)?;
                return Ok(Flow::Value(r));
            }
            _ => {}
        }
        let head_text = head.to_js_string();
        let (name, colon) = if head_text == "..." || head_text == ".." {
            (head_text.clone(), None)
        } else {
            let first = head_text.split('.').next().unwrap_or("").to_string();
            match first.split_once(':') {
                Some((n, c)) => (n.to_string(), Some(c.to_string())),
                None => (first, None),
            }
        };
        if matches!(name.as_str(), "now" | "def" | "die") && !args.is_empty() {
            args[0] = Value::str(&format!("\"{}\"", args[0].to_js_string()));
        }
        let (name, args) = if name.starts_with('#')
            && name.len() > 1
            && name.len() <= 9
            && name[1..].bytes().all(|b| b.is_ascii_alphanumeric())
        {
            let mut a = vec![Value::str(&name)];
            a.extend(args);
            ("stamp".to_string(), a)
        } else {
            (name, args)
        };
        if let Some(code) = embed_code(&name) {
            let code = code.to_string();
            let evaluated = self.eval_user_args(sh, &args)?;
            return Ok(Flow::Value(self.embed(sh, &code, &evaluated)?));
        }
        if let Some(v) = self
            .locals
            .last()
            .and_then(|l| l.get(name.as_str()))
            .filter(|v| !v.is_undef())
        {
            return Ok(Flow::Value(v.clone()));
        }
        if let Some(v) = self
            .handler_env
            .as_ref()
            .and_then(|e| e.get(name.as_str()))
            .filter(|v| !v.is_undef())
        {
            return Ok(Flow::Value(v.clone()));
        }
        if builtins::is_builtin(&name) {
            let processed = if RAW_HEADS.contains(&name.as_str()) {
                args
            } else {
                self.process_args(sh, &name, &args)?
            };
            return Ok(Flow::Value(self.call_builtin(
                sh,
                &name,
                processed,
                colon.as_deref(),
            )?));
        }
        if let Some(v) = self
            .globals
            .get(name.as_str())
            .cloned()
            .filter(|v| !v.is_undef())
        {
            let evaluated = self.eval_user_args(sh, &args)?;
            return Ok(Flow::Value(match &v {
                Value::Lambda(_) => self.evaluate(sh, &v, Some(&evaluated), false)?,
                _ => v,
            }));
        }
        if valid_identifier(&name) {
            self.log_once(sh, &name);
        }
        Ok(Flow::Value(self.eval_not_found(sh, &Value::str(&name))?))
    }

    fn eval_user_args(&mut self, sh: &mut Shared, args: &[Value]) -> R<Vec<Value>> {
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            out.push(match a {
                Value::List(_) => self.fast_eval(sh, a)?,
                Value::Str(s) if !(s.len() >= 2 && s.starts_with('"') && s.ends_with('"')) => {
                    self.fast_eval(sh, a)?
                }
                _ => a.clone(),
            });
        }
        Ok(out)
    }

    /// `(later name p1 p2 … (body…) …)`.
    fn define_later(&mut self, args: &[Value]) -> Value {
        if args.len() < 2 {
            return Value::Undef;
        }
        let Some(split) = args[1..].iter().position(|a| matches!(a, Value::List(_))) else {
            return Value::Undef;
        };
        let params = args[1..1 + split]
            .iter()
            .map(|p| Arc::from(p.to_js_string().as_str()))
            .collect();
        let body = args[1 + split..].to_vec();
        let name = args[0].to_js_string();
        self.globals.insert(
            Arc::from(name.as_str()),
            Value::Lambda(Arc::new(Lambda {
                params,
                body: body.clone(),
            })),
        );
        Value::list(body)
    }

    /// The empty program's grey checkerboard (§2.4).
    fn checkerboard(&mut self, sh: &mut Shared) {
        self.api_wipe(
            sh,
            &[Value::Num(240.0), Value::Num(240.0), Value::Num(240.0)],
        );
        self.api_ink(sh, &[Value::Num(60.0), Value::Num(60.0), Value::Num(60.0)]);
        let (cols, rows) = (self.width.div_ceil(32), self.height.div_ceil(32));
        for y in 0..rows {
            for x in 0..cols {
                if (x + y) % 2 == 0 {
                    let args = [
                        Value::Num((x * 32) as f64),
                        Value::Num((y * 32) as f64),
                        Value::Num(32.0),
                        Value::Num(32.0),
                    ];
                    let cv = self.canvas_ptr();
                    crate::raster::box_(&mut sh.gfx, cv, &args);
                }
            }
        }
    }

    fn canvas_ptr(&mut self) -> &mut Canvas {
        self.canvas()
    }
}

/// How a statement affects its body.
pub(crate) enum Flow {
    /// The statement's value.
    Value(Value),
    /// No value (a timer that did not fire keeps the previous result).
    Keep,
    /// End the body now with this value.
    Return(Value),
}
