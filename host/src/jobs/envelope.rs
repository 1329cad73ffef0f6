//! The job envelope clients submit: `{"id"?, "type", "input"}`.

use crate::error::RenderError;
use serde::Deserialize;

/// One job as submitted. `type` may pin a version: `p5@0.1.0`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = JobEnvelope)]
pub struct JobSpec {
    /// Client-chosen id (letters, digits, `-`, `_`, at most 128); generated when absent.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9_-]{1,128}$")]
    pub id: Option<String>,
    /// A job type, optionally pinned to a plugin version: `p5` or `p5@0.1.0`.
    #[serde(rename = "type")]
    pub job_type: String,
    /// Validated against the plugin's input schema (`GET /plugins`).
    pub input: serde_json::Value,
    /// A URL the finished job is POSTed to (`kiln serve` only; needs `service.webhook_secret`),
    /// signed `X-Kiln-Signature: sha256=HMAC(service.webhook_secret, body)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "uri")]
    pub callback: Option<String>,
}

impl JobSpec {
    /// Parses one job from JSON, with the position of a syntax error or the missing field.
    pub fn from_json(text: &str) -> Result<Self, RenderError> {
        let spec: JobSpec = serde_json::from_str(text).map_err(|e| {
            RenderError::invalid_input(format!(
                "the job is not a valid job envelope {{\"id\"?, \"type\", \"input\"}}: {e}"
            ))
        })?;
        spec.check_id()?;
        Ok(spec)
    }

    fn check_id(&self) -> Result<(), RenderError> {
        if let Some(id) = &self.id {
            let ok = !id.is_empty()
                && id.len() <= 128
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err(RenderError::invalid_input(format!(
                    "id {id:?} is not allowed: use 1–128 letters, digits, '-' or '_'"
                )));
            }
        }
        Ok(())
    }

    /// The id to use: the client's, or a new UUID.
    pub fn id_or_new(&self) -> String {
        self.id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_json_gives_the_position() {
        let err = JobSpec::from_json("{\"type\": \"p5\", ").unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::InvalidInput);
        assert!(err.message.contains("line 1"), "{}", err.message);
    }

    #[test]
    fn missing_type_is_named() {
        let err = JobSpec::from_json(r#"{"input": {}}"#).unwrap_err();
        assert!(
            err.message.contains("missing field `type`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn ids_cannot_be_paths() {
        let err = JobSpec::from_json(r#"{"id": "../x", "type": "p5", "input": {}}"#).unwrap_err();
        assert!(err.message.contains("id \"../x\""), "{}", err.message);
    }
}
