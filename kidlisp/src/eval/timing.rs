//! Timing forms (KIDLISP.md §4): `(n …)` every n+1 sim ticks, `(Ns …)` on
//! absolute clock multiples of N seconds, `(Ns… a b c)` choosing by the clock;
//! plus the `fade:` argument rewriting that happens before any call.

use super::{Flow, Interp, R, Shared};
use crate::jsnum;
use crate::value::Value;

fn leading_number(token: &str) -> f64 {
    jsnum::parse_float(token).unwrap_or(f64::NAN)
}

impl Interp {
    /// Arguments of the `0s`/integer forms: quoted strings lose their quotes,
    /// lists and names go through `fastEval`.
    fn timing_arg(&mut self, sh: &mut Shared, arg: &Value) -> R<Value> {
        match arg {
            Value::Num(_) | Value::Bool(_) => Ok(arg.clone()),
            Value::Str(s) if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') => {
                Ok(Value::str(&s[1..s.len() - 1]))
            }
            Value::List(_) | Value::Str(_) => self.fast_eval(sh, arg),
            _ => Ok(arg.clone()),
        }
    }

    /// `(n expr…)`: run when the sim tick count is a multiple of n+1.
    pub(super) fn integer_timing(&mut self, sh: &mut Shared, n: f64, args: &[Value]) -> R<Flow> {
        let divisor = n + 1.0;
        if (self.frame_count as f64 % divisor) == 0.0 {
            let mut r = Value::Undef;
            for a in args {
                r = self.timing_arg(sh, a)?;
            }
            return Ok(Flow::Value(r));
        }
        Ok(Flow::Keep)
    }

    /// `(Ns expr…)`: fire when the clock crosses a multiple of N seconds
    /// (timers with the same token and argument count share state); the first
    /// item of a body also fires the first time it is seen.
    pub(super) fn timer(
        &mut self,
        sh: &mut Shared,
        head: &str,
        args: &[Value],
        index: usize,
    ) -> R<Flow> {
        let seconds = leading_number(head);
        if seconds == 0.0 {
            let mut r = Value::Undef;
            for a in args {
                r = self.timing_arg(sh, a)?;
            }
            return Ok(Flow::Value(r));
        }
        // The clock is a JS Date, so it has whole milliseconds.
        let now = sh.time_ms.trunc() / 1000.0;
        let key = format!("{head}_{}", args.len());
        let fire = if seconds < 0.016 {
            match self.timers.get(&key).copied() {
                None => {
                    self.timers.insert(key, now);
                    false
                }
                Some(last) => {
                    if now - last >= 0.016 {
                        self.timers.insert(key, now);
                        true
                    } else {
                        false
                    }
                }
            }
        } else {
            match self.timers.get(&key).copied() {
                None => {
                    self.timers.insert(key.clone(), now);
                    if index == 0 {
                        true
                    } else {
                        self.crossed(&key, now, now, seconds)
                    }
                }
                Some(last) => self.crossed(&key, now, last, seconds),
            }
        };
        if !fire {
            return Ok(Flow::Keep);
        }
        // Timer bodies run as if in the embed phase (never deferred).
        let was = self.in_embed_phase;
        self.in_embed_phase = true;
        let mut r = Ok(Value::Undef);
        for a in args {
            r = self.fast_eval(sh, a);
            if r.is_err() {
                break;
            }
        }
        self.in_embed_phase = was;
        r.map(Flow::Value)
    }

    fn crossed(&mut self, key: &str, now: f64, last: f64, seconds: f64) -> bool {
        let n = seconds.max(0.005);
        if (now / n).floor() != (last / n).floor() {
            self.timers.insert(key.to_string(), now);
            true
        } else {
            false
        }
    }

    /// `(Ns… a b c)`: the argument at floor(t / N) mod count, from the absolute clock.
    pub(super) fn cycle(
        &mut self,
        sh: &mut Shared,
        head: &str,
        args: &[Value],
        body_len: usize,
    ) -> R<Flow> {
        if args.is_empty() {
            return Ok(Flow::Keep);
        }
        let interval = leading_number(head) * 1000.0;
        let n = args.len() as f64;
        let index = if interval > 0.0 {
            (((sh.time_ms / interval).floor() % n) + n) % n
        } else {
            0.0
        };
        let key = format!("{head}_{}", args.len());
        self.cycles.insert(key, index as usize);
        let selected = args[index as usize].clone();
        let result = match &selected {
            Value::Str(s) if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') => {
                Value::str(&s[1..s.len() - 1])
            }
            Value::Str(s) if s.starts_with("fade:") => {
                let f = self.eval_fade_direction(sh, s)?;
                self.api_ink(sh, std::slice::from_ref(&f));
                f
            }
            Value::Str(s) if super::builtins::is_builtin(s) => {
                self.call_builtin(sh, s, vec![], None)?
            }
            Value::Str(_) => self.evaluate(sh, &selected, None, false)?,
            Value::Num(_) => selected.clone(),
            _ => {
                let r = self.evaluate(sh, &selected, None, false)?;
                if r.is_undef() { selected.clone() } else { r }
            }
        };
        if body_len == 1 {
            return Ok(Flow::Return(result));
        }
        Ok(Flow::Keep)
    }

    /// `fade:cols:` followed by a separate expression is glued back together
    /// with that expression's value as the angle.
    pub(super) fn reglue_fades(&mut self, sh: &mut Shared, args: Vec<Value>) -> R<Vec<Value>> {
        let mut out = Vec::with_capacity(args.len());
        let mut i = 0;
        while i < args.len() {
            if let (Value::Str(s), Some(next)) = (&args[i], args.get(i + 1))
                && s.starts_with("fade:")
                && s.ends_with(':')
            {
                let angle = match next {
                    Value::List(_) => self.fast_eval(sh, next)?,
                    Value::Num(_) => next.clone(),
                    Value::Str(t) => match jsnum::parse_float(t) {
                        Some(n) if jsnum::string_to_number(t) == n => Value::Num(n),
                        _ => {
                            let expanded = crate::syntax::expand(next);
                            if matches!(expanded, Value::List(_)) {
                                self.fast_eval(sh, &expanded)?
                            } else {
                                self.evaluate(sh, next, None, false)?
                            }
                        }
                    },
                    v => v.clone(),
                };
                out.push(Value::str(&format!("{s}{}", angle.to_js_string())));
                i += 2;
                continue;
            }
            out.push(args[i].clone());
            i += 1;
        }
        Ok(out)
    }

    /// `fade:cols:DIR` with a non-numeric DIR: `frame` is the sim tick count,
    /// infix like `frame*2` is expanded and evaluated, a built-in is called.
    pub(super) fn eval_fade_direction(&mut self, sh: &mut Shared, s: &str) -> R<Value> {
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() < 3 {
            return Ok(Value::str(s));
        }
        let dir = parts[2];
        if jsnum::parse_float(dir).is_some() {
            return Ok(Value::str(&format!("{}:{}:{}", parts[0], parts[1], dir)));
        }
        let evaluated = if dir == "frame" {
            Value::Num(self.frame_count as f64)
        } else {
            let expanded = crate::syntax::expand(&Value::str(dir));
            if matches!(expanded, Value::List(_)) {
                self.fast_eval(sh, &expanded)?
            } else if super::builtins::is_builtin(dir) {
                self.call_builtin(sh, dir, vec![], None)?
            } else {
                self.evaluate(sh, &Value::str(dir), None, false)?
            }
        };
        Ok(Value::str(&format!(
            "{}:{}:{}",
            parts[0],
            parts[1],
            evaluated.to_js_string()
        )))
    }

    pub(super) fn eval_fade_directions(
        &mut self,
        sh: &mut Shared,
        args: Vec<Value>,
    ) -> R<Vec<Value>> {
        if !args.iter().any(|a| {
            a.as_str()
                .is_some_and(|s| s.starts_with("fade:") && s.split(':').count() >= 3)
        }) {
            return Ok(args);
        }
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            out.push(match &a {
                Value::Str(s) if s.starts_with("fade:") && s.split(':').count() >= 3 => {
                    self.eval_fade_direction(sh, s)?
                }
                _ => a,
            });
        }
        Ok(out)
    }
}
