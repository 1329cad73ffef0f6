//! The old oven's judgements of recorded frames, shared by the host (page recordings, whose
//! frames it captures) and the kidlisp plugin (whose frames it draws).
//!
//! - [`is_blank`]: a frame that is all transparent or all black (shared/OVEN.md §3.3).
//! - [`DudCheck`] and [`GridSample`]: the "dud" check (shared/OVEN.md §3.2), a recording that is
//!   essentially one flat colour.
//!
//! The dud check: Frames 0, ⌊n/4⌋, ⌊n/2⌋, ⌊3n/4⌋ and n−1 are each reduced to 64×64, a 5×5 grid of
//! points (x, y ∈ {6, 18, 30, 42, 54}) is compared with the grid's first point by
//! |ΔR|+|ΔG|+|ΔB|, and the recording is a dud when no sampled frame has a difference of 30 or
//! more. Its colour is frame 0's mean.
//!
//! The oven reduces with sharp's default Lanczos kernel; here each of the 25 points is the area
//! average of the art pixels under it (the nearest pixel when the frame is smaller than 64×64).
//! For flat frames, the only ones that can be duds, the two agree. Frames are looked at as they
//! are rendered, so nothing is kept but the verdict so far.

/// The grid positions in the 64×64 reduction: gap ⌊64/5⌋ = 12, starting at half a gap.
const GRID: [usize; 5] = [6, 18, 30, 42, 54];
/// The side of the reduction.
const REDUCED: usize = 64;
/// A sampled frame whose points differ by this much (|ΔR|+|ΔG|+|ΔB|) is not flat.
const THRESHOLD: u32 = 30;

/// One frame's 5×5 grid of the dud check, kept when the frames to sample are not known until
/// the recording ends (blank frames dropped as they come): 75 bytes a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridSample {
    points: [[u8; 3]; 25],
    mean: [u8; 3],
}

impl GridSample {
    /// The grid and the mean colour of one frame (RGBA, `width × height`).
    pub fn of(rgba: &[u8], width: usize, height: usize) -> Self {
        let xs = GRID.map(|d| span(d, width));
        let ys = GRID.map(|d| span(d, height));
        let mut points = [[0u8; 3]; 25];
        for (row, y) in ys.iter().enumerate() {
            for (col, x) in xs.iter().enumerate() {
                points[row * 5 + col] = area_mean(rgba, width, x, y);
            }
        }
        Self {
            points,
            mean: mean(rgba),
        }
    }

    /// Whether some point differs from the first by the threshold or more.
    fn varied(&self) -> bool {
        let first = self.points[0];
        self.points.iter().any(|point| {
            let diff: u32 = (0..3).map(|c| u32::from(point[c].abs_diff(first[c]))).sum();
            diff >= THRESHOLD
        })
    }
}

/// The frames (from 0) the dud check samples of a recording of `frames` frames.
pub fn sampled_frames(frames: u32) -> Vec<u32> {
    let n = frames.max(1);
    let mut samples = vec![0, n / 4, n / 2, 3 * n / 4, n - 1];
    samples.dedup();
    samples
}

/// The dud verdict over every kept frame's grid: `Some("#rrggbb")` (the first frame's mean
/// colour) when none of the sampled frames varies, `None` otherwise or when there are no frames.
pub fn flat_colour(grids: &[GridSample]) -> Option<String> {
    let first = grids.first()?;
    let varied = sampled_frames(grids.len() as u32)
        .into_iter()
        .any(|i| grids[i as usize].varied());
    (!varied).then(|| hex(first.mean))
}

fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The dud check, fed each frame as it is rendered, when the number of frames is known.
pub struct DudCheck {
    samples: Vec<u32>,
    varied: bool,
    colour: Option<[u8; 3]>,
}

impl DudCheck {
    /// A check of a recording of `frames` frames.
    pub fn new(frames: u32) -> Self {
        Self {
            samples: sampled_frames(frames),
            varied: false,
            colour: None,
        }
    }

    /// Looks at frame `index` (RGBA, `width × height`).
    pub fn observe(&mut self, index: u32, rgba: &[u8], width: usize, height: usize) {
        if index == 0 {
            self.colour = Some(mean(rgba));
        }
        if self.varied || !self.samples.contains(&index) {
            return;
        }
        self.varied = GridSample::of(rgba, width, height).varied();
    }

