//! Refunds: the seller's refund of a completed sale (approved at their own wallet), the buyer's
//! request for one, and the seller's return from their wallet.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use shifting_shared::ErrorBody;
use shifting_shared::api::TransactionResponse;
use shifting_shared::refund::RefundReasonRequest;
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::http::extract::{AuthUser, Json};
use crate::payments::checkout::FinishQuery;
use crate::payments::refunds::{self, FinishOutcome};
use crate::state::AppState;

/// Refund a completed sale in full (the seller only): what the seller's wallet received goes
/// back to the buyer's wallet. The seller approves the payment at their own wallet: send their
/// browser to `refund.consent_url`; it comes back to `/transactions/{id}?refund=…`. The sale is
/// `refund_pending` meanwhile, `refunded` once the buyer's wallet has the money, and
/// `completed` again (refundable again) if the refund does not go through.
/// `refund.buyer_receives` says what the buyer gets (their currency, after the wallets' rates).
#[utoipa::path(
    post,
    path = "/api/transactions/{id}/refund",
    tag = "transactions",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The sale's transaction id.")),
    request_body = RefundReasonRequest,
    responses(
        (status = 201, description = "Awaiting the seller's approval at their wallet; the sale with its refund and history.", body = TransactionResponse),
        (status = 400, description = "Malformed JSON, or an id that is not a UUID.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "The buyer cannot refund; they can ask for a refund.", body = ErrorBody),
        (status = 404, description = "No such sale of the caller's.", body = ErrorBody),
        (status = 409, description = "Not completed, a refund is under way, already refunded, or a guest's purchase.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A missing or too long reason.", body = ErrorBody),
        (status = 429, description = "Too many payment attempts from this account.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 502, description = "A wallet provider failed; the refund is recorded as failed and the sale is completed again.", body = ErrorBody),
    )
)]
pub async fn refund(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    Json(request): Json<RefundReasonRequest>,
) -> Result<(StatusCode, axum::Json<TransactionResponse>)> {
    state.payment_limiters.per_user.check_key(&user.id)?;
    let id = transaction_id(id)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(refunds::start(&state, user.id, id, &request).await?),
    ))
}

/// Ask the seller for a refund of a completed purchase (the buyer only), with a reason the
/// seller sees on the sale. Asking again replaces the reason.
#[utoipa::path(
    post,
    path = "/api/transactions/{id}/refund-request",
    tag = "transactions",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The purchase's transaction id.")),
    request_body = RefundReasonRequest,
    responses(
        (status = 200, description = "Asked; the purchase with the request and its history.", body = TransactionResponse),
        (status = 400, description = "Malformed JSON, or an id that is not a UUID.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 404, description = "No such purchase of the caller's.", body = ErrorBody),
        (status = 409, description = "Not a completed purchase.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A missing or too long reason.", body = ErrorBody),
        (status = 429, description = "Too many requests from this account.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn request_refund(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    Json(request): Json<RefundReasonRequest>,
) -> Result<axum::Json<TransactionResponse>> {
    // A few words to the seller, limited like messages.
    state.message_limiter.check_key(&user.id)?;
    let id = transaction_id(id)?;
    Ok(axum::Json(
        refunds::request(&state, user.id, id, &request).await?,
    ))
}

/// Where the seller's wallet sends the browser back after the refund's approval. Only a
/// redirect with the refund's `state` and a hash that checks approves it, once. Always
/// answers 303 to the sale's page, `/transactions/{id}?refund=…`.
#[utoipa::path(
    get,
    path = "/api/refunds/{id}/finish",
    tag = "transactions",
    params(
        ("id" = Uuid, Path, description = "The refund's id."),
        ("state" = Option<String>, Query, description = "The refund's finish state, put in the finish URI at the start."),
        ("hash" = Option<String>, Query, description = "The interaction hash (after approval)."),
        ("interact_ref" = Option<String>, Query, description = "The interaction reference (after approval)."),
        ("result" = Option<String>, Query, description = "Why there is no approval, such as `grant_rejected`."),
    ),
    responses(
        (status = 303, description = "To the sale's page; `refund` is `approved`, `declined`, `ended` or `unchanged`.",
            headers(("Location" = String, description = "/transactions/{id}?refund=approved"))),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
    )
)]
pub async fn finish_refund(
    State(state): State<AppState>,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    query: std::result::Result<Query<FinishQuery>, QueryRejection>,
) -> Result<Redirect> {
    let Path(id) = id.map_err(|_| ApiError::BadRequest("The refund id is not a UUID.".into()))?;
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let (outcome, sale) = refunds::finish(&state, id, &query)
        .await
        .unwrap_or_else(|err| {
            tracing::error!(refund = %id, error = format!("{err:#}"), "the refund's finish could not be handled");
            (FinishOutcome::Unchanged, None)
        });
    Ok(Redirect::to(&match sale {
        Some(sale) => format!("/transactions/{sale}?refund={}", outcome.as_str()),
        None => "/dashboard".to_owned(),
    }))
}

fn transaction_id(id: std::result::Result<Path<Uuid>, PathRejection>) -> Result<Uuid> {
    id.map(|Path(id)| id)
        .map_err(|_| ApiError::BadRequest("The transaction id is not a UUID.".into()))
}
