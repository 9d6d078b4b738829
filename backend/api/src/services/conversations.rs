//! Conversations between a room's buyer and its seller: one per (room, buyer), opened by the
//! buyer (never by the seller on their own room) or by the buyer's first payment for the room.
//! Only its two people see a conversation; to anyone else it does not exist (404).
//!
//! Entries are people's messages (plain text, 1–4,000 characters) and system entries about the
//! room's payments, written in the same database transaction as the payment's status change.
//! Message ids increase over all conversations; each side keeps a read marker (the newest
//! message read), and unread counts are the other person's messages after it.
//!
//! Every write announces itself to the live fan-out ([`crate::live`]) in its own transaction.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set,
};
use shifting_shared::api::PartyResponse;
use shifting_shared::conversation::{
    ConversationPageResponse, ConversationResponse, ConversationRoom, ConversationSide,
    MessagePageResponse, MessageResponse, MessageText, PaymentEvent,
};
use shifting_shared::{FieldCode, FieldError, RoomCode, RoomStatus, TransactionStatus};
use uuid::Uuid;

use crate::db::begin_write;
use crate::entities::{conversations, messages, transactions};
use crate::error::{ApiError, Result};
use crate::live::{Live, Signal};

const NO_CONVERSATION: &str = "No such conversation.";

/// How many entries or conversations a page holds at most (and by default).
pub const MAX_PAGE: u64 = 50;

/// How far back a resuming socket is sent entries again besides those after its last id: on
/// PostgreSQL ids are taken before commit, so an entry may become visible after a later one
/// was seen. Clients drop entries they already have.
pub const RESUME_OVERLAP_SECS: i64 = 30;

/// The most entries a resuming socket is sent; beyond, it is told to fetch again.
pub const MAX_RESUME: u64 = 500;

/// The caller's conversation about the room `code`, opened if it has none yet.
///
/// # Errors
/// 404 for an unknown room, 403 for the room's seller, 409 for a closed room without a
/// conversation yet, database errors.
pub async fn open(
    db: &DatabaseConnection,
    user: Uuid,
    code: &RoomCode,
    now: DateTime<Utc>,
) -> Result<ConversationResponse> {
    let (room, _) = crate::services::rooms::find_public(db, code).await?;
    if room.seller_id == user {
        return Err(ApiError::Forbidden(
            "This is your room: buyers start conversations with you.",
        ));
    }
    let existing = find_for(db, room.id, user).await?;
    let row = match existing {
        Some(row) => row,
        None => {
            if room.room_status()? == RoomStatus::Closed {
                return Err(ApiError::conflict(
                    "This room is closed: its seller takes no new questions.",
                ));
            }
            open_row(db, room.id, user, room.seller_id, now).await?
        }
    };
    one_response(db, row, user).await
}

async fn find_for(
    db: &impl ConnectionTrait,
    room: Uuid,
    buyer: Uuid,
) -> Result<Option<conversations::Model>> {
    Ok(conversations::Entity::find()
        .filter(conversations::Column::RoomId.eq(room))
        .filter(conversations::Column::BuyerId.eq(buyer))
        .one(db)
        .await?)
}

/// The conversation of (`room`, `buyer`), inserted if missing (two racing openings end with one
/// row: the unique index keeps it, the loser reads it).
async fn open_row(
    db: &impl ConnectionTrait,
    room: Uuid,
    buyer: Uuid,
    seller: Uuid,
    now: DateTime<Utc>,
) -> Result<conversations::Model> {
    let row = conversations::ActiveModel {
        id: Set(Uuid::new_v4()),
        room_id: Set(room),
        buyer_id: Set(buyer),
        seller_id: Set(seller),
        last_message_id: Set(None),
        last_message_at: Set(None),
        buyer_read_id: Set(0),
        seller_read_id: Set(0),
        created_at: Set(now),
    };
    conversations::Entity::insert(row)
        .on_conflict_do_nothing_on([
            conversations::Column::RoomId,
            conversations::Column::BuyerId,
        ])
        .exec(db)
        .await?;
    find_for(db, room, buyer)
        .await?
        .ok_or_else(|| anyhow::anyhow!("conversation of room {room} vanished").into())
}

