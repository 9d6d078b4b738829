//! Reviews: only the buyer of a completed purchase writes one (1–5 stars and an optional plain
//! text), within 60 days of completion; its author may change it until the seller replies or 14
//! days pass, and delete it (a deleted review is not written again); the seller replies once,
//! publicly, and may change the reply.
//!
//! The star counts of the room and of the seller (`stars_1` … `stars_5` on `rooms` and `users`)
//! change in the same database transaction as the review, by relative updates
//! (`stars_4 = stars_4 + 1`), so concurrent reviews of one room all count and no page view
//! recounts anything.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set, SqlErr,
};
use shifting_shared::api::PartyResponse;
use shifting_shared::review::{
    EDIT_WINDOW_DAYS, REVIEW_WINDOW_DAYS, ReplyRequest, ReplyResponse, ReviewPageResponse,
    ReviewRequest, ReviewResponse, ReviewUpdateRequest,
};
use shifting_shared::{
    FieldCode, FieldError, FieldErrors, PaymentEvent, Rating, ReviewText, TransactionStatus,
};
use uuid::Uuid;

use crate::db::begin_write;
use crate::entities::{reviews, rooms, transactions, users};
use crate::error::{ApiError, Result};
use crate::live::Live;
use crate::services::{conversations, pages};

const NO_TRANSACTION: &str = "No such transaction.";
const NO_REVIEW: &str = "This purchase has no review.";

/// How many reviews a page holds at most (and by default).
pub const MAX_PAGE: u64 = pages::MAX_PAGE;

