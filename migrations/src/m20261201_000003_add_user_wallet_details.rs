//! `users`: the wallet's display name and currency next to its address, as the wallet provider
//! reported them when the user set it (rooms are priced in that currency).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in [
            text_null(WalletDetails::WalletPublicName),
            string_len_null(WalletDetails::WalletAssetCode, 16),
            small_integer_null(WalletDetails::WalletAssetScale),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            WalletDetails::WalletPublicName,
            WalletDetails::WalletAssetCode,
            WalletDetails::WalletAssetScale,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
#[allow(clippy::enum_variant_names, reason = "the column names")]
enum WalletDetails {
    WalletPublicName,
    WalletAssetCode,
    WalletAssetScale,
}
