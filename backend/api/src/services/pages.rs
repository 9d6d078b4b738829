//! Cursor pagination, one way for every list: newest first by `(created_at, id)`, the cursor
//! an opaque encoding of the last row's pair, so a page is stable under inserts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use shifting_shared::{FieldCode, FieldError};
use uuid::Uuid;

use crate::error::{ApiError, Result};

/// The most rows one page holds (the transactions list; the others stop at 50).
pub const MAX_PAGE: u64 = 100;

/// Where a page ends: its last row's time (to the nanosecond, as SQLite keeps it) and id
/// (opaque to clients).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The last row's creation time.
    pub created_at: DateTime<Utc>,
    /// Its id (breaks ties).
    pub id: Uuid,
}

impl Cursor {
    /// The text a client passes back.
    #[must_use]
    pub fn encode(&self) -> String {
        let nanos = self.created_at.timestamp_nanos_opt().unwrap_or(i64::MAX);
        URL_SAFE_NO_PAD.encode(format!("{nanos}.{}", self.id))
    }

    /// Reads a cursor this server made.
    ///
    /// # Errors
    /// 422 (`cursor`) for anything else.
    pub fn decode(text: &str) -> Result<Self> {
        let invalid = || {
            ApiError::field(
                "cursor",
                FieldError::new(FieldCode::Invalid, "is not a cursor from a previous page"),
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (nanos, id) = text.split_once('.').ok_or_else(invalid)?;
        // Only times a row can have: 1970 to 2262 (what the databases and i64 nanoseconds
        // hold), so a crafted cursor never reaches the database out of its range.
        let created_at = nanos
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(DateTime::<Utc>::from_timestamp_nanos)
            .ok_or_else(invalid)?;
        let id = Uuid::parse_str(id).map_err(|_| invalid())?;
        Ok(Self { created_at, id })
    }
}

/// A table listed page by page: its `created_at` and `id` columns, and a row's cursor.
pub trait Paged: EntityTrait {
    /// The creation time column.
    const CREATED: Self::Column;
    /// The id column (breaks ties).
    const ID: Self::Column;
    /// Where a page ending at `row` ends.
    fn cursor(row: &Self::Model) -> Cursor;
}

/// Every table with `created_at` and a UUID `id` that is listed page by page.
macro_rules! paged {
    ($($table:ident),+ $(,)?) => {
        $(impl Paged for crate::entities::$table::Entity {
            const CREATED: Self::Column = crate::entities::$table::Column::CreatedAt;
            const ID: Self::Column = crate::entities::$table::Column::Id;
            fn cursor(row: &Self::Model) -> Cursor {
                Cursor {
                    created_at: row.created_at,
                    id: row.id,
                }
            }
        })+
    };
}

paged!(
    audit_log,
    budgets,
    reports,
    reviews,
    rooms,
    transactions,
    users,
    webhook_messages
);

/// One page of `query`, newest first by `(created_at, id)`, after `cursor`: the rows, and the
/// cursor of the next page when there is one.
///
/// # Errors
/// 422 for a bad cursor, database errors.
pub async fn fetch<E, C>(
    db: &C,
    query: Select<E>,
    cursor: Option<&str>,
    limit: u64,
) -> Result<(Vec<E::Model>, Option<String>)>
where
    E: Paged,
    C: sea_orm::ConnectionTrait,
{
    let (created, id) = (E::CREATED, E::ID);
    let after = cursor.map(Cursor::decode).transpose()?;
    let limit = limit.clamp(1, MAX_PAGE);
    let mut query = query;
    if let Some(after) = after {
        query = query.filter(
            Condition::any().add(created.lt(after.created_at)).add(
                Condition::all()
                    .add(created.eq(after.created_at))
                    .add(id.lt(after.id)),
            ),
        );
    }
    let mut rows = query
        .order_by_desc(created)
        .order_by_desc(id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more
        .then(|| rows.last().map(|row| E::cursor(row).encode()))
        .flatten();
    Ok((rows, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_and_strangers_are_refused() {
        let cursor = Cursor {
            created_at: DateTime::from_timestamp_nanos(1_764_000_000_123_456_789),
            id: Uuid::new_v4(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        let far = URL_SAFE_NO_PAD.encode(format!("-2840000000000000000.{}", Uuid::nil()));
        for bad in [
            "",
            "not base64!",
            "bm9wZQ",
            &URL_SAFE_NO_PAD.encode("12.not-a-uuid"),
            &far,
        ] {
            assert!(Cursor::decode(bad).is_err(), "{bad:?}");
        }
    }
}
