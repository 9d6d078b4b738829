//! API keys for integrators: named, scoped, optionally expiring; the secret (`shk_…`) is shown
//! once and kept only as a hash.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{FieldCode, FieldError};

/// What every API key secret starts with.
pub const KEY_PREFIX: &str = "shk_";
/// The longest key name, in characters.
pub const MAX_NAME: usize = 64;

/// What a key may do. Account operations (password, e-mail, deletion, budgets, the keys
/// themselves) are never open to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::EnumIter)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Scope {
    /// Read rooms, transactions, receipts, conversations and the profile.
    #[serde(rename = "read")]
    Read,
    /// Create and change rooms, their pictures and delivery files.
    #[serde(rename = "rooms:write")]
    RoomsWrite,
    /// Start, cancel and refund payments.
    #[serde(rename = "payments:write")]
    PaymentsWrite,
    /// Register and change webhook endpoints.
    #[serde(rename = "webhooks:write")]
    WebhooksWrite,
}

impl Scope {
    /// The wire and stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::RoomsWrite => "rooms:write",
            Self::PaymentsWrite => "payments:write",
            Self::WebhooksWrite => "webhooks:write",
        }
    }

    /// Every scope.
    pub fn all() -> impl Iterator<Item = Self> {
        <Self as strum::IntoEnumIterator>::iter()
    }
}

impl std::str::FromStr for Scope {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::all().find(|scope| scope.as_str() == s).ok_or(())
    }
}

/// `POST /api/me/api-keys`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// What it is for (1–64 characters).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Shop integration", min_length = 1, max_length = 64)
    )]
    pub name: String,
    /// What it may do (at least one).
    #[cfg_attr(
        feature = "openapi",
        schema(min_items = 1, example = json!(["read", "rooms:write"]))
    )]
    pub scopes: Vec<Scope>,
    /// When it stops working (in the future); `null`: never.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "2027-06-30T00:00:00Z"))]
    pub expires_at: Option<DateTime<Utc>>,
}

impl CreateApiKeyRequest {
    /// The name, trimmed and checked.
    ///
    /// # Errors
    /// `required`, `too_long` or `control_characters`.
    pub fn checked_name(&self) -> Result<String, FieldError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(FieldError::new(FieldCode::Required, "is required"));
        }
        if name.chars().count() > MAX_NAME {
            return Err(FieldError::new(
                FieldCode::TooLong,
                "is longer than 64 characters",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(FieldError::new(
                FieldCode::ControlCharacters,
                "contains control characters",
            ));
        }
        Ok(name.to_owned())
    }
}

/// A key as its owner sees it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyResponse {
    /// Id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub id: Uuid,
    /// What it is for.
    #[cfg_attr(feature = "openapi", schema(example = "Shop integration"))]
    pub name: String,
    /// The secret's first characters, to recognise it (`shk_AbCd1234`).
    #[cfg_attr(feature = "openapi", schema(example = "shk_AbCd1234"))]
    pub prefix: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Created.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
    /// When it stops working (`null`: never).
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute).
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked (`null`: it works until it expires).
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The answer to a creation: the key, and its secret, shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiKeyResponse {
    /// The key.
    pub key: ApiKeyResponse,
    /// The secret: `Authorization: Bearer shk_…`. Shown once; only its hash is kept.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "shk_AbCd1234EfGh5678IjKl9012MnOp3456QrSt7890UvW")
    )]
    pub secret: String,
}

/// `GET /api/me/api-keys`: newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyListResponse {
    /// The caller's keys, revoked ones included.
    pub keys: Vec<ApiKeyResponse>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_read_back_with_their_colons() {
        for scope in Scope::all() {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
            assert_eq!(
                serde_json::to_value(scope).ok(),
                Some(serde_json::Value::from(scope.as_str()))
            );
        }
    }
}
