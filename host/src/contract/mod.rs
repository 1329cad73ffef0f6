//! The `kiln:render` contract as the host sees it: one module of wasmtime bindings per released
//! version of `wit/`, the list of versions this host serves, and the conversions between the WIT
//! error and [`RenderError`].
//!
//! A released version never changes (`released.rs` holds the digest of each one's files and a test
//! fails when they change). The host implements the newest version, [`latest`], in each
//! capability's folder; every older version is served by a thin adapter beside it that converts
//! arguments and calls the newest implementation, the way Zed's extension host keeps its
//! `since_vX` APIs.
//!
//! This module sits below the capability folders: it names their resource types (wasmtime's
//! `with`, as wasmtime-wasi's own bindings do) and nothing else of theirs.

mod error;
mod released;
pub mod v1_0_0;
pub mod v1_1_0;
pub mod v1_2_0;
pub mod v1_3_0;
pub mod v1_4_0;
mod version;

pub use released::RELEASED;
pub use version::{ContractVersion, contract_version_of};

/// The newest version: what capability folders implement and the SDK builds against.
pub use v1_4_0 as latest;
