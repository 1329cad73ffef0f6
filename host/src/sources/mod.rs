//! Piece sources: the `sources` capability.
//!
//! The host fetches KidLisp sources (a piece by its `$code`, with every piece it embeds,
//! resolved here, breadth first, within `sources.max_embed_depth` and `sources.max_embeds`) and
//! the top-pieces listing from the piece store its config names (aesthetic.computer's API by
//! default). Only the host talks to the network, never a page or a plugin: one client per
//! process ([`SourceClient`]) that reaches only the hosts in `sources.allowed_hosts`, only
//! public addresses unless `sources.allow_private`, follows no redirects, bounds every answer
//! by `sources.timeout_ms` and `sources.max_response_bytes`, and keeps what it got for
//! `sources.cache_ttl_s` (a moka cache, so concurrent jobs asking for one piece make one
//! request).
//!
//! The capability is granted per plugin (`plugins.per_plugin.<name>.grants`; the built-in job
//! types have it by default). Unlike the others, a plugin that imports it without the grant
//! still loads, so a job type can offer it as an option: its calls fail `denied`, naming the
//! config key.

mod api;
mod binding;
mod client;
mod context;
mod resolve;
mod settings;

pub use api::{ListedPiece, StoredSource, parse_listing, parse_source};
pub use client::{SourceClient, normalize_code};
pub use context::{SourcesCtx, SourcesGrant};
pub use resolve::{EmbedLimits, PieceFetch, Resolved, resolve};
pub use settings::{SourcesSettings, check_settings};
