//! `/api/me`: the signed-in user's profile.

use shifting_shared::api::{
    ClaimPurchaseRequest, TransactionResponse, UpdateProfileRequest, UserResponse,
};

use super::client::{self, ApiError};
use crate::session::Session;

/// Sets the wallet address (the server resolves it).
pub async fn set_wallet(
    session: Session,
    wallet_address: String,
) -> Result<UserResponse, ApiError> {
    client::patch(
        "/api/me",
        &UpdateProfileRequest { wallet_address },
        Some(session),
    )
    .await
}

/// Moves a guest purchase into the signed-in account, with its key.
pub async fn claim_purchase(
    session: Session,
    id: &str,
    key: &str,
) -> Result<TransactionResponse, ApiError> {
    let transaction_id = id.parse().map_err(|_| ApiError::Unexpected(0))?;
    client::post(
        "/api/me/purchases",
        &ClaimPurchaseRequest {
            transaction_id,
            key: key.to_owned(),
        },
        Some(session),
    )
    .await
}
