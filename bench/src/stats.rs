//! The few statistics the benchmarks report: nearest-rank percentiles, medians, rounding.

use std::time::Duration;

pub use kiln::cli::batch::percentile_ms;

/// The `q` quantile (nearest rank), in microseconds.
pub fn percentile_us(values: &mut [Duration], q: f64) -> f64 {
    percentile_ms(values, q) * 1e3
}

/// The median (nearest rank), in milliseconds.
pub fn median_ms(values: &mut [Duration]) -> f64 {
    percentile_ms(values, 0.5)
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
