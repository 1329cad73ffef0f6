//! Bindings for `kiln:render@1.3.0` (`wit/v1.3.0/`), the newest version: 1.2.0 plus `sources`
//! (KidLisp sources and the top-pieces listing, fetched by the host) and the `sources`
//! capability.
//!
//! `browser`, `host`, `media` and `storage` are 1.1.0's word for word, and `pixels` is 1.2.0's,
//! so they map onto those modules, as in `v1_2_0.rs`. `types` changed: its `capability` enum
//! gained `sources`. Its records and the other enums did not, so the 1.3.0 `types` module maps
//! them onto 1.1.0's Rust types type by type (`error-kind`, `error`, `artifact`,
//! `image-format`) and generates only the new `Capability`. The unchanged interfaces can then
//! keep their 1.1.0 definitions in the linker: a 1.3.0 import of them uses `error` and
//! `image-format` exactly as 1.1.0 lays them out (component types are structural), and wasmtime
//! answers it with the newest 1.x definition. Only the world's exports (`plugin-info` carries
//! the capabilities) see the new enum; `plugins/instance.rs` converts older versions' lists.

mod generated {
    wasmtime::component::bindgen!({
        path: "../wit/v1.3.0",
        world: "kiln:render/plugin@1.3.0",
        imports: { default: async | trappable },
        exports: { default: async },
        trappable_error_type: { "kiln:render/types.error" => crate::error::RenderError },
        with: {
            "kiln:render/types.error-kind": crate::contract::v1_1_0::kiln::render::types::ErrorKind,
            "kiln:render/types.error": crate::contract::v1_1_0::kiln::render::types::Error,
            "kiln:render/types.artifact": crate::contract::v1_1_0::kiln::render::types::Artifact,
            "kiln:render/types.image-format": crate::contract::v1_1_0::kiln::render::types::ImageFormat,
            "kiln:render/host": crate::contract::v1_1_0::kiln::render::host,
            "kiln:render/media": crate::contract::v1_1_0::kiln::render::media,
            "kiln:render/storage": crate::contract::v1_1_0::kiln::render::storage,
            "kiln:render/browser": crate::contract::v1_1_0::kiln::render::browser,
            "kiln:render/pixels": crate::contract::v1_2_0::kiln::render::pixels,
        },
    });
}

pub use generated::*;

/// Every interface of 1.3.0 under one path, as the bindings of a version without shared
/// interfaces would lay them out.
pub mod kiln {
    /// The `kiln:render` package.
    pub mod render {
        pub use super::super::generated::kiln::render::{sources, types};
        pub use crate::contract::v1_1_0::kiln::render::{browser, host, media, storage};
        pub use crate::contract::v1_2_0::kiln::render::pixels;
    }
}
