//! Bindings for `kiln:render@1.4.0` (`wit/v1.4.0/`), the newest version: 1.3.0 plus `libraries`
//! (the bytes of the libraries the host serves to pages), `recording` (page recordings with a
//! playback rate, blank frames left out, page errors tolerated and a flat-colour verdict) and
//! `about` (the host's version).
//!
//! Every other interface is unchanged, so it maps onto the module of the version that last
//! changed it, as in `v1_3_0.rs`: `browser`, `host`, `media`, `storage` and `types` are 1.1.0's,
//! `pixels` is 1.2.0's and `sources` is 1.3.0's. The world's `Capability` has 1.3.0's cases but
//! is a type of this world; `plugins/instance.rs` converts older versions' lists.

mod generated {
    wasmtime::component::bindgen!({
        path: "../wit/v1.4.0",
        world: "kiln:render/plugin@1.4.0",
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
            "kiln:render/sources": crate::contract::v1_3_0::kiln::render::sources,
        },
    });
}

pub use generated::*;

/// Every interface of 1.4.0 under one path, as the bindings of a version without shared
/// interfaces would lay them out.
pub mod kiln {
    /// The `kiln:render` package.
    pub mod render {
        pub use super::super::generated::kiln::render::{about, libraries, recording};
        pub use crate::contract::v1_1_0::kiln::render::{browser, host, media, storage};
        pub use crate::contract::v1_2_0::kiln::render::pixels;
        pub use crate::contract::v1_3_0::kiln::render::sources;

        /// 1.1.0's `types`, with 1.4.0's `capability` (declared in the world) beside them.
        pub mod types {
            pub use super::super::super::generated::Capability;
            pub use crate::contract::v1_1_0::kiln::render::types::{
                Artifact, Error, ErrorKind, Host, ImageFormat, add_to_linker,
            };
        }
    }
}
