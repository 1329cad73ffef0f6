//! `$code` embeds (KIDLISP.md §11.1): another piece, from the source map the
//! caller supplied, running in its own buffer with its own seeded generator,
//! timers and counters, composited over the parent's layers each frame.

use super::{Interp, R, Shared};
use crate::raster::Gfx;
use crate::rng::fork_seed;
use crate::value::Value;

/// Most embed layers one piece may hold.
pub const MAX_EMBEDS: usize = 16;
/// Deepest nesting of embeds inside embeds.
pub const MAX_EMBED_DEPTH: u32 = 4;

/// A running embedded piece and where it is composited.
pub(crate) struct EmbedLayer {
    pub key: String,
    pub interp: Box<Interp>,
    pub x: i64,
    pub y: i64,
    pub alpha: f64,
    pub last_frame: Option<u64>,
    pub local_frame: u64,
}

impl Interp {
    /// `($code [x [y [w [h [alpha]]]]])`.
    pub(super) fn embed(&mut self, sh: &mut Shared, code: &str, args: &[Value]) -> R<Value> {
        if self.embed_depth >= MAX_EMBED_DEPTH {
            sh.log.push(format!(
                "frame {}: ${code}: embeds nested too deeply",
                sh.frame
            ));
            return Ok(Value::Undef);
        }
        let (sw, shh) = (self.width as f64, self.height as f64);
        let n: Vec<f64> = args.iter().map(Value::to_number).collect();
        let get = |i: usize| n.get(i).copied().filter(|v| v.is_finite());
        let x = get(0).unwrap_or(0.0).floor();
        let y = get(1).unwrap_or(0.0).floor();
        let (mut w, mut h) = match n.len() {
            0..=2 => (sw - x, shh - y),
            3 => (get(2).unwrap_or(sw), get(2).unwrap_or(shh)),
            _ => (get(2).unwrap_or(sw), get(3).unwrap_or(shh)),
        };
        let mut alpha = get(4).unwrap_or(255.0);
        if (0.0..=1.0).contains(&alpha) && n.len() >= 5 {
            alpha = (alpha * 255.0).floor();
        }
        let alpha = alpha.floor().clamp(0.0, 255.0);
        w = w.floor().max(1.0);
        h = h.floor().max(1.0);
        if ((x + w) - sw).abs() <= 1.0 {
            w = sw - x;
        }
        if ((y + h) - shh).abs() <= 1.0 {
            h = shh - y;
        }
        if x == 0.0 && (w - (sw / 2.0).ceil()).abs() <= 1.0 && n.len() >= 3 {
            w = (sw / 2.0).floor();
        }
        let (w, h) = (w.clamp(1.0, 4096.0) as usize, h.clamp(1.0, 4096.0) as usize);
        let key = format!("{code}:{x}:{y}:{w}:{h}:{alpha}");
        let index = match self.embeds.iter().position(|e| e.key == key) {
            Some(i) => i,
            None => {
                if self.embeds.len() >= MAX_EMBEDS {
                    sh.log.push(format!(
                        "frame {}: ${code}: more than {MAX_EMBEDS} embeds",
                        sh.frame
                    ));
                    return Ok(Value::Undef);
                }
                let source = sh
                    .embeds
                    .get(&format!("${code}"))
                    .or_else(|| sh.embeds.get(code))
                    .cloned();
                let Some(source) = source else {
                    sh.note_missing(crate::piece::Missing::Source {
                        code: format!("${code}"),
                        frame: sh.frame,
                    });
                    if self.unknown_logged.insert(format!("${code}")) {
                        sh.log.push(format!(
                            "frame {}: no source supplied for ${code}; nothing drawn",
                            sh.frame
                        ));
                    }
                    return Ok(Value::Undef);
                };
                let mut warnings = Vec::new();
                let ast = match crate::syntax::parse_program(&source, &mut warnings) {
                    Ok(a) => a,
                    Err(e) => {
                        sh.log.push(format!("frame {}: ${code}: {e}", sh.frame));
                        return Ok(Value::Undef);
                    }
                };
                let mut child = Interp::new(ast, w, h, fork_seed(self.seed, &key));
                child.embed_depth = self.embed_depth + 1;
                child.is_embedded = true;
                let saved = save_state(&sh.gfx);
                child.boot(sh);
                restore_state(&mut sh.gfx, saved);
                self.embeds.push(EmbedLayer {
                    key,
                    interp: Box::new(child),
                    x: x as i64,
                    y: y as i64,
                    alpha,
                    last_frame: None,
                    local_frame: 0,
                });
                self.embeds.len() - 1
            }
        };
        let frame = self.paint_count;
        if self.embeds[index].last_frame != Some(frame) {
            self.render_embed(sh, index, frame)?;
        }
        Ok(Value::Undef)
    }

    fn render_embed(&mut self, sh: &mut Shared, index: usize, frame: u64) -> R<()> {
        let saved = save_state(&sh.gfx);
        let e = &mut self.embeds[index];
        e.last_frame = Some(frame);
        e.local_frame += 1;
        e.interp.paint_count = e.local_frame;
        e.interp.sim(sh);
        let r = e.interp.paint(sh);
        restore_state(&mut sh.gfx, saved);
        r
    }

    /// Paint every embed not yet painted this frame.
    pub(super) fn update_embeds(&mut self, sh: &mut Shared, frame: u64) -> R<()> {
        for i in 0..self.embeds.len() {
            if self.embeds[i].last_frame != Some(frame) {
                self.render_embed(sh, i, frame)?;
            }
        }
        Ok(())
    }
}

type Saved = (
    crate::raster::Ink,
    crate::raster::BlendMode,
    Option<crate::raster::Mask>,
    (f64, f64),
);

fn save_state(g: &Gfx) -> Saved {
    (g.ink.clone(), g.blend, g.mask, g.pan)
}

fn restore_state(g: &mut Gfx, s: Saved) {
    g.ink = s.0;
    g.blend = s.1;
    g.mask = s.2;
    g.pan = s.3;
}
