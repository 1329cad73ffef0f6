//! Bearer tokens: `service.submit_tokens` may submit and cancel jobs (when any are configured),
//! `service.admin_token` may do that and use the admin routes.

use super::error::ApiError;
use crate::error::ErrorKind;
use crate::service::Service;
use axum::http::{HeaderMap, StatusCode};

/// The token the request carries in `Authorization: Bearer …`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// Compares in constant time: tokens (and the oven's bake secret) are secrets.
pub(crate) fn same(given: &str, token: &str) -> bool {
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn is_admin(service: &Service, given: &str) -> bool {
    service
        .settings
        .admin_token
        .as_deref()
        .is_some_and(|token| same(given, token))
}

/// Refuses the request unless it carries the admin token.
pub fn require_admin(service: &Service, headers: &HeaderMap) -> Result<(), ApiError> {
    if service.settings.admin_token.is_none() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorKind::Denied,
            "the admin routes are off: set service.admin_token to turn them on",
        ));
    }
    if bearer(headers).is_some_and(|given| is_admin(service, given)) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        ErrorKind::Denied,
        "this route needs Authorization: Bearer <service.admin_token>",
    ))
}

/// Refuses the request unless it carries a submit token or the admin token; with no submit
/// tokens configured, anyone may submit.
pub fn require_submit(service: &Service, headers: &HeaderMap) -> Result<(), ApiError> {
    let tokens = &service.settings.submit_tokens;
    if tokens.is_empty() {
        return Ok(());
    }
    let allowed = bearer(headers).is_some_and(|given| {
        tokens.iter().any(|token| same(given, token)) || is_admin(service, given)
    });
    if allowed {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        ErrorKind::Denied,
        "submitting and cancelling jobs needs Authorization: Bearer <a token of service.submit_tokens>",
    ))
}
