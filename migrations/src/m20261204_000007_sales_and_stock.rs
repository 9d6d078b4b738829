//! Sales that can be counted and limited: when a payment completed (sales totals, exports and
//! receipts count from then), and a room's optional stock with the units its payments hold.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Transactions::Table)
                    .add_column(timestamp_with_time_zone_null(Transactions::CompletedAt))
                    .to_owned(),
            )
            .await?;
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Rooms::Table)
                    .add_column(integer_null(Rooms::StockLimit))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Rooms::Table)
                    .add_column(integer(Rooms::StockTaken).default(0))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Completed before this migration: the time of the event that completed them.
        db.execute_unprepared(
            "UPDATE transactions SET completed_at = (SELECT MAX(e.at) FROM transaction_events e \
             WHERE e.transaction_id = transactions.id AND e.to_status = 'completed') \
             WHERE status = 'completed'",
        )
        .await?;
        // Every payment that is not over without money holds a unit of its room.
        db.execute_unprepared(
            "UPDATE rooms SET stock_taken = (SELECT COUNT(*) FROM transactions t \
             WHERE t.room_id = rooms.id AND t.status NOT IN ('rejected', 'expired', 'failed'))",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_transactions_seller_completed")
                    .table(Transactions::Table)
                    .col(Transactions::SellerId)
                    .col(Transactions::CompletedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_transactions_seller_completed")
                    .table(Transactions::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Rooms::StockLimit, Rooms::StockTaken] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Rooms::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Transactions::Table)
                    .drop_column(Transactions::CompletedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
    SellerId,
    CompletedAt,
}

#[derive(DeriveIden)]
enum Rooms {
    Table,
    StockLimit,
    StockTaken,
}
