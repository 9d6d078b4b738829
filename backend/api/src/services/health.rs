//! Readiness: whether the database answers.

use sea_orm::DatabaseConnection;

use crate::error::{ApiError, Result};

/// Pings the database.
///
/// # Errors
/// [`ApiError::Unavailable`] when it does not answer.
pub async fn check_database(db: &DatabaseConnection) -> Result<()> {
    db.ping().await.map_err(|err| {
        tracing::warn!(error = %err, "readiness check failed");
        ApiError::Unavailable("The database is unreachable.")
    })
}
