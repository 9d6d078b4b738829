//! Receipt numbers: each seller's completed sales are numbered 1, 2, 3 … in the order they
//! completed, and the count so far is kept with the seller so the next number is one update.

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
                    .add_column(big_integer_null(Transactions::ReceiptSeq))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(big_integer(Users::ReceiptsIssued).default(0))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Sales completed before this migration are numbered in the order they completed.
        db.execute_unprepared(
            "UPDATE transactions SET receipt_seq = (SELECT r.n FROM (SELECT id, ROW_NUMBER() \
             OVER (PARTITION BY seller_id ORDER BY completed_at, id) AS n FROM transactions \
             WHERE status = 'completed') r WHERE r.id = transactions.id) WHERE status = 'completed'",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE users SET receipts_issued = (SELECT COUNT(*) FROM transactions t \
             WHERE t.seller_id = users.id AND t.status = 'completed')",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_transactions_seller_receipt")
                    .table(Transactions::Table)
                    .col(Transactions::SellerId)
                    .col(Transactions::ReceiptSeq)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_transactions_seller_receipt")
                    .table(Transactions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::ReceiptsIssued)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Transactions::Table)
                    .drop_column(Transactions::ReceiptSeq)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
    SellerId,
    ReceiptSeq,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    ReceiptsIssued,
}
