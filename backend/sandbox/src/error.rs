//! Refusals in the shapes Rafiki uses (OPEN-PAYMENTS.md §6.1, §10): the auth server answers
//! `{"error":{"code":"<gnap code>","description"}}`, the resource server
//! `{"error":{"code":"<status>","description","details"?}}` with `WWW-Authenticate` on 401/403.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A GNAP (auth server) error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code:?}: {description}")]
pub struct AsError {
    /// HTTP status.
    pub status: StatusCode,
    /// GNAP error code (absent on request validation errors, as on Rafiki).
    pub code: Option<&'static str>,
    /// What went wrong.
    pub description: String,
}

impl AsError {
    fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code: Some(code),
            description: description.into(),
        }
    }

    /// 400 without a code: the body does not match the schema (Rafiki's OpenAPI validator
    /// answers these without `code`).
    pub fn validation(cause: String) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: None,
            description: format!("Received error validating OpenAPI request: body: {cause}"),
        }
    }

    /// 400 `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// `invalid_client` with a status (400 for an unresolvable client, 401 for signatures).
    pub fn invalid_client(status: StatusCode, description: impl Into<String>) -> Self {
        Self::new(status, "invalid_client", description)
    }

    /// 401 `invalid_continuation` "invalid grant": wrong continue token or id.
    pub fn invalid_grant() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_continuation",
            "invalid grant",
        )
    }

    /// 404 `invalid_continuation` "grant not found": bad `interact_ref` or a rejected grant.
    pub fn grant_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_continuation",
            "grant not found",
        )
    }

    /// 401 `request_denied`.
    pub fn request_denied(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "request_denied", description)
    }

    /// 400 `too_fast`.
    pub fn too_fast() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "too_fast",
            "continued grant faster than \"wait\" period",
        )
    }

    /// 500 `request_denied`, logged.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "sandbox auth server failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "request_denied",
            "internal server error",
        )
    }
}

impl IntoResponse for AsError {
    fn into_response(self) -> Response {
        let body = match self.code {
            Some(code) => json!({"error": {"code": code, "description": self.description}}),
            None => json!({"error": {"description": self.description}}),
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<sea_orm::DbErr> for AsError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::internal(&err)
    }
}

/// A resource server error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status}: {description}")]
pub struct RsError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong.
    pub description: String,
    /// Extra details.
    pub details: Option<Value>,
    /// `as_uri` for `WWW-Authenticate` on 401/403.
    pub as_uri: Option<String>,
}

impl RsError {
    /// An error with a status and description.
    pub fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
            details: None,
            as_uri: None,
        }
    }

    /// 400.
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, description)
    }

    /// 401 with a description.
    pub fn unauthorized(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, description)
    }

    /// 403 "Inactive Token".
    pub fn inactive_token() -> Self {
        Self::new(StatusCode::FORBIDDEN, "Inactive Token")
    }

    /// 403 "Insufficient Grant": the token lacks this type, action or identifier.
    pub fn insufficient_grant() -> Self {
        Self::new(StatusCode::FORBIDDEN, "Insufficient Grant")
    }

    /// 404.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, description)
    }

    /// 500, logged.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "sandbox resource server failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }

    /// Adds `details`.
    #[must_use]
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Adds the auth server for `WWW-Authenticate`.
    #[must_use]
    pub fn with_as_uri(mut self, as_uri: &str) -> Self {
        self.as_uri = Some(as_uri.to_owned());
        self
    }
}

impl IntoResponse for RsError {
    fn into_response(self) -> Response {
        let mut error =
            json!({"code": self.status.as_u16().to_string(), "description": self.description});
        if let (Some(details), Some(object)) = (self.details, error.as_object_mut()) {
            object.insert("details".into(), details);
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if matches!(
            self.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) && let Some(as_uri) = self.as_uri
            && let Ok(value) = HeaderValue::from_str(&format!("GNAP as_uri={as_uri}"))
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

impl From<sea_orm::DbErr> for RsError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::internal(&err)
    }
}
