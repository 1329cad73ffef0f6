//! The built-in words (kidlisp.mjs's global environment), minus the drawing
//! ones that live in `draw.rs`.

use std::sync::Arc;

use super::{Interp, R, Shared};
use crate::color::names;
use crate::jsnum;
use crate::value::{Value, unquote};

/// Words handled here or in `draw.rs`. (Colour names and `cN` are built-ins too.)
const WORDS: &[&str] = &[
    "now",
    "def",
    "die",
    "later",
    "tap",
    "draw",
    "lift",
    "if",
    "once",
    "not",
    "fill",
    "outline",
    "stroke",
    "nofill",
    "nostroke",
    ">",
    "<",
    "=",
    "floor",
    "ceil",
    "round",
    "max",
    "min",
    "sin",
    "cos",
    "tan",
    "abs",
    "sqrt",
    "pow",
    "+",
    "-",
    "*",
    "mul",
    "/",
    "%",
    "mod",
    "random",
    "wiggle",
    "resolution",
    "wipe",
    "coat",
    "ink",
    "fade",
    "hop",
    "delay",
    "line",
    "lines",
    "box",
    "circle",
    "oval",
    "point",
    "plot",
    "tri",
    "flood",
    "shape",
    "scroll",
    "spin",
    "resetSpin",
    "smoothspin",
    "sort",
    "zoom",
    "flip",
    "suck",
    "blur",
    "sharpen",
    "invert",
    "contrast",
    "brightness",
    "shear",
    "pan",
    "unpan",
    "mask",
    "unmask",
    "paste",
    "stamp",
    "write",
    "width",
    "w",
    "height",
    "h",
    "frame",
    "f",
    "clock",
    "fps",
    "repeat",
    "rep",
    "bunch",
    "choose",
    "?",
    "...",
    "..",
    "rainbow",
    "zebra",
    "noise",
    "debug",
    "log",
    "label",
    "len",
    "bake",
    "burn",
    "backdrop",
    "melody",
    "overtone",
    "pluck",
    "bell",
    "sub",
    "flute",
    "hat",
    "voice",
    "embed",
    "dist",
    "lerp",
    "map",
    "constrain",
];

/// Is `name` a built-in word?
pub(crate) fn is_builtin(name: &str) -> bool {
    WORDS.contains(&name) || names::css(name).is_some() || names::palette_code(name).is_some()
}

fn num(v: Option<&Value>) -> f64 {
    v.map_or(f64::NAN, Value::to_number)
}

fn numeric(v: &Value) -> Option<f64> {
    v.as_num()
}

