//! `/api/rooms/{code}/payments`: starting a payment.

use shifting_shared::api::{StartPaymentRequest, StartPaymentResponse};

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
