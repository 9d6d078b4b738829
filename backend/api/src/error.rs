//! The one error type of the API and its mapping to the JSON error body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shifting_shared::{ErrorBody, ErrorCode, FieldError, FieldErrors};

/// Result with [`ApiError`] as the default error.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// Every way a request can fail. Client errors carry a message safe to show; internal errors
/// carry the cause chain, which is logged and never sent.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request could not be read.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 422: some fields are invalid.
    #[error("validation failed: {0:?}")]
    Validation(FieldErrors),
    /// 401: missing or invalid credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// 403: not allowed.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 404: not found.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// 405: wrong method for this path.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: conflicts with existing data.
    #[error("conflict: {message}")]
    Conflict {
        /// What conflicts.
        message: &'static str,
        /// Which fields.
        fields: FieldErrors,
    },
    /// 413: the body is too large.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415: the body is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 429: rate limited; retry after this many seconds.
    #[error("too many requests")]
    TooManyRequests {
        /// Seconds until the next attempt is allowed.
        retry_after_secs: u64,
    },
    /// 502: a wallet provider failed or answered something unusable; the message says which
    /// and is safe to show.
    #[error("upstream: {0}")]
    Upstream(String),
    /// 503: a dependency (the database) is unavailable.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
    /// 410: withdrawn from the public.
    #[error("{0}")]
    Gone(&'static str),
    /// 500: our fault.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// The HTTP status.
    #[must_use]
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Upstream(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Gone(_) => StatusCode::GONE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> ErrorBody {
        match self {
            Self::BadRequest(message) => ErrorBody::new(ErrorCode::BadRequest, message.clone()),
            Self::Validation(fields) => ErrorBody::with_fields(
                ErrorCode::ValidationFailed,
                "Some fields are invalid.",
                fields.clone(),
            ),
            Self::Unauthorized(message) => ErrorBody::new(ErrorCode::Unauthorized, *message),
            Self::Forbidden(message) => ErrorBody::new(ErrorCode::Forbidden, *message),
            Self::NotFound(message) => ErrorBody::new(ErrorCode::NotFound, *message),
            Self::MethodNotAllowed => ErrorBody::new(
                ErrorCode::MethodNotAllowed,
                "This method is not allowed here.",
            ),
            Self::Conflict { message, fields } => {
                ErrorBody::with_fields(ErrorCode::Conflict, *message, fields.clone())
            }
            Self::PayloadTooLarge => {
                ErrorBody::new(ErrorCode::PayloadTooLarge, "The request body is too large.")
            }
            Self::UnsupportedMediaType => ErrorBody::new(
                ErrorCode::UnsupportedMediaType,
                "The request body must be JSON with Content-Type: application/json.",
            ),
            Self::TooManyRequests { retry_after_secs } => ErrorBody::new(
                ErrorCode::TooManyRequests,
                format!("Too many attempts. Try again in {retry_after_secs} seconds."),
            ),
            Self::Upstream(message) => ErrorBody::new(ErrorCode::UpstreamError, message.clone()),
            Self::Unavailable(message) => ErrorBody::new(ErrorCode::Unavailable, *message),
            Self::Gone(message) => ErrorBody::new(ErrorCode::Gone, *message),
            Self::Internal(_) => ErrorBody::new(
                ErrorCode::InternalError,
                "Something went wrong on our side. Please try again.",
            ),
        }
    }

    /// A 409 without field details.
    #[must_use]
    pub fn conflict(message: &'static str) -> Self {
        Self::Conflict {
            message,
            fields: FieldErrors::new(),
        }
    }

    /// A 422 for a single field.
    #[must_use]
    pub fn field(name: &str, error: impl Into<FieldError>) -> Self {
        Self::Validation(FieldErrors::one(name, error))
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(anyhow::Error::new(err).context("database error"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        match &self {
            // The only place 5xx causes are logged: once, with the whole chain.
            Self::Internal(err) => tracing::error!(error = format!("{err:#}"), "request failed"),
            Self::Upstream(message) => tracing::warn!(%message, "a wallet provider failed"),
            _ => {}
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        match &self {
            Self::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::TooManyRequests { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}
