//! Webhooks for integrators, after the Standard Webhooks specification: endpoints with chosen
//! event types and a `whsec_` signing secret, the events' bodies, and the delivery log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::TransactionStatus;
use crate::api::AmountDto;

/// What every signing secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";
/// The most endpoints one person keeps.
pub const MAX_ENDPOINTS: usize = 10;
/// The longest endpoint URL, in bytes.
pub const MAX_URL: usize = 2000;
/// The longest description, in characters.
pub const MAX_DESCRIPTION: usize = 200;

/// What happened, as the `type` of an event and an endpoint's subscription.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::EnumIter,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventType {
    /// A payment completed: the seller received the full price.
    #[serde(rename = "transaction.completed")]
    TransactionCompleted,
    /// A payment failed.
    #[serde(rename = "transaction.failed")]
    TransactionFailed,
    /// A payment's quote or consent expired before the buyer approved.
    #[serde(rename = "transaction.expired")]
    TransactionExpired,
    /// The buyer declined at their wallet or cancelled.
    #[serde(rename = "transaction.rejected")]
    TransactionRejected,
    /// The seller gave the money back.
    #[serde(rename = "transaction.refunded")]
    TransactionRefunded,
    /// A room was opened.
    #[serde(rename = "room.created")]
    RoomCreated,
    /// A room was changed (details, price, stock, wallet, closed).
    #[serde(rename = "room.updated")]
    RoomUpdated,
    /// A buyer reviewed one of the seller's rooms.
    #[serde(rename = "review.created")]
    ReviewCreated,
    /// A message arrived in one of the person's conversations.
    #[serde(rename = "message.created")]
    MessageCreated,
}

impl EventType {
    /// The wire and stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TransactionCompleted => "transaction.completed",
            Self::TransactionFailed => "transaction.failed",
            Self::TransactionExpired => "transaction.expired",
            Self::TransactionRejected => "transaction.rejected",
            Self::TransactionRefunded => "transaction.refunded",
            Self::RoomCreated => "room.created",
            Self::RoomUpdated => "room.updated",
            Self::ReviewCreated => "review.created",
            Self::MessageCreated => "message.created",
        }
    }

    /// Every event type.
    pub fn all() -> impl Iterator<Item = Self> {
        <Self as strum::IntoEnumIterator>::iter()
    }

    /// The event a payment's new status is, if any.
    #[must_use]
    pub fn for_status(status: TransactionStatus) -> Option<Self> {
        match status {
            TransactionStatus::Completed => Some(Self::TransactionCompleted),
            TransactionStatus::Failed => Some(Self::TransactionFailed),
            TransactionStatus::Expired => Some(Self::TransactionExpired),
            TransactionStatus::Rejected => Some(Self::TransactionRejected),
            TransactionStatus::Refunded => Some(Self::TransactionRefunded),
            TransactionStatus::AwaitingApproval
            | TransactionStatus::Approved
            | TransactionStatus::Sending
            | TransactionStatus::RefundPending => None,
        }
    }
}

impl std::str::FromStr for EventType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::all().find(|event| event.as_str() == s).ok_or(())
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an endpoint is turned off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DisabledReason {
    /// Its owner turned it off.
    Owner,
    /// Every delivery failed for 5 days.
    Failing,
    /// It answered 410 Gone.
    Gone,
}

impl DisabledReason {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Failing => "failing",
            Self::Gone => "gone",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Owner, Self::Failing, Self::Gone]
            .into_iter()
            .find(|reason| reason.as_str() == stored)
    }
}

/// `POST /api/webhooks`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Where events are posted: `https`, a public address.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://shop.example/hooks/shifting", max_length = 2000)
    )]
    pub url: String,
    /// What it is for (up to 200 characters).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "Shop orders", max_length = 200))]
    pub description: String,
    /// The events it receives (at least one).
    #[cfg_attr(
        feature = "openapi",
        schema(min_items = 1, example = json!(["transaction.completed", "transaction.refunded"]))
    )]
    pub event_types: Vec<EventType>,
}

/// `PATCH /api/webhooks/{id}`: what is given changes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    /// A new URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 2000, example = "https://shop.example/hooks/shifting-v2")
    )]
    pub url: Option<String>,
    /// A new description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 200, example = "Orders and refunds")
    )]
    pub description: Option<String>,
    /// New event types (at least one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = json!(["transaction.completed"])))]
    pub event_types: Option<Vec<EventType>>,
    /// Turn deliveries off (`false`) or back on (`true`: the failure count starts again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// An endpoint as its owner sees it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookResponse {
    /// Id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub id: Uuid,
    /// Where events are posted.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://shop.example/hooks/shifting")
    )]
    pub url: String,
    /// What it is for.
    #[cfg_attr(feature = "openapi", schema(example = "Orders"))]
    pub description: String,
    /// The events it receives.
    pub event_types: Vec<EventType>,
    /// Whether events are delivered to it.
    pub enabled: bool,
    /// When it was turned off.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why it was turned off: by its `owner`, after 5 days of `failing`, or because it
    /// answered 410 (`gone`).
    pub disabled_reason: Option<DisabledReason>,
    /// Since when every delivery has failed (`null`: the last one succeeded).
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the previous secret still signs, after a rotation.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// Created.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
}

