//! The typed error every capability returns; its kind decides what happens next.

use serde::{Deserialize, Serialize};

wire_enum! {
    /// What kind of failure this is. Mirrors the WIT `error-kind`; its kebab-case name is used
    /// in JSON and logs.
    pub enum ErrorKind {
        /// The client's input is wrong; not retried.
        InvalidInput = "invalid-input",
        /// The piece threw or never became ready.
        PieceFailed = "piece-failed",
        /// A deadline passed.
        Timeout = "timeout",
        /// A host resource (browser, storage) is down; retried.
        Unavailable = "unavailable",
        /// A capability was not granted.
        Denied = "denied",
        /// A bug or broken invariant.
        Internal = "internal",
    }
}

/// A failure with its kind and a message that says what failed and what to do.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error, utoipa::ToSchema,
)]
#[error("{kind}: {message}")]
pub struct RenderError {
    pub kind: ErrorKind,
    pub message: String,
}

impl RenderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
    pub fn piece_failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PieceFailed, message)
    }
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }
    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Denied, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// `denied` unless `granted`: a plugin called the `interface` interface without declaring
    /// the `capability` capability.
    pub fn require_capability(
        granted: bool,
        capability: &str,
        interface: &str,
    ) -> Result<(), RenderError> {
        if granted {
            Ok(())
        } else {
            Err(RenderError::denied(format!(
                "this plugin called the `{interface}` interface without declaring the \
                 `{capability}` capability in describe(); add it to the plugin's CAPABILITIES"
            )))
        }
    }
}
