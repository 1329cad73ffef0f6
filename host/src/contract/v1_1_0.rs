//! Bindings for `kiln:render@1.1.0` (`wit/v1.1.0/`), the newest version: 1.0.0 plus recordings
//! (`page.record`, `page.use-virtual-time`, the `frames` resource), tape baking (`media.bake-tape`),
//! `storage.get` and `host.recording-limits`.
//!
//! Each capability folder implements this version's `Host` traits on its own per-job view.

wasmtime::component::bindgen!({
    path: "../wit/v1.1.0",
    world: "kiln:render/plugin@1.1.0",
    imports: { default: async | trappable },
    exports: { default: async },
    trappable_error_type: { "kiln:render/types.error" => crate::error::RenderError },
    with: {
        "kiln:render/browser.page": crate::browser::JobPage,
        "kiln:render/media.image": crate::media::HostImage,
        "kiln:render/media.blob": crate::media::HostBlob,
        "kiln:render/media.frames": crate::media::HostFrames,
    },
});
