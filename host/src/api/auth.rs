//! Bearer tokens: `service.submit_tokens` may submit and cancel jobs (when any are configured),
//! `service.admin_token` may do that and use the admin routes, and, with `service.status_views =
//! "admin"`, read the status views ([`StatusViewer`]), also through a cookie in a browser.

use super::error::ApiError;
use crate::config::StatusViews;
use crate::error::ErrorKind;
use crate::service::Service;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;

/// The cookie through which a browser reads the status views once `/?token=` has set it.
const STATUS_COOKIE: &str = "kiln_status";

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

/// What the status cookie holds: a MAC of the admin token, so that the cookie reads the status
/// views and nothing else (it is not the token and does not pass as one).
fn status_cookie_value(admin_token: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(admin_token.as_bytes()).expect("HMAC takes any key");
    mac.update(b"kiln status views");
    hex::encode(mac.finalize().into_bytes())
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// Proof that the request may read the status views (`service.status_views`): anyone when they
/// are public; with `admin`, a request carrying the admin token as a Bearer header or the
/// status cookie. Take it as a handler's argument to guard the handler.
pub struct StatusViewer;

impl FromRequestParts<Arc<Service>> for StatusViewer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        service: &Arc<Service>,
    ) -> Result<Self, ApiError> {
        let settings = &service.settings;
        if settings.status_views == StatusViews::Public {
            return Ok(StatusViewer);
        }
        let Some(token) = settings.admin_token.as_deref() else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorKind::Denied,
                "the status views are for admins (service.status_views = \"admin\") but \
                 service.admin_token is not set: set it, or make the views public",
            ));
        };
        let by_header = bearer(&parts.headers).is_some_and(|given| same(given, token));
        let by_cookie = cookie(&parts.headers, STATUS_COOKIE)
            .is_some_and(|given| same(given, &status_cookie_value(token)));
        if by_header || by_cookie {
            return Ok(StatusViewer);
        }
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorKind::Denied,
            "the status views need the admin token: send Authorization: Bearer \
             <service.admin_token>, or open /?token=<service.admin_token> once in the browser",
        ))
    }
}

/// `GET /?token=`: with the admin token, sets the status cookie for this browser's session and
/// redirects to `/`, so the token leaves the address bar and the page's event stream (which
/// cannot send a header) passes; with anything else, refuses.
pub fn status_login(service: &Service, given: &str) -> Result<Response, ApiError> {
    let Some(token) = service.settings.admin_token.as_deref() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorKind::Denied,
            "there is no admin token to sign in with: service.admin_token is not set",
        ));
    };
    if !same(given, token) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorKind::Denied,
            "`token` is not the admin token (service.admin_token)",
        ));
    }
    // Lax, not Strict: the cookie must also go with the redirect below when the link that led
    // here came from another site; the views it opens are read-only GETs.
    let cookie = format!(
        "{STATUS_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax",
        status_cookie_value(token)
    );
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/".to_owned()),
            (header::SET_COOKIE, cookie),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::REFERRER_POLICY, "no-referrer".to_owned()),
        ],
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_status_cookie_is_found_among_others_and_is_not_the_token() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; kiln_status=abc"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, STATUS_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "kiln"), None);
        let value = status_cookie_value("adm1n");
        assert_eq!(value.len(), 64);
        assert_ne!(value, "adm1n");
        assert_ne!(value, status_cookie_value("adm1n2"));
    }
}
