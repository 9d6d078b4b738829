//! Conversations between a room's buyer and its seller, and the live socket's messages: the
//! rules both sides check the same way (a message is 1–4,000 characters of plain text) and the
//! shapes of the API and of the socket protocol.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::PartyResponse;
use crate::room::RoomTextError;

/// A message's text: plain text, trimmed, 1–[`MessageText::MAX_CHARS`] characters; line breaks
/// and tabs allowed, other control characters not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    /// The most characters a message may have.
    pub const MAX_CHARS: usize = 4000;

    /// Parses a message.
    ///
    /// # Errors
    /// [`RoomTextError::Empty`] for white space only, [`RoomTextError::TooLong`] or
    /// [`RoomTextError::Control`].
    pub fn parse(input: &str) -> Result<Self, RoomTextError> {
        let text = crate::room::plain_text(input, Self::MAX_CHARS)?;
        if text.is_empty() {
            return Err(RoomTextError::Empty);
        }
        Ok(Self(text))
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Which side of a conversation someone is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConversationSide {
    /// The buyer (who opened the conversation, or whose purchase did).
    Buyer,
    /// The room's seller.
    Seller,
}

/// What happened to a payment, as a conversation's system entry says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::EnumIter)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentEvent {
    /// The buyer started paying.
    Started,
    /// The buyer approved the payment at their wallet.
    Approved,
    /// The seller received the full price.
    Completed,
    /// The payment failed.
    Failed,
    /// The approval or the quote expired.
    Expired,
    /// The buyer declined or cancelled.
    Rejected,
    /// The buyer reviewed the purchase.
    Reviewed,
    /// The seller refunded the purchase.
    Refunded,
}

impl PaymentEvent {
    /// The stored and wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Approved => "approved",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Rejected => "rejected",
            Self::Reviewed => "reviewed",
            Self::Refunded => "refunded",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        <Self as strum::IntoEnumIterator>::iter().find(|e| e.as_str() == name)
    }

    /// The entry a payment's move to `status` writes (`None` for the steps people need not see).
    #[must_use]
    pub fn of_status(status: crate::TransactionStatus) -> Option<Self> {
        use crate::TransactionStatus as S;
        match status {
            S::AwaitingApproval => Some(Self::Started),
            S::Approved => Some(Self::Approved),
            S::Sending => None,
            S::Completed => Some(Self::Completed),
            S::Rejected => Some(Self::Rejected),
            S::Expired => Some(Self::Expired),
            S::Failed => Some(Self::Failed),
            S::RefundPending => None,
            S::Refunded => Some(Self::Refunded),
        }
    }
}

/// One entry of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageResponse {
    /// Increasing over all conversations; resume a live socket after the last one seen.
    #[cfg_attr(feature = "openapi", schema(example = 1042))]
    pub id: i64,
    /// Its conversation.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub conversation_id: Uuid,
    /// Who wrote it; `null` for a system entry about a payment.
    pub from: Option<ConversationSide>,
    /// A person's text (`null` for a system entry).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Is the lesson still available on Saturday?")
    )]
    pub text: Option<String>,
    /// A system entry: what happened to the payment.
    pub event: Option<PaymentEvent>,
    /// A system entry: the transaction it is about (its buyer and seller may open it).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub transaction_id: Option<Uuid>,
    /// Written.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
}

/// The room a conversation is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationRoom {
    /// Its share code.
    #[cfg_attr(feature = "openapi", schema(example = "K7M2QX"))]
    pub code: String,
    /// Its name.
    #[cfg_attr(feature = "openapi", schema(example = "Guitar lesson"))]
    pub name: String,
}

/// A conversation, as one of its two people sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationResponse {
    /// Id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub id: Uuid,
    /// The room.
    pub room: ConversationRoom,
    /// The buyer.
    pub buyer: PartyResponse,
    /// The seller.
    pub seller: PartyResponse,
    /// The caller's side.
    pub role: ConversationSide,
    /// The newest entry, if any.
    pub last_message: Option<MessageResponse>,
    /// Messages from the other person the caller has not read.
    #[cfg_attr(feature = "openapi", schema(example = 2))]
    pub unread: u32,
    /// The newest message the other person has read (0 for none).
    #[cfg_attr(feature = "openapi", schema(example = 41))]
    pub other_read_up_to: i64,
    /// Opened.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
}