    /// `Some("#rrggbb")` (frame 0's colour) when the recording is a dud, else `None`.
    pub fn verdict(&self) -> Option<String> {
        if self.varied {
            return None;
        }
        self.colour.map(hex)
    }
}

/// The source pixels under reduced pixel `d` along a side of `size` pixels, with weights.
fn span(d: usize, size: usize) -> Vec<(usize, f64)> {
    span_of(d, size, REDUCED)
}

/// The source pixels under pixel `d` of a reduction to `reduced` pixels along a side of `size`.
fn span_of(d: usize, size: usize, reduced: usize) -> Vec<(usize, f64)> {
    let scale = size as f64 / reduced as f64;
    let (lo, hi) = (d as f64 * scale, (d + 1) as f64 * scale);
    if hi - lo < 1.0 {
        // Enlarging: the one pixel under the centre.
        let centre = (((lo + hi) / 2.0) as usize).min(size - 1);
        return vec![(centre, 1.0)];
    }
    let mut weights = Vec::new();
    let mut i = lo.floor() as usize;
    while (i as f64) < hi && i < size {
        let w = hi.min(i as f64 + 1.0) - lo.max(i as f64);
        if w > 0.0 {
            weights.push((i, w));
        }
        i += 1;
    }
    weights
}

/// The weighted mean RGB of the pixels `xs × ys`.
fn area_mean(rgba: &[u8], width: usize, xs: &[(usize, f64)], ys: &[(usize, f64)]) -> [u8; 3] {
    let [r, g, b, _] = area_mean_rgba(rgba, width, xs, ys);
    [r, g, b]
}

/// The side of the blank check's reduction (§3.3).
const BLANK_REDUCED: usize = 32;

/// Whether a frame is blank as the oven judged it (shared/OVEN.md §3.3): reduced to 32×32,
/// blank when the mean alpha is under 10 (all transparent), or when some pixels are visible
/// (alpha over 10) and none of them has a channel over 5 (all black). The reduction is an area
/// mean, as for the dud check.
pub fn is_blank(rgba: &[u8], width: usize, height: usize) -> bool {
    let spans = |size: usize| -> Vec<Vec<(usize, f64)>> {
        (0..BLANK_REDUCED)
            .map(|d| span_of(d, size, BLANK_REDUCED))
            .collect()
    };
    let (xs, ys) = (spans(width), spans(height));
    let (mut alpha_sum, mut visible, mut coloured) = (0.0, false, false);
    for y in &ys {
        for x in &xs {
            let [r, g, b, a] = area_mean_rgba(rgba, width, x, y);
            alpha_sum += f64::from(a);
            if a > 10 {
                visible = true;
                coloured |= r > 5 || g > 5 || b > 5;
            }
        }
    }
    let mean_alpha = alpha_sum / (BLANK_REDUCED * BLANK_REDUCED) as f64;
    mean_alpha < 10.0 || (visible && !coloured)
}

/// The weighted mean RGBA of the pixels `xs × ys`.
fn area_mean_rgba(rgba: &[u8], width: usize, xs: &[(usize, f64)], ys: &[(usize, f64)]) -> [u8; 4] {
    let mut sum = [0.0f64; 4];
    let mut total = 0.0;
    for &(y, wy) in ys {
        for &(x, wx) in xs {
            let i = (y * width + x) * 4;
            let w = wx * wy;
            for c in 0..4 {
                sum[c] += f64::from(rgba[i + c]) * w;
            }
            total += w;
        }
    }
    sum.map(|s| (s / total).round() as u8)
}

