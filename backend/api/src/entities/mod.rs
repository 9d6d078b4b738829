//! SeaORM entities, one module per table, and the checked reading of the values they store as
//! text (statuses) or in parts (amounts).

use std::str::FromStr;

use crate::error::ApiError;

pub mod account_tokens;
pub mod amount;
pub mod api_keys;
pub mod audit_log;
pub mod budgets;
pub mod conversations;
pub mod idempotency_keys;
pub mod live_tickets;
pub mod messages;
pub mod outbox;
pub mod outbox_attempts;
pub mod refresh_tokens;
pub mod refunds;
pub mod reports;
pub mod reviews;
pub mod rooms;
pub mod sandbox_mail;
pub mod transaction_events;
pub mod transactions;
pub mod users;
pub mod wallet_verifications;
pub mod webhook_endpoints;
pub mod webhook_messages;

/// Star counts as stored (`stars_1` … `stars_5`): never negative, so read as they are.
pub(crate) fn star_counts(stored: [i32; 5]) -> shifting_shared::StarCounts {
    shifting_shared::StarCounts(stored.map(|n| u32::try_from(n).unwrap_or(0)))
}

/// A stored value that no variant of its type names: the database holds what this build cannot
/// read (a newer version wrote it, or it was edited by hand). Never guessed at.
#[derive(Debug, thiserror::Error)]
#[error("the database holds {column} {value:?}, which this version does not know")]
pub struct UnknownStoredValue {
    column: &'static str,
    value: String,
}

impl From<UnknownStoredValue> for ApiError {
    fn from(err: UnknownStoredValue) -> Self {
        Self::Internal(anyhow::Error::new(err))
    }
}

/// Reads a value stored as its name.
///
/// # Errors
/// [`UnknownStoredValue`] when the name is none of the type's.
pub fn parse_stored<T: FromStr>(
    column: &'static str,
    value: &str,
) -> Result<T, UnknownStoredValue> {
    value.parse().map_err(|_| UnknownStoredValue {
        column,
        value: value.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use shifting_shared::{RoomStatus, TransactionStatus};

    use super::*;

    #[test]
    fn an_unknown_stored_status_is_an_error_never_a_guess() {
        let err =
            parse_stored::<TransactionStatus>("transactions.status", "refunded_twice").unwrap_err();
        assert!(err.to_string().contains("refunded_twice"), "{err}");
        assert!(parse_stored::<RoomStatus>("rooms.status", "archived").is_err());
        assert_eq!(
            parse_stored::<RoomStatus>("rooms.status", "paused").unwrap(),
            RoomStatus::Paused
        );
    }
}
