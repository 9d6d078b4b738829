//! `/api/me`: the signed-in user's profile, wallet and proof of controlling that wallet.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use shifting_shared::ErrorBody;
use shifting_shared::api::{
    ClaimPurchaseRequest, TransactionResponse, UpdateProfileRequest, UserResponse,
};
use shifting_shared::review::WalletVerificationResponse;
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::http::extract::{AuthUser, Json};
use crate::services::{accounts, transactions, wallet_proofs, wallets};
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

/// Start proving that the caller controls their wallet: the wallet's provider asks its owner
/// (signed in there) to approve an Open Payments `subject` grant. Send the browser to
/// `redirect_url`; it comes back to `/settings?verification=…`. Success shows the
/// verified-wallet badge on the caller's profile and rooms until the wallet changes.
#[utoipa::path(
    post,
    path = "/api/me/wallet/verification",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Awaiting the owner at the wallet's provider.", body = WalletVerificationResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 409, description = "No wallet set yet; or `field_codes.wallet_address` is `proof_unsupported`: the provider does not offer ownership proofs.", body = ErrorBody),
        (status = 422, description = "The wallet no longer resolves; `fields.wallet_address` says why.", body = ErrorBody),
        (status = 429, description = "Too many attempts from this account.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 502, description = "The wallet's provider failed.", body = ErrorBody),
    )
)]
pub async fn start_wallet_verification(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<(StatusCode, axum::Json<WalletVerificationResponse>)> {
    state.payment_limiters.per_user.check_key(&user.id)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(wallet_proofs::start(&state, user.id).await?),
    ))
}

/// The caller's latest wallet proof, where it stands (an approved one is confirmed with the
/// provider first, once its `wait` has passed).
#[utoipa::path(
    get,
    path = "/api/me/wallet/verification",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The latest proof.", body = WalletVerificationResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 404, description = "The caller never started one.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn wallet_verification(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<WalletVerificationResponse>> {
    Ok(axum::Json(wallet_proofs::latest(&state, user.id).await?))
}

/// Where the wallet's provider sends the owner's browser back after a wallet proof. Only a
/// redirect with the proof's `state` and a hash that checks proves anything, once. Always
/// answers 303 to the web app's `/settings?verification=…`.
#[utoipa::path(
    get,
    path = "/api/wallet-verifications/{id}/finish",
    tag = "me",
    params(
        ("id" = Uuid, Path, description = "The proof's id."),
        ("state" = Option<String>, Query, description = "The proof's finish state, put in the finish URI at the start."),
        ("hash" = Option<String>, Query, description = "The interaction hash (after approval)."),
        ("interact_ref" = Option<String>, Query, description = "The interaction reference (after approval)."),
        ("result" = Option<String>, Query, description = "Why there is no approval, such as `grant_rejected`."),
    ),
    responses(
        (status = 303, description = "To the settings page; `verification` is `verified`, `pending`, `declined`, `failed` or `unchanged`.",
            headers(("Location" = String, description = "/settings?verification=verified"))),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
    )
)]
pub async fn finish_wallet_verification(
    State(state): State<AppState>,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    query: std::result::Result<Query<wallet_proofs::FinishQuery>, QueryRejection>,
) -> Result<Redirect> {
    let Path(id) =
        id.map_err(|_| ApiError::BadRequest("The verification id is not a UUID.".into()))?;
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let outcome = wallet_proofs::finish(&state, id, &query)
        .await
        .unwrap_or_else(|err| {
            tracing::error!(verification = %id, error = format!("{err:#}"), "the wallet proof's finish could not be handled");
            wallet_proofs::FinishOutcome::Failed
        });
    Ok(Redirect::to(&format!(
        "/settings?verification={}",
        outcome.as_str()
    )))
}
