//! Conversations between a room's buyer and its seller (`/api/conversations`, and
//! `/api/rooms/{code}/conversation` to open one). Sending is a plain POST; the other person's
//! sockets receive it through the live fan-out.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use shifting_shared::ErrorBody;
use shifting_shared::conversation::{
    ConversationPageResponse, ConversationResponse, MessagePageResponse, MessageRequest,
    MessageResponse, ReadRequest, UnreadResponse,
};
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::http::extract::{AuthUser, Json, PageQuery};
use crate::http::rooms::room_code;
use crate::services::conversations;
use crate::state::AppState;

fn conversation_id(id: std::result::Result<Path<Uuid>, PathRejection>) -> Result<Uuid> {
    id.map(|Path(id)| id)
        .map_err(|_| ApiError::NotFound("No such conversation."))
}

/// Open (or find) the caller's conversation with the seller of a room, to ask before paying.
/// A buyer's first payment for the room opens it too.
#[utoipa::path(
    post,
    path = "/api/rooms/{code}/conversation",
    tag = "conversations",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The room's code.", example = "K7M2QX")),
    responses(
        (status = 200, description = "The caller's conversation about this room (new or existing).", body = ConversationResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "The caller is the room's seller.", body = ErrorBody),
        (status = 404, description = "No room has this code.", body = ErrorBody),
        (status = 409, description = "The room is closed and the caller has no conversation about it.", body = ErrorBody),
        (status = 422, description = "A malformed room code.", body = ErrorBody),
        (status = 410, description = "The room is unavailable: the platform withdrew it (an admin hid it, or suspended its seller).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn open_conversation(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
) -> Result<axum::Json<ConversationResponse>> {
    let code = room_code(&code)?;
    let now = state.settings.clock.now();
    Ok(axum::Json(
        conversations::open(&state.db, user.id, &code, now).await?,
    ))
}

/// The caller's conversations (as buyer and as seller) with at least one entry, the most
/// recently active first, each with its last entry and unread count.
#[utoipa::path(
    get,
    path = "/api/conversations",
    tag = "conversations",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of conversations and the caller's unread total.", body = ConversationPageResponse),
        (status = 400, description = "A malformed query.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 422, description = "A foreign cursor, or `limit` outside 1–50.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn list_conversations(
    State(state): State<AppState>,
    user: AuthUser,
    query: std::result::Result<Query<PageQuery>, QueryRejection>,
) -> Result<axum::Json<ConversationPageResponse>> {
    let query = PageQuery::read(query)?;
    Ok(axum::Json(
        conversations::list(&state.db, user.id, query.cursor.as_deref(), query.limit()).await?,
    ))
}

/// The caller's unread total over all their conversations (the navigation's badge).
#[utoipa::path(
    get,
    path = "/api/conversations/unread",
    tag = "conversations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The unread total.", body = UnreadResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn unread(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<UnreadResponse>> {
    Ok(axum::Json(UnreadResponse {
        total: conversations::unread_total(&state.db, user.id).await?,
    }))
}

/// One of the caller's conversations.
#[utoipa::path(
    get,
    path = "/api/conversations/{id}",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation's id.")),
    responses(
        (status = 200, description = "The conversation.", body = ConversationResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 404, description = "The caller is in no conversation with this id.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn get_conversation(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
) -> Result<axum::Json<ConversationResponse>> {
    let id = conversation_id(id)?;
    Ok(axum::Json(
        conversations::get(&state.db, user.id, id).await?,
    ))
}

/// A conversation's entries, newest first: people's messages and system entries about the
/// room's payments.
#[utoipa::path(
    get,
    path = "/api/conversations/{id}/messages",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation's id."), PageQuery),
    responses(
        (status = 200, description = "A page of entries, newest first.", body = MessagePageResponse),
        (status = 400, description = "A malformed query.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 404, description = "The caller is in no conversation with this id.", body = ErrorBody),
        (status = 422, description = "A foreign cursor, or `limit` outside 1–50.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn list_messages(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    query: std::result::Result<Query<PageQuery>, QueryRejection>,
) -> Result<axum::Json<MessagePageResponse>> {
    let id = conversation_id(id)?;
    let query = PageQuery::read(query)?;
    Ok(axum::Json(
        conversations::messages_page(
            &state.db,
            user.id,
            id,
            query.cursor.as_deref(),
            query.limit(),
        )
        .await?,
    ))
}

/// Write a message. The other person's open sockets receive it at once; writing also marks
/// the conversation read up to it for the writer.
#[utoipa::path(
    post,
    path = "/api/conversations/{id}/messages",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation's id.")),
    request_body = MessageRequest,
    responses(
        (status = 201, description = "Written.", body = MessageResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 404, description = "The caller is in no conversation with this id.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "`text` empty (`required`), over 4,000 characters (`too_long`) or with control characters; unknown fields.", body = ErrorBody),
        (status = 429, description = "Too many messages from this account.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn post_message(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    Json(request): Json<MessageRequest>,
) -> Result<(StatusCode, axum::Json<MessageResponse>)> {
    let id = conversation_id(id)?;
    state.message_limiter.check_key(&user.id)?;
    let now = state.settings.clock.now();
    let message =
        conversations::post(&state.db, &state.live, user.id, id, &request.text, now).await?;
    Ok((StatusCode::CREATED, axum::Json(message)))
}

/// Mark the conversation read up to an entry (a marker never moves back). The other person
/// sees it; the answer is the caller's new unread total.
#[utoipa::path(
    post,
    path = "/api/conversations/{id}/read",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation's id.")),
    request_body = ReadRequest,
    responses(
        (status = 200, description = "The caller's unread total now.", body = UnreadResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 404, description = "The caller is in no conversation with this id.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "`up_to` is not an entry of this conversation; unknown fields.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn mark_read(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    Json(request): Json<ReadRequest>,
) -> Result<axum::Json<UnreadResponse>> {
    let id = conversation_id(id)?;
    let total =
        conversations::mark_read(&state.db, &state.live, user.id, id, request.up_to).await?;
    Ok(axum::Json(UnreadResponse { total }))
}
