//! Text: glyph outlines from a font turned into paths and filled on a [`Canvas`], laid out the
//! way a browser lays out one line (advances, the font's `kern` pairs, CSS `letter-spacing`
//! after every character, `line-height: normal` from the font's ascender, descender and gap).

use crate::canvas::Canvas;
use tiny_skia::{Color, FillRule, Paint, Path, PathBuilder, Transform};
use ttf_parser::{Face, GlyphId, OutlineBuilder};

/// A parsed font. Sizes are CSS pixels per em.
pub struct Font {
    face: Face<'static>,
}

/// Where a text's x coordinate is: its start, its middle or its end (SVG's `text-anchor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// x is where the text starts.
    Start,
    /// x is the middle of the text's advance.
    Middle,
    /// x is where the text ends.
    End,
}

/// How to draw a run of text.
#[derive(Clone, Copy)]
pub struct TextStyle<'a> {
    /// The font.
    pub font: &'a Font,
    /// Pixels per em.
    pub size: f32,
    /// Extra advance after every character, in pixels (CSS `letter-spacing`).
    pub spacing: f32,
    /// Fill colour (straight alpha).
    pub color: Color,
}

impl<'a> TextStyle<'a> {
    /// `font` at `size` px in `color`, no letter spacing.
    pub fn new(font: &'a Font, size: f32, color: Color) -> Self {
        Self {
            font,
            size,
            spacing: 0.0,
            color,
        }
    }

    /// The same style with `spacing` px after every character.
    pub fn spaced(self, spacing: f32) -> Self {
        Self { spacing, ..self }
    }

    /// The same style in another colour.
    pub fn colored(self, color: Color) -> Self {
        Self { color, ..self }
    }
}

/// One glyph placed on a line: its character, glyph and pen position from the line's start.
#[derive(Clone, Copy, Debug)]
pub struct Placed {
    /// The character it shows.
    pub ch: char,
    /// The font's glyph for it.
    pub glyph: GlyphId,
    /// Its pen x, in pixels from the line's start.
    pub x: f32,
}

impl Font {
    /// Parses a TrueType or OpenType font.
    pub fn parse(bytes: &'static [u8]) -> Result<Font, ttf_parser::FaceParsingError> {
        Ok(Font {
            face: Face::parse(bytes, 0)?,
        })
    }

    fn scale(&self, size: f32) -> f32 {
        size / f32::from(self.face.units_per_em())
    }

    /// Ascent above the baseline at `size`, in pixels.
    pub fn ascent(&self, size: f32) -> f32 {
        f32::from(self.face.ascender()) * self.scale(size)
    }

    /// Descent below the baseline at `size`, in pixels (positive).
    pub fn descent(&self, size: f32) -> f32 {
        -f32::from(self.face.descender()) * self.scale(size)
    }

    /// CSS `line-height: normal` at `size`: ascent + descent + line gap.
    pub fn line_height(&self, size: f32) -> f32 {
        self.ascent(size) + self.descent(size) + f32::from(self.face.line_gap()) * self.scale(size)
    }

    /// The baseline's distance below the top of a `line-height: normal` line box (half the
    /// line gap above the ascent, as browsers place it).
    pub fn baseline_in_line(&self, size: f32) -> f32 {
        f32::from(self.face.line_gap()) * self.scale(size) / 2.0 + self.ascent(size)
    }

    fn glyph(&self, ch: char) -> GlyphId {
        self.face.glyph_index(ch).unwrap_or(GlyphId(0))
    }

    fn kerning(&self, left: GlyphId, right: GlyphId) -> f32 {
        let Some(kern) = self.face.tables().kern else {
            return 0.0;
        };
        kern.subtables
            .into_iter()
            .filter(|s| s.horizontal && !s.variable)
            .find_map(|s| s.glyphs_kerning(left, right))
            .map_or(0.0, f32::from)
    }

