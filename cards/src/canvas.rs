//! The canvas cards are drawn on: a premultiplied RGBA pixmap with the fills, gradients, strokes
//! and image placement the layouts use.

use crate::rgba::Rgba;
use tiny_skia::{
    Color, GradientStop, LineCap, LineJoin, LinearGradient, Paint, PathBuilder, Pixmap,
    PixmapPaint, Point, Rect, Shader, SpreadMode, Stroke, Transform,
};

/// An opaque colour from 8-bit channels.
pub fn rgb(r: u8, g: u8, b: u8) -> Color {
    Color::from_rgba8(r, g, b, 255)
}

/// A colour from 8-bit channels and an opacity from 0 to 1 (CSS `rgba()`).
pub fn rgba(r: u8, g: u8, b: u8, a: f32) -> Color {
    let mut c = rgb(r, g, b);
    c.apply_opacity(a);
    c
}

/// A colour from `0xRRGGBB`.
pub fn hex(rgb24: u32) -> Color {
    rgb((rgb24 >> 16) as u8, (rgb24 >> 8) as u8, rgb24 as u8)
}

/// A card being drawn.
pub struct Canvas {
    pixmap: Pixmap,
}

impl Canvas {
    /// A transparent canvas of `width` × `height` pixels (both at least 1).
    pub fn new(width: u32, height: u32) -> Canvas {
        Canvas {
            pixmap: Pixmap::new(width.max(1), height.max(1)).expect("size is non-zero and small"),
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.pixmap.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.pixmap.height()
    }

    /// The pixmap itself, for drawing this module does not wrap.
    pub fn pixmap_mut(&mut self) -> &mut Pixmap {
        &mut self.pixmap
    }

    /// The pixmap itself.
    pub fn pixmap(&self) -> &Pixmap {
        &self.pixmap
    }

    /// Fills the whole canvas with `color`, replacing what was there.
    pub fn clear(&mut self, color: Color) {
        self.pixmap.fill(color);
    }

    /// Paints `color` over the rectangle (source-over); nothing for an empty rectangle.
    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Color) {
        let Some(rect) = Rect::from_xywh(x, y, w, h) else {
            return;
        };
        let mut paint = Paint::default();
        paint.set_color(color);
        self.pixmap
            .fill_rect(rect, &paint, Transform::identity(), None);
    }

    /// Paints a rounded rectangle with corner radius `r` (SVG `rx`) in `color`.
    pub fn fill_round_rect(&mut self, x: f32, y: f32, w: f32, h: f32, r: f32, color: Color) {
        let r = r.min(w / 2.0).min(h / 2.0);
        // Each corner is a quarter circle drawn as one cubic (the usual 0.5523 handle length).
        let k = r * 0.552_284_8;
        let mut b = PathBuilder::new();
        b.move_to(x + r, y);
        b.line_to(x + w - r, y);
        b.cubic_to(x + w - r + k, y, x + w, y + r - k, x + w, y + r);
        b.line_to(x + w, y + h - r);
        b.cubic_to(x + w, y + h - r + k, x + w - r + k, y + h, x + w - r, y + h);
        b.line_to(x + r, y + h);
        b.cubic_to(x + r - k, y + h, x, y + h - r + k, x, y + h - r);
        b.line_to(x, y + r);
        b.cubic_to(x, y + r - k, x + r - k, y, x + r, y);
        b.close();
        if let Some(path) = b.finish() {
            self.fill_path_color(&path, color, Transform::identity());
        }
    }

    /// Paints the rectangle with a linear gradient from `start` to `end` through `stops`
    /// (offset 0–1, colour), padded beyond its ends.
    pub fn fill_rect_gradient(
        &mut self,
        rect: (f32, f32, f32, f32),
        start: Point,
        end: Point,
        stops: &[(f32, Color)],
    ) {
        let Some(rect) = Rect::from_xywh(rect.0, rect.1, rect.2, rect.3) else {
            return;
        };
        let Some(shader) = gradient(start, end, stops) else {
            return;
        };
        let paint = Paint {
            shader,
            anti_alias: false,
            ..Paint::default()
        };
        self.pixmap
            .fill_rect(rect, &paint, Transform::identity(), None);
    }

    /// Strokes the open polyline through `points`, `width` px wide with round caps and miter
    /// joins (SVG's defaults but the caps), painted with a linear gradient from `start` to `end`.
    pub fn stroke_polyline_gradient(
        &mut self,
        points: &[Point],
        width: f32,
        start: Point,
        end: Point,
        stops: &[(f32, Color)],
    ) {
        let Some(shader) = gradient(start, end, stops) else {
            return;
        };
        self.stroke_polyline(points, width, LineCap::Round, LineJoin::Miter, shader);
    }

    /// Strokes the open polyline through `points` with a solid colour, round caps and joins.
    pub fn stroke_polyline_color(&mut self, points: &[Point], width: f32, color: Color) {
        self.stroke_polyline(
            points,
            width,
            LineCap::Round,
            LineJoin::Round,
            Shader::SolidColor(color),
        );
    }

    fn stroke_polyline(
        &mut self,
        points: &[Point],
        width: f32,
        line_cap: LineCap,
        line_join: LineJoin,
        shader: Shader,
    ) {
        let Some((first, rest)) = points.split_first() else {
            return;
        };
        let mut b = PathBuilder::new();
        b.move_to(first.x, first.y);
        for p in rest {
            b.line_to(p.x, p.y);
        }
        let Some(path) = b.finish() else {
            return;
        };
        let paint = Paint {
            shader,
            anti_alias: true,
            ..Paint::default()
        };
        let stroke = Stroke {
            width,
            line_cap,
            line_join,
            ..Stroke::default()
        };
        self.pixmap
            .stroke_path(&path, &paint, &stroke, Transform::identity(), None);
    }

    /// Draws `image` with its top-left corner at (`x`, `y`), over what is there (source-over;
    /// parts off the canvas are cut).
    pub fn draw_image(&mut self, image: &Rgba, x: i32, y: i32) {
        let pixmap = image.to_pixmap();
        self.draw_canvas_pixmap(&pixmap, x, y, 1.0);
    }

    /// Draws another canvas at (`x`, `y`) with `opacity` (a group's opacity, as CSS `opacity`).
    pub fn draw_canvas(&mut self, other: &Canvas, x: i32, y: i32, opacity: f32) {
        self.draw_canvas_pixmap(&other.pixmap, x, y, opacity);
    }

    fn draw_canvas_pixmap(&mut self, pixmap: &Pixmap, x: i32, y: i32, opacity: f32) {
        let paint = PixmapPaint {
            opacity,
            ..PixmapPaint::default()
        };
        self.pixmap
            .draw_pixmap(x, y, pixmap.as_ref(), &paint, Transform::identity(), None);
    }

    /// The canvas as straight-alpha RGBA bytes, row by row.
    pub fn to_rgba(&self) -> Rgba {
        let mut data = Vec::with_capacity(self.pixmap.data().len());
        for p in self.pixmap.pixels() {
            let c = p.demultiply();
            data.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
        }
        Rgba::new(self.width(), self.height(), data).expect("the pixmap's own size")
    }
}

fn gradient(start: Point, end: Point, stops: &[(f32, Color)]) -> Option<Shader<'static>> {
    let stops = stops
        .iter()
        .map(|&(offset, color)| GradientStop::new(offset, color))
        .collect();
    LinearGradient::new(start, end, stops, SpreadMode::Pad, Transform::identity())
}
