//! `/api/rooms/{code}/payments` and `/api/payments/{id}/finish`: starting a payment and the
//! buyer's return from their wallet.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use shifting_shared::api::{GuestPaymentRequest, StartPaymentRequest, StartPaymentResponse};
use shifting_shared::budget::ConfirmPaymentResponse;
use shifting_shared::{Email, ErrorBody};
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::http::extract::{AuthUser, BrowserLanguage, ClientIp, Json};
use crate::http::rooms::room_code;
use crate::payments::checkout::{self, Buyer, FinishOutcome, FinishQuery};
use crate::payments::one_click;
use crate::state::AppState;

/// Start paying for a room: creates the incoming payment on the seller's wallet, quotes it on
/// the buyer's wallet and requests the buyer's approval. Send the buyer's browser to
/// `redirect_url`. The amount is the room's price; a request cannot carry one.
#[utoipa::path(
    post,
    path = "/api/rooms/{code}/payments",
    tag = "payments",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The room's code.", example = "K7M2QX"), ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters. The same key with the same request within 24 hours gets the first answer again (with `Idempotent-Replayed: true`); with another request, 422. Keys are per person.")),
    request_body = StartPaymentRequest,
    responses(
        (status = 201, description = "Awaiting the buyer's approval at their wallet.", body = StartPaymentResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "The seller cannot buy from their own room.", body = ErrorBody),
        (status = 404, description = "No room has this code.", body = ErrorBody),
        (status = 409, description = "The room is paused or closed, or sold out (`field_codes.stock` is `sold_out`: every unit is sold or held by a payment in progress), or the first request with this `Idempotency-Key` is still being answered.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "Unknown fields (an amount), an unusable buyer wallet address, or an `Idempotency-Key` used with another request.", body = ErrorBody),
        (status = 429, description = "Too many payment starts from this account or address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 410, description = "The room is unavailable: the platform withdrew it (an admin hid it, or suspended its seller).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 502, description = "A wallet provider failed; the transaction is recorded as failed.", body = ErrorBody),
    )
)]
pub async fn start_payment(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    Json(request): Json<StartPaymentRequest>,
) -> Result<(StatusCode, axum::Json<StartPaymentResponse>)> {
    state.payment_limiters.per_user.check_key(&user.id)?;
    state.payment_limiters.per_ip.check(ip)?;
    let code = room_code(&code)?;
    let buyer = Buyer::Account {
        id: user.id,
        wallet_address: request.wallet_address,
        budget: request.budget_id,
    };
    let started = checkout::start_payment(&state, buyer, &code).await?;
    Ok((StatusCode::CREATED, axum::Json(started)))
}

/// Pay for a room without an account: with a wallet address, and optionally an e-mail address
/// for the receipt. Works like the signed-in start; the answer also carries the purchase's
/// `guest_key` (shown once) and the `receipt_url` holding it, which open the transaction
/// (`X-Guest-Key`) and move it into an account later (`POST /api/me/purchases`).
#[utoipa::path(
    post,
    path = "/api/rooms/{code}/guest-payments",
    tag = "payments",
    params(("code" = String, Path, description = "The room's code.", example = "K7M2QX")),
    request_body = GuestPaymentRequest,
    responses(
        (status = 201, description = "Awaiting the buyer's approval at their wallet; keep `guest_key`.", body = StartPaymentResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 404, description = "No room has this code.", body = ErrorBody),
        (status = 409, description = "The room is paused or closed, or sold out (`field_codes.stock` is `sold_out`).", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "Unknown fields, an unusable wallet address or an invalid e-mail address.", body = ErrorBody),
        (status = 429, description = "Too many payment starts from this address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 410, description = "The room is unavailable: the platform withdrew it (an admin hid it, or suspended its seller).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 502, description = "A wallet provider failed; the transaction is recorded as failed.", body = ErrorBody),
    )
)]
pub async fn start_guest_payment(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    BrowserLanguage(language): BrowserLanguage,
    Path(code): Path<String>,
    Json(request): Json<GuestPaymentRequest>,
) -> Result<(StatusCode, axum::Json<StartPaymentResponse>)> {
    state.payment_limiters.per_ip.check(ip)?;
    let code = room_code(&code)?;
    let email = request
        .email
        .as_deref()
        .map(str::trim)
        .filter(|email| !email.is_empty())
        .map(|email| {
            Email::parse(email)
                .map(|email| email.as_str().to_owned())
                .map_err(|problem| ApiError::field("email", problem))
        })
        .transpose()?;
    let buyer = Buyer::Guest {
        wallet_address: request.wallet_address,
        email,
        language,
    };
    let started = checkout::start_payment(&state, buyer, &code).await?;
    Ok((StatusCode::CREATED, axum::Json(started)))
}

