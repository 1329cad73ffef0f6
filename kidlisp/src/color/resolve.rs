//! `findColor` (graph.mjs): the many spellings of a colour to channels.

use super::{Cycles, names};
use crate::jsnum;
use crate::rng::Lcg;
use crate::syntax::is_cycle_token;
use crate::value::Value;

/// What a colour argument list resolves to.
#[derive(Debug, Clone)]
pub(crate) enum Found {
    /// Channels (at least four; r, g, b, a as JS numbers, possibly out of 0–255, `-1` for erase).
    Channels(Vec<f64>),
    /// A `fade:` gradient string and its alpha.
    Fade(String, f64),
}

/// `computeAlpha`: a value strictly between 0 and 1 is a fraction of 255.
pub(crate) fn compute_alpha(a: f64) -> f64 {
    if a > 0.0 && a < 1.0 {
        jsnum::round(a * 255.0)
    } else {
        a
    }
}

fn normalize(input: &str) -> String {
    let mut s = input.trim().to_string();
    if s.starts_with('\'') && !s.ends_with('\'') {
        s.remove(0);
    }
    for q in ['\'', '"', '`'] {
        if s.len() > 1 && s.starts_with(q) && s.ends_with(q) {
            s = s[1..s.len() - 1].trim().to_string();
            break;
        }
    }
    if s.len() > 2 && s.starts_with('|') && s.ends_with('|') {
        s = s[1..s.len() - 1].to_string();
    }
    for q in ['\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}'] {
        if let Some(rest) = s.strip_prefix(q) {
            s = rest.to_string();
        }
        if let Some(rest) = s.strip_suffix(q) {
            s = rest.to_string();
        }
    }
    if let Some(rest) = s.strip_prefix("fade:") {
        format!("fade:{}", rest.to_lowercase())
    } else if s.starts_with('#') || s.starts_with("0x") {
        s
    } else {
        s.to_lowercase()
    }
}

/// `isHexString`: parseInt(h, 16).toString(16) must give back h (so no leading zeros).
fn is_hex(h: &str) -> bool {
    let lower = h.to_ascii_lowercase();
    !lower.is_empty()
        && lower.len() <= 12
        && lower.bytes().all(|b| b.is_ascii_hexdigit())
        && (lower == "0" || !lower.starts_with('0'))
}

fn hex_to_rgb(h: &str) -> [f64; 3] {
    let d = |s: &str| f64::from(u8::from_str_radix(s, 16).unwrap_or(0));
    match h.len() {
        3 => {
            let c: Vec<String> = h.chars().map(|c| format!("{c}{c}")).collect();
            [d(&c[0]), d(&c[1]), d(&c[2])]
        }
        6 => [d(&h[0..2]), d(&h[2..4]), d(&h[4..6])],
        _ => num_to_rgb(u64::from_str_radix(h, 16).unwrap_or(0) as f64),
    }
}

fn num_to_rgb(n: f64) -> [f64; 3] {
    let n = n as u64;
    [
        ((n >> 16) & 255) as f64,
        ((n >> 8) & 255) as f64,
        (n & 255) as f64,
    ]
}

fn rgb(c: [u8; 3]) -> Vec<f64> {
    c.iter().map(|&v| f64::from(v)).collect()
}

fn random_rgb(host: &mut Lcg) -> Vec<f64> {
    (0..3).map(|_| host.int_inclusive(255.0)).collect()
}

/// `p0` → rainbow, `p1` → zebra, `cN` → palette.
fn index_color(s: &str, cycles: &mut Cycles) -> Option<Vec<f64>> {
    match s {
        "p0" => Some(rgb(cycles.rainbow(0))),
        "p1" => Some(rgb(cycles.zebra(0))),
        _ => names::palette_code(s).map(rgb),
    }
}