/// Reviews written by the buyer of `transaction_id`.
///
/// # Errors
/// 404 for anyone but the buyer and the seller, 403 for the seller, 409 (`field_codes.review`)
/// for a purchase that is not completed, is past its 60 days or has its review already, 422
/// for a bad rating or text.
pub async fn create(
    db: &DatabaseConnection,
    live: &Live,
    user_id: Uuid,
    transaction_id: Uuid,
    request: &ReviewRequest,
    now: DateTime<Utc>,
) -> Result<ReviewResponse> {
    let mut errors = FieldErrors::new();
    let rating = Rating::new(request.rating)
        .map_err(|e| errors.insert("rating", e))
        .ok();
    let text = ReviewText::parse(request.text.as_deref().unwrap_or(""))
        .map_err(|e| errors.insert("text", e))
        .ok();
    let (Some(rating), Some(text)) = (rating, text) else {
        return Err(ApiError::Validation(errors));
    };
    let purchase = own_purchase(db, user_id, transaction_id).await?;
    if purchase.transaction_status()? != TransactionStatus::Completed {
        return Err(review_conflict(
            "Only a completed purchase can be reviewed.",
            FieldCode::NotCompleted,
        ));
    }
    let completed = purchase.completed_at.unwrap_or(purchase.updated_at);
    if now >= completed + Duration::days(REVIEW_WINDOW_DAYS) {
        return Err(review_conflict(
            "The 60 days to review this purchase are over.",
            FieldCode::ReviewWindowClosed,
        ));
    }
    let txn = begin_write(db).await?;
    let row = reviews::ActiveModel {
        id: Set(Uuid::new_v4()),
        transaction_id: Set(purchase.id),
        room_id: Set(purchase.room_id),
        seller_id: Set(purchase.seller_id),
        author_id: Set(user_id),
        rating: Set(i16::from(rating.get())),
        body: Set(text.as_str().to_owned()),
        reply: Set(None),
        replied_at: Set(None),
        reply_updated_at: Set(None),
        refunded: Set(false),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let row = match row.insert(&txn).await {
        Ok(row) => row,
        Err(err) if is_unique_violation(&err) => return Err(already_reviewed()),
        Err(err) => return Err(err.into()),
    };
    count_stars(&txn, &row, rating.get(), 1).await?;
    let mut batch = live.batch();
    conversations::payment_entry(&txn, &mut batch, purchase.id, PaymentEvent::Reviewed, now)
        .await?;
    crate::webhooks::review_created(&txn, row.id, row.room_id, row.seller_id, rating.get(), now)
        .await?;
    txn.commit().await?;
    batch.committed();
    tracing::info!(review = %row.id, transaction = %transaction_id, "review written");
    one_response(db, row).await
}

/// Changes the stars or the text of the caller's review, while it can still change.
///
/// # Errors
/// 404 without a review of the caller's, 409 once the seller replied or 14 days passed, 422.
pub async fn update(
    db: &DatabaseConnection,
    user_id: Uuid,
    transaction_id: Uuid,
    request: &ReviewUpdateRequest,
    now: DateTime<Utc>,
) -> Result<ReviewResponse> {
    let mut errors = FieldErrors::new();
    let rating = request
        .rating
        .map(Rating::new)
        .transpose()
        .map_err(|e| errors.insert("rating", e))
        .ok()
        .flatten();
    let text = request
        .text
        .as_deref()
        .map(ReviewText::parse)
        .transpose()
        .map_err(|e| errors.insert("text", e))
        .ok()
        .flatten();
    if request.rating.is_none() && request.text.is_none() {
        errors.insert(
            "rating",
            FieldError::new(FieldCode::Required, "give a new rating or text"),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let review = authored(db, user_id, transaction_id).await?;
    if editable_until(&review).is_none_or(|until| now >= until) {
        return Err(review_conflict(
            "This review can no longer be changed: the seller replied, or 14 days have passed.",
            FieldCode::EditWindowClosed,
        ));
    }
    let old = review_rating(&review)?;
    let new = rating.unwrap_or(old);
    let txn = begin_write(db).await?;
    let mut update = reviews::Entity::update_many()
        .col_expr(reviews::Column::Rating, Expr::value(i16::from(new.get())))
        .col_expr(reviews::Column::UpdatedAt, Expr::value(now))
        .filter(reviews::Column::Id.eq(review.id))
        // Unchanged since read: not deleted, not replied to, the same stars.
        .filter(reviews::Column::DeletedAt.is_null())
        .filter(reviews::Column::Reply.is_null())
        .filter(reviews::Column::Rating.eq(review.rating));
    if let Some(text) = &text {
        update = update.col_expr(reviews::Column::Body, Expr::value(text.as_str()));
    }
    if update.exec(&txn).await?.rows_affected != 1 {
        return Err(ApiError::conflict(
            "The review changed meanwhile; load it again.",
        ));
    }
    if new != old {
        count_stars(&txn, &review, old.get(), -1).await?;
        count_stars(&txn, &review, new.get(), 1).await?;
    }
    txn.commit().await?;
    let review = reviews::Entity::find_by_id(review.id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound(NO_REVIEW))?;
    one_response(db, review).await
}

/// Deletes the caller's review (and the reply to it): it is no longer shown or counted, and
/// the purchase cannot be reviewed again. Returns the room's code.
///
/// # Errors
/// 404 without a review of the caller's.
pub async fn delete(
    db: &DatabaseConnection,
    user_id: Uuid,
    transaction_id: Uuid,
    now: DateTime<Utc>,
) -> Result<String> {
    let review = authored(db, user_id, transaction_id).await?;
    let rating = review_rating(&review)?;
    let txn = begin_write(db).await?;
    let deleted = reviews::Entity::update_many()
        .col_expr(reviews::Column::DeletedAt, Expr::value(now))
        .col_expr(reviews::Column::Body, Expr::value(""))
        .col_expr(reviews::Column::Reply, Expr::value(Option::<String>::None))
        .filter(reviews::Column::Id.eq(review.id))
        .filter(reviews::Column::DeletedAt.is_null())
        .filter(reviews::Column::Rating.eq(review.rating))
        .exec(&txn)
        .await?;
    if deleted.rows_affected != 1 {
        return Err(ApiError::conflict(
            "The review changed meanwhile; load it again.",
        ));
    }
    count_stars(&txn, &review, rating.get(), -1).await?;
    txn.commit().await?;
    tracing::info!(review = %review.id, "review deleted by its author");
    let room = rooms::Entity::find_by_id(review.room_id)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("review {} without its room", review.id))?;
    Ok(room.code)
}

/// Posts or changes the seller's public reply to the review of `transaction_id`.
///
/// # Errors
/// 404 for anyone but the buyer and seller or without a review, 403 for the buyer, 422.
pub async fn reply(
    db: &DatabaseConnection,
    user_id: Uuid,
    transaction_id: Uuid,
    request: &ReplyRequest,
    now: DateTime<Utc>,
) -> Result<ReviewResponse> {
    let text = ReviewText::parse_required(&request.text).map_err(|e| ApiError::field("text", e))?;
    let purchase = party_to(db, user_id, transaction_id).await?;
    if purchase.seller_id != user_id {
        return Err(ApiError::Forbidden(
            "Only the seller can reply to a review.",
        ));
    }
    let review = live_review(db, transaction_id)
        .await?
        .ok_or(ApiError::NotFound(NO_REVIEW))?;
    let replied = reviews::Entity::update_many()
        .col_expr(reviews::Column::Reply, Expr::value(text.as_str()))
        .col_expr(
            reviews::Column::RepliedAt,
            Expr::value(review.replied_at.unwrap_or(now)),
        )
        .col_expr(reviews::Column::ReplyUpdatedAt, Expr::value(now))
        .filter(reviews::Column::Id.eq(review.id))
        .filter(reviews::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    if replied.rows_affected != 1 {
        return Err(ApiError::NotFound(NO_REVIEW));
    }
    let review = reviews::Entity::find_by_id(review.id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound(NO_REVIEW))?;
    one_response(db, review).await
}

/// Marks the review of a refunded purchase: it stays, shown as refunded. For the refund flow
/// to call in the transaction that records the refund.
///
/// # Errors
/// Database errors.
pub async fn mark_refunded(db: &impl ConnectionTrait, transaction_id: Uuid) -> Result<bool> {
    let marked = reviews::Entity::update_many()
        .col_expr(reviews::Column::Refunded, Expr::value(true))
        .filter(reviews::Column::TransactionId.eq(transaction_id))
        .exec(db)
        .await?;
    Ok(marked.rows_affected == 1)
}

/// The review of a transaction, for the transaction's own view (its buyer and seller).
///
/// # Errors
/// Database errors.
pub async fn for_transaction(
    db: &impl ConnectionTrait,
    transaction_id: Uuid,
) -> Result<Option<ReviewResponse>> {
    match live_review(db, transaction_id).await? {
        Some(review) => Ok(Some(one_response(db, review).await?)),
        None => Ok(None),
    }
}

/// Whose reviews a page lists.
#[derive(Clone, Copy, Debug)]
pub enum Subject {
    /// One room's.
    Room(Uuid),
    /// All of one seller's rooms'.
    Seller(Uuid),
}

/// A page of reviews, newest first, after `cursor` (from the previous page's `next_cursor`).
///
/// # Errors
/// 422 (`cursor`) for a cursor this server did not make, database errors.
pub async fn page(
    db: &impl ConnectionTrait,
    subject: Subject,
    cursor: Option<&str>,
    limit: u64,
) -> Result<ReviewPageResponse> {
    let mut query = reviews::Entity::find().filter(reviews::Column::DeletedAt.is_null());
    query = match subject {
        Subject::Room(id) => query.filter(reviews::Column::RoomId.eq(id)),
        Subject::Seller(id) => query.filter(reviews::Column::SellerId.eq(id)),
    };
    let (rows, next_cursor) = pages::fetch(db, query, cursor, limit).await?;
    Ok(ReviewPageResponse {
        reviews: responses(db, rows).await?,
        next_cursor,
    })
}

/// Adds `delta` to the room's and the seller's count of `stars`-star reviews.
async fn count_stars(
    db: &impl ConnectionTrait,
    review: &reviews::Model,
    stars: u8,
    delta: i32,
) -> Result<()> {
    let (room_column, user_column) = match stars {
        1 => (rooms::Column::Stars1, users::Column::Stars1),
        2 => (rooms::Column::Stars2, users::Column::Stars2),
        3 => (rooms::Column::Stars3, users::Column::Stars3),
        4 => (rooms::Column::Stars4, users::Column::Stars4),
        _ => (rooms::Column::Stars5, users::Column::Stars5),
    };
    let add = |column: SimpleExpr| column.add(delta);
    rooms::Entity::update_many()
        .col_expr(room_column, add(Expr::col(room_column)))
        .filter(rooms::Column::Id.eq(review.room_id))
        .exec(db)
        .await?;
    users::Entity::update_many()
        .col_expr(user_column, add(Expr::col(user_column)))
        .filter(users::Column::Id.eq(review.seller_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The transaction, when the caller is its buyer; 403 for its seller, 404 for anyone else.
async fn own_purchase(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    transaction_id: Uuid,
) -> Result<transactions::Model> {
    let purchase = party_to(db, user_id, transaction_id).await?;
    if purchase.buyer_id != Some(user_id) {
        return Err(ApiError::Forbidden(
            "Only the buyer can review a purchase; a seller cannot review their own room.",
        ));
    }
    Ok(purchase)
}

/// The transaction, when the caller is its buyer or its seller (404 otherwise, so ids cannot
/// be probed).
async fn party_to(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    transaction_id: Uuid,
) -> Result<transactions::Model> {
    transactions::Entity::find_by_id(transaction_id)
        .one(db)
        .await?
        .filter(|t| t.buyer_id == Some(user_id) || t.seller_id == user_id)
        .ok_or(ApiError::NotFound(NO_TRANSACTION))
}

/// The caller's own (not deleted) review of `transaction_id`.
async fn authored(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    transaction_id: Uuid,
) -> Result<reviews::Model> {
    let purchase = own_purchase(db, user_id, transaction_id).await?;
    live_review(db, purchase.id)
        .await?
        .filter(|review| review.author_id == user_id)
        .ok_or(ApiError::NotFound(NO_REVIEW))
}

async fn live_review(
    db: &impl ConnectionTrait,
    transaction_id: Uuid,
) -> Result<Option<reviews::Model>> {
    Ok(reviews::Entity::find()
        .filter(reviews::Column::TransactionId.eq(transaction_id))
        .filter(reviews::Column::DeletedAt.is_null())
        .one(db)
        .await?)
}

/// Until when the author may change `review`: 14 days after writing it, unless the seller has
/// replied.
fn editable_until(review: &reviews::Model) -> Option<DateTime<Utc>> {
    review
        .reply
        .is_none()
        .then(|| review.created_at + Duration::days(EDIT_WINDOW_DAYS))
}

fn review_rating(review: &reviews::Model) -> Result<Rating> {
    Rating::new(i64::from(review.rating)).map_err(|_| {
        ApiError::Internal(anyhow::anyhow!(
            "review {} holds {} stars",
            review.id,
            review.rating
        ))
    })
}

fn review_conflict(message: &'static str, code: FieldCode) -> ApiError {
    ApiError::Conflict {
        message,
        fields: FieldErrors::one("review", FieldError::new(code, message)),
    }
}

fn already_reviewed() -> ApiError {
    review_conflict(
        "This purchase has its review already (one per purchase, also after deleting it).",
        FieldCode::AlreadyReviewed,
    )
}

fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

async fn one_response(db: &impl ConnectionTrait, review: reviews::Model) -> Result<ReviewResponse> {
    responses(db, vec![review])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a review without its room or author")))
}

/// Views of reviews, with their rooms and authors loaded in two queries.
async fn responses(
    db: &impl ConnectionTrait,
    rows: Vec<reviews::Model>,
) -> Result<Vec<ReviewResponse>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let room_ids: Vec<Uuid> = rows.iter().map(|r| r.room_id).collect();
    let author_ids: Vec<Uuid> = rows.iter().map(|r| r.author_id).collect();
    let rooms = crate::services::rooms::codes_and_names(db, room_ids).await?;
    let authors = crate::services::accounts::usernames(db, author_ids).await?;
    rows.into_iter()
        .map(|review| {
            let (room_code, room_name) = rooms
                .get(&review.room_id)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("review {} without its room", review.id))?;
            let author = authors.get(&review.author_id).cloned().unwrap_or_default();
            Ok(ReviewResponse {
                id: review.id,
                transaction_id: review.transaction_id,
                room_code,
                room_name,
                author: PartyResponse {
                    username: author,
                    guest: false,
                },
                rating: review_rating(&review)?.get(),
                editable_until: editable_until(&review),
                reply: match (review.reply, review.replied_at, review.reply_updated_at) {
                    (Some(text), Some(created_at), updated_at) => Some(ReplyResponse {
                        text,
                        created_at,
                        updated_at: updated_at.unwrap_or(created_at),
                    }),
                    _ => None,
                },
                text: review.body,
                refunded: review.refunded,
                created_at: review.created_at,
                updated_at: review.updated_at,
            })
        })
        .collect()
}
