//! Gaussian blur of a whole canvas, approximated (as the SVG and CSS filter specs allow) by
//! three successive box blurs per axis. Edges repeat their outermost pixel.

use crate::canvas::Canvas;

impl Canvas {
    /// Blurs the canvas with a Gaussian of standard deviation `sigma` pixels.
    pub fn blur(&mut self, sigma: f32) {
        if sigma <= 0.0 {
            return;
        }
        // The box size the SVG spec gives for feGaussianBlur: three boxes of d ≈ σ·3·√(2π)/4.
        let d = (sigma * 3.0 * (2.0 * std::f32::consts::PI).sqrt() / 4.0 + 0.5).floor() as usize;
        if d < 2 {
            return;
        }
        let (w, h) = (self.width() as usize, self.height() as usize);
        let data = self.pixmap_mut().data_mut();
        let mut line = Vec::new();
        let mut scratch = Vec::new();
        for _ in 0..3 {
            for y in 0..h {
                line.clear();
                line.extend_from_slice(&data[y * w * 4..(y + 1) * w * 4]);
                box_line(&line, &mut scratch, d);
                data[y * w * 4..(y + 1) * w * 4].copy_from_slice(&scratch);
            }
        }
        for _ in 0..3 {
            for x in 0..w {
                line.clear();
                for y in 0..h {
                    let i = (y * w + x) * 4;
                    line.extend_from_slice(&data[i..i + 4]);
                }
                box_line(&line, &mut scratch, d);
                for y in 0..h {
                    let i = (y * w + x) * 4;
                    data[i..i + 4].copy_from_slice(&scratch[y * 4..y * 4 + 4]);
                }
            }
        }
    }
}

/// One box blur of width `d` along a line of RGBA pixels (`d` odd: centred; even: one more on
/// the left, as the SVG spec's even case alternates and we keep one side).
fn box_line(src: &[u8], out: &mut Vec<u8>, d: usize) {
    let n = src.len() / 4;
    out.clear();
    out.resize(src.len(), 0);
    let left = d / 2;
    let right = d - 1 - left;
    let at =
        |i: isize, c: usize| -> u32 { u32::from(src[i.clamp(0, n as isize - 1) as usize * 4 + c]) };
    for c in 0..4 {
        let mut sum: u32 = (-(left as isize)..=right as isize).map(|i| at(i, c)).sum();
        for i in 0..n {
            out[i * 4 + c] = ((sum + d as u32 / 2) / d as u32) as u8;
            sum += at(i as isize + right as isize + 1, c);
            sum -= at(i as isize - left as isize, c);
        }
    }
}
