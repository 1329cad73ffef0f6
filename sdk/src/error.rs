//! Constructors for the WIT `error` record, so plugins say what failed in one call.

use crate::{Error, ErrorKind};
use std::fmt;

impl Error {
    /// The job's input is wrong: name the field and what would be right.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::InvalidInput,
            message: message.into(),
        }
    }
    /// The piece (the user's code) failed: include the page's own error text.
    pub fn piece_failed(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::PieceFailed,
            message: message.into(),
        }
    }
    /// A deadline passed.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Timeout,
            message: message.into(),
        }
    }
    /// A bug or broken invariant in the plugin.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Internal,
            message: message.into(),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::PieceFailed => "piece-failed",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Denied => "denied",
            ErrorKind::Internal => "internal",
        })
    }
}
