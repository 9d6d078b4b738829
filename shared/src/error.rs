//! The JSON error body every API error uses: `{"error": {"code", "message", "fields"?}}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Problems with individual request fields: field name → what is wrong with it.
pub type FieldErrors = BTreeMap<String, String>;

/// Machine-readable error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request could not be read (malformed JSON, missing body …).
    BadRequest,
    /// 401: missing, invalid or expired credentials.
    Unauthorized,
    /// 403: authenticated but not allowed.
    Forbidden,
    /// 404: no such resource.
    NotFound,
    /// 405: the path exists but not with this method.
    MethodNotAllowed,
    /// 409: conflicts with existing data (a taken username …).
    Conflict,
    /// 413: the request body is too large.
    PayloadTooLarge,
    /// 415: the request body is not JSON.
    UnsupportedMediaType,
    /// 422: some fields are invalid; see `fields`.
    ValidationFailed,
    /// 429: too many requests; see `Retry-After`.
    TooManyRequests,
    /// 502: a wallet provider failed.
    UpstreamError,
    /// 503: not ready (database unreachable).
    Unavailable,
    /// 500: our fault; details are in the server log.
    InternalError,
}

/// The `error` object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Machine-readable code.
    pub code: ErrorCode,
    /// A sentence for people.
    pub message: String,
    /// Per-field problems, for validation errors and conflicts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<FieldErrors>,
}

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

impl ErrorBody {
    /// An error without field details.
    #[must_use]
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
                fields: None,
            },
        }
    }

    /// An error with field details.
    #[must_use]
    pub fn with_fields(code: ErrorCode, message: impl Into<String>, fields: FieldErrors) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
                fields: Some(fields),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_the_documented_shape() {
        let body = ErrorBody::with_fields(
            ErrorCode::ValidationFailed,
            "Some fields are invalid.",
            FieldErrors::from([(
                "email".to_owned(),
                "is not a valid e-mail address".to_owned(),
            )]),
        );
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {"code": "validation_failed", "message": "Some fields are invalid.",
                "fields": {"email": "is not a valid e-mail address"}}})
        );
        let plain =
            serde_json::to_value(ErrorBody::new(ErrorCode::NotFound, "No such room.")).unwrap();
        assert!(plain["error"].get("fields").is_none());
    }
}