/// `POST /api/webhooks`: the endpoint and its secret, shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedWebhookResponse {
    /// The endpoint.
    pub endpoint: WebhookResponse,
    /// The signing secret (`whsec_` and base64): shown only now.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    )]
    pub secret: String,
}

/// `POST /api/webhooks/{id}/secret`: the new secret, shown this once; the previous one keeps
/// signing (a second `v1,` signature) for 24 hours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RotatedSecretResponse {
    /// The endpoint.
    pub endpoint: WebhookResponse,
    /// The new signing secret.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    )]
    pub secret: String,
}

/// `GET /api/webhooks`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookListResponse {
    /// The caller's endpoints, newest first (at most 10).
    pub endpoints: Vec<WebhookResponse>,
}

/// Where a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not delivered yet; tried again at `next_attempt_at`.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up (the schedule ran out, the endpoint was turned off, or the address is refused).
    Failed,
}

/// One attempt at delivering a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryAttempt {
    /// 1 for the first.
    #[cfg_attr(feature = "openapi", schema(example = 1))]
    pub attempt: i32,
    /// When.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub at: DateTime<Utc>,
    /// `sent`, `retry`, `failed` or `dropped`.
    #[cfg_attr(feature = "openapi", schema(example = "retry"))]
    pub outcome: String,
    /// The HTTP status the endpoint answered, when it answered.
    #[cfg_attr(feature = "openapi", schema(example = 503))]
    pub response_code: Option<i32>,
    /// What went wrong.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Answered 503 Service Unavailable.")
    )]
    pub detail: Option<String>,
}

/// One event sent to an endpoint, with its attempts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryResponse {
    /// The `webhook-id` (`msg_…`): the same for every attempt and resend.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "msg_6f1c0b3e9d3c4c1ea3c0b1f2d3e4a5b6")
    )]
    pub id: String,
    /// The event type.
    pub event_type: EventType,
    /// When the event happened.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
    /// Where it is.
    pub status: DeliveryStatus,
    /// When the next attempt is due (pending only).
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Every attempt, oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}

/// `GET /api/webhooks/{id}/deliveries`: newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryPage {
    /// This page.
    pub deliveries: Vec<DeliveryResponse>,
    /// Pass as `cursor` for the next page; `null` at the end.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "MTc2NDg0MzMwMDAwMDAwMDAwMC42ZjFjMGIzZS05ZDNj")
    )]
    pub next_cursor: Option<String>,
}

/// What is posted: the Standard Webhooks payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEvent {
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// Ids and the few facts an integrator acts on; read the rest through the API.
    pub data: EventData,
}

/// An event's `data`, by its type's first word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum EventData {
    /// `transaction.*`.
    Transaction(TransactionEventData),
    /// `room.*`.
    Room(RoomEventData),
    /// `review.created`.
    Review(ReviewEventData),
    /// `message.created`.
    Message(MessageEventData),
}

/// `data` of `transaction.*`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransactionEventData {
    /// The transaction (`GET /api/transactions/{id}`).
    pub transaction_id: Uuid,
    /// The room's code.
    pub room_code: String,
    /// Its status now.
    pub status: TransactionStatus,
    /// The price.
    pub amount: AmountDto,
    /// Why it did not complete (`failed`, `expired`, `rejected`).
    pub failure_code: Option<String>,
}

/// `data` of `room.*`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomEventData {
    /// The room's code (`GET /api/rooms/{code}`).
    pub room_code: String,
    /// Its name.
    pub name: String,
    /// Its price.
    pub price: AmountDto,
    /// Whether it is closed.
    pub closed: bool,
}

/// `data` of `review.created`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewEventData {
    /// The review.
    pub review_id: Uuid,
    /// The room reviewed.
    pub room_code: String,
    /// Stars, 1 to 5.
    pub rating: u8,
}

/// `data` of `message.created`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageEventData {
    /// The conversation (`GET /api/conversations/{id}/messages`).
    pub conversation_id: Uuid,
    /// The message's number in it.
    pub message_id: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_read_back_and_match_their_wire_names() {
        for event in EventType::all() {
            assert_eq!(event.as_str().parse::<EventType>(), Ok(event));
            assert_eq!(
                serde_json::to_string(&event).unwrap(),
                format!("\"{}\"", event.as_str())
            );
        }
        assert!("transaction.sent".parse::<EventType>().is_err());
    }
}
