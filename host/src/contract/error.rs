//! The WIT `error` record and [`RenderError`] are the same thing on two sides of the sandbox.

use super::latest::kiln::render::types::{Error as WitError, ErrorKind as WitErrorKind};
use crate::error::{ErrorKind, RenderError};
use wasmtime::component::ResourceTableError;

impl From<RenderError> for WitError {
    fn from(err: RenderError) -> Self {
        let kind = match err.kind {
            ErrorKind::InvalidInput => WitErrorKind::InvalidInput,
            ErrorKind::PieceFailed => WitErrorKind::PieceFailed,
            ErrorKind::Timeout => WitErrorKind::Timeout,
            ErrorKind::Unavailable => WitErrorKind::Unavailable,
            ErrorKind::Denied => WitErrorKind::Denied,
            ErrorKind::Internal => WitErrorKind::Internal,
        };
        WitError {
            kind,
            message: err.message,
        }
    }
}

impl From<WitError> for RenderError {
    fn from(err: WitError) -> Self {
        let kind = match err.kind {
            WitErrorKind::InvalidInput => ErrorKind::InvalidInput,
            WitErrorKind::PieceFailed => ErrorKind::PieceFailed,
            WitErrorKind::Timeout => ErrorKind::Timeout,
            WitErrorKind::Unavailable => ErrorKind::Unavailable,
            WitErrorKind::Denied => ErrorKind::Denied,
            WitErrorKind::Internal => ErrorKind::Internal,
        };
        RenderError {
            kind,
            message: err.message,
        }
    }
}

/// A handle the plugin passed that is not in its table (dropped, or of another type) is a bug in
/// the plugin or the host, reported to the plugin as `internal` rather than trapping it.
impl From<ResourceTableError> for RenderError {
    fn from(err: ResourceTableError) -> Self {
        RenderError::internal(format!("a resource handle the plugin passed: {err}"))
    }
}

/// Implements the `types` interface (no functions; it converts [`RenderError`] into the WIT
/// error for every fallible host call) for a capability's per-job view.
#[macro_export]
macro_rules! impl_wit_types {
    ($view:ty) => {
        impl $crate::contract::latest::kiln::render::types::Host for $view {
            fn convert_error(
                &mut self,
                err: $crate::error::RenderError,
            ) -> wasmtime::Result<$crate::contract::latest::kiln::render::types::Error> {
                Ok(err.into())
            }
        }
    };
}
