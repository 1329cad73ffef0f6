//! Bindings for `kiln:render@1.3.0` (`wit/v1.3.0/`), the newest version: 1.2.0 plus `sources`
//! (KidLisp sources and the top-pieces listing, fetched by the host) and the `sources`
//! capability.
//!
//! `browser`, `host`, `media`, `storage` and `types` are 1.1.0's (`types` lost `capability`,
//! which moved into the world), and `pixels` is 1.2.0's, so they map onto those modules, as in
//! `v1_2_0.rs`: one Rust trait per interface, implemented once. The world's own `Capability`
//! (with `sources`) is generated here; `plugins/instance.rs` converts older versions' lists.
//! (`wit/README.md` says why the enum moved rather than changed in `types`.)

mod generated {
    wasmtime::component::bindgen!({
        path: "../wit/v1.3.0",
        world: "kiln:render/plugin@1.3.0",
        imports: { default: async | trappable },
        exports: { default: async },
        trappable_error_type: { "kiln:render/types.error" => crate::error::RenderError },
        with: {
            "kiln:render/types": crate::contract::v1_1_0::kiln::render::types,
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
        pub use super::super::generated::kiln::render::sources;
        pub use crate::contract::v1_1_0::kiln::render::{browser, host, media, storage};
        pub use crate::contract::v1_2_0::kiln::render::pixels;

        /// 1.1.0's `types`, with 1.3.0's `capability` (declared in the world) beside them.
        pub mod types {
            pub use super::super::super::generated::Capability;
            pub use crate::contract::v1_1_0::kiln::render::types::{
                Artifact, Error, ErrorKind, Host, ImageFormat, add_to_linker,
            };
        }
    }
}