/// A conversation of the caller's.
///
/// # Errors
/// 404 when it is not theirs.
pub async fn get(db: &DatabaseConnection, user: Uuid, id: Uuid) -> Result<ConversationResponse> {
    let row = own(db, user, id).await?;
    one_response(db, row, user).await
}

async fn own(db: &impl ConnectionTrait, user: Uuid, id: Uuid) -> Result<conversations::Model> {
    conversations::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|row| row.buyer_id == user || row.seller_id == user)
        .ok_or(ApiError::NotFound(NO_CONVERSATION))
}

fn role_of(row: &conversations::Model, user: Uuid) -> ConversationSide {
    if row.buyer_id == user {
        ConversationSide::Buyer
    } else {
        ConversationSide::Seller
    }
}

/// The caller's conversations with at least one entry, the most recently active first.
///
/// # Errors
/// 422 (`cursor`) for a cursor this server did not make, database errors.
pub async fn list(
    db: &DatabaseConnection,
    user: Uuid,
    cursor: Option<&str>,
    limit: u64,
) -> Result<ConversationPageResponse> {
    let before = cursor.map(|c| decode_cursor(c, 'c')).transpose()?;
    let limit = limit.clamp(1, MAX_PAGE);
    let mut query = conversations::Entity::find()
        .filter(
            Condition::any()
                .add(conversations::Column::BuyerId.eq(user))
                .add(conversations::Column::SellerId.eq(user)),
        )
        .filter(conversations::Column::LastMessageId.is_not_null());
    if let Some(before) = before {
        query = query.filter(conversations::Column::LastMessageId.lt(before));
    }
    let mut rows = query
        .order_by_desc(conversations::Column::LastMessageId)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = cut_to(&mut rows, limit);
    let next_cursor = more
        .then(|| rows.last().and_then(|r| r.last_message_id))
        .flatten()
        .map(|id| encode_cursor('c', id));
    Ok(ConversationPageResponse {
        conversations: responses(db, rows, user).await?,
        next_cursor,
        unread_total: unread_total(db, user).await?,
    })
}

