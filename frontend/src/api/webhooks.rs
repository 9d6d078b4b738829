//! `/api/webhooks`.

use shifting_shared::webhooks::{
    CreateWebhookRequest, CreatedWebhookResponse, DeliveryPage, RotatedSecretResponse,
    UpdateWebhookRequest, WebhookListResponse, WebhookResponse,
};

use super::client::{self, ApiError};
use crate::session::Session;

/// The caller's endpoints.
pub async fn list(session: Session) -> Result<WebhookListResponse, ApiError> {
    client::get("/api/webhooks", Some(session)).await
}

/// Registers an endpoint; the answer holds its secret, once.
pub async fn create(
    session: Session,
    request: &CreateWebhookRequest,
) -> Result<CreatedWebhookResponse, ApiError> {
    client::post("/api/webhooks", request, Some(session)).await
}

/// Changes an endpoint (turns it on or off).
pub async fn update(
    session: Session,
    id: impl std::fmt::Display,
    request: &UpdateWebhookRequest,
) -> Result<WebhookResponse, ApiError> {
    client::patch(&format!("/api/webhooks/{id}"), request, Some(session)).await
}

/// Deletes an endpoint.
pub async fn delete(session: Session, id: impl std::fmt::Display) -> Result<(), ApiError> {
    client::delete_no_content(&format!("/api/webhooks/{id}"), session).await
}

/// A new signing secret.
pub async fn rotate(
    session: Session,
    id: impl std::fmt::Display,
) -> Result<RotatedSecretResponse, ApiError> {
    client::post_empty(&format!("/api/webhooks/{id}/secret"), Some(session)).await
}

/// The newest messages sent to an endpoint.
pub async fn deliveries(
    session: Session,
    id: impl std::fmt::Display,
) -> Result<DeliveryPage, ApiError> {
    client::get(&format!("/api/webhooks/{id}/deliveries"), Some(session)).await
}

/// Sends a message again.
pub async fn send_again(
    session: Session,
    id: impl std::fmt::Display,
    message: &str,
) -> Result<(), ApiError> {
    let message = client::segment(message.trim_start_matches("msg_"));
    client::post_no_content(
        &format!("/api/webhooks/{id}/deliveries/msg_{message}/send"),
        Some(session),
    )
    .await
}
