//! Boxes, circles, polygons and triangles (KIDLISP.md §8.2–8.4, §8.7).

use std::collections::HashMap;

use super::blend::{plot, point};
use super::line::{COORD_LIMIT, line};
use super::{Canvas, Gfx};
use crate::color::fade::{self, Direction};
use crate::value::Value;

fn num_or_undef(v: Option<&Value>) -> Option<f64> {
    match v {
        None | Some(Value::Undef) => None,
        Some(v) => {
            let n = v.to_number();
            if n.is_nan() { None } else { Some(n) }
        }
    }
}

fn l(g: &mut Gfx, cv: &mut Canvas, x0: f64, y0: f64, x1: f64, y1: f64) {
    line(g, cv, [Some(x0), Some(y0), Some(x1), Some(y1)]);
}

/// `signedCeil`: ceil away from zero.
fn signed_ceil(v: f64) -> f64 {
    if v < 0.0 { v.floor() } else { v.ceil() }
}

/// graph.mjs `box(…)`: `(x y size)`, `(x y w h)`, `(x y size mode)`, `(x y w h mode)`;
/// modes `fill`, `outline[:t]`, `inline[:t]`, each optionally `*center`.
pub(crate) fn box_(g: &mut Gfx, cv: &mut Canvas, args: &[Value]) {
    let n = |i: usize| num_or_undef(args.get(i));
    let (x, y, w, h, mode): (Option<f64>, Option<f64>, Option<f64>, Option<f64>, String);
    match args.len() {
        1 | 2 => {
            let Some(items) = args[0].as_list() else {
                return;
            };
            let m = |i: usize| num_or_undef(items.get(i));
            (x, y, w, h) = (m(0), m(1), m(2), m(3));
            mode = args
                .get(1)
                .filter(|v| v.truthy())
                .map(Value::to_js_string)
                .unwrap_or_else(|| "fill".into());
        }
        3 => (x, y, w, h, mode) = (n(0), n(1), n(2), n(2), "fill".into()),
        4 => {
            if matches!(args[3], Value::Num(_)) {
                (x, y, w, h, mode) = (n(0), n(1), n(2), n(3), "fill".into());
            } else {
                (x, y, w, h, mode) = (n(0), n(1), n(2), n(2), args[3].to_js_string());
            }
        }
        5 => (x, y, w, h, mode) = (n(0), n(1), n(2), n(3), args[4].to_js_string()),
        _ => return,
    }
    let (Some(mut w), Some(mut h)) = (w, h) else {
        return;
    };
    if w == 0.0 || h == 0.0 {
        return;
    }
    if w == f64::INFINITY {
        w = cv.wf();
    }
    if h == f64::INFINITY {
        h = cv.hf();
    }
    let mut x = x.unwrap_or_else(|| g.host.int_inclusive(cv.wf()));
    let mut y = y.unwrap_or_else(|| g.host.int_inclusive(cv.hf()));
    let mut mode = if mode.is_empty() {
        "fill".to_string()
    } else {
        mode
    };
    if mode.ends_with("center") {
        x -= w / 2.0;
        y -= h / 2.0;
        mode.truncate(mode.len().saturating_sub(7));
    }
    let clamp = |v: f64| v.clamp(-COORD_LIMIT, COORD_LIMIT);
    let (mut x, mut y, mut w, mut h) = (
        clamp(x.floor()),
        clamp(y.floor()),
        clamp(signed_ceil(w)),
        clamp(signed_ceil(h)),
    );
    if w < 0.0 {
        x += w;
        w = -w;
    }
    if h < 0.0 {
        y += h;
        h = -h;
    }
    let mut parts = mode.split(':');
    let kind = parts.next().unwrap_or("").to_string();
    let thickness = parts
        .next()
        .and_then(|t| t.trim().parse::<i64>().ok())
        .filter(|&t| t != 0)
        .unwrap_or(1) as f64;
    match kind.as_str() {
        "outline" | "out" => {
            if thickness == 1.0 {
                l(g, cv, x - 1.0, y - 1.0, x + w, y - 1.0);
                l(g, cv, x - 1.0, y + h, x + w, y + h);
                l(g, cv, x - 1.0, y, x - 1.0, y + h - 1.0);
                l(g, cv, x + w, y, x + w, y + h - 1.0);
            } else {
                let t = thickness;
                let (lx, ty, rx, by) = (x - t, y - t, x + w + t, y + h + t);
                let (bh, bw) = (h + t * 2.0, w + t * 2.0);
                let b = |g: &mut Gfx, cv: &mut Canvas, a: f64, b: f64, c: f64, d: f64| {
                    box_(
                        g,
                        cv,
                        &[Value::Num(a), Value::Num(b), Value::Num(c), Value::Num(d)],
                    )
                };
                b(g, cv, lx, ty, bw, t);
                b(g, cv, lx, by - t, bw, t);
                b(g, cv, lx, ty + t, t, bh - t * 2.0);
                b(g, cv, rx - t, ty + t, t, bh - t * 2.0);
            }
        }
        "inline" | "in" => {
            if thickness == 1.0 {
                l(g, cv, x, y, x + w - 1.0, y);
                l(g, cv, x, y + h - 1.0, x + w - 1.0, y + h - 1.0);
                l(g, cv, x, y + 1.0, x, y + h - 2.0);
                l(g, cv, x + w - 1.0, y + 1.0, x + w - 1.0, y + h - 2.0);
            } else {
                let t = thickness;
                let b = |g: &mut Gfx, cv: &mut Canvas, a: f64, b: f64, c: f64, d: f64| {
                    box_(
                        g,
                        cv,
                        &[Value::Num(a), Value::Num(b), Value::Num(c), Value::Num(d)],
                    )
                };
                if t * 2.0 <= w && t * 2.0 <= h {
                    b(g, cv, x, y, w, t);
                    b(g, cv, x, y + h - t, w, t);
                    b(g, cv, x, y + t, t, h - t * 2.0);
                    b(g, cv, x + w - t, y + t, t, h - t * 2.0);
                } else {
                    b(g, cv, x, y, w, h);
                }
            }
        }
        "fill" | "" => fill_box(g, cv, x, y, w - 1.0, h),
        _ => {}
    }
}

