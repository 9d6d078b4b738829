//! `/api/me`: the signed-in user's profile.

use shifting_shared::api::{UpdateProfileRequest, UserResponse};

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
