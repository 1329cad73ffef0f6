//! `/plugins/{name}`: a plugin's versions, schema and load errors; admins upload (`PUT`) and
//! unload (`DELETE`) plugins without a restart. Uploads are checked exactly as files found in a
//! plugin directory are, before anything is written.

use super::auth::require_admin;
use super::error::{ApiError, ErrorAnswer};
use crate::error::ErrorKind;
use crate::service::Service;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// `GET /plugins/{name}`: every loaded version with its schema, and refusals of files that
/// carry the name.
#[utoipa::path(
    get,
    path = "/plugins/{name}",
    tag = "plugins",
    params(("name" = String, Path, description = "The plugin's name")),
    responses(
        (status = 200, description = "The plugin's loaded versions with schemas, and refusals of its files"),
        (status = 404, description = "No such plugin", body = ErrorAnswer),
    ),
)]
pub async fn show(
    State(service): State<Arc<Service>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let snapshot = service.kiln.plugins.snapshot();
    let versions: Vec<_> = snapshot
        .plugins()
        .filter(|p| p.info.name == name)
        .map(|p| p.report())
        .collect();
    let refused: Vec<_> = snapshot
        .errors()
        .iter()
        .filter(|e| {
            e.path
                .file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with(&name))
        })
        .collect();
    if versions.is_empty() && refused.is_empty() {
        return Err(ApiError::not_found(format!("no plugin {name:?}")));
    }
    Ok(
        axum::Json(serde_json::json!({ "name": name, "versions": versions, "refused": refused }))
            .into_response(),
    )
}

/// `PUT /plugins/{name}` (admin): the body is a component. It is loaded and checked first; only
/// a plugin that a host would serve, and whose `describe` name is `name`, is written (as
/// `<name>-<version>.wasm` in the first plugin directory) and loaded at once.
#[utoipa::path(
    put,
    path = "/plugins/{name}",
    tag = "admin",
    params(("name" = String, Path, description = "The plugin's name, as its `describe` gives it")),
    request_body(content = String, content_type = "application/wasm", description = "The component, up to service.max_plugin_bytes"),
    responses(
        (status = 201, description = "Checked, written and loaded"),
        (status = 401, description = "No or wrong token", body = ErrorAnswer),
        (status = 403, description = "Admin routes are off", body = ErrorAnswer),
        (status = 408, description = "Body not received within service.body_read_timeout_ms", body = ErrorAnswer),
        (status = 422, description = "Refused, with the reason", body = ErrorAnswer),
    ),
)]
pub async fn upload(
    State(service): State<Arc<Service>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_admin(&service, &headers)?;
    let bytes = body.map_err(|e| {
        if super::server::is_body_timeout(&e) {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                ErrorKind::InvalidInput,
                "the component did not arrive within service.body_read_timeout_ms",
            );
        }
        ApiError::new(
            e.status(),
            ErrorKind::InvalidInput,
            format!(
                "cannot read the component: {e} (uploads are limited by service.max_plugin_bytes)"
            ),
        )
    })?;
    let catalog = &service.kiln.plugins;
    let dir = catalog
        .dirs()
        .first()
        .ok_or_else(|| ApiError::unavailable("this host has no plugin directory"))?
        .clone();
    let plugin = catalog
        .check(&bytes, &dir.join(format!("{name}.upload")))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorKind::InvalidInput,
                format!("the component was refused: {e:#}"),
            )
        })?;
    if plugin.info.name != name {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::InvalidInput,
            format!(
                "the component describes itself as {:?}, not {name:?}; PUT it at /plugins/{}",
                plugin.info.name, plugin.info.name
            ),
        ));
    }
    let file = dir.join(format!("{name}-{}.wasm", plugin.info.version));
    let temporary = dir.join(format!("{name}-{}.wasm.tmp", plugin.info.version));
    std::fs::write(&temporary, &bytes)
        .and_then(|()| std::fs::rename(&temporary, &file))
        .map_err(|e| ApiError::unavailable(format!("writing {}: {e}", file.display())))?;
    catalog.scan_now().await;
    let loaded = catalog
        .snapshot()
        .plugins()
        .find(|p| p.path == file)
        .map(|p| p.report())
        .ok_or_else(|| ApiError::unavailable("the upload was written but did not load"))?;
    Ok((StatusCode::CREATED, axum::Json(loaded)).into_response())
}

/// `DELETE /plugins/{name}` (admin): removes the files of every loaded version of `name` from
/// the plugin directories and unloads them. Running jobs finish on the version they have.
#[utoipa::path(
    delete,
    path = "/plugins/{name}",
    tag = "admin",
    params(("name" = String, Path, description = "The plugin's name")),
    responses(
        (status = 200, description = "Every version unloaded: `{unloaded}`"),
        (status = 401, description = "No or wrong token", body = ErrorAnswer),
        (status = 403, description = "Admin routes are off", body = ErrorAnswer),
        (status = 404, description = "Not loaded", body = ErrorAnswer),
    ),
)]
pub async fn remove(
    State(service): State<Arc<Service>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_admin(&service, &headers)?;
    let catalog = &service.kiln.plugins;
    let files: Vec<_> = catalog
        .snapshot()
        .plugins()
        .filter(|p| p.info.name == name)
        .map(|p| p.path.clone())
        .collect();
    if files.is_empty() {
        return Err(ApiError::not_found(format!("no plugin {name:?} is loaded")));
    }
    for file in &files {
        std::fs::remove_file(file)
            .map_err(|e| ApiError::unavailable(format!("removing {}: {e}", file.display())))?;
    }
    let report = catalog.scan_now().await;
    Ok(axum::Json(serde_json::json!({ "unloaded": report.unloaded })).into_response())
}