/// The `fill` branch: one span per row (`w` is already width − 1). A gradient
/// ink is resolved row by row or pixel by pixel and, as in AC, the last
/// resolved colour is left as the ink afterwards.
fn fill_box(g: &mut Gfx, cv: &mut Canvas, x: f64, y: f64, w: f64, h: f64) {
    let fade = g.fade();
    let rows = h.max(0.0) as i64;
    // Rows that fall outside the buffer draw nothing with a solid ink, so skip them.
    let (first, last) = if fade.is_none() {
        let top = y + g.pan.1;
        (
            (-top).max(0.0) as i64,
            rows.min((cv.hf() - top).max(0.0) as i64),
        )
    } else {
        (0, rows)
    };
    for row in first..last {
        let r = row as f64;
        let Some(f) = &fade else {
            l(g, cv, x, y + r, x + w, y + r);
            continue;
        };
        match &f.direction {
            Direction::Angle(a) => {
                let mut col = 0.0;
                while col <= w {
                    let (px, py) = (x + col, y + r);
                    let t = fade::angle_position(px, py, x, y, x + w, y + h - 1.0, *a);
                    let c = fade::color_at(t, f, &mut g.cycles, &mut g.host);
                    g.set_rgba(c);
                    plot(g, cv, px, py);
                    col += 1.0;
                }
            }
            Direction::Named(d) if d.starts_with("horizontal") => {
                let mut px = x;
                while px < x + w {
                    let t = if w <= 1.0 {
                        0.0
                    } else if d == "horizontal-reverse" {
                        1.0 - (px - x) / (w - 1.0)
                    } else {
                        (px - x) / (w - 1.0)
                    };
                    let c = fade::color_at(t, f, &mut g.cycles, &mut g.host);
                    g.set_rgba(c);
                    plot(g, cv, px, y + r);
                    px += 1.0;
                }
            }
            Direction::Named(d) => {
                let t = if h <= 1.0 {
                    0.0
                } else if d == "vertical-reverse" {
                    1.0 - r / (h - 1.0)
                } else {
                    r / (h - 1.0)
                };
                let c = fade::color_at(t, f, &mut g.cycles, &mut g.host);
                g.set_rgba(c);
                l(g, cv, x, y + r, x + w, y + r);
            }
        }
    }
}

