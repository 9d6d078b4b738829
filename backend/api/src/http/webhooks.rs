//! `/api/webhooks`: a person's (or an API key's, with `webhooks:write` to change them) webhook
//! endpoints, their secrets and delivery logs.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use shifting_shared::ErrorBody;
use shifting_shared::webhooks::{
    CreateWebhookRequest, CreatedWebhookResponse, DeliveryPage, RotatedSecretResponse,
    UpdateWebhookRequest, WebhookListResponse, WebhookResponse,
};
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::http::extract::{AuthUser, Json, PageQuery};
use crate::services::webhooks::{self, NOT_YOURS};
use crate::state::AppState;

fn endpoint_id(id: std::result::Result<Path<Uuid>, PathRejection>) -> Result<Uuid> {
    id.map(|Path(id)| id)
        .map_err(|_| ApiError::NotFound(NOT_YOURS))
}

/// Register a webhook endpoint: its URL (`https`, a public address), a description and the
/// event types it receives. Events are posted with the Standard Webhooks headers
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature`); the signing secret is in this
/// answer only.
#[utoipa::path(
    post,
    path = "/api/webhooks",
    tag = "webhooks",
    security(("bearer" = [])),
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Registered; `secret` is shown this once.", body = CreatedWebhookResponse),
        (status = 400, description = "Malformed JSON or an unknown event type.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token or API key.", body = ErrorBody),
        (status = 403, description = "An API key without `webhooks:write`.", body = ErrorBody),
        (status = 409, description = "The most endpoints allowed (10) are registered.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A malformed URL, one the outbound policy refuses (`url_not_allowed`: not https, or a private address), a bad description, or no event type.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    user: AuthUser,
    Json(request): Json<CreateWebhookRequest>,
) -> Result<(StatusCode, axum::Json<CreatedWebhookResponse>)> {
    let now = state.settings.clock.now();
    let created = webhooks::create(
        &state.db,
        &state.webhook_policy,
        &state.sealer,
        user.id,
        &request,
        now,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// The caller's webhook endpoints, newest first (never their secrets).
#[utoipa::path(
    get,
    path = "/api/webhooks",
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoints (at most 10).", body = WebhookListResponse),
        (status = 401, description = "Missing, invalid or expired access token or API key.", body = ErrorBody),
        (status = 403, description = "An API key without `read`.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn list_webhooks(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<WebhookListResponse>> {
    Ok(axum::Json(webhooks::list(&state.db, user.id).await?))
}

/// One of the caller's webhook endpoints.
#[utoipa::path(
    get,
    path = "/api/webhooks/{id}",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The endpoint's id.")),
    responses(
        (status = 200, description = "The endpoint.", body = WebhookResponse),
        (status = 401, description = "Missing, invalid or expired access token or API key.", body = ErrorBody),
        (status = 403, description = "An API key without `read`.", body = ErrorBody),
        (status = 404, description = "The caller has no endpoint with this id.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn get_webhook(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
) -> Result<axum::Json<WebhookResponse>> {
    let id = endpoint_id(id)?;
    Ok(axum::Json(webhooks::get(&state.db, user.id, id).await?))
}

/// Change a webhook endpoint: its URL, description or event types, or turn it off and on
/// (turning it on starts its failure count again).
#[utoipa::path(
    patch,
    path = "/api/webhooks/{id}",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The endpoint's id.")),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, description = "Changed.", body = WebhookResponse),
        (status = 400, description = "Malformed JSON or an unknown event type.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token or API key.", body = ErrorBody),
        (status = 403, description = "An API key without `webhooks:write`.", body = ErrorBody),
        (status = 404, description = "The caller has no endpoint with this id.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "As when registering.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn update_webhook(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    Json(request): Json<UpdateWebhookRequest>,
) -> Result<axum::Json<WebhookResponse>> {
    let id = endpoint_id(id)?;
    let now = state.settings.clock.now();
    Ok(axum::Json(
        webhooks::update(&state.db, &state.webhook_policy, user.id, id, &request, now).await?,
    ))
}

/// Delete a webhook endpoint with its delivery log; nothing more is sent to it.
#[utoipa::path(
    delete,
    path = "/api/webhooks/{id}",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The endpoint's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "Missing, invalid or expired access token or API key.", body = ErrorBody),
        (status = 403, description = "An API key without `webhooks:write`.", body = ErrorBody),
        (status = 404, description = "The caller has no endpoint with this id.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
) -> Result<StatusCode> {
    let id = endpoint_id(id)?;
    webhooks::delete(&state.db, user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rotate the signing secret: the new one is in this answer only; the previous one keeps
/// signing beside it (a second `v1,` signature) for 24 hours.
#[utoipa::path(
    post,
    path = "/api/webhooks/{id}/secret",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The endpoint's id.")),
    responses(
        (status = 200, description = "Rotated.", body = RotatedSecretResponse),
        (status = 401, description = "Missing, invalid or expired access token or API key.", body = ErrorBody),
        (status = 403, description = "An API key without `webhooks:write`.", body = ErrorBody),
        (status = 404, description = "The caller has no endpoint with this id.", body = ErrorBody),
        (status = 409, description = "Rotated concurrently.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn rotate_webhook_secret(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
) -> Result<axum::Json<RotatedSecretResponse>> {
    let id = endpoint_id(id)?;
    let now = state.settings.clock.now();
    Ok(axum::Json(
        webhooks::rotate_secret(&state.db, &state.sealer, user.id, id, now).await?,
    ))
}

/// The endpoint's delivery log, newest first: each message with its status and every
/// attempt (time, outcome, the status code answered). Messages are kept for 30 days after
/// their last send.
#[utoipa::path(
    get,
    path = "/api/webhooks/{id}/deliveries",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The endpoint's id."), PageQuery),
    responses(
        (status = 200, description = "A page of messages.", body = DeliveryPage),
        (status = 400, description = "A malformed query.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token or API key.", body = ErrorBody),
        (status = 403, description = "An API key without `read`.", body = ErrorBody),
        (status = 404, description = "The caller has no endpoint with this id.", body = ErrorBody),
        (status = 422, description = "A bad cursor or `limit` outside 1–50.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn webhook_deliveries(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    query: std::result::Result<Query<PageQuery>, QueryRejection>,
) -> Result<axum::Json<DeliveryPage>> {
    let id = endpoint_id(id)?;
    let page = PageQuery::read(query)?;
    Ok(axum::Json(
        webhooks::deliveries(&state.db, user.id, id, page.cursor.as_deref(), page.limit()).await?,
    ))
}

/// Send a message again now: the same `webhook-id` and body, signed afresh.
#[utoipa::path(
    post,
    path = "/api/webhooks/{id}/deliveries/{message_id}/send",
    tag = "webhooks",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The endpoint's id."),
        ("message_id" = String, Path, description = "The message's `webhook-id` (`msg_…`)."),
    ),
    responses(
        (status = 202, description = "Queued."),
        (status = 401, description = "Missing, invalid or expired access token or API key.", body = ErrorBody),
        (status = 403, description = "An API key without `webhooks:write`.", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's, or no such message of it.", body = ErrorBody),
        (status = 409, description = "The message is still being delivered, or the endpoint is turned off.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn send_webhook_again(
    State(state): State<AppState>,
    user: AuthUser,
    path: std::result::Result<Path<(Uuid, String)>, PathRejection>,
) -> Result<StatusCode> {
    let Path((id, message)) = path.map_err(|_| ApiError::NotFound(NOT_YOURS))?;
    let now = state.settings.clock.now();
    webhooks::send_again(&state.db, user.id, id, &message, now).await?;
    state.webhook_wake.notify_one();
    Ok(StatusCode::ACCEPTED)
}
