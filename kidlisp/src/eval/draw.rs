//! Drawing and effect built-ins: kidlisp.mjs's wrappers (default arguments,
//! seeded random coordinates, per-call random ink while no `ink` was set,
//! deferral while embeds exist) in front of the rasteriser.

use super::{Bake, Deferred, Interp, R, Shared, Target};
use crate::color::find_color;
use crate::effects;
use crate::jsnum;
use crate::raster::{self, BlendMode, Mask};
use crate::text;
use crate::value::{Value, unquote};

fn arg_num(a: &[Value], i: usize, default: f64) -> f64 {
    match a.get(i) {
        None | Some(Value::Undef) => default,
        Some(v) => v.to_number(),
    }
}

/// JS `parseFloat(x) || 0` as the scroll wrapper reads its arguments.
fn parse_or_zero(v: Option<&Value>) -> f64 {
    match v {
        Some(Value::Num(n)) if !n.is_nan() => *n,
        Some(v) => jsnum::parse_float(&v.to_js_string())
            .filter(|n| !n.is_nan())
            .unwrap_or(0.0),
        None => 0.0,
    }
}

fn is_all_numbers(a: &[Value]) -> bool {
    a.iter().all(|v| matches!(v, Value::Num(_)))
}

impl Interp {
    /// The host's `ink(...)` (the conformance host's `color()`): nested single
    /// lists unwrap; an absent colour is three seeded draws.
    pub(crate) fn api_ink(&mut self, sh: &mut Shared, args: &[Value]) {
        let mut v: Vec<Value> = args.to_vec();
        while v.len() == 1 {
            match &v[0] {
                Value::List(l) => v = l.to_vec(),
                _ => break,
            }
        }
        if v.is_empty() || v[0].is_undef() {
            let alpha = v
                .get(1)
                .filter(|a| !a.is_undef())
                .cloned()
                .unwrap_or(Value::Num(255.0));
            v = vec![
                Value::Num(self.rng.below(256.0)),
                Value::Num(self.rng.below(256.0)),
                Value::Num(self.rng.below(256.0)),
                alpha,
            ];
        }
        let found = find_color(&v, &mut sh.gfx.cycles, &mut sh.gfx.host);
        sh.gfx.set_color(&found);
    }

    /// The host's `wipe(...)`: fill the target with a colour (255 grey when
    /// none), then restore the ink.
    pub(crate) fn api_wipe(&mut self, sh: &mut Shared, args: &[Value]) {
        let saved = sh.gfx.ink.clone();
        if args.is_empty() {
            self.api_ink(sh, &[Value::Num(255.0)]);
        } else {
            self.api_ink(sh, args);
        }
        let cv = self.canvas();
        raster::clear(&mut sh.gfx, cv);
        sh.gfx.ink = saved;
    }

    fn random_ink_if_unset(&mut self, sh: &mut Shared) {
        if !self.ink_set {
            let rgb = [
                self.rng.below(256.0),
                self.rng.below(256.0),
                self.rng.below(256.0),
            ]
            .map(Value::Num);
            self.api_ink(sh, &rgb);
        }
    }

    fn deferring(&self) -> bool {
        !self.embeds.is_empty() && !self.in_embed_phase
    }

    fn deferring_effect(&self) -> bool {
        !self.embeds.is_empty() && !self.in_embed_phase && !self.is_embedded
    }

    /// Run a deferred drawing or effect call (no wrapper logic; AC replays the host call).
    pub(crate) fn replay(&mut self, sh: &mut Shared, d: &Deferred) {
        match d {
            Deferred::Ink(a) => self.api_ink(sh, a),
            Deferred::Draw(name, a) => self.raw_draw(sh, name, a),
            Deferred::Effect(name, a) => self.raw_effect(sh, name, a),
        }
    }

