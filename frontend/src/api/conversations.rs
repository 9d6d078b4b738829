//! Conversations with sellers and buyers, and tickets for the live socket.

use shifting_shared::conversation::{
    ConversationPageResponse, ConversationResponse, MessagePageResponse, MessageRequest,
    MessageResponse, ReadRequest, TicketResponse, UnreadResponse,
};

use super::client::{self, ApiError, segment};
use crate::session::Session;

/// Opens (or finds) the signed-in buyer's conversation about room `code`.
pub async fn open(session: Session, code: &str) -> Result<ConversationResponse, ApiError> {
    client::post_empty(
        &format!("/api/rooms/{}/conversation", segment(code)),
        Some(session),
    )
    .await
}

/// A page of the signed-in user's conversations.
pub async fn list(
    session: Session,
    cursor: Option<&str>,
) -> Result<ConversationPageResponse, ApiError> {
    let query = cursor
        .map(|c| format!("?cursor={}", segment(c)))
        .unwrap_or_default();
    client::get(&format!("/api/conversations{query}"), Some(session)).await
}

/// The signed-in user's unread total.
pub async fn unread(session: Session) -> Result<UnreadResponse, ApiError> {
    client::get("/api/conversations/unread", Some(session)).await
}

/// One conversation.
pub async fn get(session: Session, id: &str) -> Result<ConversationResponse, ApiError> {
    client::get(
        &format!("/api/conversations/{}", segment(id)),
        Some(session),
    )
    .await
}

/// A page of a conversation's entries, newest first.
pub async fn messages(
    session: Session,
    id: &str,
    cursor: Option<&str>,
) -> Result<MessagePageResponse, ApiError> {
    let query = cursor
        .map(|c| format!("?cursor={}", segment(c)))
        .unwrap_or_default();
    client::get(
        &format!("/api/conversations/{}/messages{query}", segment(id)),
        Some(session),
    )
    .await
}

/// Writes a message.
pub async fn post(session: Session, id: &str, text: String) -> Result<MessageResponse, ApiError> {
    client::post(
        &format!("/api/conversations/{}/messages", segment(id)),
        &MessageRequest { text },
        Some(session),
    )
    .await
}

/// Marks a conversation read up to an entry; the new unread total.
pub async fn read(session: Session, id: &str, up_to: i64) -> Result<UnreadResponse, ApiError> {
    client::post(
        &format!("/api/conversations/{}/read", segment(id)),
        &ReadRequest { up_to },
        Some(session),
    )
    .await
}

/// A single-use ticket for the live socket.
pub async fn ticket(session: Session) -> Result<TicketResponse, ApiError> {
    client::post_empty("/api/live/ticket", Some(session)).await
}
