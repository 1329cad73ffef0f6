//! The frame loop (KIDLISP.md §7.2–7.4): boot, input events, one sim tick and
//! one paint per frame; paint re-runs the program onto the persistent layer0
//! (and bake layers), then composites them onto a freshly cleared display.

use super::{Interp, R, Shared, Target};
use crate::color::names;
use crate::raster::{self, Canvas, Gfx};
use crate::value::Value;

/// Most bake layers one piece may create.
pub const MAX_BAKES: usize = 16;

/// A pointer event delivered before a frame's sim and paint.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The pointer went down at (x, y): sets `penx`/`peny`, `down` = 1, runs the `tap` handler.
    Touch {
        /// Pointer x.
        x: f64,
        /// Pointer y.
        y: f64,
    },
    /// The pointer moved while down: sets `penx`/`peny`, runs the `draw` handler with `dx`, `dy`.
    Draw {
        /// Pointer x.
        x: f64,
        /// Pointer y.
        y: f64,
        /// Movement since the last event, x.
        dx: f64,
        /// Movement since the last event, y.
        dy: f64,
    },
    /// The pointer came up: `down` = 0, runs the `lift` handler.
    Lift {
        /// Pointer x.
        x: f64,
        /// Pointer y.
        y: f64,
    },
}

fn fade_is_valid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("fade:") else {
        return false;
    };
    let colors = rest
        .split(':')
        .find(|p| !p.is_empty() && *p != "neat" && *p != "dirty")
        .unwrap_or("");
    let stops: Vec<&str> = colors.split('-').collect();
    stops.len() >= 2
        && stops.iter().all(|c| {
            names::css(c).is_some()
                || names::palette_code(c).is_some()
                || *c == "rainbow"
                || *c == "zebra"
        })
}

fn color_word(s: &str) -> bool {
    names::css(s).is_some()
        || names::palette_code(s).is_some()
        || s == "p0"
        || s == "p1"
        || fade_is_valid(s)
}

fn leading_rgb(ast: &[Value]) -> Option<usize> {
    let nums: Vec<f64> = ast.iter().take(4).map_while(Value::as_num).collect();
    if nums.len() < 3 || nums.iter().any(|n| !(0.0..=255.0).contains(n)) {
        return None;
    }
    Some(nums.len().min(4))
}

/// Burn an erase mask into a composited buffer (alpha × (1 − m/255); 0 → grey 32).
pub(crate) fn punch(dst: &mut Canvas, mask: &[u8]) {
    for (p, &m) in mask.iter().enumerate() {
        if m > 0 {
            let di = p * 4;
            let na = 1.0 - f64::from(m) / 255.0;
            dst.px[di + 3] = crate::jsnum::or0(f64::from(dst.px[di + 3]) * na + 0.5) as u8;
            if dst.px[di + 3] == 0 {
                dst.px[di] = 32;
                dst.px[di + 1] = 32;
                dst.px[di + 2] = 32;
            }
        }
    }
}

impl Interp {
    /// `detectFirstLineColor`: a bare colour (or `(colour)`, or 3–4 numbers)
    /// leading the program is the background, not a statement.
    pub(super) fn detect_first_line(&mut self) {
        let Some(first) = self.ast.first() else {
            return;
        };
        if let Some(n) = leading_rgb(&self.ast) {
            self.first_line = Some(Value::list(self.ast[..n].to_vec()));
            return;
        }
        let name = match first {
            Value::Str(s) => Some(s.to_string()),
            Value::List(l) if l.len() == 1 => l[0].as_str().map(str::to_string),
            _ => None,
        };
        if let Some(name) = name
            && (color_word(&name) || name == "rainbow" || name == "zebra")
        {
            self.first_line = Some(Value::str(&name));
        }
    }

