//! Per-frame timings: reading `timing.json`, and turning durations into a constant frame rate.

use crate::error::RenderError;
use serde_json::Value;

/// The highest frame rate a timed tape is baked at.
pub const MAX_TIMED_FPS: u64 = 60;

/// Reads `timing.json`: a JSON list of per-frame durations in milliseconds, either numbers
/// (`[100, 200]`) or objects with a `duration` field (`[{"duration": 100}]`). Fractional
/// milliseconds are rounded; every duration must be positive.
pub(crate) fn parse_timing(json: &[u8]) -> Result<Vec<u32>, RenderError> {
    let shape = "timing.json must be a JSON list of per-frame durations in milliseconds (numbers, \
                 or objects with a `duration` field)";
    let value: Value = serde_json::from_slice(json)
        .map_err(|e| RenderError::invalid_input(format!("{shape}, but it is not JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(RenderError::invalid_input(format!(
            "{shape}, but it is {}",
            kind_of(&value)
        )));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let number = match item {
                Value::Object(fields) => fields.get("duration").unwrap_or(&Value::Null),
                other => other,
            };
            let ms = number.as_f64().map(f64::round).unwrap_or(f64::NAN);
            if ms >= 1.0 && ms <= f64::from(u32::MAX) {
                Ok(ms as u32)
            } else {
                Err(RenderError::invalid_input(format!(
                    "{shape} above 0; entry {} is {item}",
                    i + 1
                )))
            }
        })
        .collect()
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Checks `durations` has one positive entry per frame.
pub(crate) fn check_durations(durations: &[u32], frames: usize) -> Result<(), RenderError> {
    if durations.len() != frames {
        return Err(RenderError::invalid_input(format!(
            "timing.json lists {} durations but the tape has {frames} frames: give one duration \
             per frame",
            durations.len()
        )));
    }
    if let Some(i) = durations.iter().position(|&d| d == 0) {
        return Err(RenderError::invalid_input(format!(
            "timing.json entry {} is 0: every duration must be at least 1 ms",
            i + 1
        )));
    }
    Ok(())
}

/// How a timed tape becomes constant-rate video: the rate, and how many video frames each tape
/// frame fills.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FramePlan {
    /// The rate as an exact fraction `(numerator, denominator)`.
    pub rate: (u64, u64),
    /// Video frames per tape frame; 0 drops a frame shorter than one video frame.
    pub repeats: Vec<u32>,
}

impl FramePlan {
    /// Every tape frame once, at `fps`.
    pub fn constant(fps: (u64, u64), frames: usize) -> Self {
        Self {
            rate: fps,
            repeats: vec![1; frames],
        }
    }

    /// The rate in frames per second.
    pub fn fps(&self) -> f64 {
        self.rate.0 as f64 / self.rate.1 as f64
    }

    /// Video frames in total.
    pub fn frames(&self) -> u32 {
        self.repeats.iter().sum()
    }

    /// The video's length in seconds.
    pub fn seconds(&self) -> f64 {
        f64::from(self.frames()) / self.fps()
    }

    /// The plan for per-frame `durations` (ms). The rate is 1000 / gcd(durations), so every
    /// duration is a whole number of frames and the video lasts exactly their sum, capped at
    /// [`MAX_TIMED_FPS`]. Above the cap each frame ends at its time rounded to the nearest frame,
    /// so the total stays within half a frame and a frame shorter than half a frame (8 ms) is
    /// dropped. Constant rate rather than VFR: every player and editor handles it, and frames
    /// that repeat cost almost nothing in H.264.
    pub fn timed(durations: &[u32]) -> Self {
        let g = durations
            .iter()
            .fold(0u64, |g, &d| gcd(g, u64::from(d)))
            .max(1);
        let rate = if 1000 > MAX_TIMED_FPS * g {
            (MAX_TIMED_FPS, 1)
        } else {
            let r = gcd(1000, g);
            (1000 / r, g / r)
        };
        let (n, d) = rate;
        let mut repeats = Vec::with_capacity(durations.len());
        let (mut elapsed_ms, mut shown) = (0u64, 0u64);
        for &ms in durations {
            elapsed_ms += u64::from(ms);
            // round(elapsed_ms / 1000 * n / d) in integers.
            let end = (2 * elapsed_ms * n + 1000 * d) / (2 * 1000 * d);
            repeats.push((end - shown) as u32);
            shown = end;
        }
        if shown == 0 {
            // A tape shorter than half a frame still shows its first frame once.
            repeats[0] = 1;
        }
        Self { rate, repeats }
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn both_timing_shapes_parse() {
        assert_eq!(parse_timing(b"[100, 200.4, 300]").unwrap(), [100, 200, 300]);
        assert_eq!(
            parse_timing(br#"[{"duration": 40}, {"duration": 80, "name": "b"}]"#).unwrap(),
            [40, 80]
        );
    }

    #[test]
    fn bad_timings_say_which_entry() {
        for (json, needle) in [
            (&b"{\"a\": 1}"[..], "but it is an object"),
            (b"[100, 0]", "entry 2 is 0"),
            (b"[100, -5]", "entry 2 is -5"),
            (b"[\"100\"]", "entry 1 is \"100\""),
            (b"[{\"ms\": 3}]", "entry 1 is {\"ms\":3}"),
            (b"[1,", "not JSON"),
        ] {
            let err = parse_timing(json).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidInput);
            assert!(err.message.contains(needle), "{needle}: {err}");
        }
        let err = check_durations(&[100, 200], 3).unwrap_err();
        assert!(
            err.message
                .contains("lists 2 durations but the tape has 3 frames"),
            "{err}"
        );
    }

    #[test]
    fn timings_become_whole_frames_at_the_gcd_rate() {
        let plan = FramePlan::timed(&[100, 200, 300, 400]);
        assert_eq!(plan.rate, (10, 1));
        assert_eq!(plan.repeats, [1, 2, 3, 4]);
        assert!((plan.seconds() - 1.0).abs() < 1e-9);

        let plan = FramePlan::timed(&[30, 60]);
        assert_eq!(plan.rate, (100, 3));
        assert_eq!(plan.repeats, [1, 2]);

        // gcd 1 ms would be 1000 fps: capped at 60, times rounded to the nearest frame.
        let plan = FramePlan::timed(&[33, 34, 33, 5]);
        assert_eq!(plan.rate, (60, 1));
        assert_eq!(plan.repeats, [2, 2, 2, 0]);
        assert!((plan.seconds() - 0.105).abs() <= 0.5 / 60.0 + 1e-9);
    }
}
