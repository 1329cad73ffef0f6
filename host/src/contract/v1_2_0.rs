//! Bindings for `kiln:render@1.2.0` (`wit/v1.2.0/`), the newest version: 1.1.0 plus `pixels`
//! (stills from RGBA bytes and a streaming frame encoder, for plugins that draw themselves).
//!
//! Its other interfaces are 1.1.0's, word for word, so they map onto the 1.1.0 modules: one Rust
//! trait per interface, implemented once. The linker defines them under their 1.1.0 names, and
//! wasmtime answers a 1.2.0 import of an interface with the newest 1.x definition of it (its
//! semver-compatible lookup), which is that one. An interface that changes in a later version
//! gets its own module there, and the older version an adapter.

mod generated {
    wasmtime::component::bindgen!({
        path: "../wit/v1.2.0",
        world: "kiln:render/plugin@1.2.0",
        imports: { default: async | trappable },
        exports: { default: async },
        trappable_error_type: { "kiln:render/types.error" => crate::error::RenderError },
        with: {
            "kiln:render/types": crate::contract::v1_1_0::kiln::render::types,
            "kiln:render/host": crate::contract::v1_1_0::kiln::render::host,
            "kiln:render/media": crate::contract::v1_1_0::kiln::render::media,
            "kiln:render/storage": crate::contract::v1_1_0::kiln::render::storage,
            "kiln:render/browser": crate::contract::v1_1_0::kiln::render::browser,
            "kiln:render/pixels.frame-encoder": crate::media::HostFrameEncoder,
        },
    });
}

pub use generated::*;

/// Every interface of 1.2.0 under one path, as the bindings of a version without shared
/// interfaces would lay them out.
pub mod kiln {
    /// The `kiln:render` package.
    pub mod render {
        pub use super::super::generated::kiln::render::pixels;
        pub use crate::contract::v1_1_0::kiln::render::{browser, host, media, storage, types};
    }
}