/// graph.mjs `fillShape`: even-odd scanlines from the (fractional) lowest
/// vertex y, each span `floor(xa) … ceil(xb) − 1`, pixels through `point`.
pub(crate) fn fill_shape(g: &mut Gfx, cv: &mut Canvas, points: &[(f64, f64)]) {
    let mut min_y = f64::INFINITY;
    let mut max_y = f64::NEG_INFINITY;
    for p in points {
        min_y = min_y.min(p.1);
        max_y = max_y.max(p.1);
    }
    if !min_y.is_finite() || !max_y.is_finite() {
        return;
    }
    // Skip scanlines wholly above the buffer; they cannot draw anything.
    let mut y = min_y;
    let first_visible = -g.pan.1 - 1.0;
    if y < first_visible {
        y += (first_visible - y).floor();
    }
    let last_visible = cv.hf() - g.pan.1 + 1.0;
    let mut xs: Vec<f64> = Vec::new();
    while y <= max_y && y <= last_visible {
        xs.clear();
        for i in 0..points.len() {
            let p1 = points[i];
            let p2 = points[(i + 1) % points.len()];
            if (p1.1 <= y && y < p2.1) || (p2.1 <= y && y < p1.1) {
                xs.push(((y - p1.1) * (p2.0 - p1.0)) / (p2.1 - p1.1) + p1.0);
            }
        }
        xs.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        let mut i = 0;
        while i < xs.len() {
            let Some(xb) = xs.get(i + 1) else { break };
            let x1 = xs[i].floor().max(-COORD_LIMIT);
            let x2 = xb.ceil().min(COORD_LIMIT);
            let mut x = x1.max(-g.pan.0 - 1.0);
            let x2 = x2.min(cv.wf() - g.pan.0 + 1.0);
            while x < x2 {
                point(g, cv, x, y);
                x += 1.0;
            }
            i += 2;
        }
        y += 1.0;
    }
}

