//! Checking a page size against the host's limits, with errors that name the input's fields.

use crate::Error;
use crate::host::JobLimits;

/// Checks `input.width` × `input.height` (and, when given, a density field such as
/// `pixelDensity`, which multiplies both sides) against `limits`: each side at most
/// `max-dimension`, the pixel count at most `max-pixels`. The error names the fields, so the client
/// knows what to lower.
pub fn check_page_size(
    width: u32,
    height: u32,
    density: Option<(&str, f32)>,
    limits: &JobLimits,
) -> Result<(), Error> {
    for (field, value) in [("width", width), ("height", height)] {
        if value > limits.max_dimension {
            return Err(Error::invalid_input(format!(
                "input.{field}: {value} is over this host's largest dimension, {} pixels",
                limits.max_dimension
            )));
        }
    }
    match density {
        None => {
            let pixels = u64::from(width) * u64::from(height);
            if pixels > limits.max_pixels {
                return Err(Error::invalid_input(format!(
                    "input.width × input.height = {width} × {height} = {pixels} pixels, over this \
                     host's cap of {} pixels: lower width or height",
                    limits.max_pixels
                )));
            }
        }
        Some((field, density)) => {
            let scale = f64::from(density);
            let pixels = f64::from(width) * f64::from(height) * scale * scale;
            if pixels > limits.max_pixels as f64 {
                return Err(Error::invalid_input(format!(
                    "input.width × input.height × input.{field}² = {width} × {height} × \
                     {density}² = {pixels:.0} pixels, over this host's cap of {} pixels: lower \
                     width, height or {field}",
                    limits.max_pixels
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: JobLimits = JobLimits {
        max_dimension: 1000,
        max_pixels: 500_000,
        timeout_ms: 1000,
    };

    #[test]
    fn each_limit_names_the_fields() {
        assert!(check_page_size(1000, 500, None, &LIMITS).is_ok());
        let side = check_page_size(1001, 10, None, &LIMITS).unwrap_err();
        assert!(
            side.message.starts_with("input.width: 1001"),
            "{}",
            side.message
        );
        let area = check_page_size(1000, 501, None, &LIMITS).unwrap_err();
        assert!(
            area.message.contains("lower width or height"),
            "{}",
            area.message
        );
        let dense = check_page_size(500, 500, Some(("pixelDensity", 2.0)), &LIMITS).unwrap_err();
        assert!(
            dense.message.contains("input.pixelDensity²"),
            "{}",
            dense.message
        );
    }
}
