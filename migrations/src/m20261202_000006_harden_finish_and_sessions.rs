//! The hardening of the payment and session core: the hash of the per-transaction `state` that
//! every finish redirect must carry, and when a refresh-token family started (a family's age is
//! bounded, however often it rotates).

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
                    .add_column(string_len_null(Transactions::FinishStateHash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(timestamp_with_time_zone_null(
                        RefreshTokens::FamilyStartedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        // Tokens issued before this migration: their family is taken to start with them.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE refresh_tokens SET family_started_at = created_at WHERE family_started_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Transactions::Table)
                    .drop_column(Transactions::FinishStateHash)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .drop_column(RefreshTokens::FamilyStartedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
    FinishStateHash,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    FamilyStartedAt,
}