/// A page of a conversation's entries, newest first, before `cursor`.
///
/// # Errors
/// 404 when the conversation is not the caller's, 422 for a foreign cursor.
pub async fn messages_page(
    db: &DatabaseConnection,
    user: Uuid,
    id: Uuid,
    cursor: Option<&str>,
    limit: u64,
) -> Result<MessagePageResponse> {
    let row = own(db, user, id).await?;
    let before = cursor.map(|c| decode_cursor(c, 'm')).transpose()?;
    let limit = limit.clamp(1, MAX_PAGE);
    let mut query = messages::Entity::find().filter(messages::Column::ConversationId.eq(id));
    if let Some(before) = before {
        query = query.filter(messages::Column::Id.lt(before));
    }
    let mut rows = query
        .order_by_desc(messages::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = cut_to(&mut rows, limit);
    let next_cursor = more
        .then(|| rows.last().map(|m| encode_cursor('m', m.id)))
        .flatten();
    Ok(MessagePageResponse {
        messages: rows
            .iter()
            .map(|m| message_response(m, row.buyer_id))
            .collect(),
        next_cursor,
    })
}

/// Writes the caller's message in a conversation of theirs.
///
/// # Errors
/// 404 when the conversation is not the caller's, 422 for an empty, too long or control-laden
/// text, database errors.
pub async fn post(
    db: &DatabaseConnection,
    live: &Live,
    user: Uuid,
    id: Uuid,
    text: &str,
    now: DateTime<Utc>,
) -> Result<MessageResponse> {
    let text = MessageText::parse(text).map_err(|e| ApiError::field("text", e))?;
    let row = own(db, user, id).await?;
    let txn = begin_write(db).await?;
    let mut batch = live.batch();
    let message = append(
        &txn,
        &mut batch,
        &row,
        Entry::Text {
            sender: user,
            text: text.into_inner(),
        },
        now,
    )
    .await?;
    // Writing is reading what one answers.
    mark(&txn, &mut batch, &row, user, message.id).await?;
    crate::mail::message_written(&txn, message.id, now).await?;
    let reader = if user == row.buyer_id {
        row.seller_id
    } else {
        row.buyer_id
    };
    crate::webhooks::message_created(&txn, row.id, message.id, reader, now).await?;
    txn.commit().await?;
    batch.committed();
    Ok(message_response(&message, row.buyer_id))
}

/// Moves the caller's read marker up to `up_to` (never back); their new unread total.
///
/// # Errors
/// 404 when the conversation is not the caller's, 422 when `up_to` is not one of its entries.
pub async fn mark_read(
    db: &DatabaseConnection,
    live: &Live,
    user: Uuid,
    id: Uuid,
    up_to: i64,
) -> Result<u32> {
    let row = own(db, user, id).await?;
    let exists = messages::Entity::find()
        .filter(messages::Column::Id.eq(up_to))
        .filter(messages::Column::ConversationId.eq(id))
        .count(db)
        .await?
        > 0;
    if !exists {
        return Err(ApiError::field(
            "up_to",
            FieldError::new(FieldCode::Invalid, "is not an entry of this conversation"),
        ));
    }
    let txn = begin_write(db).await?;
    let mut batch = live.batch();
    mark(&txn, &mut batch, &row, user, up_to).await?;
    txn.commit().await?;
    batch.committed();
    unread_total(db, user).await
}

/// Raises `user`'s read marker of `row` to `up_to` if lower, announcing it.
async fn mark(
    db: &impl ConnectionTrait,
    batch: &mut crate::live::Batch,
    row: &conversations::Model,
    user: Uuid,
    up_to: i64,
) -> Result<()> {
    let role = role_of(row, user);
    let column = match role {
        ConversationSide::Buyer => conversations::Column::BuyerReadId,
        ConversationSide::Seller => conversations::Column::SellerReadId,
    };
    let moved = conversations::Entity::update_many()
        .col_expr(column, Expr::value(up_to))
        .filter(conversations::Column::Id.eq(row.id))
        .filter(column.lt(up_to))
        .exec(db)
        .await?
        .rows_affected
        == 1;
    if moved {
        batch
            .add(
                db,
                Signal::Read {
                    c: row.id,
                    role,
                    up_to,
                    b: row.buyer_id,
                    s: row.seller_id,
                },
            )
            .await?;
    }
    Ok(())
}

/// What an entry says.
enum Entry {
    Text {
        sender: Uuid,
        text: String,
    },
    Payment {
        transaction: Uuid,
        event: PaymentEvent,
    },
}

/// Appends an entry to `row` and announces it, in the caller's transaction.
async fn append(
    db: &impl ConnectionTrait,
    batch: &mut crate::live::Batch,
    row: &conversations::Model,
    entry: Entry,
    now: DateTime<Utc>,
) -> Result<messages::Model> {
    let (sender, body, transaction, event) = match entry {
        Entry::Text { sender, text } => (Some(sender), Some(text), None, None),
        Entry::Payment { transaction, event } => (
            None,
            None,
            Some(transaction),
            Some(event.as_str().to_owned()),
        ),
    };
    let message = messages::ActiveModel {
        conversation_id: Set(row.id),
        sender_id: Set(sender),
        body: Set(body),
        transaction_id: Set(transaction),
        event: Set(event),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    conversations::Entity::update_many()
        .col_expr(
            conversations::Column::LastMessageId,
            Expr::value(message.id),
        )
        .col_expr(conversations::Column::LastMessageAt, Expr::value(now))
        .filter(conversations::Column::Id.eq(row.id))
        .filter(
            Condition::any()
                .add(conversations::Column::LastMessageId.is_null())
                .add(conversations::Column::LastMessageId.lt(message.id)),
        )
        .exec(db)
        .await?;
    batch
        .add(
            db,
            Signal::Message {
                c: row.id,
                id: message.id,
                b: row.buyer_id,
                s: row.seller_id,
            },
        )
        .await?;
    Ok(message)
}

/// Records that `transaction` moved to a new status: the system entry `event` (if people need
/// to see it) in its buyer's conversation with the seller, opened if needed, and the status
/// announcement to both, in the caller's transaction. A guest's purchase has no conversation;
/// its seller is still told.
///
/// # Errors
/// Database errors.
pub(crate) async fn status_changed(
    db: &impl ConnectionTrait,
    batch: &mut crate::live::Batch,
    transaction: Uuid,
    status: TransactionStatus,
    now: DateTime<Utc>,
    with_entry: bool,
) -> Result<()> {
    let event = PaymentEvent::of_status(status).filter(|_| with_entry);
    let Some((room, buyer, seller)) = parties(db, transaction).await? else {
        return Ok(());
    };
    if let (Some(buyer), Some(event)) = (buyer, event) {
        entry(db, batch, transaction, (room, buyer, seller), event, now).await?;
    }
    batch
        .add(
            db,
            Signal::Transaction {
                id: transaction,
                status,
                b: buyer,
                s: seller,
            },
        )
        .await
}

/// Writes the system entry `event` about `transaction` (reviewed, refunded …) in its buyer's
/// conversation with the seller, in the caller's transaction.
///
/// # Errors
/// Database errors.
pub(crate) async fn payment_entry(
    db: &impl ConnectionTrait,
    batch: &mut crate::live::Batch,
    transaction: Uuid,
    event: PaymentEvent,
    now: DateTime<Utc>,
) -> Result<()> {
    if let Some((room, Some(buyer), seller)) = parties(db, transaction).await? {
        entry(db, batch, transaction, (room, buyer, seller), event, now).await?;
    }
    Ok(())
}

/// A transaction's room, buyer (none for a guest) and seller.
async fn parties(
    db: &impl ConnectionTrait,
    transaction: Uuid,
) -> Result<Option<(Uuid, Option<Uuid>, Uuid)>> {
    Ok(transactions::Entity::find_by_id(transaction)
        .select_only()
        .column(transactions::Column::RoomId)
        .column(transactions::Column::BuyerId)
        .column(transactions::Column::SellerId)
        .into_tuple()
        .one(db)
        .await?)
}

/// Appends a system entry to the conversation of (`room`, `buyer`), opened if needed.
async fn entry(
    db: &impl ConnectionTrait,
    batch: &mut crate::live::Batch,
    transaction: Uuid,
    (room, buyer, seller): (Uuid, Uuid, Uuid),
    event: PaymentEvent,
    now: DateTime<Utc>,
) -> Result<()> {
    let row = match find_for(db, room, buyer).await? {
        Some(row) => row,
        None => open_row(db, room, buyer, seller, now).await?,
    };
    append(db, batch, &row, Entry::Payment { transaction, event }, now).await?;
    Ok(())
}

/// The other person's messages `user` has not read, over all their conversations.
///
/// # Errors
/// Database errors.
pub async fn unread_total(db: &impl ConnectionTrait, user: Uuid) -> Result<u32> {
    let count = unread_query(user).count(db).await?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

/// The other person's messages `user` has not read, in the conversations they are in.
fn unread_query(user: Uuid) -> sea_orm::Select<messages::Entity> {
    let message_id = Expr::col((messages::Entity, messages::Column::Id));
    messages::Entity::find()
        .join(JoinType::InnerJoin, messages::Relation::Conversation.def())
        .filter(messages::Column::SenderId.is_not_null())
        .filter(messages::Column::SenderId.ne(user))
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(conversations::Column::BuyerId.eq(user))
                        .add(message_id.clone().gt(Expr::col((
                            conversations::Entity,
                            conversations::Column::BuyerReadId,
                        )))),
                )
                .add(
                    Condition::all()
                        .add(conversations::Column::SellerId.eq(user))
                        .add(message_id.gt(Expr::col((
                            conversations::Entity,
                            conversations::Column::SellerReadId,
                        )))),
                ),
        )
}

/// The entries of `user`'s conversations after `after` (and those of the last
/// [`RESUME_OVERLAP_SECS`] seconds), oldest first; `false` when there were more than
/// [`MAX_RESUME`].
///
/// # Errors
/// Database errors.
pub async fn missed(
    db: &DatabaseConnection,
    user: Uuid,
    after: i64,
    now: DateTime<Utc>,
) -> Result<(Vec<MessageResponse>, bool)> {
    let rows: Vec<(messages::Model, Option<conversations::Model>)> = messages::Entity::find()
        .find_also_related(conversations::Entity)
        .filter(
            Condition::any()
                .add(conversations::Column::BuyerId.eq(user))
                .add(conversations::Column::SellerId.eq(user)),
        )
        .filter(
            Condition::any()
                .add(Expr::col((messages::Entity, messages::Column::Id)).gt(after))
                .add(
                    Expr::col((messages::Entity, messages::Column::CreatedAt))
                        .gt(now - Duration::seconds(RESUME_OVERLAP_SECS)),
                ),
        )
        .order_by_asc(messages::Column::Id)
        .limit(MAX_RESUME + 1)
        .all(db)
        .await?;
    let complete = rows.len() as u64 <= MAX_RESUME;
    Ok((
        rows.iter()
            .take(usize::try_from(MAX_RESUME).unwrap_or(usize::MAX))
            .filter_map(|(m, c)| c.as_ref().map(|c| message_response(m, c.buyer_id)))
            .collect(),
        complete,
    ))
}

/// An entry as its conversation's people see it (`buyer` tells the sides apart).
#[must_use]
pub fn message_response(row: &messages::Model, buyer: Uuid) -> MessageResponse {
    MessageResponse {
        id: row.id,
        conversation_id: row.conversation_id,
        from: row.sender_id.map(|sender| {
            if sender == buyer {
                ConversationSide::Buyer
            } else {
                ConversationSide::Seller
            }
        }),
        text: row.body.clone(),
        event: row.event.as_deref().and_then(PaymentEvent::parse),
        transaction_id: row.transaction_id,
        created_at: row.created_at,
    }
}

async fn one_response(
    db: &impl ConnectionTrait,
    row: conversations::Model,
    user: Uuid,
) -> Result<ConversationResponse> {
    responses(db, vec![row], user)
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("a conversation without its response").into())
}

