//! `fade:` gradients (KIDLISP.md §6.5): `fade:c1-c2[-c3…][:dir][:neat|:dirty]`.

use super::{Cycles, names};
use crate::jsnum;
use crate::rng::Lcg;

/// One stop of a gradient.
#[derive(Debug, Clone)]
pub enum Stop {
    /// A fixed colour with alpha.
    Rgba([f64; 4]),
    /// A `rainbow` stop (advances the rainbow cycle each time it is sampled).
    Rainbow { alpha: f64, offset: usize },
    /// A `zebra` stop.
    Zebra { alpha: f64, offset: usize },
}

/// Which way a gradient runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Direction {
    /// `horizontal`, `vertical`, `diagonal` or one of their `-reverse` forms.
    Named(String),
    /// An angle in degrees.
    Angle(f64),
}

/// A parsed gradient.
#[derive(Debug, Clone)]
pub struct Fade {
    /// At least two stops.
    pub stops: Vec<Stop>,
    /// Its direction.
    pub direction: Direction,
    /// `false` for `:dirty` (adds noise).
    pub neat: bool,
}

const NAMED: [&str; 6] = [
    "horizontal",
    "horizontal-reverse",
    "vertical",
    "vertical-reverse",
    "diagonal",
    "diagonal-reverse",
];

/// `parseLocalFade`: the dash-separated stops; an unknown name is grey.
pub fn parse_stops(fade_type: &str, alpha: f64) -> Option<Vec<Stop>> {
    let names_: Vec<&str> = fade_type.split('-').collect();
    let mut stops = Vec::new();
    let (mut rainbow_base, mut zebra_base) = (0, 0);
    for (i, name) in names_.iter().enumerate() {
        match *name {
            "rainbow" => {
                let consecutive = usize::from(i > 0 && names_[i - 1] == "rainbow");
                stops.push(Stop::Rainbow {
                    alpha,
                    offset: rainbow_base + consecutive,
                });
                rainbow_base += consecutive;
            }
            "zebra" => {
                let consecutive = usize::from(i > 0 && names_[i - 1] == "zebra");
                stops.push(Stop::Zebra {
                    alpha,
                    offset: zebra_base + consecutive,
                });
                zebra_base += consecutive;
            }
            n => {
                let lower = n.to_ascii_lowercase();
                let c = if lower.starts_with('c')
                    && lower.len() > 1
                    && lower[1..].bytes().all(|b| b.is_ascii_digit())
                {
                    match names::palette_code(&lower) {
                        Some(c) => c,
                        None => continue,
                    }
                } else {
                    names::css(n).unwrap_or([128, 128, 128])
                };
                stops.push(Stop::Rgba([
                    f64::from(c[0]),
                    f64::from(c[1]),
                    f64::from(c[2]),
                    alpha,
                ]));
            }
        }
    }
    (stops.len() >= 2).then_some(stops)
}

fn direction(d: &str) -> Direction {
    if let Some(n) = jsnum::parse_float(d) {
        return Direction::Angle(n);
    }
    if NAMED.contains(&d) {
        Direction::Named(d.to_string())
    } else {
        Direction::Named("horizontal".into())
    }
}

/// `parseFadeColor`: a full `fade:` string and its alpha.
pub fn parse(spec: &str, alpha: f64) -> Option<Fade> {
    let alpha = if alpha == 0.0 || alpha.is_nan() {
        255.0
    } else {
        alpha
    };
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() < 2 || parts.len() > 5 || parts[0] != "fade" {
        return None;
    }
    let get = |i: usize| parts.get(i).copied().filter(|s| !s.is_empty());
    let mut neat = true;
    let mut fade_type = parts[1];
    let mut dir = get(2).unwrap_or("horizontal");
    if parts[1] == "dirty" && get(2).is_some() {
        neat = false;
        fade_type = parts[2];
        dir = get(3).unwrap_or("horizontal");
    } else if get(2) == Some("dirty") {
        neat = false;
        dir = "horizontal";
    } else if get(3) == Some("dirty") {
        neat = false;
        dir = parts[2];
    } else if parts.contains(&"dirty") {
        neat = false;
        let f: Vec<&str> = parts.iter().copied().filter(|p| *p != "dirty").collect();
        if f.len() >= 2 {
            fade_type = f[1];
            dir = f
                .get(2)
                .copied()
                .filter(|s| !s.is_empty())
                .unwrap_or("horizontal");
        }
    } else if parts[1] == "neat" && get(2).is_some() {
        fade_type = parts[2];
        dir = get(3).unwrap_or("horizontal");
    } else if get(2) == Some("neat") {
        dir = "horizontal";
    } else if get(3) == Some("neat") {
        dir = parts[2];
    } else if parts.contains(&"neat") {
        let f: Vec<&str> = parts.iter().copied().filter(|p| *p != "neat").collect();
        if f.len() >= 2 {
            fade_type = f[1];
            dir = f
                .get(2)
                .copied()
                .filter(|s| !s.is_empty())
                .unwrap_or("horizontal");
        }
    }
    let stops = parse_stops(fade_type, alpha)?;
    Some(Fade {
        stops,
        direction: direction(dir),
        neat,
    })
}