    fn raw_draw(&mut self, sh: &mut Shared, name: &str, a: &[Value]) {
        let cv = self.canvas();
        let g = &mut sh.gfx;
        match name {
            "line" => {
                let c = |i: usize| a.get(i).map(Value::to_number).filter(|n| !n.is_nan());
                if a.len() == 4 {
                    raster::line(g, cv, [c(0), c(1), c(2), c(3)]);
                } else if let (2, Some(p), Some(q)) = (
                    a.len(),
                    a.first().and_then(Value::as_list),
                    a.get(1).and_then(Value::as_list),
                ) {
                    let n = |l: &[Value], i: usize| {
                        l.get(i).map(Value::to_number).filter(|n| !n.is_nan())
                    };
                    raster::line(g, cv, [n(p, 0), n(p, 1), n(q, 0), n(q, 1)]);
                } else {
                    raster::line(g, cv, [None; 4]);
                }
            }
            "box" => raster::box_(g, cv, a),
            "circle" => {
                let filled = a.get(3).is_some_and(Value::truthy);
                raster::circle(
                    g,
                    cv,
                    arg_num(a, 0, f64::NAN),
                    arg_num(a, 1, f64::NAN),
                    arg_num(a, 2, f64::NAN),
                    filled,
                    arg_num(a, 4, 1.0),
                );
            }
            "oval" => {
                let filled = a.get(4).is_some_and(Value::truthy);
                raster::oval(
                    g,
                    cv,
                    arg_num(a, 0, f64::NAN),
                    arg_num(a, 1, f64::NAN),
                    arg_num(a, 2, f64::NAN),
                    arg_num(a, 3, f64::NAN),
                    filled,
                    1.0,
                );
            }
            "point" => raster::point(g, cv, arg_num(a, 0, f64::NAN), arg_num(a, 1, f64::NAN)),
            "plot" => raster::plot(g, cv, arg_num(a, 0, f64::NAN), arg_num(a, 1, f64::NAN)),
            "tri" => {
                let mode = match a.len() {
                    6 => "fill".to_string(),
                    7 => a[6].to_js_string(),
                    _ => return,
                };
                let c = std::array::from_fn(|i| arg_num(a, i, f64::NAN));
                raster::tri(g, cv, c, &mode);
            }
            "flood" => {
                let (x, y) = (arg_num(a, 0, f64::NAN), arg_num(a, 1, f64::NAN));
                if !cv.contains(x, y) {
                    return;
                }
                let i = (x.floor() as usize + y.floor() as usize * cv.w) * 4;
                if cv.px[i + 3] == 0 {
                    return;
                }
                let fill = match a.get(2) {
                    Some(c) if !c.is_undef() => {
                        let c = match c {
                            Value::Str(s) => Value::str(unquote(s)),
                            v => v.clone(),
                        };
                        find_color(&[c], &mut g.cycles, &mut g.host)
                    }
                    _ => crate::color::Found::Channels(g.ink.channels().to_vec()),
                };
                // As in AC, the fill colour stays the ink afterwards.
                g.set_color(&fill);
                raster::flood(g, cv, x, y);
            }
            _ => {}
        }
    }

    fn raw_effect(&mut self, sh: &mut Shared, name: &str, a: &[Value]) {
        let cv = self.canvas();
        let g = &mut sh.gfx;
        match name {
            "scroll" => effects::scroll(g, cv, arg_num(a, 0, 0.0), arg_num(a, 1, 0.0)),
            "spin" | "smoothspin" => {
                let anchor = (a.len() >= 3).then(|| (a[1].to_number(), a[2].to_number()));
                effects::spin(g, cv, arg_num(a, 0, 0.0), anchor);
            }
            "zoom" => effects::zoom(
                g,
                cv,
                arg_num(a, 0, 1.0),
                arg_num(a, 1, 0.5),
                arg_num(a, 2, 0.5),
            ),
            "suck" => {
                let c = (a.len() >= 3).then(|| (a[1].to_number(), a[2].to_number()));
                effects::suck(g, cv, arg_num(a, 0, 1.0), c);
            }
            "blur" => effects::blur(g, cv, arg_num(a, 0, 1.0)),
            "sharpen" => effects::sharpen(g, cv, arg_num(a, 0, 1.0)),
            "invert" => effects::invert(g, cv),
            "contrast" => effects::contrast(g, cv, arg_num(a, 0, 1.0)),
            "brightness" => effects::brightness(g, cv, arg_num(a, 0, 0.0)),
            "sort" => effects::sort(g, cv),
            "flip" => effects::flip(g, cv),
            "shear" => effects::shear(g, cv, arg_num(a, 0, 0.0), arg_num(a, 1, 0.0)),
            _ => {}
        }
    }

