//! `/api/rooms/{code}/payments`: starting a payment.

use shifting_shared::api::{GuestPaymentRequest, StartPaymentRequest, StartPaymentResponse};

use super::client::{self, ApiError, segment};
use crate::session::Session;

/// Starts paying for a room.
pub async fn start_payment(
    session: Session,
    code: &str,
    request: &StartPaymentRequest,
) -> Result<StartPaymentResponse, ApiError> {
    client::post(
        &format!("/api/rooms/{}/payments", segment(code)),
        request,
        Some(session),
    )
    .await
}

/// Starts paying for a room without an account; keeps the purchase's key in this browser.
pub async fn start_guest_payment(
    code: &str,
    request: &GuestPaymentRequest,
) -> Result<StartPaymentResponse, ApiError> {
    let started: StartPaymentResponse = client::post(
        &format!("/api/rooms/{}/guest-payments", segment(code)),
        request,
        None,
    )
    .await?;
    if let Some(key) = &started.guest_key {
        crate::guest::remember(&started.transaction.id.to_string(), key);
    }
    Ok(started)
}