/// Resolve colour arguments as graph.mjs's `findColor` does. `host` stands in
/// for `Math.random` (unknown names and missing channels draw from it).
pub(crate) fn find_color(args: &[Value], cycles: &mut Cycles, host: &mut Lcg) -> Found {
    let mut out: Vec<Value>;
    if args.len() == 1 && !args[0].is_undef() {
        match &args[0] {
            Value::Bool(b) => {
                return Found::Channels(if *b {
                    vec![255.0; 4]
                } else {
                    vec![0.0, 0.0, 0.0, 255.0]
                });
            }
            Value::Num(n) => {
                let c = if *n > 255.0 {
                    num_to_rgb(*n).to_vec()
                } else {
                    vec![*n; 3]
                };
                out = c.into_iter().map(Value::Num).collect();
            }
            Value::List(items) => return find_color(items, cycles, host),
            Value::Str(s) => {
                let s = normalize(s);
                if s.starts_with("fade:") {
                    return Found::Fade(s, 255.0);
                }
                let c = if let Some(c) = index_color(&s, cycles) {
                    c
                } else if s == "erase" {
                    vec![-1.0; 3]
                } else if s == "rainbow" {
                    rgb(cycles.rainbow(0))
                } else if s == "zebra" {
                    rgb(cycles.zebra(0))
                } else {
                    let cleaned = s.replacen('#', "", 1).replacen("0x", "", 1);
                    if is_hex(&cleaned) {
                        hex_to_rgb(&cleaned).to_vec()
                    } else if let Some(c) = names::css(&s) {
                        rgb(c)
                    } else {
                        let mut c = random_rgb(host);
                        c.push(255.0);
                        c
                    }
                };
                out = c.into_iter().map(Value::Num).collect();
            }
            Value::Undef | Value::Lambda(_) => {
                let mut c = random_rgb(host);
                c.push(255.0);
                out = c.into_iter().map(Value::Num).collect();
            }
        }
    } else if args.len() == 2 {
        let alpha = || compute_alpha(args[1].to_number());
        match &args[0] {
            Value::Str(s) if &**s == "rainbow" => {
                let mut c = rgb(cycles.rainbow(0));
                c.push(alpha());
                out = c.into_iter().map(Value::Num).collect();
            }
            Value::Str(s) if &**s == "zebra" => {
                let mut c = rgb(cycles.zebra(0));
                c.push(alpha());
                out = c.into_iter().map(Value::Num).collect();
            }
            Value::Str(s) => {
                let s = normalize(s);
                if s.starts_with("fade:") {
                    let a = if args[1].truthy() {
                        args[1].to_number()
                    } else {
                        255.0
                    };
                    return Found::Fade(s, compute_alpha(a));
                }
                let mut c = index_color(&s, cycles)
                    .or_else(|| names::css(&s).map(rgb))
                    .unwrap_or_else(|| vec![0.0; 3]);
                c.push(alpha());
                out = c.into_iter().map(Value::Num).collect();
            }
            Value::List(base) => {
                let mut c: Vec<Value> = base.to_vec();
                if !args[1].is_undef() {
                    let a = Value::Num(alpha());
                    if c.len() >= 4 {
                        c[3] = a;
                    } else {
                        c.push(a);
                    }
                }
                out = c;
            }
            Value::Undef => {
                let mut c = random_rgb(host);
                c.push(alpha());
                out = c.into_iter().map(Value::Num).collect();
            }
            v => out = vec![v.clone(), v.clone(), v.clone(), args[1].clone()],
        }
    } else if args.is_empty() || (args.len() == 1 && args[0].is_undef()) {
        let mut c = random_rgb(host);
        c.push(255.0);
        out = c.into_iter().map(Value::Num).collect();
    } else {
        out = args.to_vec();
    }
    if out.len() == 3 {
        out.push(Value::Num(255.0));
    }
    let is_timing = |v: &Value| v.as_str().is_some_and(is_timing_token_cycle);
    let invalid = |v: &Value| match v {
        Value::Undef => true,
        Value::Str(s) if s.starts_with("fade:") => false,
        v if is_timing(v) => true,
        v => v.to_number().is_nan(),
    };
    if out.iter().any(invalid) {
        if let Some(f) = out
            .iter()
            .find_map(|v| v.as_str().filter(|s| s.starts_with("fade:")))
        {
            let a = out
                .iter()
                .find_map(|v| v.as_num().filter(|n| !n.is_nan() && *n != 0.0))
                .unwrap_or(255.0);
            return Found::Fade(f.to_string(), a);
        }
        out.retain(|v| !is_timing(v));
        while out.len() < 3 {
            out.push(Value::Num(255.0));
        }
        if out.len() == 3 {
            out.push(Value::Num(255.0));
        }
        out = out
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if matches!(v, Value::Undef | Value::Str(_)) || v.to_number().is_nan() {
                    Value::Num(if i == 3 {
                        255.0
                    } else {
                        host.int_inclusive(255.0)
                    })
                } else {
                    v.clone()
                }
            })
            .collect();
        out.truncate(4);
    }
    Found::Channels(
        out.iter()
            .map(|v| {
                let n = v.to_number();
                if n.is_nan() {
                    host.int_inclusive(255.0)
                } else {
                    n
                }
            })
            .collect(),
    )
}

fn is_timing_token_cycle(s: &str) -> bool {
    is_cycle_token(s)
}