    pub(super) fn skip_first_line<'b>(&self, body: &'b [Value]) -> &'b [Value] {
        if let Some(n) = leading_rgb(body) {
            return &body[n..];
        }
        let name = match body.first() {
            Some(Value::Str(s)) => Some(s.to_string()),
            Some(Value::List(l)) if l.len() == 1 => l[0].as_str().map(str::to_string),
            _ => None,
        };
        match name {
            Some(n) if color_word(&n) => &body[1..],
            _ => body,
        }
    }

    fn first_line_rgba(&self) -> Option<[u8; 4]> {
        match self.first_line.as_ref()? {
            Value::List(l) => {
                let c: Vec<f64> = l.iter().map(Value::to_number).collect();
                let a = c.get(3).copied().unwrap_or(255.0);
                Some([c[0] as u8, c[1] as u8, c[2] as u8, a as u8])
            }
            Value::Str(s) => names::css(s)
                .or_else(|| names::palette_code(s))
                .map(|c| [c[0], c[1], c[2], 255]),
            _ => None,
        }
    }

    /// `boot`: wipe the display with the background (or the erase colour).
    pub(crate) fn boot(&mut self, sh: &mut Shared) {
        self.target = Target::Display;
        match self.first_line.clone() {
            Some(c) => self.api_wipe(sh, &[c]),
            None => self.api_wipe(sh, &[Value::str("erase")]),
        }
        self.ink_state = None;
        self.ink_set = false;
        self.needs_initial_wipe = true;
    }

    /// One sim tick: the frame counter behind `(n …)`, `:frame` fades and bare `sin`/`cos`.
    pub(crate) fn sim(&mut self, sh: &mut Shared) {
        self.frame_count += 1;
        sh.gfx.cycles.new_frame();
        let mic = 0.2 + libm::sin(self.frame_count as f64 * 0.05) * 0.1;
        self.globals.insert("mic".into(), Value::Num(mic));
    }

    /// Deliver a pointer event (AC's `act`).
    pub(crate) fn act(&mut self, sh: &mut Shared, e: &Event) -> R<()> {
        match *e {
            Event::Touch { x, y } => {
                self.globals.insert("down".into(), Value::Num(1.0));
                self.globals.insert("penx".into(), Value::Num(x));
                self.globals.insert("peny".into(), Value::Num(y));
                if let Some(t) = self.tapper.clone() {
                    self.evaluate(sh, &t, None, false)?;
                }
            }
            Event::Draw { x, y, dx, dy } => {
                self.globals.insert("penx".into(), Value::Num(x));
                self.globals.insert("peny".into(), Value::Num(y));
                if let Some(d) = self.drawer.clone() {
                    let env = [("dx", dx), ("dy", dy)]
                        .into_iter()
                        .map(|(k, v)| (k.into(), Value::Num(v)))
                        .collect();
                    self.handler_env = Some(env);
                    let r = self.evaluate(sh, &d, None, false);
                    self.handler_env = None;
                    r?;
                }
            }
            Event::Lift { .. } => {
                self.globals.insert("down".into(), Value::Num(0.0));
                if let Some(l) = self.lifter.clone() {
                    self.evaluate(sh, &l, None, false)?;
                }
            }
        }
        Ok(())
    }

    /// `paint`: run the program and composite into `self.display`.
    pub(crate) fn paint(&mut self, sh: &mut Shared) -> R<()> {
        self.target = Target::Display;
        match self.ink_state.clone() {
            Some(state) if self.ink_set => self.api_ink(sh, &[Value::list(state)]),
            _ => self.api_ink(sh, &[Value::Undef]),
        }
        self.post_embed.clear();
        self.post_composite.clear();
        self.in_embed_phase = false;
        if self.needs_initial_wipe {
            match self.first_line.clone() {
                Some(c) => self.api_wipe(sh, &[c]),
                None => self.display.px.fill(0),
            }
            self.needs_initial_wipe = false;
        }
        if self.layer0.is_none() {
            let mut l0 = Canvas::new(self.width, self.height);
            if self.first_line.is_some() {
                if let Some(c) = self.first_line_rgba() {
                    for p in l0.px.chunks_exact_mut(4) {
                        p.copy_from_slice(&c);
                    }
                } else {
                    for p in l0.px.chunks_exact_mut(4) {
                        p.copy_from_slice(&[0, 0, 0, 0]);
                    }
                }
                self.layer0_needs_first_wipe = true;
            }
            self.layer0 = Some(l0);
        }
        sh.gfx.mask = None;
        match self.first_line.clone() {
            Some(c) => self.api_wipe(sh, &[c]),
            None => self.display.px.fill(0),
        }
        self.bake_index = -1;
        for b in &mut self.bakes {
            b.burned = false;
        }
        self.burned = None;
        self.target = Target::Layer0;
        if self.layer0_needs_first_wipe {
            if let Some(c) = self.first_line.clone() {
                self.api_wipe(sh, &[c]);
            }
            self.layer0_needs_first_wipe = false;
        }
        let ast = Value::list(self.ast.clone());
        let r = if self.ast.is_empty() {
            self.evaluate(sh, &Value::Undef, None, true)
        } else {
            self.evaluate(sh, &ast, None, true)
        };
        self.flush_erase_target(sh);
        r?;
        if self.bake_index >= 0 {
            let next = (self.bake_index + 1) as usize;
            if next < MAX_BAKES {
                let fresh = super::Bake {
                    canvas: Canvas::new(self.width, self.height),
                    erase_mask: None,
                    burned: false,
                };
                if next < self.bakes.len() {
                    self.bakes[next] = fresh;
                } else {
                    self.bakes.push(fresh);
                }
            }
        }
        self.in_embed_phase = true;
        let frame_value = self.paint_count;
        self.update_embeds(sh, frame_value)?;
        self.in_embed_phase = false;
        for d in std::mem::take(&mut self.post_embed) {
            self.replay(sh, &d);
        }
        self.target = Target::Display;
        sh.gfx.mask = None;
        sh.gfx.erase_target = None;
        self.composite(sh);
        for d in std::mem::take(&mut self.post_composite) {
            self.replay(sh, &d);
        }
        Ok(())
    }

    fn composite(&mut self, sh: &mut Shared) {
        let Interp {
            display,
            layer0,
            bakes,
            burned,
            embeds,
            ..
        } = self;
        let g: &Gfx = &sh.gfx;
        if let Some(b) = burned.as_ref() {
            display.px.copy_from_slice(&b.px);
        } else {
            if let Some(l0) = layer0.as_ref() {
                raster::paste(g, display, l0, 0.0, 0.0);
            }
            for b in bakes.iter().filter(|b| !b.burned) {
                raster::paste(g, display, &b.canvas, 0.0, 0.0);
                if let Some(m) = &b.erase_mask {
                    punch(display, m);
                }
            }
        }
        for e in embeds.iter() {
            raster::composite_layer(display, &e.interp.display, e.x, e.y, e.alpha);
        }
    }
}
