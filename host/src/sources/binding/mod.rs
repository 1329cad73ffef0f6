//! `kiln:render/sources@1.3.0` on [`SourcesCtx`]. A new interface: no older version to adapt.

use super::api::ListedPiece;
use super::context::SourcesCtx;
use crate::contract::latest::kiln::render::sources::{Embed, Host, Piece, ResolvedSource};
use crate::error::RenderError;

impl Host for SourcesCtx {
    async fn kidlisp_source(&mut self, code: String) -> Result<ResolvedSource, RenderError> {
        let resolved = self.resolve_source(&code).await?;
        Ok(ResolvedSource {
            code: resolved.code,
            source: resolved.piece.source,
            handle: resolved.piece.handle,
            embeds: resolved
                .embeds
                .into_iter()
                .map(|(code, source)| Embed { code, source })
                .collect(),
        })
    }

    async fn top_kidlisp(
        &mut self,
        limit: u32,
        handle: Option<String>,
    ) -> Result<Vec<Piece>, RenderError> {
        let pieces = self.listing(limit, handle.as_deref()).await?;
        Ok(pieces.into_iter().map(Piece::from).collect())
    }
}

impl From<ListedPiece> for Piece {
    fn from(p: ListedPiece) -> Self {
        Piece {
            code: p.code,
            source: p.source,
            hits: p.hits,
            handle: p.handle,
        }
    }
}