impl Interp {
    /// Call built-in `name` with already-processed arguments (raw for control forms).
    pub(crate) fn call_builtin(
        &mut self,
        sh: &mut Shared,
        name: &str,
        args: Vec<Value>,
        colon: Option<&str>,
    ) -> R<Value> {
        if let Some(c) = names::css(name).or_else(|| names::palette_code(name)) {
            return Ok(Value::list(
                c.iter().map(|&v| Value::Num(f64::from(v))).collect(),
            ));
        }
        let a = &args;
        Ok(match name {
            "def" => {
                if a.len() != 2 {
                    sh.log
                        .push(format!("frame {}: def needs a name and a value", sh.frame));
                    return Ok(Value::Undef);
                }
                let n = unquote(&a[0].to_js_string()).to_string();
                if !super::valid_identifier(&n) {
                    return Ok(Value::Undef);
                }
                if self.locals.len() > 1 {
                    if let Some(scope) = self.locals.last_mut() {
                        scope.insert(Arc::from(n.as_str()), a[1].clone());
                    }
                } else {
                    self.globals
                        .entry(Arc::from(n.as_str()))
                        .or_insert_with(|| a[1].clone());
                }
                a[1].clone()
            }
            "now" => {
                if a.len() == 2 {
                    let n = unquote(&a[0].to_js_string()).to_string();
                    if let Some(slot) = self.globals.get_mut(n.as_str()) {
                        *slot = a[1].clone();
                    } else {
                        sh.log
                            .push(format!("frame {}: now: {n} is not defined", sh.frame));
                    }
                    a[1].clone()
                } else {
                    Value::Undef
                }
            }
            "die" => {
                if let Some(n) = a.first() {
                    let n = unquote(&n.to_js_string()).to_string();
                    if self.globals.get(n.as_str()).is_some_and(Value::truthy) {
                        self.globals.remove(n.as_str());
                    }
                }
                Value::Undef
            }
            "later" => self.define_later(a),
            "tap" => {
                self.tapper = Some(Value::list(args.clone()));
                Value::Undef
            }
            "draw" => {
                self.drawer = Some(Value::list(args.clone()));
                Value::Undef
            }
            "lift" => {
                self.lifter = Some(Value::list(args.clone()));
                Value::Undef
            }
            "if" => {
                let Some(cond) = a.first() else {
                    return Ok(Value::Bool(false));
                };
                if self.evaluate(sh, cond, None, false)?.truthy() && a.len() > 1 {
                    self.evaluate(sh, &Value::list(a[1..].to_vec()), None, false)?;
                }
                Value::Undef
            }
            "not" => {
                let Some(cond) = a.first() else {
                    return Ok(Value::Bool(false));
                };
                let c = self.evaluate(sh, cond, None, false)?.truthy();
                if !c {
                    for e in &a[1..] {
                        self.evaluate(sh, e, None, false)?;
                    }
                }
                Value::Bool(!c)
            }
            ">" | "<" | "=" => {
                if a.len() < 2 {
                    return Ok(Value::Bool(false));
                }
                let l = self.evaluate(sh, &a[0], None, false)?;
                let r = self.evaluate(sh, &a[1], None, false)?;
                let hit = match name {
                    "=" => l.strict_eq(&r),
                    ">" => js_gt(&l, &r),
                    _ => js_gt(&r, &l),
                };
                if !hit {
                    Value::Bool(false)
                } else if a.len() > 2 {
                    self.evaluate(sh, &Value::list(a[2..].to_vec()), None, false)?
                } else {
                    Value::Bool(true)
                }
            }
            "once" => {
                if a.is_empty() {
                    return Ok(Value::Undef);
                }
                let key = Value::list(a.clone()).key();
                if self.once.insert(key) {
                    let mut r = Value::Undef;
                    for e in a {
                        r = self.evaluate(sh, e, None, false)?;
                    }
                    r
                } else {
                    Value::Undef
                }
            }
            "fill" | "nostroke" => {
                self.fill_mode = true;
                Value::Undef
            }
            "outline" | "stroke" | "nofill" => {
                self.fill_mode = false;
                Value::Undef
            }
            "floor" | "ceil" | "round" | "abs" | "sqrt" | "tan" => {
                match a.first().and_then(numeric) {
                    Some(v) => Value::Num(match name {
                        "floor" => v.floor(),
                        "ceil" => v.ceil(),
                        "round" => jsnum::round(v),
                        "abs" => v.abs(),
                        "sqrt" => v.sqrt(),
                        _ => libm::tan(v),
                    }),
                    None => Value::Num(0.0),
                }
            }
            "pow" => Value::Num(num(a.first()).powf(num(a.get(1)))),
            "max" | "min" => {
                let nums: Vec<f64> = a
                    .iter()
                    .filter_map(numeric)
                    .filter(|n| !n.is_nan())
                    .collect();
                if nums.is_empty() {
                    Value::Num(0.0)
                } else if name == "max" {
                    Value::Num(nums.iter().copied().fold(f64::NEG_INFINITY, f64::max))
                } else {
                    Value::Num(nums.iter().copied().fold(f64::INFINITY, f64::min))
                }
            }
            "sin" | "cos" => {
                let v = match a.first() {
                    None => Some(self.frame_count as f64 * 0.01),
                    Some(v) => numeric(v),
                };
                match v {
                    Some(v) => Value::Num(if name == "sin" {
                        libm::sin(v)
                    } else {
                        libm::cos(v)
                    }),
                    None => Value::Num(0.0),
                }
            }
            "+" => Value::Num(
                a.iter()
                    .map(|v| numeric(v).unwrap_or(0.0))
                    .fold(0.0, |acc, v| acc + v),
            ),
            "*" | "mul" => Value::Num(
                a.iter()
                    .map(|v| numeric(v).unwrap_or(0.0))
                    .fold(1.0, |acc, v| acc * v),
            ),
            "-" => match a.len() {
                0 => Value::Num(0.0),
                1 => Value::Num(-numeric(&a[0]).unwrap_or(0.0)),
                _ => Value::Num(
                    a[1..]
                        .iter()
                        .map(|v| numeric(v).unwrap_or(0.0))
                        .fold(numeric(&a[0]).unwrap_or(0.0), |acc, v| acc - v),
                ),
            },
            "/" => {
                if a.is_empty() {
                    Value::Num(0.0)
                } else {
                    // A zero divisor is skipped here (the fast path answers 0 instead).
                    Value::Num(a[1..].iter().map(|v| numeric(v).unwrap_or(1.0)).fold(
                        numeric(&a[0]).unwrap_or(0.0),
                        |acc, d| {
                            if d != 0.0 { acc / d } else { acc }
                        },
                    ))
                }
            }
            "%" | "mod" => {
                if a.len() < 2 {
                    Value::Num(0.0)
                } else {
                    let (x, m) = (numeric(&a[0]).unwrap_or(0.0), numeric(&a[1]).unwrap_or(1.0));
                    Value::Num(if m != 0.0 { x % m } else { 0.0 })
                }
            }
            "dist" => {
                let (dx, dy) = (
                    num(a.get(2)) - num(a.first()),
                    num(a.get(3)) - num(a.get(1)),
                );
                Value::Num((dx * dx + dy * dy).sqrt())
            }
            "lerp" => {
                let (x, y, t) = (num(a.first()), num(a.get(1)), num(a.get(2)).clamp(0.0, 1.0));
                Value::Num(x + (y - x) * t)
            }
            "map" => {
                let (v, a0, a1, b0, b1) = (
                    num(a.first()),
                    num(a.get(1)),
                    num(a.get(2)),
                    num(a.get(3)),
                    num(a.get(4)),
                );
                Value::Num(((v - a0) * (b1 - b0)) / (a1 - a0) + b0)
            }
            "constrain" => Value::Num(num(a.first()).max(num(a.get(1))).min(num(a.get(2)))),
            "random" => match a.len() {
                0 => Value::Num(self.rng.below(256.0)),
                1 => Value::Num((self.rng.next_f64() * a[0].to_number()).floor()),
                _ => {
                    let (lo, hi) = (a[0].to_number(), a[1].to_number());
                    Value::Num((self.rng.next_f64() * (hi - lo + 1.0)).floor() + lo)
                }
            },
            "wiggle" => {
                let amount = a.first().map_or(10.0, Value::to_number);
                Value::Num((self.rng.next_f64() - 0.5) * amount)
            }
            "width" | "w" => Value::Num(self.width as f64),
            "height" | "h" => Value::Num(self.height as f64),
            "frame" | "f" => Value::Num(self.paint_count as f64),
            "clock" => {
                if a.is_empty() {
                    Value::Num(sh.time_ms)
                } else {
                    Value::str(
                        &a.iter()
                            .map(|v| unquote(&v.to_js_string()).to_string())
                            .collect::<Vec<_>>()
                            .join(" "),
                    )
                }
            }
            "fps" | "resolution" | "melody" | "overtone" | "pluck" | "bell" | "sub" | "flute"
            | "hat" | "voice" | "label" | "resetSpin" => {
                // Pacing, display size and sound do not change pixels here.
                a.first().cloned().unwrap_or(Value::Undef)
            }
            "len" => a.first().map_or(Value::Undef, |v| {
                Value::Num(v.to_js_string().encode_utf16().count() as f64)
            }),
            "debug" | "log" => {
                sh.log.push(format!(
                    "frame {}: {name}: {}",
                    sh.frame,
                    a.iter()
                        .map(Value::to_js_string)
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
                a.first().cloned().unwrap_or(Value::Undef)
            }
            "repeat" | "rep" | "bunch" => self.repeat(sh, a)?,
            "choose" | "?" => {
                if a.is_empty() {
                    Value::Undef
                } else {
                    let i = (self.rng.next_f64() * a.len() as f64).floor() as usize;
                    a[i.min(a.len() - 1)].clone()
                }
            }
            "..." | ".." => {
                if a.is_empty() {
                    return Ok(Value::Undef);
                }
                let key = Value::list(a.clone()).key();
                let i = *self.sequences.get(&key).unwrap_or(&0);
                if self.sequences.len() < 4096 || self.sequences.contains_key(&key) {
                    self.sequences.insert(key, (i + 1) % a.len());
                }
                a[i.min(a.len() - 1)].clone()
            }
            "rainbow" => Value::str("rainbow"),
            "zebra" => Value::str("zebra"),
            "hop" => {
                if a.len() < 3 {
                    return Ok(Value::Undef);
                }
                let secs = self.evaluate(sh, &a[0], None, false)?;
                let token = format!("{}s...", secs.to_js_string());
                self.evaluate(
                    sh,
                    &Value::list(vec![Value::list(vec![
                        Value::str(&token),
                        a[1].clone(),
                        a[2].clone(),
                    ])]),
                    None,
                    false,
                )?
            }
            "delay" => {
                if a.len() < 2 {
                    return Ok(Value::Undef);
                }
                let secs = self.evaluate(sh, &a[0], None, false)?;
                let token = format!("{}s", secs.to_js_string());
                self.evaluate(
                    sh,
                    &Value::list(vec![Value::list(vec![Value::str(&token), a[1].clone()])]),
                    None,
                    false,
                )?
            }
            "fade" => fade_string(a),
            "embed" => match a.first() {
                Some(code) => {
                    let code = code.to_js_string();
                    let code = code.trim_start_matches('$').to_string();
                    self.embed(sh, &code, &a[1..])?
                }
                None => Value::Undef,
            },
            _ => self.call_draw(sh, name, a, colon)?,
        })
    }

    /// `(repeat count [iterVar] body…)`: count > 10000 is refused (logged),
    /// as in AC, after the count is charged to the frame's step budget.
    fn repeat(&mut self, sh: &mut Shared, a: &[Value]) -> R<Value> {
        if a.len() < 2 {
            sh.log.push(format!(
                "frame {}: repeat needs a count and a body",
                sh.frame
            ));
            return Ok(Value::Undef);
        }
        let count = self.evaluate(sh, &a[0], None, false)?.to_number();
        if count.is_nan() || count < 0.0 {
            sh.log.push(format!(
                "frame {}: repeat count must be a non-negative number",
                sh.frame
            ));
            return Ok(Value::Undef);
        }
        sh.consume(count.ceil().min(u64::MAX as f64) as u64)?;
        if count > 10000.0 {
            sh.log.push(format!(
                "frame {}: repeat count {} exceeds the limit of 10000",
                sh.frame,
                jsnum::number_to_string(count)
            ));
            return Ok(Value::Undef);
        }
        let mut result = Value::Undef;
        if let (true, Some(var)) = (a.len() >= 3, a[1].as_str()) {
            let var: Arc<str> = Arc::from(var);
            let exprs = &a[2..];
            let head = |v: &Value| {
                v.as_list()
                    .and_then(|l| l.first())
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            if exprs.len() == 2
                && head(&exprs[0]).as_deref() == Some("ink")
                && head(&exprs[1]).as_deref() == Some("box")
            {
                return self.repeat_ink_box(sh, count, &var, exprs);
            }
            // AC evaluates the forms that do not mention the loop variable once,
            // before the loop, and only re-runs the others each time round.
            let mut invariant = Vec::with_capacity(exprs.len());
            for e in exprs {
                invariant.push(if mentions(e, &var) {
                    None
                } else {
                    Some(self.evaluate(sh, e, None, false)?)
                });
            }
            let mut scope = self.locals.last().cloned().unwrap_or_default();
            scope.insert(var.clone(), Value::Num(0.0));
            self.locals.push(scope);
            let mut i = 0.0;
            while i < count {
                if let Some(s) = self.locals.last_mut() {
                    s.insert(var.clone(), Value::Num(i));
                }
                for (e, inv) in exprs.iter().zip(&invariant) {
                    result = match inv {
                        Some(v) => v.clone(),
                        None => self.evaluate(sh, e, None, false)?,
                    };
                }
                i += 1.0;
            }
            self.locals.pop();
        } else {
            let mut i = 0.0;
            while i < count {
                for e in &a[1..] {
                    result = self.evaluate(sh, e, None, false)?;
                }
                i += 1.0;
            }
        }
        Ok(result)
    }
}

/// Does form `e` mention the symbol `var` anywhere?
fn mentions(e: &Value, var: &str) -> bool {
    match e {
        Value::Str(s) => &**s == var,
        Value::List(l) => l.iter().any(|x| mentions(x, var)),
        _ => false,
    }
}

impl Interp {
    /// AC's fast path for `(repeat n i (ink …) (box …))`: box arguments without
    /// `i` are evaluated once, and the box goes straight to the rasteriser
    /// (always filled, no random ink, never deferred).
    fn repeat_ink_box(
        &mut self,
        sh: &mut Shared,
        count: f64,
        var: &Arc<str>,
        exprs: &[Value],
    ) -> R<Value> {
        let ink = exprs[0]
            .as_list()
            .map(<[Value]>::to_vec)
            .unwrap_or_default();
        let box_args = exprs[1]
            .as_list()
            .map(|l| l[1..].to_vec())
            .unwrap_or_default();
        let palette: Option<(String, Vec<Value>)> = match ink.get(1).and_then(Value::as_list) {
            Some(l) if ink.len() == 2 && l.first().and_then(Value::as_str) == Some("...") => {
                let colors = l[1..].to_vec();
                Some((Value::list(colors.clone()).key(), colors))
            }
            _ => None,
        };
        let mut analyzed: Vec<Result<Value, Value>> = Vec::with_capacity(box_args.len());
        for arg in &box_args {
            analyzed.push(if mentions(arg, var) {
                Err(arg.clone())
            } else {
                Ok(self.evaluate(sh, arg, None, false)?)
            });
        }
        let mut scope = self.locals.last().cloned().unwrap_or_default();
        scope.insert(var.clone(), Value::Num(0.0));
        self.locals.push(scope);
        let mut i = 0.0;
        while i < count {
            if let Some(s) = self.locals.last_mut() {
                s.insert(var.clone(), Value::Num(i));
            }
            match &palette {
                Some((key, colors)) if !colors.is_empty() => {
                    let idx = *self.sequences.get(key).unwrap_or(&0) % colors.len();
                    self.sequences.insert(key.clone(), (idx + 1) % colors.len());
                    let c = colors[idx].clone();
                    self.api_ink(sh, &[c]);
                }
                _ => {
                    self.evaluate(sh, &exprs[0], None, false)?;
                }
            }
            let mut args = Vec::with_capacity(analyzed.len());
            for a in &analyzed {
                args.push(match a {
                    Ok(v) => v.clone(),
                    Err(e) => self.evaluate(sh, e, None, false)?,
                });
            }
            let cv = self.canvas();
            crate::raster::box_(&mut sh.gfx, cv, &args);
            i += 1.0;
        }
        self.locals.pop();
        Ok(Value::Undef)
    }
}

/// JS `>` for the value kinds KidLisp compares (numbers, or strings).
fn js_gt(l: &Value, r: &Value) -> bool {
    match (l, r) {
        (Value::Str(a), Value::Str(b)) => a > b,
        _ => l.to_number() > r.to_number(),
    }
}

/// `(fade a b [dir])` → the string `fade:a-b[:dir]`.
fn fade_string(a: &[Value]) -> Value {
    if a.len() < 2 {
        return Value::str("fade:red-blue");
    }
    let join = |vs: &[Value]| {
        vs.iter()
            .map(|v| unquote(&v.to_js_string()).to_string())
            .collect::<Vec<_>>()
            .join("-")
    };
    let last = &a[a.len() - 1];
    const DIRS: [&str; 6] = [
        "horizontal",
        "horizontal-reverse",
        "vertical",
        "vertical-reverse",
        "diagonal",
        "diagonal-reverse",
    ];
    let s = match last {
        Value::Str(d) if DIRS.contains(&&**d) => format!("fade:{}:{d}", join(&a[..a.len() - 1])),
        Value::Num(n) => format!(
            "fade:{}:{}",
            join(&a[..a.len() - 1]),
            jsnum::number_to_string(*n)
        ),
        _ if a.len() >= 3 => match last.as_str().and_then(jsnum::parse_float) {
            Some(n) => format!(
                "fade:{}:{}",
                join(&a[..a.len() - 1]),
                jsnum::number_to_string(n)
            ),
            None => format!(
                "fade:{}:{}",
                join(&a[..a.len() - 1]),
                Value::list(vec![last.clone()])
                    .key()
                    .trim_matches(|c| c == '[' || c == ']')
            ),
        },
        _ => format!("fade:{}", join(a)),
    };
    Value::str(&s)
}
