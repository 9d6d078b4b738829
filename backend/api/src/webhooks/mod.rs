//! Webhooks for integrators (Standard Webhooks): what happened is queued for every endpoint
//! that wants it, in the database transaction of the change ([`emit`] and the helpers below),
//! and posted, signed, by the outbox's webhook worker ([`sender::WebhookSender`]) on every
//! replica, with retries for about three days. The endpoints themselves are managed in
//! [`crate::services::webhooks`].

pub mod sender;
pub mod signature;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};
use shifting_shared::TransactionStatus;
use shifting_shared::webhooks::{
    EventData, EventType, MessageEventData, ReviewEventData, RoomEventData, TransactionEventData,
    WebhookEvent,
};
use uuid::Uuid;

use crate::entities::amount::StoredAmount;
use crate::entities::{rooms, transactions, users, webhook_endpoints, webhook_messages};
use crate::error::Result;
use crate::outbox::{self, Channel, NewRow};

/// What an outbox row of the webhook channel holds: the message to post.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Job {
    /// The message.
    pub message_id: Uuid,
}

/// The `webhook-id` of message `id`.
#[must_use]
pub fn message_id(id: Uuid) -> String {
    format!("msg_{}", id.simple())
}

/// Whether an endpoint's stored event types include `event`.
pub(crate) fn wants(stored: &str, event: EventType) -> bool {
    stored.split_whitespace().any(|name| name == event.as_str())
}

/// Queues `event` (with `data`) for every enabled endpoint of `users` (those not suspended)
/// that wants it, in `db` (the caller's transaction). `fact` names the event uniquely
/// (`transaction.completed:<id>`), so a replayed step queues nothing twice. Says how many
/// messages it queued.
///
/// # Errors
/// Database errors.
pub async fn emit(
    db: &impl ConnectionTrait,
    event: EventType,
    users: &[Uuid],
    data: EventData,
    fact: &str,
    at: DateTime<Utc>,
) -> Result<usize> {
    // A suspended account's integrations hear nothing until the suspension is lifted (its
    // keys are refused meanwhile too).
    let active: Vec<Uuid> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::Id.is_in(users.iter().copied()))
        .filter(users::Column::SuspendedAt.is_null())
        .filter(users::Column::DeletedAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    if active.is_empty() {
        return Ok(0);
    }
    let endpoints = webhook_endpoints::Entity::find()
        .filter(webhook_endpoints::Column::UserId.is_in(active))
        .filter(webhook_endpoints::Column::Enabled.eq(true))
        .all(db)
        .await?;
    let endpoints: Vec<_> = endpoints
        .into_iter()
        .filter(|endpoint| wants(&endpoint.event_types, event))
        .collect();
    if endpoints.is_empty() {
        return Ok(0);
    }
    let body = serde_json::to_string(&WebhookEvent {
        event_type: event,
        timestamp: at,
        data,
    })
    .map_err(anyhow::Error::from)?;
    let mut queued = 0;
    for endpoint in endpoints {
        let id = Uuid::new_v4();
        let fresh = outbox::queue(
            db,
            NewRow {
                channel: Channel::Webhook,
                dedupe_key: format!("webhook:{}:{fact}", endpoint.id),
                user_id: Some(endpoint.user_id),
                subject_id: Some(id),
                payload: serde_json::to_string(&Job { message_id: id })
                    .map_err(anyhow::Error::from)?,
                due: at,
            },
            at,
        )
        .await?;
        if fresh {
            webhook_messages::Entity::insert(webhook_messages::ActiveModel {
                id: Set(id),
                endpoint_id: Set(endpoint.id),
                event_type: Set(event.as_str().to_owned()),
                body: Set(body.clone()),
                created_at: Set(at),
            })
            .exec_without_returning(db)
            .await?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// A payment reached `status`: `transaction.completed`, `.failed`, `.expired`, `.rejected` or
/// `.refunded` for its seller and its buyer.
///
/// # Errors
/// Database errors.
pub async fn transaction_status(
    db: &impl ConnectionTrait,
    id: Uuid,
    status: TransactionStatus,
    at: DateTime<Utc>,
) -> Result<()> {
    let Some(event) = EventType::for_status(status) else {
        return Ok(());
    };
    let Some((row, Some(room))) = transactions::Entity::find_by_id(id)
        .find_also_related(rooms::Entity)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let mut users = vec![row.seller_id];
    users.extend(row.buyer_id.filter(|buyer| *buyer != row.seller_id));
    let data = EventData::Transaction(TransactionEventData {
        transaction_id: row.id,
        room_code: room.code,
        status,
        amount: StoredAmount::new(row.amount_value, &row.asset_code, row.asset_scale).dto(),
        failure_code: row
            .failure_code
            .filter(|_| status != TransactionStatus::Refunded),
    });
    emit(db, event, &users, data, &format!("{event}:{id}"), at).await?;
    Ok(())
}

/// A room was created (`room.created`) or changed (`room.updated`): for its seller.
///
/// # Errors
/// Database errors.
pub async fn room_changed(
    db: &impl ConnectionTrait,
    room: &rooms::Model,
    created: bool,
    at: DateTime<Utc>,
) -> Result<()> {
    let (event, fact) = if created {
        (EventType::RoomCreated, format!("room.created:{}", room.id))
    } else {
        (
            EventType::RoomUpdated,
            format!("room.updated:{}:{}", room.id, Uuid::new_v4()),
        )
    };
    let data = EventData::Room(RoomEventData {
        room_code: room.code.clone(),
        name: room.name.clone(),
        price: StoredAmount::new(
            room.price_value,
            &room.price_asset_code,
            room.price_asset_scale,
        )
        .dto(),
        closed: room.status == shifting_shared::RoomStatus::Closed.as_str(),
    });
    emit(db, event, &[room.seller_id], data, &fact, at).await?;
    Ok(())
}

/// A buyer reviewed a room (`review.created`): for its seller.
///
/// # Errors
/// Database errors.
pub async fn review_created(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    room_id: Uuid,
    seller_id: Uuid,
    rating: u8,
    at: DateTime<Utc>,
) -> Result<()> {
    let Some(room) = rooms::Entity::find_by_id(room_id).one(db).await? else {
        return Ok(());
    };
    let data = EventData::Review(ReviewEventData {
        review_id,
        room_code: room.code,
        rating,
    });
    let fact = format!("review.created:{review_id}");
    emit(db, EventType::ReviewCreated, &[seller_id], data, &fact, at).await?;
    Ok(())
}

/// Someone wrote in a conversation (`message.created`): for the other person.
///
/// # Errors
/// Database errors.
pub async fn message_created(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    message_id: i64,
    reader: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    let data = EventData::Message(MessageEventData {
        conversation_id,
        message_id,
    });
    let fact = format!("message.created:{message_id}");
    emit(db, EventType::MessageCreated, &[reader], data, &fact, at).await?;
    Ok(())
}
