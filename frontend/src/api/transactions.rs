//! `/api/transactions`: the caller's purchases and sales.

use shifting_shared::api::{TransactionPageResponse, TransactionResponse};

use super::client::{self, ApiError, segment};
use crate::session::Session;

/// A page of the caller's transactions (`role` is `buyer` or `seller`).
pub async fn transactions(
    session: Session,
    role: &str,
) -> Result<TransactionPageResponse, ApiError> {
    client::get(
        &format!("/api/transactions?role={role}&limit=50"),
        Some(session),
    )
    .await
}

/// One transaction with its history.
pub async fn transaction(session: Session, id: &str) -> Result<TransactionResponse, ApiError> {
    client::get(&format!("/api/transactions/{}", segment(id)), Some(session)).await
}