fn stop_rgba(s: &Stop, cycles: &mut Cycles) -> ([f64; 3], f64, bool) {
    match s {
        Stop::Rgba(c) => ([c[0], c[1], c[2]], c[3], false),
        Stop::Rainbow { alpha, offset } => {
            let c = cycles.rainbow(*offset);
            (
                [f64::from(c[0]), f64::from(c[1]), f64::from(c[2])],
                *alpha,
                true,
            )
        }
        Stop::Zebra { alpha, offset } => {
            let c = cycles.zebra(*offset);
            (
                [f64::from(c[0]), f64::from(c[1]), f64::from(c[2])],
                *alpha,
                true,
            )
        }
    }
}

/// `getLocalFadeColor`: the colour at `t` ∈ [0, 1] (rounded channels).
pub fn color_at(t: f64, fade: &Fade, cycles: &mut Cycles, host: &mut Lcg) -> [f64; 4] {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let n = fade.stops.len();
    let segments = (n - 1) as f64;
    let segment = ((t * segments).floor()).min(segments - 1.0);
    let local = t * segments - segment;
    let i = segment as usize;
    let (c1, a1, s1) = stop_rgba(&fade.stops[i], cycles);
    let (c2, a2, s2) = stop_rgba(&fade.stops[(i + 1).min(n - 1)], cycles);
    let lerp = |a: f64, b: f64| jsnum::round(a + (b - a) * local);
    if s1 || s2 {
        let a1 = if a1 == 0.0 { 255.0 } else { a1 };
        let a2 = if a2 == 0.0 { 255.0 } else { a2 };
        return [
            lerp(c1[0], c2[0]),
            lerp(c1[1], c2[1]),
            lerp(c1[2], c2[2]),
            lerp(a1, a2),
        ];
    }
    let mut out = [
        lerp(c1[0], c2[0]),
        lerp(c1[1], c2[1]),
        lerp(c1[2], c2[2]),
        lerp(a1, a2),
    ];
    if !fade.neat {
        for ch in out.iter_mut().take(3) {
            *ch = (*ch + (host.next_f64() - 0.5) * 8.0).clamp(0.0, 255.0);
        }
    }
    out
}

/// The fast `wipe` path's interpolation, which truncates (`| 0`) instead of rounding.
pub fn color_at_truncated(t: f64, stops: &[[f64; 4]]) -> [f64; 4] {
    let t = t.clamp(0.0, 1.0);
    let segments = (stops.len() - 1) as f64;
    let segment = (t * segments).floor().min(segments - 1.0);
    let local = t * segments - segment;
    let (c1, c2) = (stops[segment as usize], stops[segment as usize + 1]);
    let f = |a: f64, b: f64| jsnum::or0(a + (b - a) * local);
    [
        f(c1[0], c2[0]),
        f(c1[1], c2[1]),
        f(c1[2], c2[2]),
        f(c1[3], c2[3]),
    ]
}

/// `calculateAngleFadePosition`: project a pixel onto the angle's direction.
pub fn angle_position(
    x: f64,
    y: f64,
    min_x: f64,
    min_y: f64,
    max_x: f64,
    max_y: f64,
    angle: f64,
) -> f64 {
    let angle = ((angle % 360.0) + 360.0) % 360.0;
    let (w, h) = (max_x - min_x, max_y - min_y);
    let (cx, cy) = (min_x + w / 2.0, min_y + h / 2.0);
    let rx = (x - cx) / (w / 2.0);
    let ry = (y - cy) / (h / 2.0);
    let rad = angle * std::f64::consts::PI / 180.0;
    let dot = rx * libm::cos(rad) + ry * -libm::sin(rad);
    let max_dot = std::f64::consts::SQRT_2;
    ((dot + max_dot) / (2.0 * max_dot)).clamp(0.0, 1.0)
}
