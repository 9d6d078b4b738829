//! `/api/me/api-keys`: a signed-in person's API keys (never usable with a key itself).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use shifting_shared::ErrorBody;
use shifting_shared::keys::{
    ApiKeyListResponse, ApiKeyResponse, CreateApiKeyRequest, CreatedApiKeyResponse,
};
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::http::extract::{AuthUser, Json};
use crate::services::api_keys;
use crate::state::AppState;

/// Make an API key: a name, scopes (`read`, `rooms:write`, `payments:write`,
/// `webhooks:write`) and an optional expiry. The secret is in this answer only.
#[utoipa::path(
    post,
    path = "/api/me/api-keys",
    tag = "keys",
    security(("bearer" = [])),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "Made; `secret` is shown this once.", body = CreatedApiKeyResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Called with an API key: keys are managed from a session.", body = ErrorBody),
        (status = 409, description = "The most keys allowed (20) are in use.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A bad name, no scope, an unknown scope, or an expiry in the past.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn create_key(
    State(state): State<AppState>,
    user: AuthUser,
    Json(request): Json<CreateApiKeyRequest>,
) -> Result<(StatusCode, axum::Json<CreatedApiKeyResponse>)> {
    let now = state.settings.clock.now();
    let created = api_keys::create(&state.db, user.id, &request, now).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// The caller's API keys, newest first (prefix, scopes, created, last used; never secrets).
#[utoipa::path(
    get,
    path = "/api/me/api-keys",
    tag = "keys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The keys.", body = ApiKeyListResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Called with an API key.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn list_keys(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<ApiKeyListResponse>> {
    Ok(axum::Json(api_keys::list(&state.db, user.id).await?))
}

/// Revoke an API key: refused from the next request on.
#[utoipa::path(
    delete,
    path = "/api/me/api-keys/{id}",
    tag = "keys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The key's id.")),
    responses(
        (status = 200, description = "Revoked.", body = ApiKeyResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Called with an API key.", body = ErrorBody),
        (status = 404, description = "The caller has no key with this id.", body = ErrorBody),
        (status = 409, description = "Revoked already.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn revoke_key(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
) -> Result<axum::Json<ApiKeyResponse>> {
    let id = id
        .map(|Path(id)| id)
        .map_err(|_| ApiError::NotFound("You have no key with this id."))?;
    let now = state.settings.clock.now();
    Ok(axum::Json(
        api_keys::revoke(&state.db, user.id, id, now).await?,
    ))
}
