//! Frozen and dud pieces (shared/OVEN.md §3.4): a recording the oven's routes made of a piece
//! (a `$code`, or a page of the site) that never moved (every frame identical) or is one flat colour is noted, with how often and
//! when, for `GET /api/frozen`; `DELETE /api/frozen/{piece}` (admin) forgets one. The list is
//! informational, as the oven's was: a frozen piece still renders, and it is not a dead letter.
//!
//! The notes are small JSON objects in the store under `oven/frozen/`, so every process sharing
//! the store sees one list; two processes noting one piece at the same moment may count one
//! attempt, not two.

use super::artifact;
use super::piece::Piece;
use crate::api::auth::require_admin;
use crate::api::error::ApiError;
use crate::queue::JobRecord;
use crate::service::Service;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where the notes are kept in the store: under the segment no job may take as its id.
/// (`storage::HOST_SEGMENT`).
const PREFIX: &str = "oven/frozen";

/// One piece's note.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FrozenPiece {
    /// `$code`, or the page's name.
    pub piece: String,
    /// Recordings that came out frozen or a dud.
    pub attempts: u64,
    /// The first time (RFC 3339, UTC).
    pub first_detected: String,
    /// The latest time.
    pub last_attempt: String,
    /// `frozen` (every frame identical) or `UNIFORM_COLOR:#rrggbb` (a dud, §3.2).
    pub reason: String,
    /// The recording's poster.
    pub preview_url: Option<String>,
    /// The job that made the latest recording.
    pub job: String,
}

fn key(piece: &Piece) -> String {
    format!("{PREFIX}/{}.json", piece.key())
}

/// Notes `record`'s recording of `$code` if it came out frozen or a dud. Failures to read or
/// write the note are logged: the request it rides on is answered regardless.
pub(super) async fn note(service: &Service, record: &JobRecord, piece: &Piece) {
    if let Err(err) = try_note(service, record, piece).await {
        tracing::warn!(
            piece = %piece.name(),
            "could not note a frozen or dud piece: {}",
            err.message
        );
    }
}

async fn try_note(service: &Service, record: &JobRecord, piece: &Piece) -> Result<(), ApiError> {
    let Ok(report) = artifact(record, "recording.json", "the recording's report") else {
        return Ok(());
    };
    let report: serde_json::Value =
        serde_json::from_slice(&service.kiln.store.get(&report.key).await?).unwrap_or_default();
    let reason = if report["frozen"] == true {
        "frozen".to_string()
    } else if report["dud"] == true {
        format!(
            "UNIFORM_COLOR:{}",
            report["dudColor"].as_str().unwrap_or("?")
        )
    } else {
        return Ok(());
    };
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let earlier: Option<FrozenPiece> = match service.kiln.store.get(&key(piece)).await {
        Ok(bytes) => serde_json::from_slice(&bytes).ok(),
        Err(_) => None,
    };
    let note = FrozenPiece {
        piece: piece.name(),
        attempts: earlier.as_ref().map_or(0, |e| e.attempts) + 1,
        first_detected: earlier.map_or_else(|| now.clone(), |e| e.first_detected),
        last_attempt: now,
        reason,
        preview_url: record
            .artifacts
            .iter()
            .find(|a| a.name == "poster.png")
            .map(|a| a.url.clone()),
        job: record.id.clone(),
    };
    let bytes = serde_json::to_vec_pretty(&note).expect("JSON serializes");
    service
        .kiln
        .store
        .put(
            PREFIX,
            &format!("{}.json", piece.key()),
            "application/json",
            Bytes::from(bytes),
        )
        .await?;
    tracing::info!(piece = %note.piece, reason = %note.reason, "noted a frozen or dud piece");
    Ok(())
}

/// `GET /api/frozen`: the frozen and dud pieces, latest first.
#[utoipa::path(
    get,
    path = "/api/frozen",
    tag = "oven",
    responses((status = 200, description = "`{frozen: [{piece, attempts, firstDetected, lastAttempt, reason, previewUrl, job}]}`, latest first", body = Object)),
)]
pub async fn list(State(service): State<Arc<Service>>) -> Result<Response, ApiError> {
    let frozen = pieces(&service).await?;
    Ok(axum::Json(serde_json::json!({"frozen": frozen})).into_response())
}

/// The frozen and dud pieces, latest first (one read of the store per piece: `GET /api/frozen`
/// and the dashboard, which reads it every few seconds, not per event).
pub(crate) async fn pieces(service: &Service) -> Result<Vec<FrozenPiece>, ApiError> {
    let mut frozen = Vec::new();
    for key in service.kiln.store.list(PREFIX).await? {
        if let Ok(bytes) = service.kiln.store.get(&key).await
            && let Ok(note) = serde_json::from_slice::<FrozenPiece>(&bytes)
        {
            frozen.push(note);
        }
    }
    frozen.sort_by(|a, b| b.last_attempt.cmp(&a.last_attempt));
    Ok(frozen)
}

/// `DELETE /api/frozen/{piece}` (admin): forgets a piece (`$roz`, `%24roz` or `roz`).
#[utoipa::path(
    delete,
    path = "/api/frozen/{piece}",
    tag = "oven",
    params(("piece" = String, Path, description = "$code or a page name")),
    responses(
        (status = 200, description = "`{success: true, piece}`"),
        (status = 401, description = "No admin token"),
        (status = 403, description = "service.admin_token is not set"),
        (status = 404, description = "The piece is not in the list"),
    ),
)]
pub async fn clear(
    State(service): State<Arc<Service>>,
    Path(piece): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_admin(&service, &headers)?;
    let parsed = Piece::parse(&piece)?;
    // A bare name was a `$code` before pages could be noted (`roz` for `$roz`): tried second.
    let mut candidates = vec![parsed.clone()];
    if let Piece::Page(name) = &parsed
        && super::piece::is_code(name)
    {
        candidates.push(Piece::Code(name.clone()));
    }
    for candidate in candidates {
        if service.kiln.store.delete(&key(&candidate)).await? {
            let name = candidate.name();
            tracing::info!(piece = %name, "cleared frozen piece");
            return Ok(
                axum::Json(serde_json::json!({"success": true, "piece": name})).into_response(),
            );
        }
    }
    Err(ApiError::not_found(format!(
        "{} is not in the frozen list",
        parsed.name()
    )))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_notes_live_under_the_segment_no_job_may_take() {
        let first = super::PREFIX.split('/').next();
        assert_eq!(first, Some(crate::storage::HOST_SEGMENT));
        assert!(crate::storage::check_job_id(crate::storage::HOST_SEGMENT, &[]).is_err());
    }
}