/// The responses of `rows` for `user`, with rooms, people, last entries and unread counts read
/// in one query each.
async fn responses(
    db: &impl ConnectionTrait,
    rows: Vec<conversations::Model>,
    user: Uuid,
) -> Result<Vec<ConversationResponse>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let room_ids: Vec<Uuid> = rows.iter().map(|r| r.room_id).collect();
    let rooms = crate::services::rooms::codes_and_names(db, room_ids).await?;
    let people: Vec<Uuid> = rows
        .iter()
        .flat_map(|r| [r.buyer_id, r.seller_id])
        .collect();
    let names = crate::services::accounts::usernames(db, people).await?;
    let last_ids: Vec<i64> = rows.iter().filter_map(|r| r.last_message_id).collect();
    let last: HashMap<i64, messages::Model> = messages::Entity::find()
        .filter(messages::Column::Id.is_in(last_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let unread: HashMap<Uuid, i64> = unread_query(user)
        .select_only()
        .column(messages::Column::ConversationId)
        .column_as(
            Expr::col((messages::Entity, messages::Column::Id)).count(),
            "n",
        )
        .filter(messages::Column::ConversationId.is_in(ids))
        .group_by(messages::Column::ConversationId)
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let party = |id: Uuid| PartyResponse {
        username: names.get(&id).cloned().unwrap_or_default(),
        guest: false,
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let (code, name) = rooms.get(&row.room_id).cloned().unwrap_or_default();
            let role = role_of(&row, user);
            ConversationResponse {
                id: row.id,
                room: ConversationRoom { code, name },
                buyer: party(row.buyer_id),
                seller: party(row.seller_id),
                role,
                last_message: row
                    .last_message_id
                    .and_then(|id| last.get(&id))
                    .map(|m| message_response(m, row.buyer_id)),
                unread: unread
                    .get(&row.id)
                    .map_or(0, |n| u32::try_from(*n).unwrap_or(u32::MAX)),
                other_read_up_to: match role {
                    ConversationSide::Buyer => row.seller_read_id,
                    ConversationSide::Seller => row.buyer_read_id,
                },
                created_at: row.created_at,
            }
        })
        .collect())
}

/// Cuts a page read with one row more than `limit` back to `limit`; whether there are more.
fn cut_to<T>(rows: &mut Vec<T>, limit: u64) -> bool {
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    more
}

fn encode_cursor(kind: char, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}.{id}"))
}

fn decode_cursor(text: &str, kind: char) -> Result<i64> {
    let invalid = || {
        ApiError::field(
            "cursor",
            FieldError::new(FieldCode::Invalid, "is not a cursor from a previous page"),
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(|id| id.parse::<i64>().ok())
        .ok_or_else(invalid)
}