    /// Lays `text` out on one line: each glyph's pen x, and the line's whole advance (which,
    /// as in CSS, includes the letter spacing after the last character).
    pub fn layout(&self, text: &str, size: f32, spacing: f32) -> (Vec<Placed>, f32) {
        let scale = self.scale(size);
        let mut placed = Vec::new();
        let mut x = 0.0;
        let mut previous: Option<GlyphId> = None;
        for ch in text.chars() {
            let glyph = self.glyph(ch);
            if let Some(left) = previous {
                x += self.kerning(left, glyph) * scale;
            }
            placed.push(Placed { ch, glyph, x });
            x += f32::from(self.face.glyph_hor_advance(glyph).unwrap_or(0)) * scale + spacing;
            previous = Some(glyph);
        }
        (placed, x)
    }

    /// The advance of `text` at `size` with `spacing`.
    pub fn advance(&self, text: &str, size: f32, spacing: f32) -> f32 {
        self.layout(text, size, spacing).1
    }

    /// The outline of `glyph` at `size` with its pen at (`x`, `baseline`); `None` for a glyph
    /// with no outline (a space).
    pub fn glyph_path(&self, glyph: GlyphId, size: f32, x: f32, baseline: f32) -> Option<Path> {
        let mut sink = Sink {
            builder: PathBuilder::new(),
            scale: self.scale(size),
            x,
            y: baseline,
        };
        self.face.outline_glyph(glyph, &mut sink)?;
        sink.builder.finish()
    }

    /// The outline of a whole line of text with its start at (`x`, `baseline`).
    pub fn text_path(
        &self,
        text: &str,
        size: f32,
        spacing: f32,
        x: f32,
        baseline: f32,
    ) -> Option<Path> {
        let (placed, _) = self.layout(text, size, spacing);
        let mut builder = PathBuilder::new();
        for p in placed {
            if let Some(path) = self.glyph_path(p.glyph, size, x + p.x, baseline) {
                builder.push_path(&path);
            }
        }
        builder.finish()
    }
}

/// Turns font units (y up) into canvas pixels (y down) while the outline is read.
struct Sink {
    builder: PathBuilder,
    scale: f32,
    x: f32,
    y: f32,
}

impl Sink {
    fn at(&self, x: f32, y: f32) -> (f32, f32) {
        (self.x + x * self.scale, self.y - y * self.scale)
    }
}

impl OutlineBuilder for Sink {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.at(x, y);
        self.builder.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.at(x, y);
        self.builder.line_to(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x1, y1) = self.at(x1, y1);
        let (x, y) = self.at(x, y);
        self.builder.quad_to(x1, y1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (x1, y1) = self.at(x1, y1);
        let (x2, y2) = self.at(x2, y2);
        let (x, y) = self.at(x, y);
        self.builder.cubic_to(x1, y1, x2, y2, x, y);
    }
    fn close(&mut self) {
        self.builder.close();
    }
}

impl Canvas {
    /// Draws `text` in `style` with its `anchor` at `x` and its baseline at `baseline`, moved by
    /// `transform` (identity for none).
    pub fn text_transformed(
        &mut self,
        style: &TextStyle,
        text: &str,
        x: f32,
        baseline: f32,
        anchor: Anchor,
        transform: Transform,
    ) {
        let advance = style.font.advance(text, style.size, style.spacing);
        let start = match anchor {
            Anchor::Start => x,
            Anchor::Middle => x - advance / 2.0,
            Anchor::End => x - advance,
        };
        if let Some(path) = style
            .font
            .text_path(text, style.size, style.spacing, start, baseline)
        {
            self.fill_path_color(&path, style.color, transform);
        }
    }

    /// Draws `text` in `style` with its `anchor` at `x` and its baseline at `baseline`.
    pub fn text(&mut self, style: &TextStyle, text: &str, x: f32, baseline: f32, anchor: Anchor) {
        self.text_transformed(style, text, x, baseline, anchor, Transform::identity());
    }

    /// Fills `path` with a solid colour (anti-aliased, non-zero winding, source-over).
    pub fn fill_path_color(&mut self, path: &Path, color: Color, transform: Transform) {
        let mut paint = Paint::default();
        paint.set_color(color);
        paint.anti_alias = true;
        self.pixmap_mut()
            .fill_path(path, &paint, FillRule::Winding, transform, None);
    }
}