    fn draw_or_defer(&mut self, sh: &mut Shared, name: &'static str, a: Vec<Value>) {
        if self.deferring() {
            self.post_embed.push(Deferred::Draw(name, a));
        } else {
            self.raw_draw(sh, name, &a);
        }
    }

    fn effect(&mut self, sh: &mut Shared, name: &'static str, a: Vec<Value>) {
        if self.deferring_effect() {
            self.post_composite.push(Deferred::Effect(name, a));
            return;
        }
        self.raw_effect(sh, name, &a);
        // After `burn`, transforms also move the persistent layers so the
        // effect accumulates across frames (the burn buffer is per frame).
        if self.burned.is_some() && matches!(name, "scroll" | "spin" | "smoothspin" | "zoom") {
            let saved = self.target;
            let count = 1 + self.bakes.len();
            for k in 0..count {
                self.target = if k == 0 {
                    Target::Layer0
                } else {
                    Target::Bake(k - 1)
                };
                if k == 0 && self.layer0.is_none() {
                    continue;
                }
                if name == "scroll" {
                    let (ax, ay) = sh.gfx.scroll_acc;
                    sh.gfx.scroll_acc = (0.0, 0.0);
                    let (dx, dy) = (
                        parse_or_zero(a.first()).trunc(),
                        parse_or_zero(a.get(1)).trunc(),
                    );
                    let cv = self.canvas();
                    effects::scroll(&mut sh.gfx, cv, dx, dy);
                    sh.gfx.scroll_acc = (ax, ay);
                } else {
                    self.raw_effect(sh, name, &a);
                }
            }
            self.target = saved;
        }
    }

