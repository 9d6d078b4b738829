//! `/api/rooms`: creating rooms, the seller's list, the public view and the owner's changes.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shifting_shared::api::{
    CreateRoomRequest, MoveRoomRequest, RoomListResponse, RoomResponse, UpdateRoomRequest,
};
use shifting_shared::{ErrorBody, RoomCode};

use crate::error::{ApiError, Result};
use crate::http::extract::{AuthUser, Json, PageQuery};
use crate::services::rooms;
use crate::state::AppState;

/// A room code from the path; a malformed one cannot name a room.
pub(crate) fn room_code(code: &str) -> Result<RoomCode> {
    RoomCode::parse(code).map_err(|_| ApiError::NotFound("No room has this code."))
}

/// Create a room at a fixed price in the currency of the seller's wallet.
#[utoipa::path(
    post,
    path = "/api/rooms",
    tag = "rooms",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters. The same key with the same request within 24 hours gets the first answer again (with `Idempotent-Replayed: true`); with another request, 422. Keys are per person.")),
    request_body = CreateRoomRequest,
    responses(
        (status = 201, description = "The room, open for payments.", body = RoomResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 409, description = "The seller has no wallet address yet, or the first request with this `Idempotency-Key` is still being answered.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "Invalid or unknown fields (a price with too many decimals for the currency …), or an `Idempotency-Key` used with another request.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn create_room(
    State(state): State<AppState>,
    user: AuthUser,
    Json(request): Json<CreateRoomRequest>,
) -> Result<(StatusCode, axum::Json<RoomResponse>)> {
    let room = rooms::create_room(
        &state.db,
        user.id,
        &request,
        &state.public_url,
        state.settings.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(room)))
}

/// The caller's rooms, newest first, with their sales, a page at a time.
#[utoipa::path(
    get,
    path = "/api/rooms",
    tag = "rooms",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of rooms.", body = RoomListResponse),
        (status = 400, description = "A malformed query.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 422, description = "A cursor from elsewhere, or `limit` outside 1–50.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn list_rooms(
    State(state): State<AppState>,
    user: AuthUser,
    query: std::result::Result<Query<PageQuery>, QueryRejection>,
) -> Result<axum::Json<RoomListResponse>> {
    let page = PageQuery::read(query)?;
    Ok(axum::Json(
        rooms::list_own_rooms(
            &state.db,
            user.id,
            &state.public_url,
            page.cursor.as_deref(),
            page.limit(),
        )
        .await?,
    ))
}

/// A room by its code; no log-in needed.
#[utoipa::path(
    get,
    path = "/api/rooms/{code}",
    tag = "rooms",
    params(("code" = String, Path, description = "The room's code (any case).", example = "K7M2QX")),
    responses(
        (status = 200, description = "The room.", body = RoomResponse),
        (status = 404, description = "No room has this code.", body = ErrorBody),
        (status = 410, description = "The room is unavailable: the platform withdrew it (an admin hid it, or suspended its seller).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn get_room(State(state): State<AppState>, Path(code): Path<String>) -> Result<Response> {
    let code = room_code(&code)?;
    let view = state
        .room_views
        .get(&state.db, &code, &state.public_url)
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], view).into_response())
}

/// Pause, reopen or close a room, or change its description (the seller only). The price
/// never changes.
#[utoipa::path(
    patch,
    path = "/api/rooms/{code}",
    tag = "rooms",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The room's code.", example = "K7M2QX")),
    request_body = UpdateRoomRequest,
    responses(
        (status = 200, description = "The room.", body = RoomResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not the room's seller.", body = ErrorBody),
        (status = 404, description = "No room has this code.", body = ErrorBody),
        (status = 409, description = "A closed room cannot be reopened, or the room changed meanwhile.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "Invalid or unknown fields (a price is not a field that can change).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn update_room(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
    Json(request): Json<UpdateRoomRequest>,
) -> Result<axum::Json<RoomResponse>> {
    let code = room_code(&code)?;
    let now = state.settings.clock.now();
    changing(state, code, move |state, code| async move {
        rooms::update_room(&state.db, user.id, &code, &request, &state.public_url, now).await
    })
    .await
}

/// Move the room's payouts to the seller's current wallet (set in the profile), at a new price
/// in that wallet's currency. Nothing is converted: the seller names the new price. Payments
/// already started finish with the wallet and the price they started with.
#[utoipa::path(
    post,
    path = "/api/rooms/{code}/wallet",
    tag = "rooms",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The room's code.", example = "K7M2QX")),
    request_body = MoveRoomRequest,
    responses(
        (status = 200, description = "The room, paying into the seller's current wallet.", body = RoomResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not the room's seller.", body = ErrorBody),
        (status = 404, description = "No room has this code.", body = ErrorBody),
        (status = 409, description = "The room is closed, the seller has no wallet, the room already pays into it, or the room changed meanwhile.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A price that is not valid in the new currency, or unknown fields.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn move_room_wallet(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
    Json(request): Json<MoveRoomRequest>,
) -> Result<axum::Json<RoomResponse>> {
    let code = room_code(&code)?;
    let now = state.settings.clock.now();
    changing(state, code, move |state, code| async move {
        rooms::move_to_current_wallet(&state.db, user.id, &code, &request, &state.public_url, now)
            .await
    })
    .await
}

/// Runs a change to a room in its own task, so a client that disconnects cannot stop it between
/// the change and forgetting the cached view; the view is forgotten whatever the outcome (a
/// conflict means the room changed under us).
pub(crate) async fn changing<F, Fut>(
    state: AppState,
    code: RoomCode,
    change: F,
) -> Result<axum::Json<RoomResponse>>
where
    F: FnOnce(AppState, RoomCode) -> Fut + Send + 'static,
    Fut: Future<Output = Result<RoomResponse>> + Send,
{
    let changed = tokio::spawn(async move {
        let changed = change(state.clone(), code.clone()).await;
        state.room_views.forget(&code).await;
        changed
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("the room change task failed: {e}")))?;
    Ok(axum::Json(changed?))
}
