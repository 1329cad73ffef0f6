//! Kiln: a render host for creative code.
//!
//! One process owns the scarce and dangerous parts — the Chromium pool, encoders, object storage —
//! and every job type is a sandboxed WebAssembly component that reaches them only through the
//! `kiln:render` WIT interfaces. Each folder below is one capability, holding both its runtime and
//! its side of the WIT binding:
//!
//! - [`plugins`]: the wasmtime engine, compiled-component cache, registry and per-job limits;
//! - [`browser`]: the Chromium pool, offline pages and the `browser` interface;
//! - [`media`]: host-held images and blobs (the `media` interface);
//! - [`storage`]: the artifact store (the `storage` interface);
//! - [`sources`]: KidLisp sources fetched from the operator's piece store (the `sources` interface);
//! - [`jobs`]: job envelopes, the runner, outcomes and the `host` interface;
//! - [`cli`]: the `kiln` command line.

/// Declares a protocol enum from one table of variants and the strings they are on the wire (JSON
/// bodies, SSE event names, Redis fields, metric labels), so that no string of the protocol is
/// written twice. It generates `as_str`, `NAMES`, `from_wire`, `Display`, `FromStr`, serde's `Serialize` and
/// `Deserialize`, and utoipa's schema (a string enum), all from that table.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value's wire string, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($wire),+];

            /// The string this value is on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// The value whose wire string is `name`, if any.
            pub fn from_wire(name: &str) -> Option<Self> {
                match name {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(name: &str) -> Result<Self, String> {
                Self::from_wire(name).ok_or_else(|| {
                    format!(
                        "{name:?} is not a {}: expected one of {}",
                        stringify!($name),
                        Self::NAMES.join(", ")
                    )
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(f, "one of {}", $name::NAMES.join(", "))
                    }
                    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<$name, E> {
                        $name::from_wire(name)
                            .ok_or_else(|| E::unknown_variant(name, $name::NAMES))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some($name::NAMES.iter().copied()))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

pub mod api;
pub mod browser;
pub mod cli;
pub mod config;
pub mod contract;
pub mod error;
pub mod jobs;
pub mod kiln;
pub mod media;
pub mod net;
pub mod plugins;
pub mod queue;
pub mod runner;
pub mod schedule;
pub mod service;
pub mod sources;
pub mod storage;

#[cfg(test)]
mod layering;

pub use config::Config;
pub use error::{ErrorKind, RenderError};
pub use kiln::Kiln;