/// Where the buyer's wallet sends the browser back (the grant's `interact.finish` URI). Nothing
/// happens without the transaction's `state`, which only the buyer's wallet and browser see;
/// only a redirect whose hash proves it answers the grant continues the payment, and only once.
/// Always answers 303 to the web app's `/payments/{id}?finish=…` (also when something failed
/// on our side), which shows the payment and our own text for what happened.
#[utoipa::path(
    get,
    path = "/api/payments/{id}/finish",
    tag = "payments",
    params(
        ("id" = Uuid, Path, description = "The transaction id."),
        ("state" = Option<String>, Query, description = "The transaction's finish proof, put in the finish URI at the start."),
        ("hash" = Option<String>, Query, description = "The interaction hash (after approval)."),
        ("interact_ref" = Option<String>, Query, description = "The interaction reference (after approval)."),
        ("result" = Option<String>, Query, description = "Why there is no approval, such as `grant_rejected`."),
        ("message" = Option<String>, Query, description = "The wallet's explanation of `result` (logged, never shown)."),
    ),
    responses(
        (status = 303, description = "To the outcome page; `finish` is `approved`, `declined`, `ended`, `unchanged` or `error`.",
            headers(("Location" = String, description = "/payments/{id}?finish=approved"))),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
    )
)]
pub async fn finish_payment(
    State(state): State<AppState>,
    id: Result<Path<Uuid>, PathRejection>,
    query: Result<Query<FinishQuery>, QueryRejection>,
) -> Result<Redirect> {
    let Path(id) =
        id.map_err(|_| ApiError::BadRequest("The transaction id is not a UUID.".into()))?;
    // A query that does not parse carries no proof: treated like an empty one.
    let query = query.map(|Query(q)| q).unwrap_or_default();
    // The browser is mid-purchase: whatever happened, it lands on the payment's page.
    let outcome = checkout::finish_payment(&state, id, &query)
        .await
        .unwrap_or_else(|err| {
            tracing::error!(transaction = %id, error = format!("{err:#}"), "the finish redirect could not be handled");
            FinishOutcome::Error
        });
    Ok(Redirect::to(&format!(
        "/payments/{id}?finish={}",
        outcome.as_str()
    )))
}

/// The buyer's one click: pays a purchase started under a one-click budget (`one_click` in the
/// start's answer) with the budget's token, without a redirect. Answers once the buyer's wallet
/// has the payment (`sending`; the transaction then completes when the seller's wallet has
/// received it). When the budget cannot pay it after all (used up meanwhile, revoked, refused by
/// the wallet), nothing is sent, the transaction is `failed` and `one_click_refused` says why:
/// start the purchase again without `budget_id` to approve it at the wallet. Confirming again
/// returns the purchase as it stands.
#[utoipa::path(
    post,
    path = "/api/payments/{id}/confirm",
    tag = "payments",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The transaction id.")),
    responses(
        (status = 200, description = "Sent under the budget, or refused (`one_click_refused`).", body = ConfirmPaymentResponse),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 404, description = "The caller has no such purchase.", body = ErrorBody),
        (status = 409, description = "The purchase is approved at the wallet, not under a budget.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn confirm_payment(
    State(state): State<AppState>,
    user: AuthUser,
    id: Result<Path<Uuid>, PathRejection>,
) -> Result<axum::Json<ConfirmPaymentResponse>> {
    // Not limited on its own: each click needs a started purchase (which is), and clicking
    // again sends nothing.
    let Path(id) =
        id.map_err(|_| ApiError::BadRequest("The transaction id is not a UUID.".into()))?;
    Ok(axum::Json(one_click::confirm(&state, user.id, id).await?))
}
