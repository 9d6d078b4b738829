//! `/api/me`: the signed-in user's profile.

use shifting_shared::api::{
    ClaimPurchaseRequest, TransactionResponse, UpdateProfileRequest, UserResponse,
};
use shifting_shared::review::WalletVerificationResponse;

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

/// Starts proving that the caller controls their wallet; send the browser to `redirect_url`.
pub async fn verify_wallet(session: Session) -> Result<WalletVerificationResponse, ApiError> {
    client::post_empty("/api/me/wallet/verification", Some(session)).await
}

/// Where the caller's latest wallet proof stands.
pub async fn wallet_verification(session: Session) -> Result<WalletVerificationResponse, ApiError> {
    client::get("/api/me/wallet/verification", Some(session)).await
}

/// The signed-in user's profile, as it stands now.
pub async fn me(session: Session) -> Result<UserResponse, ApiError> {
    client::get("/api/me", Some(session)).await
}
