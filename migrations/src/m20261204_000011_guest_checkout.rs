//! Guest checkout: a transaction may have no buyer account. The guest holds a key (we keep its
//! hash) that opens the receipt, and may leave an e-mail address for it; signing in with the
//! key later moves the purchase into the account (`buyer_id` set, once).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// How SQLite stores the column's declaration before and after (sea-query's spelling).
const SQLITE_BUYER_NOT_NULL: &str = "\"buyer_id\" uuid_text NOT NULL";
const SQLITE_BUYER_NULL: &str = "\"buyer_id\" uuid_text";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // SQLite's schema edit below must be one transaction with the rest.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        buyer_nullable(manager, true).await?;
        for column in [
            text_null(Transactions::GuestKeyHash),
            text_null(Transactions::GuestEmail),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Transactions::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Guest purchases have no account to fall back to: they cannot survive the old schema.
        db.execute_unprepared(
            "DELETE FROM transaction_events WHERE transaction_id IN \
             (SELECT id FROM transactions WHERE buyer_id IS NULL)",
        )
        .await?;
        db.execute_unprepared("DELETE FROM transactions WHERE buyer_id IS NULL")
            .await?;
        for column in [Transactions::GuestEmail, Transactions::GuestKeyHash] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Transactions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        buyer_nullable(manager, false).await
    }
}

/// Drops (or restores) `transactions.buyer_id`'s NOT NULL. PostgreSQL alters the column;
/// SQLite cannot, and rebuilding the table would cascade into its events, so the table's
/// declaration is edited in place, the procedure SQLite documents for removing a NOT NULL
/// constraint (<https://www.sqlite.org/lang_altertable.html#otheralter>): no stored row changes.
async fn buyer_nullable(manager: &SchemaManager<'_>, nullable: bool) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            let (from, to) = if nullable {
                (SQLITE_BUYER_NOT_NULL, SQLITE_BUYER_NULL)
            } else {
                (SQLITE_BUYER_NULL, SQLITE_BUYER_NOT_NULL)
            };
            let schema = |sql: &str| Statement::from_string(DbBackend::Sqlite, sql.to_owned());
            let current: String = db
                .query_one_raw(schema(
                    "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'transactions'",
                ))
                .await?
                .ok_or_else(|| DbErr::Migration("no transactions table".into()))?
                .try_get("", "sql")?;
            // The declaration must hold the column exactly once, spelled as expected, and not
            // already changed (`"buyer_id" uuid_text NOT NULL` also starts with the nullable
            // spelling, hence the check on what follows it).
            let at: Vec<usize> = current
                .match_indices(from)
                .map(|(at, _)| at)
                .filter(|at| nullable || !current[at + from.len()..].starts_with(" NOT NULL"))
                .collect();
            let [at] = at[..] else {
                return Err(DbErr::Migration(format!(
                    "transactions.buyer_id is not declared as `{from}` once: {current}"
                )));
            };
            let edited = format!("{}{to}{}", &current[..at], &current[at + from.len()..]);
            let version: i64 = db
                .query_one_raw(schema("PRAGMA schema_version"))
                .await?
                .ok_or_else(|| DbErr::Migration("no schema version".into()))?
                .try_get_by_index(0)?;
            db.execute_unprepared("PRAGMA writable_schema = ON").await?;
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = 'transactions'",
                [edited.into()],
            ))
            .await?;
            db.execute_unprepared(&format!("PRAGMA schema_version = {}", version + 1))
                .await?;
            db.execute_unprepared("PRAGMA writable_schema = OFF")
                .await?;
            Ok(())
        }
        _ => {
            let change = if nullable { "DROP" } else { "SET" };
            db.execute_unprepared(&format!(
                "ALTER TABLE transactions ALTER COLUMN buyer_id {change} NOT NULL"
            ))
            .await?;
            Ok(())
        }
    }
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
    GuestKeyHash,
    GuestEmail,
}
