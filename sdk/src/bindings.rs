//! Bindings generated from `wit/v1.4.0/` (the newest contract version, linked as `sdk/wit` so the
//! packaged crate carries it) for the `kiln:render/plugin@1.4.0` world.
//!
//! Most authors use the re-exports at the crate root instead of this module. Every record, field,
//! function and case carries its WIT doc comment; what wit-bindgen adds around them (package
//! modules, `use` aliases, the `Guest` trait behind `export_plugin!`) has no WIT source to take
//! docs from, hence the `allow`.
#![allow(missing_docs)]

wit_bindgen::generate!({
    path: "wit",
    world: "kiln:render/plugin@1.4.0",
    pub_export_macro: true,
    export_macro_name: "export_bindings",
    default_bindings_module: "kiln_sdk::bindings",
});
