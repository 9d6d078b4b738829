//! `rooms`: a seller's fixed-price offer, found by a short unique code. The price is stored in
//! minor units with the asset of the seller's wallet and never changes.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Rooms::Table)
                    .if_not_exists()
                    .col(pk_uuid(Rooms::Id))
                    .col(string_len(Rooms::Code, 6))
                    .col(uuid(Rooms::SellerId))
                    .col(string_len(Rooms::Name, 320))
                    .col(text(Rooms::Description))
                    .col(big_integer(Rooms::PriceValue))
                    .col(string_len(Rooms::PriceAssetCode, 16))
                    .col(small_integer(Rooms::PriceAssetScale))
                    .col(text(Rooms::WalletAddress))
                    .col(string_len(Rooms::Status, 16))
                    .col(timestamp_with_time_zone(Rooms::CreatedAt))
                    .col(timestamp_with_time_zone(Rooms::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_rooms_seller")
                            .from(Rooms::Table, Rooms::SellerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_rooms_code")
                    .table(Rooms::Table)
                    .col(Rooms::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_rooms_seller")
                    .table(Rooms::Table)
                    .col(Rooms::SellerId)
                    .col(Rooms::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Rooms::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Rooms {
    Table,
    Id,
    Code,
    SellerId,
    Name,
    Description,
    PriceValue,
    PriceAssetCode,
    PriceAssetScale,
    WalletAddress,
    Status,
    CreatedAt,
    UpdatedAt,
}