    /// Drawing, colour, layer and effect built-ins.
    pub(crate) fn call_draw(
        &mut self,
        sh: &mut Shared,
        name: &str,
        a: &[Value],
        _colon: Option<&str>,
    ) -> R<Value> {
        let (w, h) = (self.width as f64, self.height as f64);
        match name {
            "wipe" => {
                let processed: Vec<Value> = a.iter().map(unquote_value).collect();
                self.api_wipe(sh, &[Value::list(processed)]);
            }
            "backdrop" => {
                let key = format!("backdrop:{}", Value::list(a.to_vec()).key());
                if self.once.insert(key) {
                    let processed: Vec<Value> = a.iter().map(unquote_value).collect();
                    self.api_wipe(sh, &[Value::list(processed)]);
                }
            }
            "ink" => self.ink(sh, a),
            "coat" => self.coat(sh, a),
            "line" => {
                self.random_ink_if_unset(sh);
                if self.deferring() {
                    self.post_embed.push(Deferred::Draw("line", a.to_vec()));
                    return Ok(Value::Undef);
                }
                if let Some(state) = self.ink_state.clone() {
                    self.api_ink(sh, &state);
                }
                self.raw_draw(sh, "line", a);
            }
            "lines" => {
                if let Some(list) = a.first().and_then(Value::as_list) {
                    for l in list {
                        if let Some(c) = l.as_list().filter(|c| c.len() >= 4) {
                            self.raw_draw(sh, "line", &c[..4]);
                        }
                    }
                }
            }
            "box" => {
                let mut args: Vec<Value> = if a.is_empty() {
                    vec![Value::Undef; 4]
                } else {
                    a.to_vec()
                };
                for (i, v) in args.iter_mut().enumerate() {
                    if v.is_undef() {
                        *v = Value::Num(match i {
                            0 => self.rng.below(w),
                            1 => self.rng.below(h),
                            2 => self.rng.below(w / 4.0) + 10.0,
                            3 => self.rng.below(h / 4.0) + 10.0,
                            _ => self.rng.below(256.0),
                        });
                    }
                }
                if args.len() == 4 && is_all_numbers(&args) {
                    args.push(Value::str(if self.fill_mode { "fill" } else { "outline" }));
                }
                self.random_ink_if_unset(sh);
                self.draw_or_defer(sh, "box", args);
            }
            "circle" => {
                let mut args: Vec<Value> = if a.is_empty() {
                    vec![Value::Undef; 3]
                } else {
                    a.to_vec()
                };
                for (i, v) in args.iter_mut().enumerate() {
                    if v.is_undef() {
                        *v = Value::Num(match i {
                            0 => self.rng.below(w),
                            1 => self.rng.below(h),
                            2 => self.rng.below(w.min(h) / 8.0) + 5.0,
                            _ => self.rng.below(256.0),
                        });
                    }
                }
                if args.len() == 3 {
                    args.push(Value::Bool(self.fill_mode));
                }
                self.random_ink_if_unset(sh);
                self.draw_or_defer(sh, "circle", args);
            }
            "oval" => {
                let mut args: Vec<Value> = if a.is_empty() {
                    vec![Value::Undef; 4]
                } else {
                    a.to_vec()
                };
                for (i, v) in args.iter_mut().enumerate() {
                    if v.is_undef() {
                        *v = Value::Num(match i {
                            0 => self.rng.below(w),
                            1 => self.rng.below(h),
                            2 => self.rng.below(w / 8.0) + 5.0,
                            3 => self.rng.below(h / 8.0) + 5.0,
                            _ => self.rng.below(256.0),
                        });
                    }
                }
                let filled = match args.get(4) {
                    None | Some(Value::Undef) => self.fill_mode,
                    Some(m) => m.to_js_string() != "outline",
                };
                self.random_ink_if_unset(sh);
                args.resize(4, Value::Undef);
                args.push(Value::Bool(filled));
                self.raw_draw(sh, "oval", &args);
            }
            "point" => {
                let x = a
                    .first()
                    .cloned()
                    .unwrap_or_else(|| Value::Num(self.rng.below(w)));
                let y = if a.len() >= 2 {
                    a[1].clone()
                } else {
                    Value::Num(self.rng.below(h))
                };
                self.draw_or_defer(sh, "point", vec![x, y]);
            }
            "plot" => self.raw_draw(sh, "plot", a),
            "tri" => {
                let mut args: Vec<Value> = if a.is_empty() {
                    vec![Value::Undef; 6]
                } else {
                    a.to_vec()
                };
                for (i, v) in args.iter_mut().enumerate() {
                    if v.is_undef() {
                        *v = Value::Num(if i % 2 == 0 {
                            self.rng.below(w)
                        } else {
                            self.rng.below(h)
                        });
                    }
                }
                if args.len() == 6 && is_all_numbers(&args) {
                    args.push(Value::str(if self.fill_mode { "fill" } else { "outline" }));
                }
                self.random_ink_if_unset(sh);
                self.draw_or_defer(sh, "tri", args);
            }
            "flood" => {
                let args: Vec<Value> = if a.is_empty() {
                    vec![Value::Undef; 2]
                } else {
                    a.to_vec()
                };
                if args.len() >= 2 {
                    let x = if args[0].is_undef() {
                        Value::Num(self.rng.below(w))
                    } else {
                        args[0].clone()
                    };
                    let y = if args[1].is_undef() {
                        Value::Num(self.rng.below(h))
                    } else {
                        args[1].clone()
                    };
                    let fill = args.get(2).cloned().unwrap_or(Value::Undef);
                    if !self.ink_set && fill.is_undef() {
                        self.random_ink_if_unset(sh);
                    }
                    self.draw_or_defer(sh, "flood", vec![x, y, fill]);
                }
            }
            "shape" => self.shape(sh, a),
            "scroll" => {
                let (dx, dy) = if a.is_empty() {
                    if self.scroll_fuzz.is_none() {
                        const DIRS: [(f64, f64); 4] =
                            [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)];
                        self.scroll_fuzz =
                            Some(DIRS[(self.rng.next_f64() * 4.0).floor() as usize % 4]);
                    }
                    self.scroll_fuzz.unwrap_or((0.0, 0.0))
                } else {
                    (parse_or_zero(a.first()), parse_or_zero(a.get(1)))
                };
                self.effect(sh, "scroll", vec![Value::Num(dx), Value::Num(dy)]);
            }
            "spin" | "smoothspin" | "zoom" | "suck" | "blur" | "sharpen" | "invert"
            | "contrast" | "brightness" | "sort" | "flip" | "shear" => {
                let n: &'static str = match name {
                    "spin" => "spin",
                    "smoothspin" => "smoothspin",
                    "zoom" => "zoom",
                    "suck" => "suck",
                    "blur" => "blur",
                    "sharpen" => "sharpen",
                    "invert" => "invert",
                    "contrast" => "contrast",
                    "brightness" => "brightness",
                    "sort" => "sort",
                    "flip" => "flip",
                    _ => "shear",
                };
                self.effect(sh, n, a.to_vec());
            }
            "noise" => {
                let variant = a
                    .first()
                    .map(|v| unquote(&v.to_js_string()).to_string())
                    .unwrap_or_default();
                let cv = self.canvas();
                effects::noise(&mut sh.gfx, cv, &variant);
            }
            "pan" => {
                let x = arg_num(a, 0, f64::NAN);
                let y = if a.len() >= 2 {
                    arg_num(a, 1, f64::NAN)
                } else {
                    x
                };
                sh.gfx.pan.0 += x.floor();
                sh.gfx.pan.1 += y.floor();
            }
            "unpan" => sh.gfx.pan = (0.0, 0.0),
            "mask" if a.len() >= 4 => {
                sh.gfx.mask = Some(Mask {
                    x: a[0].to_number(),
                    y: a[1].to_number(),
                    w: a[2].to_number(),
                    h: a[3].to_number(),
                });
            }
            "unmask" => sh.gfx.mask = None,
            "paste" | "stamp" => self.stamp(sh, name == "stamp", a),
            "write" => self.write(sh, a),
            "bake" => self.bake(),
            "burn" => self.burn(sh),
            _ => {}
        }
        Ok(Value::Undef)
    }

    /// kidlisp.mjs `ink`: erase switches the blend mode; a colour is stored
    /// (and re-applied at every frame start); no arguments is a seeded random colour.
    fn ink(&mut self, sh: &mut Shared, a: &[Value]) {
        let erase = a.first().and_then(Value::as_str) == Some("erase");
        if erase {
            sh.gfx.blend = BlendMode::Erase;
            if let Target::Bake(i) = self.target
                && let Some(b) = self.bakes.get_mut(i)
            {
                let len = b.canvas.w * b.canvas.h;
                let mask = b.erase_mask.take().unwrap_or_else(|| vec![0; len]);
                sh.gfx.erase_target = Some(mask);
            }
        } else {
            self.flush_erase_target(sh);
            sh.gfx.blend = BlendMode::Blend;
        }
        let processed: Vec<Value> = if a.len() == 1 && matches!(a[0], Value::List(_)) {
            a[0].as_list().map(<[Value]>::to_vec).unwrap_or_default()
        } else {
            let mut p: Vec<Value> = a.iter().map(unquote_value).collect();
            if p.len() > 1
                && let Some(first) = p[0].as_list().map(<[Value]>::to_vec)
            {
                let rest = p.split_off(1);
                p = first;
                p.extend(rest);
            }
            p
        };
        if a.is_empty() {
            let rgb = vec![
                Value::Num(self.rng.below(256.0)),
                Value::Num(self.rng.below(256.0)),
                Value::Num(self.rng.below(256.0)),
            ];
            self.ink_state = Some(rgb.clone());
            self.ink_set = true;
            if self.deferring() {
                self.post_embed.push(Deferred::Ink(rgb));
                return;
            }
            self.api_ink(sh, &rgb);
            return;
        }
        if a.len() == 1 && a[0].is_undef() {
            self.ink_state = None;
            self.ink_set = false;
            return;
        }
        let state = if a.len() == 1 && a[0].as_str().is_some_and(|s| s.starts_with("fade:")) {
            vec![a[0].clone()]
        } else {
            processed
        };
        self.ink_state = Some(state.clone());
        self.ink_set = true;
        if self.deferring() {
            self.post_embed.push(Deferred::Ink(state));
            return;
        }
        self.api_ink(sh, &state);
    }

    /// Hand an erase mask being recorded back to its bake layer.
    pub(crate) fn flush_erase_target(&mut self, sh: &mut Shared) {
        if let Some(mask) = sh.gfx.erase_target.take()
            && let Target::Bake(i) = self.target
            && let Some(b) = self.bakes.get_mut(i)
            && mask.len() == b.canvas.w * b.canvas.h
        {
            b.erase_mask = Some(mask);
        }
    }

    /// `(coat colour [alpha=128])`: a translucent full-buffer box, ink restored after.
    fn coat(&mut self, sh: &mut Shared, a: &[Value]) {
        let Some(color) = a.first() else { return };
        let alpha = a.get(1).cloned().unwrap_or(Value::Num(128.0));
        let (prev, prev_set) = (self.ink_state.clone(), self.ink_set);
        match color.as_str() {
            Some(s) if s.starts_with("fade:") => {
                self.api_ink(sh, &[Value::list(vec![color.clone(), alpha])])
            }
            _ => self.api_ink(sh, &[unquote_value(color), alpha]),
        }
        let args = [
            Value::Num(0.0),
            Value::Num(0.0),
            Value::Num(self.width as f64),
            Value::Num(self.height as f64),
        ];
        let cv = self.canvas();
        raster::box_(&mut sh.gfx, cv, &args);
        if prev_set {
            self.ink_state = prev.clone();
            self.ink_set = true;
            if let Some(p) = prev.filter(|p| !p.is_empty()) {
                self.api_ink(sh, &p);
            }
        } else {
            self.ink_state = None;
            self.ink_set = false;
        }
    }

    fn shape(&mut self, sh: &mut Shared, a: &[Value]) {
        let (w, h) = (self.width as f64, self.height as f64);
        if a.is_empty() || (a.len() == 1 && matches!(a[0], Value::Num(_))) {
            let n = if a.len() == 1 {
                a[0].to_number().floor().max(3.0)
            } else {
                3.0 + self.rng.below(4.0)
            };
            let n = n.min(64.0) as usize;
            let mut pts: Vec<(f64, f64)> = (0..n)
                .map(|_| (self.rng.below(w), self.rng.below(h)))
                .collect();
            let cx = pts.iter().map(|p| p.0).sum::<f64>() / n as f64;
            let cy = pts.iter().map(|p| p.1).sum::<f64>() / n as f64;
            pts.sort_by(|p, q| {
                let d = libm::atan2(p.1 - cy, p.0 - cx) - libm::atan2(q.1 - cy, q.0 - cx);
                d.partial_cmp(&0.0).unwrap_or(std::cmp::Ordering::Equal)
            });
            self.random_ink_if_unset(sh);
            let filled = self.fill_mode;
            let cv = self.canvas();
            raster::shape(&mut sh.gfx, cv, &pts, filled, 1.0);
            return;
        }
        let (mut filled, mut thickness, mut pts) = (true, 1.0, a);
        if let Some(mode) = a
            .last()
            .and_then(Value::as_str)
            .map(|s| unquote(s).to_string())
        {
            if matches!(mode.as_str(), "outline" | "unfilled" | "false") {
                filled = false;
                pts = &a[..a.len() - 1];
            }
            if let Some(t) = mode.strip_prefix("outline:") {
                filled = false;
                thickness = t
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|&t| t != 0)
                    .unwrap_or(1) as f64;
                pts = &a[..a.len() - 1];
            }
        }
        let points: Vec<(f64, f64)> = if pts.first().is_some_and(|p| matches!(p, Value::List(_))) {
            pts.iter()
                .filter_map(Value::as_list)
                .map(|p| {
                    (
                        p.first().map_or(f64::NAN, Value::to_number),
                        p.get(1).map_or(f64::NAN, Value::to_number),
                    )
                })
                .collect()
        } else {
            pts.chunks(2)
                .map(|c| {
                    (
                        c[0].to_number(),
                        c.get(1).map_or(f64::NAN, Value::to_number),
                    )
                })
                .collect()
        };
        let cv = self.canvas();
        raster::shape(&mut sh.gfx, cv, &points, filled, thickness);
    }

    /// `paste`/`stamp` of a `#code` image the caller supplied.
    fn stamp(&mut self, sh: &mut Shared, centred: bool, a: &[Value]) {
        let Some(src) = a.first() else { return };
        let key = unquote(&src.to_js_string()).to_string();
        let image = sh
            .stamps
            .get(&key)
            .or_else(|| sh.stamps.get(key.trim_start_matches('#')))
            .or_else(|| sh.stamps.get(&format!("#{key}")))
            .cloned();
        let Some(image) = image else {
            sh.note_missing(crate::piece::Missing::Image {
                key: key.clone(),
                frame: sh.frame,
            });
            if self.unknown_logged.insert(format!("image {key}")) {
                sh.log.push(format!(
                    "frame {}: no image supplied for {key}; nothing drawn",
                    sh.frame
                ));
            }
            return;
        };
        let (w, h) = (self.width as f64, self.height as f64);
        let scale = arg_num(a, 3, 1.0);
        let angle = arg_num(a, 4, 0.0);
        let (mut x, mut y) = (arg_num(a, 1, f64::NAN), arg_num(a, 2, f64::NAN));
        if centred {
            if x.is_nan() {
                x = sh.gfx.host.int_inclusive(w - 1.0);
            }
            if y.is_nan() {
                y = sh.gfx.host.int_inclusive(h - 1.0);
            }
            x -= image.wf() * scale / 2.0;
            y -= image.hf() * scale / 2.0;
        } else {
            x = if x.is_nan() { 0.0 } else { x };
            y = if y.is_nan() { 0.0 } else { y };
        }
        let cv = self.canvas();
        raster::paste_image(
            &mut sh.gfx,
            cv,
            &image,
            x,
            y,
            scale,
            if centred { angle } else { 0.0 },
        );
    }

    /// `(write text x y [bg] [size])`.
    fn write(&mut self, sh: &mut Shared, a: &[Value]) {
        let Some(t) = a.first() else { return };
        let text: String = unquote(&t.to_js_string())
            .chars()
            .take(text::MAX_CHARS)
            .collect();
        let size = arg_num(a, 4, 1.0);
        let size = if size.is_nan() || size < 1.0 {
            1.0
        } else {
            size.floor()
        };
        let (tw, th) = text::measure(&text, size);
        let (w, h) = (self.width as f64, self.height as f64);
        let pos = |v: Option<&Value>, span: f64, extent: f64, host: &mut crate::rng::Lcg| match v {
            Some(Value::Str(s)) if &**s == "center" => ((span - extent) / 2.0).floor(),
            None | Some(Value::Undef) => host.int_inclusive(span),
            Some(v) => v.to_number(),
        };
        let x = pos(a.get(1), w, tw, &mut sh.gfx.host);
        let y = pos(a.get(2), h, th, &mut sh.gfx.host);
        if let Some(bg) = a.get(3).filter(|b| !b.is_undef()) {
            let name = unquote(&bg.to_js_string()).to_string();
            if !matches!(
                name.as_str(),
                "nil" | "false" | "transparent" | "clear" | ""
            ) {
                let saved = sh.gfx.ink.clone();
                self.api_ink(sh, &[unquote_value(bg)]);
                let args = [Value::Num(x), Value::Num(y), Value::Num(tw), Value::Num(th)];
                let cv = self.canvas();
                raster::box_(&mut sh.gfx, cv, &args);
                sh.gfx.ink = saved;
            }
        }
        let cv = self.canvas();
        text::draw(&mut sh.gfx, cv, &text, x, y, size);
    }

    /// `bake`: later drawing goes to the next persistent bake layer.
    fn bake(&mut self) {
        if self.is_embedded
            || self.bakes.len() >= super::frame::MAX_BAKES
                && self.bake_index + 1 >= self.bakes.len() as i64
        {
            return;
        }
        self.bake_index += 1;
        let i = self.bake_index as usize;
        if self.bakes.len() <= i {
            self.bakes.push(Bake {
                canvas: raster::Canvas::new(self.width, self.height),
                erase_mask: None,
                burned: false,
            });
        }
        self.target = Target::Bake(i);
    }

    /// `burn`: merge layer0 and the bakes into a per-frame buffer and draw on it.
    fn burn(&mut self, sh: &mut Shared) {
        let mut buf = raster::Canvas::new(self.width, self.height);
        let g = crate::raster::Gfx::new(0);
        if let Some(l0) = &self.layer0 {
            raster::paste(&g, &mut buf, l0, 0.0, 0.0);
        }
        for b in self.bakes.iter_mut().filter(|b| !b.burned) {
            raster::paste(&g, &mut buf, &b.canvas, 0.0, 0.0);
            if let Some(m) = &b.erase_mask {
                super::frame::punch(&mut buf, m);
            }
            b.burned = true;
        }
        let _ = sh;
        self.burned = Some(buf);
        self.target = Target::Burn;
    }
}

fn unquote_value(v: &Value) -> Value {
    match v {
        Value::Str(s) if crate::value::is_quoted(s) => Value::str(unquote(s)),
        v => v.clone(),
    }
}
