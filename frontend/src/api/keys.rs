//! `/api/me/api-keys`.

use shifting_shared::keys::{
    ApiKeyListResponse, ApiKeyResponse, CreateApiKeyRequest, CreatedApiKeyResponse,
};

use super::client::{self, ApiError};
use crate::session::Session;

/// The caller's keys.
pub async fn list(session: Session) -> Result<ApiKeyListResponse, ApiError> {
    client::get("/api/me/api-keys", Some(session)).await
}

/// Makes a key; the answer holds its secret, once.
pub async fn create(
    session: Session,
    request: &CreateApiKeyRequest,
) -> Result<CreatedApiKeyResponse, ApiError> {
    client::post("/api/me/api-keys", request, Some(session)).await
}

/// Revokes a key.
pub async fn revoke(
    session: Session,
    id: impl std::fmt::Display,
) -> Result<ApiKeyResponse, ApiError> {
    client::delete(&format!("/api/me/api-keys/{id}"), session).await
}
