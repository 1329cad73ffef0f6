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

/// The median; for an even count the mean of the middle two, since two rounds are a common
/// choice.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n.is_multiple_of(2) {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    } else {
        values[n / 2]
    }
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
