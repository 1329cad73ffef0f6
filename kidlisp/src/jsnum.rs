//! JavaScript number semantics that KidLisp's pixels depend on.
//!
//! aesthetic.computer runs KidLisp on JS doubles and stores pixels in a
//! `Uint8ClampedArray`; matching its bytes means matching `parseFloat`,
//! `Math.round`, `>>` (ToInt32) and the clamped-array store exactly.

/// JS `parseFloat`: the longest decimal prefix of `s` (after leading white
/// space), `Infinity` forms included; `None` where JS answers NaN.
pub fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim_start();
    let b = t.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if t[i..].starts_with("Infinity") {
        return Some(if b.first() == Some(&b'-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        let frac_start = i + 1;
        let mut j = frac_start;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > frac_start || digits > 0 {
            digits += j - frac_start;
            i = j;
        }
    }
    if digits == 0 {
        return None;
    }
    // An exponent only counts when digits follow it.
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
        }
    }
    let mut text = &t[..i];
    if text.ends_with('.') {
        text = &text[..text.len() - 1];
    }
    let text = text.strip_prefix('+').unwrap_or(text);
    // Rust's parser rejects a bare leading '.', JS does not.
    let fixed;
    let text = if let Some(rest) = text.strip_prefix("-.") {
        fixed = format!("-0.{rest}");
        fixed.as_str()
    } else if let Some(rest) = text.strip_prefix('.') {
        fixed = format!("0.{rest}");
        fixed.as_str()
    } else {
        text
    };
    text.parse::<f64>().ok()
}

/// JS `Number(string)`: the whole (trimmed) string must be numeric; empty is 0.
pub fn string_to_number(s: &str) -> f64 {
    let t = s.trim();
    if t.is_empty() {
        return 0.0;
    }
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16)
            .map(|v| v as f64)
            .unwrap_or(f64::NAN);
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    let ok = t
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !ok {
        return f64::NAN;
    }
    match parse_float(t) {
        Some(v) if number_prefix_len(t) == t.len() => v,
        _ => f64::NAN,
    }
}

fn number_prefix_len(t: &str) -> usize {
    // Re-scan with the same grammar as parse_float to see how much it used.
    let b = t.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let s = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > s {
            i = j;
        }
    }
    i
}

/// JS `String(number)`.
pub fn number_to_string(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if n == 0.0 {
        return "0".into();
    }
    let a = n.abs();
    if (1e-7..1e21).contains(&a) {
        // Rust's Display is the shortest round-trip digits in plain notation, like JS here.
        format!("{n}")
    } else {
        let s = format!("{n:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    }
}

/// JS `Math.round`: halves go toward +infinity.
pub fn round(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let f = x.floor();
    if x - f >= 0.5 { f + 1.0 } else { f }
}

/// [`round`] as an integer for finite `x` with |x| < 2^52 (the caller makes sure): the same
/// value, computed without `floor`, which is a library call on x86-64 without SSE4.1 and sits in
/// the per-pixel loops of the geometric effects.
pub fn round_small(x: f64) -> i64 {
    debug_assert!(x.is_finite() && x.abs() < 4_503_599_627_370_496.0);
    let t = x as i64; // toward zero, exact in this range
    let f = if (t as f64) > x { t - 1 } else { t }; // floor
    if x - f as f64 >= 0.5 { f + 1 } else { f }
}

/// JS ToInt32.
pub fn to_int32(x: f64) -> i32 {
    if !x.is_finite() {
        return 0;
    }
    let t = x.trunc();
    let m = t.rem_euclid(4_294_967_296.0);
    (m as u64 as u32) as i32
}

/// JS `x >> 8` on a double.
pub fn shr8(x: f64) -> f64 {
    // Blends shift sums below 2^16 on every pixel: in [0, 2^31) ToInt32 is the truncation,
    // so skip its modulo (a library call).
    if (0.0..2_147_483_648.0).contains(&x) {
        return ((x as i32) >> 8) as f64;
    }
    (to_int32(x) >> 8) as f64
}

/// JS `x | 0`.
pub fn or0(x: f64) -> f64 {
    to_int32(x) as f64
}

/// Store into a `Uint8ClampedArray`: NaN is 0, clamp, round half to even.
pub fn clamp_u8(x: f64) -> u8 {
    if x.is_nan() {
        return 0;
    }
    if x <= 0.0 {
        return 0;
    }
    if x >= 255.0 {
        return 255;
    }
    x.round_ties_even() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_float_prefixes() {
        assert_eq!(parse_float("3px"), Some(3.0));
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(parse_float("-3"), Some(-3.0));
        assert_eq!(parse_float("1e3"), Some(1000.0));
        assert_eq!(parse_float("1e"), Some(1.0));
        assert_eq!(parse_float("2s!"), Some(2.0));
        assert_eq!(parse_float("5."), Some(5.0));
        assert_eq!(parse_float("-.25"), Some(-0.25));
        assert_eq!(parse_float("..."), None);
        assert_eq!(parse_float("-"), None);
        assert_eq!(parse_float("$abc"), None);
        assert_eq!(parse_float("w/2"), None);
    }

    #[test]
    fn clamped_store_rounds_half_to_even() {
        assert_eq!(clamp_u8(0.5), 0);
        assert_eq!(clamp_u8(1.5), 2);
        assert_eq!(clamp_u8(2.5), 2);
        assert_eq!(clamp_u8(-1.0), 0);
        assert_eq!(clamp_u8(300.0), 255);
        assert_eq!(clamp_u8(f64::NAN), 0);
    }

    #[test]
    fn math_round_and_shifts() {
        assert_eq!(round(2.5), 3.0);
        assert_eq!(round(-2.5), -2.0);
        assert_eq!(round(0.49999999999999994), 0.0);
        assert_eq!(shr8(65535.0), 255.0);
        assert_eq!(shr8(-1.0), -1.0);
        assert_eq!(number_to_string(100.0), "100");
        assert_eq!(number_to_string(0.25), "0.25");
        assert_eq!(string_to_number("255"), 255.0);
        assert!(string_to_number("red").is_nan());
    }

    #[test]
    fn round_small_is_math_round() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let check = |x: f64| {
            if x.abs() < 4_503_599_627_370_496.0 {
                assert_eq!(round_small(x) as f64, round(x), "{x:e}");
            }
        };
        for x in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            0.49999999999999994,
            -0.49999999999999994,
        ] {
            check(x);
        }
        for _ in 0..1_000_000 {
            let bits = next();
            // Uniform in ±2^(0..40), halves and their neighbours, and raw bit patterns.
            let scale = f64::from((bits >> 58) as u32 % 41).exp2();
            let x = ((bits >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale;
            let half = (x.trunc()) + 0.5;
            for y in [
                x,
                half,
                -half,
                half.next_up(),
                half.next_down(),
                f64::from_bits(bits),
            ] {
                check(y);
            }
        }
    }

    #[test]
    fn shr8_is_to_int32_shifted() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for i in 0..1_000_000u32 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let scale = f64::from(i % 70).exp2();
            let unit = (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 0.5;
            for x in [
                unit * scale,
                f64::from_bits(state),
                scale,
                -scale,
                scale - 0.5,
            ] {
                assert_eq!(
                    shr8(x).to_bits(),
                    ((to_int32(x) >> 8) as f64).to_bits(),
                    "{x:e}"
                );
            }
        }
    }
}
