//! Errors as the API answers them: a status code and `{"error": {"kind", "message"}}`.

use crate::error::{ErrorKind, RenderError};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What kind of failure an API error is: a job's error kinds, and `not-found` for a route, job,
/// artifact or plugin that does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// One of a job's error kinds (`invalid-input`, `denied`, `unavailable`, ...).
    Job(ErrorKind),
    /// `not-found`.
    NotFound,
}

impl ApiErrorKind {
    /// The string this kind is on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Job(kind) => kind.as_str(),
            Self::NotFound => "not-found",
        }
    }
}

impl From<ErrorKind> for ApiErrorKind {
    fn from(kind: ErrorKind) -> Self {
        Self::Job(kind)
    }
}

impl serde::Serialize for ApiErrorKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl utoipa::PartialSchema for ApiErrorKind {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let names = ErrorKind::NAMES
            .iter()
            .copied()
            .chain([Self::NotFound.as_str()]);
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(names))
            .into()
    }
}

impl utoipa::ToSchema for ApiErrorKind {}

/// What failed, in an error answer (and in a refused batch entry).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub kind: ApiErrorKind,
    /// What failed and what to do about it.
    pub message: String,
}

/// Every error answer: `{"error": {"kind", "message"}}`.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorAnswer {
    pub error: ErrorBody,
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: ApiErrorKind,
    pub message: String,
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    /// An error answered with `status`, whose body says `kind` and `message`.
    pub fn new(
        status: StatusCode,
        kind: impl Into<ApiErrorKind>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind: kind.into(),
            message: message.into(),
            retry_after_s: None,
        }
    }

    /// The body this error answers with.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            kind: self.kind,
            message: self.message.clone(),
        }
    }

    /// A malformed request (400).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorKind::InvalidInput, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ApiErrorKind::NotFound, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Unavailable,
            message,
        )
    }
}

impl From<RenderError> for ApiError {
    fn from(err: RenderError) -> Self {
        let status = match err.kind {
            ErrorKind::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Denied => StatusCode::FORBIDDEN,
            ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ErrorKind::PieceFailed | ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, err.kind, err.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorAnswer { error: self.body() };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after_s
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
