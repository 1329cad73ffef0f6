//! KidLisp's seeded generator (KIDLISP.md §5.1): s ← (s·1664525 + 1013904223) mod 2³²,
//! result s/2³². With an integer seed the JS double arithmetic is exact, so a
//! u64 implementation reproduces AC's sequence bit for bit.

/// The linear congruential generator AC's `seededRandom` uses.
#[derive(Debug, Clone)]
pub struct Lcg {
    state: u64,
}

impl Lcg {
    /// A generator starting at `seed`.
    pub fn new(seed: u32) -> Self {
        Lcg {
            state: u64::from(seed),
        }
    }

    /// The next value in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        self.state = (self.state * 1_664_525 + 1_013_904_223) % 4_294_967_296;
        self.state as f64 / 4_294_967_296.0
    }

    /// `floor(r · n)` — AC's usual integer draw.
    pub fn below(&mut self, n: f64) -> f64 {
        (self.next_f64() * n).floor()
    }

    /// AC's `randInt(n)`: an integer in [0, n] inclusive.
    pub fn int_inclusive(&mut self, n: f64) -> f64 {
        (self.next_f64() * (n + 1.0)).floor()
    }
}

/// The child seed AC's conformance host derives for an embedded piece:
/// for each UTF-16 unit, seed = (seed XOR unit) · 16777619 mod 2³².
pub fn fork_seed(seed: u32, label: &str) -> u32 {
    label.encode_utf16().fold(seed, |s, unit| {
        (s ^ u32::from(unit)).wrapping_mul(16_777_619)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_js_sequence() {
        // (0·1664525 + 1013904223) mod 2³² = 1013904223
        let mut r = Lcg::new(0);
        assert_eq!(r.next_f64(), 1_013_904_223.0 / 4_294_967_296.0);
        let mut r = Lcg::new(u32::MAX);
        let v = r.next_f64();
        assert!((0.0..1.0).contains(&v));
    }
}
