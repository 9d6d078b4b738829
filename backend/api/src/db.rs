//! Database connection and migrations.

use std::time::Duration;

use anyhow::Context;
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use secrecy::ExposeSecret;
use shifting_migrations::{Migrator, MigratorTrait};

use crate::config::Settings;

/// Connects to the configured database, creating the data directory for SQLite.
///
/// # Errors
/// When the data directory cannot be created or the database cannot be reached.
pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    if settings.database.uses_sqlite() {
        std::fs::create_dir_all(&settings.database.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                settings.database.data_dir.display()
            )
        })?;
    }
    let mut options = ConnectOptions::new(settings.database.url.expose_secret().to_owned());
    options
        .max_connections(settings.database.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    // The URL may hold a password: say which kind of database failed, never the URL.
    let kind = if settings.database.uses_sqlite() {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    Database::connect(options)
        .await
        .with_context(|| format!("cannot connect to the {kind} database"))
}

/// Applies pending migrations and returns how many ran.
///
/// # Errors
/// When a migration fails.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<usize> {
    let pending = Migrator::get_pending_migrations(db)
        .await
        .context("cannot read the migration status")?
        .len();
    Migrator::up(db, None)
        .await
        .context("database migration failed")?;
    Ok(pending)
}

/// A transaction that will write. On SQLite it takes the write lock at `BEGIN IMMEDIATE`, so a
/// read followed by a write waits for a concurrent writer (busy timeout) instead of failing with
/// `SQLITE_BUSY_SNAPSHOT`; PostgreSQL ignores the option and relies on the conditional updates.
///
/// # Errors
/// When no transaction can be begun.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}
