//! The host's job limits, checked when a job is submitted, for the input fields a plugin's schema
//! ties to them.
//!
//! A plugin names its size and length fields in its input schema's top-level `x-kiln-limits`
//! keyword (docs/plugins.md, "Limits checked at submit"):
//!
//! ```json
//! "x-kiln-limits": {
//!   "page": {"width": "width", "height": "height", "density": "pixelDensity"},
//!   "recording": {"frames": "frames", "durationS": "durationS", "fps": "fps",
//!                 "defaultFps": 30, "scale": "scale"}
//! }
//! ```
//!
//! `page`: each side at most `jobs.max_dimension`, width × height × density² at most
//! `jobs.max_pixels`. `recording`: the frame count (the `frames` field, or `durationS` × `fps`
//! rounded) at most `jobs.max_frames`, and frames × width × height × scale² at most
//! `jobs.max_frame_pixels`. Fields the input leaves out are not checked here (the plugin applies
//! its defaults and checks again when it runs); a schema without the keyword is checked against
//! the schema alone.

use crate::config::JobSettings;
use crate::error::RenderError;
use serde_json::Value;

/// Checks `input` against `limits` through the fields `schema`'s `x-kiln-limits` names.
pub fn check(schema: &Value, input: &Value, limits: &JobSettings) -> Result<(), RenderError> {
    let Some(declared) = schema.get("x-kiln-limits") else {
        return Ok(());
    };
    let number = |field: Option<&str>| field.and_then(|name| input.get(name)?.as_f64());
    let name = |section: &str, key: &str| -> Option<String> {
        declared.get(section)?.get(key)?.as_str().map(String::from)
    };

    let width_field = name("page", "width");
    let height_field = name("page", "height");
    let width = number(width_field.as_deref());
    let height = number(height_field.as_deref());
    for (field, value) in [(&width_field, width), (&height_field, height)] {
        if let (Some(field), Some(value)) = (field, value)
            && value > f64::from(limits.max_dimension)
        {
            return Err(RenderError::invalid_input(format!(
                "input.{field}: {value} is over this host's largest dimension, {} pixels \
                 (jobs.max_dimension)",
                limits.max_dimension
            )));
        }
    }
    if let (Some(wf), Some(hf), Some(w), Some(h)) = (&width_field, &height_field, width, height) {
        let density_field = name("page", "density");
        let density = number(density_field.as_deref()).unwrap_or(1.0);
        let pixels = w * h * density * density;
        if pixels > limits.max_pixels as f64 {
            let fields = match &density_field {
                Some(df) if density != 1.0 => {
                    format!("input.{wf} × input.{hf} × input.{df}² = {w} × {h} × {density}²")
                }
                _ => format!("input.{wf} × input.{hf} = {w} × {h}"),
            };
            return Err(RenderError::invalid_input(format!(
                "{fields} = {pixels:.0} pixels, over this host's cap of {} pixels \
                 (jobs.max_pixels): lower the size",
                limits.max_pixels
            )));
        }
    }

    if declared.get("recording").is_none() {
        return Ok(());
    }
    let frames_field = name("recording", "frames");
    let seconds_field = name("recording", "durationS");
    let fps_field = name("recording", "fps");
    let default_fps = declared
        .pointer("/recording/defaultFps")
        .and_then(Value::as_f64)
        .unwrap_or(30.0);
    let (frames, from) = match (
        number(frames_field.as_deref()),
        number(seconds_field.as_deref()),
    ) {
        (Some(frames), _) => (frames, frames_field.clone()),
        (None, Some(seconds)) => {
            let fps = number(fps_field.as_deref()).unwrap_or(default_fps);
            let frames = (seconds * fps).round();
            if frames > f64::from(limits.max_frames) {
                return Err(RenderError::invalid_input(format!(
                    "input.{}: {seconds} s at {fps} fps is {frames} frames, over this host's cap \
                     of {} frames (jobs.max_frames)",
                    seconds_field.as_deref().unwrap_or("durationS"),
                    limits.max_frames
                )));
            }
            (frames, None)
        }
        (None, None) => return Ok(()),
    };
    if let Some(field) = &from
        && frames > f64::from(limits.max_frames)
    {
        return Err(RenderError::invalid_input(format!(
            "input.{field}: {frames} is over this host's cap of {} frames (jobs.max_frames)",
            limits.max_frames
        )));
    }
    if let (Some(w), Some(h)) = (width, height) {
        let scale = number(name("recording", "scale").as_deref()).unwrap_or(1.0);
        let total = frames.max(1.0) * w * h * scale * scale;
        if total > limits.max_frame_pixels as f64 {
            return Err(RenderError::invalid_input(format!(
                "{frames} frames × {w} × {h} pixels × scale {scale}² = {total:.0} pixels, over \
                 this host's budget of {} (jobs.max_frame_pixels): record fewer or smaller frames",
                limits.max_frame_pixels
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "x-kiln-limits": {
            "page": {"width": "width", "height": "height", "density": "pixelDensity"},
            "recording": {"frames": "frames", "durationS": "durationS", "fps": "fps",
                          "defaultFps": 30, "scale": "scale"}
        }})
    }

    fn refusal(input: Value) -> String {
        check(&schema(), &input, &JobSettings::default())
            .expect_err("accepted")
            .message
    }

    #[test]
    fn each_limit_names_the_field_and_the_config_key() {
        let ok = json!({"width": 800, "height": 600, "frames": 60});
        check(&schema(), &ok, &JobSettings::default()).unwrap();

        let side = refusal(json!({"width": 9000, "height": 10}));
        assert!(side.starts_with("input.width: 9000"), "{side}");
        assert!(side.contains("jobs.max_dimension"), "{side}");
        let area = refusal(json!({"width": 8192, "height": 8192}));
        assert!(
            area.starts_with("input.width × input.height = 8192 × 8192"),
            "{area}"
        );
        assert!(area.contains("jobs.max_pixels"), "{area}");
        let dense = refusal(json!({"width": 4000, "height": 4000, "pixelDensity": 2}));
        assert!(dense.contains("input.pixelDensity²"), "{dense}");
        let frames = refusal(json!({"width": 10, "height": 10, "frames": 3601}));
        assert!(frames.starts_with("input.frames: 3601"), "{frames}");
        let long = refusal(json!({"width": 10, "height": 10, "durationS": 121}));
        assert!(
            long.starts_with("input.durationS: 121 s at 30 fps is 3630 frames"),
            "{long}"
        );
        assert!(long.contains("jobs.max_frames"), "{long}");
        let budget = refusal(json!({"width": 4000, "height": 4000, "frames": 200}));
        assert!(budget.contains("jobs.max_frame_pixels"), "{budget}");
    }

    #[test]
    fn schemas_without_the_keyword_and_missing_fields_pass() {
        let plain = json!({"type": "object"});
        let huge = json!({"width": 1e9, "height": 1e9, "frames": 1e9});
        check(&plain, &huge, &JobSettings::default()).unwrap();
        check(&schema(), &json!({"code": "x"}), &JobSettings::default()).unwrap();
    }
}
