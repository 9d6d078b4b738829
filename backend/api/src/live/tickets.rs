//! Single-use tickets that open a live socket: a browser cannot put our bearer token on a
//! WebSocket upgrade, so the web app trades its token for a ticket just before connecting.
//! Only the ticket's SHA-256 is stored; it is valid for [`TICKET_TTL_SECS`] seconds, once, on
//! any replica.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::entities::live_tickets;
use crate::error::Result;
use crate::services::tokens::sha256_hex;

/// How long a ticket stays valid.
pub const TICKET_TTL_SECS: u32 = 30;

/// Tickets one user may get per minute, sustained: each socket (tab, device, reconnection
/// after a drop, which backs off from 1 to 30 s) takes one.
pub const PER_MINUTE: u32 = 60;
/// Tickets one user may get at once (every tab of a browser reconnecting together).
pub const BURST: u32 = 30;

/// Issues a ticket for `user`; forgets the expired ones on the way.
///
/// # Errors
/// Database errors.
pub async fn issue(db: &DatabaseConnection, user: Uuid, now: DateTime<Utc>) -> Result<String> {
    live_tickets::Entity::delete_many()
        .filter(live_tickets::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    let ticket = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    live_tickets::ActiveModel {
        hash: Set(sha256_hex(&ticket)),
        user_id: Set(user),
        expires_at: Set(now + Duration::seconds(i64::from(TICKET_TTL_SECS))),
    }
    .insert(db)
    .await?;
    Ok(ticket)
}

/// Whose `ticket` is, if it is valid, without using it up.
///
/// # Errors
/// Database errors.
pub async fn holder(
    db: &DatabaseConnection,
    ticket: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>> {
    Ok(live_tickets::Entity::find_by_id(sha256_hex(ticket))
        .filter(live_tickets::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .map(|row| row.user_id))
}

/// Uses up `ticket`: its user, if it was issued, has not expired and was not used before (by a
/// conditional delete, so two sockets racing with one ticket cannot both win).
///
/// # Errors
/// Database errors.
pub async fn redeem(
    db: &DatabaseConnection,
    ticket: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>> {
    let hash = sha256_hex(ticket);
    let Some(row) = live_tickets::Entity::find_by_id(hash.clone())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let used = live_tickets::Entity::delete_many()
        .filter(live_tickets::Column::Hash.eq(hash))
        .filter(live_tickets::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok((used.rows_affected == 1).then_some(row.user_id))
}