/// The mean RGB of a whole frame (the oven's 1×1 reduction).
fn mean(rgba: &[u8]) -> [u8; 3] {
    let mut sum = [0u64; 3];
    for p in rgba.chunks_exact(4) {
        for c in 0..3 {
            sum[c] += u64::from(p[c]);
        }
    }
    let n = (rgba.len() / 4).max(1) as u64;
    sum.map(|s| ((s + n / 2) / n) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(width: usize, height: usize, rgb: [u8; 3]) -> Vec<u8> {
        [rgb[0], rgb[1], rgb[2], 255].repeat(width * height)
    }

    #[test]
    fn black_and_transparent_frames_are_blank_and_a_small_mark_is_not() {
        assert!(is_blank(&flat(100, 60, [0, 0, 0]), 100, 60));
        assert!(is_blank(&flat(100, 60, [3, 5, 4]), 100, 60));
        assert!(is_blank(&[200, 10, 10, 0].repeat(40 * 40), 40, 40));
        assert!(!is_blank(&flat(100, 60, [0, 0, 40]), 100, 60));
        // A 10×10 white square on a 64² black frame survives the reduction.
        let mut frame = flat(64, 64, [0, 0, 0]);
        for y in 20..30 {
            for x in 20..30 {
                frame[(y * 64 + x) * 4..][..3].copy_from_slice(&[255, 255, 255]);
            }
        }
        assert!(!is_blank(&frame, 64, 64));
        // Frames smaller than the reduction are enlarged (nearest pixel).
        assert!(is_blank(&flat(8, 8, [0, 0, 0]), 8, 8));
        assert!(!is_blank(&flat(8, 8, [9, 0, 0]), 8, 8));
    }

    #[test]
    fn samples_the_oven_frames() {
        assert_eq!(DudCheck::new(60).samples, [0, 15, 30, 45, 59]);
        assert_eq!(DudCheck::new(2).samples, [0, 1]);
        assert_eq!(DudCheck::new(1).samples, [0]);
    }

    #[test]
    fn a_flat_recording_is_a_dud_of_its_colour() {
        let mut check = DudCheck::new(10);
        for i in 0..10 {
            check.observe(i, &flat(100, 50, [18, 52, 86]), 100, 50);
        }
        assert_eq!(check.verdict().as_deref(), Some("#123456"));
    }

    #[test]
    fn detail_on_any_sampled_frame_is_not_a_dud() {
        let mut check = DudCheck::new(10);
        for i in 0..10 {
            let mut frame = flat(128, 128, [0, 0, 0]);
            if i == 5 {
                // A white box over grid point (54, 54) of the reduction, i.e. art pixel 108+.
                for y in 100..128 {
                    for x in 100..128 {
                        frame[(y * 128 + x) * 4..][..3].copy_from_slice(&[255, 255, 255]);
                    }
                }
            }
            check.observe(i, &frame, 128, 128);
        }
        assert_eq!(check.verdict(), None);
    }

    #[test]
    fn detail_between_grid_points_or_on_unsampled_frames_stays_a_dud() {
        let mut check = DudCheck::new(10);
        for i in 0..10 {
            let mut frame = flat(64, 64, [200, 10, 10]);
            // A pixel off the grid on a sampled frame, and a whole different colour on frame 3,
            // which is not sampled (0, 2, 5, 7, 9 are).
            frame[(64 + 1) * 4] = 0;
            if i == 3 {
                frame = flat(64, 64, [0, 0, 255]);
            }
            check.observe(i, &frame, 64, 64);
        }
        assert_eq!(check.verdict().as_deref(), Some("#c80a0a"));
    }

    #[test]
    fn grids_kept_per_frame_give_the_same_verdicts() {
        let flat_frames: Vec<_> = (0..10)
            .map(|_| GridSample::of(&flat(100, 50, [18, 52, 86]), 100, 50))
            .collect();
        assert_eq!(flat_colour(&flat_frames).as_deref(), Some("#123456"));
        let mut varied = flat_frames.clone();
        let mut frame = flat(100, 50, [18, 52, 86]);
        for y in 0..50 {
            for x in 80..100 {
                frame[(y * 100 + x) * 4..][..3].copy_from_slice(&[255, 255, 255]);
            }
        }
        // Frame 5 is sampled (0, 2, 5, 7, 9); frame 3 is not.
        varied[3] = GridSample::of(&frame, 100, 50);
        assert!(flat_colour(&varied).is_some());
        varied[5] = GridSample::of(&frame, 100, 50);
        assert_eq!(flat_colour(&varied), None);
        assert_eq!(flat_colour(&[]), None);
    }

    #[test]
    fn small_differences_are_under_the_threshold() {
        let mut check = DudCheck::new(1);
        let mut frame = flat(8, 8, [100, 100, 100]);
        // Pixel (6, 6) is under grid point (54, 54) (54.5 / 8 = 6.8): off by 29 in all.
        frame[(6 * 8 + 6) * 4..][..3].copy_from_slice(&[110, 110, 109]);
        check.observe(0, &frame, 8, 8);
        assert!(check.verdict().is_some());
        let mut check = DudCheck::new(1);
        frame[(6 * 8 + 6) * 4..][..3].copy_from_slice(&[110, 110, 110]);
        check.observe(0, &frame, 8, 8);
        assert_eq!(check.verdict(), None);
    }
}
