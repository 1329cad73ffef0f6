//! Bindings for `kiln:render@1.0.0` (`wit/v1.0.0/`), the first released version: pages, stills,
//! blobs and `storage.put`.
//!
//! Its `types` interface is identical to 1.1.0's, so it maps onto the same Rust types (errors,
//! artifacts, capabilities, image formats need no conversion). Its other interfaces are served by
//! adapters in each capability's folder (`binding/v1_0_0.rs`) that call the 1.1.0 implementation.

wasmtime::component::bindgen!({
    path: "../wit/v1.0.0",
    world: "kiln:render/plugin@1.0.0",
    imports: { default: async | trappable },
    exports: { default: async },
    trappable_error_type: { "kiln:render/types.error" => crate::error::RenderError },
    with: {
        "kiln:render/types": crate::contract::v1_1_0::kiln::render::types,
        "kiln:render/browser.page": crate::browser::JobPage,
        "kiln:render/media.image": crate::media::HostImage,
        "kiln:render/media.blob": crate::media::HostBlob,
    },
});