/// graph.mjs `fillTri`: the fast scan-converter used for 3-point filled shapes.
pub(crate) fn fill_tri(g: &mut Gfx, cv: &mut Canvas, pts: &[(f64, f64)]) {
    let mut v = pts.to_vec();
    v.sort_by(|a, b| {
        (a.1 - b.1)
            .partial_cmp(&0.0)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let (min, mid, max) = (v[0], v[1], v[2]);
    let v1 = (max.0 - min.0, max.1 - min.1);
    let v2 = (mid.0 - min.0, mid.1 - min.1);
    let cp = v1.0 * v2.1 - v2.0 * v1.1;
    let hand: f64 = if cp > 0.0 {
        1.0
    } else if cp < 0.0 {
        0.0
    } else {
        -1.0
    };
    let mut scan: HashMap<u64, f64> = HashMap::new();
    for (a, b, idx) in [
        (min, max, hand),
        (min, mid, 1.0 - hand),
        (mid, max, 1.0 - hand),
    ] {
        let (ys, ye, xs, xe) = (a.1, b.1, a.0, b.0);
        let ydist = ye - ys;
        if ydist <= 0.0 || ydist.is_nan() || ydist >= 2.0 * COORD_LIMIT {
            continue;
        }
        let step = (xe - xs) / ydist;
        let mut x = xs;
        let mut y = ys;
        while y < ye {
            scan.insert((y * 2.0 + idx + 0.0).to_bits(), x.floor());
            x += step;
            y += 1.0;
        }
    }
    let mut y = min.1;
    while y < max.1 {
        if let (Some(&a), Some(&b)) = (
            scan.get(&(y * 2.0 + 0.0).to_bits()),
            scan.get(&(y * 2.0 + 1.0).to_bits()),
        ) {
            let mut x = a;
            while x < b {
                point(g, cv, x, y);
                x += 1.0;
            }
        }
        y += 1.0;
    }
}

/// graph.mjs `shape({points, filled, thickness})`.
pub(crate) fn shape(
    g: &mut Gfx,
    cv: &mut Canvas,
    points: &[(f64, f64)],
    filled: bool,
    thickness: f64,
) {
    if points.is_empty() {
        return;
    }
    if filled {
        if points.len() == 3 {
            fill_tri(g, cv, points);
        } else {
            fill_shape(g, cv, points);
        }
    } else if thickness <= 1.0 {
        for i in 0..points.len() {
            let (a, b) = (points[i], points[(i + 1) % points.len()]);
            l(g, cv, a.0, a.1, b.0, b.1);
        }
    } else {
        // AC strokes thick outlines with `pline` (quads per segment); this
        // approximates it by offsetting the 1-px outline across the thickness.
        let half = (thickness / 2.0).floor();
        let mut d = -half;
        while d < thickness - half {
            for i in 0..points.len() {
                let (a, b) = (points[i], points[(i + 1) % points.len()]);
                l(g, cv, a.0 + d, a.1, b.0 + d, b.1);
                l(g, cv, a.0, a.1 + d, b.0, b.1 + d);
            }
            d += 1.0;
        }
    }
}

/// graph.mjs `oval`: an 18-vertex polygon (every 20°), filled or outlined.
pub(crate) fn oval(
    g: &mut Gfx,
    cv: &mut Canvas,
    x: f64,
    y: f64,
    rx: f64,
    ry: f64,
    filled: bool,
    thickness: f64,
) {
    let mut pts = Vec::with_capacity(18);
    let mut i = 0.0;
    while i < 360.0 {
        let a = i * (std::f64::consts::PI / 180.0);
        pts.push((x + rx * libm::cos(a), y + ry * libm::sin(a)));
        i += 20.0;
    }
    shape(g, cv, &pts, filled, thickness);
}

/// graph.mjs `circle(x, y, r, filled, thickness)`: filled (or thick) circles
/// are ovals; a 1-px outline is the midpoint circle on floored values.
pub(crate) fn circle(
    g: &mut Gfx,
    cv: &mut Canvas,
    x0: f64,
    y0: f64,
    radius: f64,
    filled: bool,
    thickness: f64,
) {
    let radius = radius.clamp(-COORD_LIMIT, COORD_LIMIT);
    if filled || thickness > 1.0 {
        oval(g, cv, x0, y0, radius, radius, filled, thickness);
        return;
    }
    let (x0, y0, r) = (x0.floor(), y0.floor(), radius.floor());
    if r.is_nan() || x0.is_nan() || y0.is_nan() {
        return;
    }
    let (mut f, mut ddx, mut ddy, mut x, mut y) = (1.0 - r, 0.0, -2.0 * r, 0.0, r);
    point(g, cv, x0, y0 + r);
    point(g, cv, x0, y0 - r);
    point(g, cv, x0 + r, y0);
    point(g, cv, x0 - r, y0);
    while x < y {
        if f >= 0.0 {
            y -= 1.0;
            ddy += 2.0;
            f += ddy;
        }
        x += 1.0;
        ddx += 2.0;
        f += ddx + 1.0;
        for (px, py) in [
            (x0 + x, y0 + y),
            (x0 - x, y0 + y),
            (x0 + x, y0 - y),
            (x0 - x, y0 - y),
            (x0 + y, y0 + x),
            (x0 - y, y0 + x),
            (x0 + y, y0 - x),
            (x0 - y, y0 - x),
        ] {
            point(g, cv, px, py);
        }
    }
}

/// graph.mjs `tri(x1, y1, x2, y2, x3, y3, mode)`: floored corners; `fill`
/// scan-fills, `outline`/`inline` draw three lines.
pub(crate) fn tri(g: &mut Gfx, cv: &mut Canvas, c: [f64; 6], mode: &str) {
    if c.iter().any(|v| v.is_nan()) {
        return;
    }
    let c = c.map(|v| v.floor().clamp(-COORD_LIMIT, COORD_LIMIT));
    let pts = [(c[0], c[1]), (c[2], c[3]), (c[4], c[5])];
    let kind = mode.split(':').next().unwrap_or("");
    if mode == "fill" || mode.is_empty() || !matches!(kind, "outline" | "out" | "inline" | "in") {
        fill_shape(g, cv, &pts);
    } else {
        l(g, cv, c[0], c[1], c[2], c[3]);
        l(g, cv, c[2], c[3], c[4], c[5]);
        l(g, cv, c[4], c[5], c[0], c[1]);
    }
}
