//! The `sources` capability's per-job state: whether the plugin may fetch, and the process's
//! one client.

use super::api::{ListedPiece, StoredSource};
use super::client::{SourceClient, normalize_code};
use super::resolve::{EmbedLimits, PieceFetch, Resolved, resolve};
use crate::error::RenderError;
use crate::jobs::JobContext;
use std::sync::Arc;

/// Whether a plugin's job may use the `sources` interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourcesGrant {
    /// Granted by config and declared in `describe`.
    Granted,
    /// Declared or imported, but config does not grant it to this plugin.
    NotGranted {
        /// The plugin's name, for the config key in the message.
        plugin: String,
    },
    /// Granted, but the plugin did not declare it in `describe`.
    NotDeclared,
}

/// One job's use of the piece store.
pub struct SourcesCtx {
    job: Arc<JobContext>,
    client: Option<Arc<SourceClient>>,
    grant: SourcesGrant,
}

impl SourcesCtx {
    /// The context of one job; `client` is `None` where the process has none (`describe`).
    pub fn new(
        job: Arc<JobContext>,
        client: Option<Arc<SourceClient>>,
        grant: SourcesGrant,
    ) -> Self {
        Self { job, client, grant }
    }

    /// The client, if this job may use it: granted, declared, and not inside `describe`.
    fn client(&self) -> Result<&Arc<SourceClient>, RenderError> {
        match &self.grant {
            SourcesGrant::Granted => {}
            SourcesGrant::NotGranted { plugin } => {
                return Err(RenderError::denied(format!(
                    "plugin {plugin} called the `sources` interface, but this host does not \
                     grant it the `sources` capability (fetching piece sources over the \
                     network); an operator can grant it with `plugins.per_plugin.{plugin}.grants`"
                )));
            }
            SourcesGrant::NotDeclared => {
                RenderError::require_capability(false, "sources", "sources")?;
            }
        }
        self.job.check_services_allowed()?;
        self.client
            .as_ref()
            .ok_or_else(|| RenderError::unavailable("this job has no piece store client"))
    }

    /// Piece `code` and everything it embeds.
    pub async fn resolve_source(&self, code: &str) -> Result<Resolved, RenderError> {
        let client = self.client()?;
        let code = normalize_code(code)?;
        let settings = client.settings();
        let limits = EmbedLimits {
            max_depth: settings.max_embed_depth,
            max_embeds: settings.max_embeds,
        };
        let fetch = JobFetch {
            client,
            job: &self.job,
        };
        let resolved = resolve(&fetch, &code, limits).await?;
        self.job.log.info(
            "host",
            format!(
                "piece ${code}: {} bytes of source and {} embedded piece(s)",
                resolved.piece.source.len(),
                resolved.embeds.len()
            ),
        );
        Ok(resolved)
    }

    /// The `limit` most-played pieces, only `handle`'s when given.
    pub async fn listing(
        &self,
        limit: u32,
        handle: Option<&str>,
    ) -> Result<Vec<ListedPiece>, RenderError> {
        let client = self.client()?;
        let max = client.settings().max_listing;
        if !(1..=max).contains(&limit) {
            return Err(RenderError::invalid_input(format!(
                "a listing of {limit} pieces: the limit is 1 to {max} (sources.max_listing)"
            )));
        }
        let listing = client.listing(limit, self.job.deadline).await?;
        let wanted = handle.map(|h| h.strip_prefix('@').unwrap_or(h).to_ascii_lowercase());
        Ok(listing
            .iter()
            .filter(|piece| match &wanted {
                None => true,
                Some(wanted) => piece.handle.as_deref().is_some_and(|h| {
                    h.strip_prefix('@').unwrap_or(h).to_ascii_lowercase() == *wanted
                }),
            })
            .cloned()
            .collect())
    }
}

/// Fetches through the process's client under this job's deadline.
struct JobFetch<'a> {
    client: &'a SourceClient,
    job: &'a JobContext,
}

#[async_trait::async_trait]
impl PieceFetch for JobFetch<'_> {
    async fn fetch(&self, code: &str) -> Result<StoredSource, RenderError> {
        self.client.source(code, self.job.deadline).await
    }
}

crate::impl_wit_types!(SourcesCtx);
