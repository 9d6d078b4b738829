//! `/api/me`: the signed-in user's profile.

use axum::extract::State;
use shifting_shared::ErrorBody;
use shifting_shared::api::{
    ClaimPurchaseRequest, TransactionResponse, UpdateProfileRequest, UserResponse,
};

use crate::error::Result;
use crate::http::extract::{AuthUser, Json};
use crate::services::{accounts, transactions, wallets};
use crate::state::AppState;

/// The signed-in user's profile.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The profile.", body = UserResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn get_me(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<UserResponse>> {
    Ok(axum::Json(accounts::get_profile(&state.db, user.id).await?))
}

/// Set the wallet address: normalised, resolved over Open Payments, and stored as the wallet's
/// canonical `id` with its currency.
#[utoipa::path(
    patch,
    path = "/api/me",
    tag = "me",
    security(("bearer" = [])),
    request_body = UpdateProfileRequest,
    responses(
        (status = 200, description = "The updated profile.", body = UserResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "The wallet address is malformed, not allowed, unknown to its provider or unreachable; `fields.wallet_address` says why.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn update_me(
    State(state): State<AppState>,
    user: AuthUser,
    Json(request): Json<UpdateProfileRequest>,
) -> Result<axum::Json<UserResponse>> {
    let wallet = wallets::resolve(
        &state.open_payments,
        state.address_policy,
        &request.wallet_address,
        "wallet_address",
    )
    .await?;
    Ok(axum::Json(
        accounts::set_wallet(&state.db, user.id, &wallet, state.settings.clock.now()).await?,
    ))
}

/// Move a purchase made as a guest into the signed-in account, with the key from its receipt
/// link. It then lists among the account's purchases like any other.
#[utoipa::path(
    post,
    path = "/api/me/purchases",
    tag = "me",
    security(("bearer" = [])),
    request_body = ClaimPurchaseRequest,
    responses(
        (status = 200, description = "The purchase, now in the caller's account (also when it already was).", body = TransactionResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "The caller is the seller of this transaction.", body = ErrorBody),
        (status = 404, description = "The key does not open this transaction.", body = ErrorBody),
        (status = 409, description = "The purchase is already in another account.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "Unknown or missing fields.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn claim_purchase(
    State(state): State<AppState>,
    user: AuthUser,
    Json(request): Json<ClaimPurchaseRequest>,
) -> Result<axum::Json<TransactionResponse>> {
    let key = request.key.into();
    Ok(axum::Json(
        transactions::claim(&state.db, user.id, request.transaction_id, &key).await?,
    ))
}
