//! Reviews of purchases, the seller's replies, the reviews of a room and sellers' public
//! profiles.

use shifting_shared::review::{
    ReplyRequest, ReviewPageResponse, ReviewRequest, ReviewResponse, ReviewUpdateRequest,
    SellerProfileResponse,
};

use super::client::{self, ApiError, segment};
use crate::session::Session;

fn review_path(transaction: &str) -> String {
    format!("/api/transactions/{}/review", segment(transaction))
}

/// Reviews a completed purchase.
pub async fn create(
    session: Session,
    transaction: &str,
    rating: u8,
    text: String,
) -> Result<ReviewResponse, ApiError> {
    let request = ReviewRequest {
        rating: i64::from(rating),
        text: Some(text),
    };
    client::post(&review_path(transaction), &request, Some(session)).await
}

/// Changes one's review.
pub async fn update(
    session: Session,
    transaction: &str,
    rating: u8,
    text: String,
) -> Result<ReviewResponse, ApiError> {
    let request = ReviewUpdateRequest {
        rating: Some(i64::from(rating)),
        text: Some(text),
    };
    client::patch(&review_path(transaction), &request, Some(session)).await
}

/// Deletes one's review.
pub async fn delete(session: Session, transaction: &str) -> Result<(), ApiError> {
    client::delete_no_content(&review_path(transaction), session).await
}

/// Posts or changes the seller's reply.
pub async fn reply(
    session: Session,
    transaction: &str,
    text: String,
) -> Result<ReviewResponse, ApiError> {
    client::put(
        &format!("{}/reply", review_path(transaction)),
        &ReplyRequest { text },
        Some(session),
    )
    .await
}

/// A page of a room's reviews (public).
pub async fn of_room(code: &str, cursor: Option<&str>) -> Result<ReviewPageResponse, ApiError> {
    client::get(
        &with_cursor(format!("/api/rooms/{}/reviews", segment(code)), cursor),
        None,
    )
    .await
}

/// A page of the reviews of all of a seller's rooms (public).
pub async fn of_seller(
    username: &str,
    cursor: Option<&str>,
) -> Result<ReviewPageResponse, ApiError> {
    client::get(
        &with_cursor(format!("/api/users/{}/reviews", name(username)), cursor),
        None,
    )
    .await
}

/// A seller's public profile.
pub async fn profile(username: &str) -> Result<SellerProfileResponse, ApiError> {
    client::get(&format!("/api/users/{}", name(username)), None).await
}

fn with_cursor(path: String, cursor: Option<&str>) -> String {
    match cursor {
        // Cursors are URL-safe base64: nothing to escape.
        Some(cursor) => format!("{path}?cursor={}", segment_cursor(cursor)),
        None => path,
    }
}

/// A username as a path segment: letters, digits, `_` and `-` (nothing else makes one).
fn name(username: &str) -> String {
    username
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .collect()
}

fn segment_cursor(cursor: &str) -> String {
    name(cursor)
}
