//! `Idempotency-Key` on the writes an integrator may retry (creating a room, starting a
//! payment): the same key with the same request within 24 hours gets the first answer again;
//! the same key with another request is refused. Keys are per person.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, SqlErr,
};
use uuid::Uuid;

use crate::db::begin_write;
use crate::entities::idempotency_keys;
use crate::error::Result;

/// How long a first answer is kept.
pub const KEPT: Duration = Duration::hours(24);
/// How long an unanswered first request holds its key (its process may have died).
const ANSWERING: Duration = Duration::minutes(5);

/// What a request with a key does.
#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// First time: answer it, then [`finish`].
    Fresh,
    /// Answered before: send this again.
    Replay {
        /// The status.
        status: u16,
        /// The JSON body.
        body: String,
    },
    /// The first request with this key is still being answered.
    InProgress,
    /// The key came with another request.
    Mismatch,
}

/// Claims `key` for `user` and this request's `fingerprint`, or says what was answered.
///
/// # Errors
/// Database errors.
pub async fn begin(
    db: &DatabaseConnection,
    user: Uuid,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<Begin> {
    let txn = begin_write(db).await?;
    if let Some(row) = idempotency_keys::Entity::find()
        .filter(idempotency_keys::Column::UserId.eq(user))
        .filter(idempotency_keys::Column::Key.eq(key))
        .one(&txn)
        .await?
    {
        let expired = row.created_at <= now - KEPT;
        let abandoned = row.status_code.is_none() && row.created_at <= now - ANSWERING;
        if !expired && !abandoned {
            return Ok(if row.fingerprint != fingerprint {
                Begin::Mismatch
            } else if let (Some(status), Some(body)) = (row.status_code, row.response) {
                Begin::Replay {
                    status: u16::try_from(status).unwrap_or(500),
                    body,
                }
            } else {
                Begin::InProgress
            });
        }
        idempotency_keys::Entity::delete_by_id(row.id)
            .exec(&txn)
            .await?;
    }
    let inserted = idempotency_keys::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user),
        key: Set(key.to_owned()),
        fingerprint: Set(fingerprint.to_owned()),
        status_code: Set(None),
        response: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await;
    match inserted {
        Ok(_) => {}
        // PostgreSQL: the same key arrived at once from elsewhere.
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Ok(Begin::InProgress);
        }
        Err(err) => return Err(err.into()),
    }
    txn.commit().await?;
    Ok(Begin::Fresh)
}

/// Keeps the first answer (a server error is not kept: the key can be tried again).
///
/// # Errors
/// Database errors.
pub async fn finish(
    db: &DatabaseConnection,
    user: Uuid,
    key: &str,
    (status, body): (u16, &str),
) -> Result<()> {
    if status >= 500 {
        idempotency_keys::Entity::delete_many()
            .filter(idempotency_keys::Column::UserId.eq(user))
            .filter(idempotency_keys::Column::Key.eq(key))
            .filter(idempotency_keys::Column::StatusCode.is_null())
            .exec(db)
            .await?;
        return Ok(());
    }
    idempotency_keys::Entity::update_many()
        .col_expr(
            idempotency_keys::Column::StatusCode,
            Expr::value(i32::from(status)),
        )
        .col_expr(idempotency_keys::Column::Response, Expr::value(body))
        .filter(idempotency_keys::Column::UserId.eq(user))
        .filter(idempotency_keys::Column::Key.eq(key))
        .filter(idempotency_keys::Column::StatusCode.is_null())
        .exec(db)
        .await?;
    Ok(())
}
