//! Host-side bindings for the `kiln:render/plugin@1.0.0` world, generated from `wit/`.
//!
//! Resources map to host types that live in their capability's folder: a `page` is a
//! [`crate::browser::JobPage`], an `image` a [`crate::media::HostImage`], a `blob` a
//! [`crate::media::HostBlob`].

use crate::error::{ErrorKind, RenderError};

wasmtime::component::bindgen!({
    path: "../wit",
    world: "kiln:render/plugin@1.0.0",
    imports: { default: async | trappable },
    exports: { default: async },
    with: {
        "kiln:render/browser.page": crate::browser::JobPage,
        "kiln:render/media.image": crate::media::HostImage,
        "kiln:render/media.blob": crate::media::HostBlob,
        "kiln:render/media.frames": crate::media::HostFrames,
    },
});

use self::kiln::render::types::{Error as WitError, ErrorKind as WitErrorKind};

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