/// `GET /api/conversations`: the caller's conversations with at least one entry, the most
/// recently active first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationPageResponse {
    /// This page.
    pub conversations: Vec<ConversationResponse>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "MTc2NDg0MzMwMDAwMDAwMDAwMC42ZjFjMGIzZS05ZDNj")
    )]
    pub next_cursor: Option<String>,
    /// Unread messages over all the caller's conversations.
    #[cfg_attr(feature = "openapi", schema(example = 4))]
    pub unread_total: u32,
}

/// `GET /api/conversations/{id}/messages`: newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagePageResponse {
    /// This page, newest first.
    pub messages: Vec<MessageResponse>,
    /// Pass as `cursor` for older messages; `null` when there are none.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "MTc2NDg0MzMwMDAwMDAwMDAwMC42ZjFjMGIzZS05ZDNj")
    )]
    pub next_cursor: Option<String>,
}

/// `POST /api/conversations/{id}/messages` and `POST /api/rooms/{code}/conversation`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// Plain text, 1–4,000 characters (trimmed).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Is the lesson still available on Saturday?")
    )]
    pub text: String,
}

/// `POST /api/conversations/{id}/read`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// The newest message read (an id of this conversation's).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, example = 1042))]
    pub up_to: i64,
}

/// `GET /api/conversations/unread`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreadResponse {
    /// Unread messages over all the caller's conversations.
    #[cfg_attr(feature = "openapi", schema(example = 57))]
    pub total: u32,
}

/// `POST /api/live/ticket`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketResponse {
    /// Opens one socket, once, within `expires_in` seconds: `GET /api/live?ticket=…`, or the
    /// `hello` message's `ticket`.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "lt_4fJ9sK2mQ7xR1vB8nC3yD6zE0wA5")
    )]
    pub ticket: String,
    /// Seconds it stays valid.
    #[cfg_attr(feature = "openapi", schema(example = 30))]
    pub expires_in: u32,
}

/// What the server sends on a live socket (JSON text frames, `type` names the kind).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// The socket is authenticated; what was missed since `after` follows as `message`s.
    Ready {
        /// The user's unread total.
        unread: u32,
    },
    /// A new entry in one of the user's conversations (also a replayed one after `after`).
    Message {
        /// The entry.
        message: MessageResponse,
    },
    /// One side read a conversation up to a message.
    Read {
        /// The conversation.
        conversation_id: Uuid,
        /// Who read.
        role: ConversationSide,
        /// Up to which message.
        up_to: i64,
    },
    /// One of the user's transactions (as buyer or seller) changed status.
    Transaction {
        /// The transaction.
        id: Uuid,
        /// Its new status.
        status: crate::TransactionStatus,
    },
    /// The user's unread total changed.
    Unread {
        /// The new total.
        total: u32,
    },
    /// The server may have missed events: fetch what is shown again.
    Resync,
}

/// What a client sends on a live socket: one `hello` when it did not pass its ticket in the URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LiveHello {
    /// Authenticates the socket and asks for what was missed.
    Hello {
        /// A ticket from `POST /api/live/ticket` (when not in the URL).
        #[serde(default)]
        ticket: Option<String>,
        /// The last message id the client saw: entries after it are sent again.
        #[serde(default)]
        after: Option<i64>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_trimmed_plain_text_of_one_to_4000_characters() {
        assert_eq!(MessageText::parse("  hi\n").unwrap().as_str(), "hi");
        assert_eq!(MessageText::parse(" \n "), Err(RoomTextError::Empty));
        assert!(MessageText::parse(&"é".repeat(4000)).is_ok());
        assert_eq!(
            MessageText::parse(&"é".repeat(4001)),
            Err(RoomTextError::TooLong(4000))
        );
        assert_eq!(MessageText::parse("a\u{7}b"), Err(RoomTextError::Control));
    }

    #[test]
    fn payment_events_read_back_their_names() {
        for event in <PaymentEvent as strum::IntoEnumIterator>::iter() {
            assert_eq!(PaymentEvent::parse(event.as_str()), Some(event));
        }
        assert_eq!(PaymentEvent::parse("sending"), None);
    }

    #[test]
    fn socket_events_are_tagged_by_type() {
        let json = serde_json::to_value(LiveEvent::Unread { total: 3 }).unwrap();
        assert_eq!(json, serde_json::json!({"type": "unread", "total": 3}));
        let hello: LiveHello =
            serde_json::from_str(r#"{"type":"hello","ticket":"t","after":7}"#).unwrap();
        assert_eq!(
            hello,
            LiveHello::Hello {
                ticket: Some("t".into()),
                after: Some(7)
            }
        );
    }
}
