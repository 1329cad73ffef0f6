//! The poster-card job's input, its JSON Schema, and the checks made in code.
//!
//! The host validates every job against the schema before it runs, but the plugin checks the same
//! bounds again (and the host's own limits, which the schema cannot know) so each error names its
//! field. `Serialize` is derived only so that schemars can write the defaults into the schema.

use kiln_sdk::Error;
use kiln_sdk::host::JobLimits;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest subtitle, in characters.
pub const MAX_SUBTITLE_CHARS: usize = 300;
/// Most chart rows.
pub const MAX_ITEMS: usize = 12;
/// Longest row label, in characters.
pub const MAX_LABEL_CHARS: usize = 60;
/// Smallest and largest width or height, in pixels.
pub const MIN_SIZE: u32 = 100;
pub const MAX_SIZE: u32 = 4096;

/// A poster card: a title, an optional subtitle and an optional horizontal bar chart.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PosterInput {
    /// The headline, 1–200 characters. Shrunk to fit when it is long.
    #[schemars(length(min = 1, max = 200))]
    pub title: String,
    /// A line of text under the title, up to 300 characters.
    #[schemars(length(max = 300))]
    pub subtitle: Option<String>,
    /// Up to 12 rows drawn as a horizontal bar chart, longest bar for the largest value.
    #[serde(default)]
    #[schemars(length(max = 12))]
    pub items: Vec<Item>,
    /// Colour scheme: `light` (default) or `dark`.
    #[serde(default)]
    pub theme: Theme,
    /// Image width in pixels, 100–4096 (default 1200).
    #[serde(default = "default_width")]
    #[schemars(range(min = 100, max = 4096))]
    pub width: u32,
    /// Image height in pixels, 100–4096 (default 630).
    #[serde(default = "default_height")]
    #[schemars(range(min = 100, max = 4096))]
    pub height: u32,
    /// The image format of the result: `png` (default), `jpeg` or `webp`.
    #[serde(default)]
    pub format: Format,
}

/// One row of the bar chart.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Item {
    /// The row's label, 1–60 characters.
    #[schemars(length(min = 1, max = 60))]
    pub label: String,
    /// The row's value, zero or more; bars are scaled to the largest value.
    #[schemars(range(min = 0))]
    pub value: f64,
}

/// Colour scheme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

/// Output image format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Png,
    Jpeg,
    Webp,
}

fn default_width() -> u32 {
    1200
}

fn default_height() -> u32 {
    630
}

impl Theme {
    /// The CSS class the page styles by.
    pub fn class(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpg",
            Format::Webp => "webp",
        }
    }
}

impl PosterInput {
    /// Checks the fixed bounds and the limits this host is configured with, naming the field.
    pub fn check(&self, limits: &JobLimits) -> Result<(), Error> {
        check_text("input.title", &self.title, 1, MAX_TITLE_CHARS)?;
        if let Some(subtitle) = &self.subtitle {
            check_text("input.subtitle", subtitle, 0, MAX_SUBTITLE_CHARS)?;
        }
        if self.items.len() > MAX_ITEMS {
            return Err(Error::invalid_input(format!(
                "input.items: {} rows, at most {MAX_ITEMS} fit on a card",
                self.items.len()
            )));
        }
        for (i, item) in self.items.iter().enumerate() {
            check_text(
                &format!("input.items[{i}].label"),
                &item.label,
                1,
                MAX_LABEL_CHARS,
            )?;
            if !item.value.is_finite() || item.value < 0.0 {
                return Err(Error::invalid_input(format!(
                    "input.items[{i}].value: {} is not a number of zero or more",
                    item.value
                )));
            }
        }
        for (field, value) in [("width", self.width), ("height", self.height)] {
            if !(MIN_SIZE..=MAX_SIZE).contains(&value) {
                return Err(Error::invalid_input(format!(
                    "input.{field}: {value} is out of range, give {MIN_SIZE} to {MAX_SIZE} pixels"
                )));
            }
        }
        kiln_sdk::size::check_page_size(self.width, self.height, None, limits)
    }
}

fn check_text(field: &str, value: &str, min: usize, max: usize) -> Result<(), Error> {
    let chars = value.chars().count();
    if chars < min {
        return Err(Error::invalid_input(format!("{field}: must not be empty")));
    }
    if chars > max {
        return Err(Error::invalid_input(format!(
            "{field}: {chars} characters, at most {max} allowed"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: JobLimits = JobLimits {
        max_dimension: 8192,
        max_pixels: 16_777_216,
        timeout_ms: 30_000,
    };

    fn parse(json: &str) -> PosterInput {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn defaults_fill_what_is_missing() {
        let input = parse(r#"{"title":"Hi"}"#);
        assert_eq!((input.width, input.height), (1200, 630));
        assert_eq!(input.theme, Theme::Light);
        assert_eq!(input.format, Format::Png);
        assert!(input.items.is_empty());
        input.check(&LIMITS).unwrap();
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse(r#"{"title":"Hi","height":99}"#)
            .check(&LIMITS)
            .unwrap_err();
        assert!(
            err.message.starts_with("input.height: 99"),
            "{}",
            err.message
        );
        let long = "x".repeat(201);
        let err = parse(&format!(r#"{{"title":"{long}"}}"#))
            .check(&LIMITS)
            .unwrap_err();
        assert!(
            err.message.starts_with("input.title: 201"),
            "{}",
            err.message
        );
        let err = parse(r#"{"title":"Hi","items":[{"label":"a","value":-1}]}"#)
            .check(&LIMITS)
            .unwrap_err();
        assert!(
            err.message.starts_with("input.items[0].value"),
            "{}",
            err.message
        );
    }

    #[test]
    fn host_limits_are_checked() {
        let small = JobLimits {
            max_dimension: 1000,
            ..LIMITS
        };
        let err = parse(r#"{"title":"Hi"}"#).check(&small).unwrap_err();
        assert!(
            err.message.starts_with("input.width: 1200"),
            "{}",
            err.message
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<PosterInput>(r#"{"title":"Hi","colour":"red"}"#).is_err());
    }
}
