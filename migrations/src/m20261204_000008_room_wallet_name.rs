//! The name the payout wallet's provider shows for it, kept with the room, so buyers see whose
//! wallet they pay without a wallet lookup on every view.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Rooms::Table)
                    .add_column(text_null(Rooms::WalletPublicName))
                    .to_owned(),
            )
            .await?;
        // Rooms that pay into their seller's current wallet take its name; others stay unnamed.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE rooms SET wallet_public_name = (SELECT u.wallet_public_name FROM users u \
                 WHERE u.id = rooms.seller_id AND u.wallet_address = rooms.wallet_address)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Rooms::Table)
                    .drop_column(Rooms::WalletPublicName)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Rooms {
    Table,
    WalletPublicName,
}
