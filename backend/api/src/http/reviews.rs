//! Reviews of purchases (`/api/transactions/{id}/review`), the reviews of a room, and sellers'
//! public profiles (`/api/users/{username}`).

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use shifting_shared::ErrorBody;
use shifting_shared::review::{
    ReplyRequest, ReviewPageResponse, ReviewRequest, ReviewResponse, ReviewUpdateRequest,
    SellerProfileResponse,
};
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::http::extract::{AuthUser, Json, PageQuery};
use crate::http::rooms::room_code;
use crate::services::reviews::{self, Subject};
use crate::services::{profiles, rooms};
use crate::state::AppState;

fn transaction_id(id: std::result::Result<Path<Uuid>, PathRejection>) -> Result<Uuid> {
    id.map(|Path(id)| id)
        .map_err(|_| ApiError::NotFound("No such transaction."))
}

/// Review a completed purchase: 1–5 stars and an optional plain text. Only its buyer, signed
/// in, within 60 days of completion, once (also after deleting the review).
#[utoipa::path(
    post,
    path = "/api/transactions/{id}/review",
    tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The purchase's transaction id.")),
    request_body = ReviewRequest,
    responses(
        (status = 201, description = "Written; the room's and the seller's ratings count it.", body = ReviewResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "The caller is the seller: a seller cannot review their own room.", body = ErrorBody),
        (status = 404, description = "No transaction of the caller's has this id.", body = ErrorBody),
        (status = 409, description = "`field_codes.review`: `not_completed` (the payment has not completed), `review_window_closed` (more than 60 days ago) or `already_reviewed`.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A rating outside 1–5 (`rating_range`), or a text over 2,000 characters or with control characters; unknown fields.", body = ErrorBody),
        (status = 429, description = "Too many review writes from this account.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn create_review(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    Json(request): Json<ReviewRequest>,
) -> Result<(StatusCode, axum::Json<ReviewResponse>)> {
    let id = transaction_id(id)?;
    state.review_limiter.check_key(&user.id)?;
    let now = state.settings.clock.now();
    let review = reviews::create(&state.db, &state.live, user.id, id, &request, now).await?;
    forget_room(&state, &review.room_code).await;
    Ok((StatusCode::CREATED, axum::Json(review)))
}

/// Change the stars or the text of one's review: until the seller replies, and for 14 days.
#[utoipa::path(
    patch,
    path = "/api/transactions/{id}/review",
    tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The purchase's transaction id.")),
    request_body = ReviewUpdateRequest,
    responses(
        (status = 200, description = "Changed.", body = ReviewResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "The caller is the seller.", body = ErrorBody),
        (status = 404, description = "No review of the caller's for this transaction.", body = ErrorBody),
        (status = 409, description = "`field_codes.review` is `edit_window_closed`: the seller replied or 14 days passed; or the review changed meanwhile.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "Nothing to change, a rating outside 1–5, or a bad text.", body = ErrorBody),
        (status = 429, description = "Too many review writes from this account.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn update_review(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    Json(request): Json<ReviewUpdateRequest>,
) -> Result<axum::Json<ReviewResponse>> {
    let id = transaction_id(id)?;
    state.review_limiter.check_key(&user.id)?;
    let now = state.settings.clock.now();
    let review = reviews::update(&state.db, user.id, id, &request, now).await?;
    forget_room(&state, &review.room_code).await;
    Ok(axum::Json(review))
}

/// Delete one's review, with the seller's reply: it is no longer shown or counted, and the
/// purchase cannot be reviewed again.
#[utoipa::path(
    delete,
    path = "/api/transactions/{id}/review",
    tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The purchase's transaction id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "The caller is the seller.", body = ErrorBody),
        (status = 404, description = "No review of the caller's for this transaction.", body = ErrorBody),
        (status = 409, description = "The review changed meanwhile.", body = ErrorBody),
        (status = 429, description = "Too many review writes from this account.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn delete_review(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
) -> Result<StatusCode> {
    let id = transaction_id(id)?;
    state.review_limiter.check_key(&user.id)?;
    let now = state.settings.clock.now();
    let room = reviews::delete(&state.db, user.id, id, now).await?;
    forget_room(&state, &room).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The seller's public reply to the review of one of their sales: posted once, changeable.
#[utoipa::path(
    put,
    path = "/api/transactions/{id}/review/reply",
    tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The sale's transaction id.")),
    request_body = ReplyRequest,
    responses(
        (status = 200, description = "Posted or changed; the author can no longer change the review.", body = ReviewResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "The caller is the buyer: only the seller replies.", body = ErrorBody),
        (status = 404, description = "No transaction of the caller's has this id, or it has no review.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "An empty text, one over 2,000 characters or with control characters; unknown fields.", body = ErrorBody),
        (status = 429, description = "Too many review writes from this account.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn reply_to_review(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    Json(request): Json<ReplyRequest>,
) -> Result<axum::Json<ReviewResponse>> {
    let id = transaction_id(id)?;
    state.review_limiter.check_key(&user.id)?;
    let now = state.settings.clock.now();
    Ok(axum::Json(
        reviews::reply(&state.db, user.id, id, &request, now).await?,
    ))
}

/// A room's reviews, newest first, with the seller's replies. Public.
#[utoipa::path(
    get,
    path = "/api/rooms/{code}/reviews",
    tag = "reviews",
    params(
        ("code" = String, Path, description = "The room's code.", example = "K7M2QX"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of reviews.", body = ReviewPageResponse),
        (status = 400, description = "A malformed query.", body = ErrorBody),
        (status = 404, description = "No room has this code.", body = ErrorBody),
        (status = 422, description = "A malformed room code or cursor, or `limit` outside 1–50.", body = ErrorBody),
        (status = 410, description = "The room is unavailable: the platform withdrew it (an admin hid it, or suspended its seller).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn room_reviews(
    State(state): State<AppState>,
    Path(code): Path<String>,
    query: std::result::Result<Query<PageQuery>, QueryRejection>,
) -> Result<axum::Json<ReviewPageResponse>> {
    let code = room_code(&code)?;
    let query = PageQuery::read(query)?;
    let (room, _) = rooms::find_public(&state.db, &code).await?;
    Ok(axum::Json(
        reviews::page(
            &state.db,
            Subject::Room(room.id),
            query.cursor.as_deref(),
            query.limit(),
        )
        .await?,
    ))
}

/// A seller's public profile: member since, completed sales, rating over all their rooms, the
/// verified-wallet badge, open rooms and the latest reviews.
#[utoipa::path(
    get,
    path = "/api/users/{username}",
    tag = "reviews",
    params(("username" = String, Path, description = "The username (any letter case).", example = "alice")),
    responses(
        (status = 200, description = "The profile.", body = SellerProfileResponse),
        (status = 404, description = "No user has this name.", body = ErrorBody),
        (status = 410, description = "The seller's profile is unavailable: the platform suspended the account.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn seller_profile(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> Result<axum::Json<SellerProfileResponse>> {
    Ok(axum::Json(
        profiles::profile(&state.db, &username, &state.public_url).await?,
    ))
}

/// The reviews of all of a seller's rooms, newest first. Public.
#[utoipa::path(
    get,
    path = "/api/users/{username}/reviews",
    tag = "reviews",
    params(
        ("username" = String, Path, description = "The username (any letter case).", example = "alice"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of reviews.", body = ReviewPageResponse),
        (status = 400, description = "A malformed query.", body = ErrorBody),
        (status = 404, description = "No user has this name.", body = ErrorBody),
        (status = 422, description = "A malformed cursor, or `limit` outside 1–50.", body = ErrorBody),
        (status = 410, description = "The seller's profile is unavailable: the platform suspended the account.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn seller_reviews(
    State(state): State<AppState>,
    Path(username): Path<String>,
    query: std::result::Result<Query<PageQuery>, QueryRejection>,
) -> Result<axum::Json<ReviewPageResponse>> {
    let query = PageQuery::read(query)?;
    Ok(axum::Json(
        profiles::reviews_of(&state.db, &username, query.cursor.as_deref(), query.limit()).await?,
    ))
}

/// The room's rating changed: this replica's cached view goes.
async fn forget_room(state: &AppState, code: &str) {
    if let Ok(code) = shifting_shared::RoomCode::parse(code) {
        state.room_views.forget(&code).await;
    }
}
