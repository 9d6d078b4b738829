//! Reviews of completed purchases with the seller's reply, the star counts kept beside rooms
//! and sellers (maintained in the review's own transaction, so the public room view stays one
//! row and one query), and proofs that a seller controls their payout wallet (Open Payments
//! `subject` grants).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_users::Users;
use crate::m20261201_000004_create_rooms::Rooms;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The star-count columns, one per rating (1 to 5).
const STARS: [Stars; 5] = [
    Stars::Stars1,
    Stars::Stars2,
    Stars::Stars3,
    Stars::Stars4,
    Stars::Stars5,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for table in [Rooms::Table.into_iden(), Users::Table.into_iden()] {
            for column in STARS {
                manager
                    .alter_table(
                        Table::alter()
                            .table(table.clone())
                            .add_column(integer(column).default(0))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        for column in [
            timestamp_with_time_zone_null(WalletProof::At),
            text_null(WalletProof::Address),
            text_null(WalletProof::By),
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

        use Reviews as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .if_not_exists()
                    .col(pk_uuid(R::Id))
                    .col(uuid_uniq(R::TransactionId))
                    .col(uuid(R::RoomId))
                    .col(uuid(R::SellerId))
                    .col(uuid(R::AuthorId))
                    .col(small_integer(R::Rating))
                    .col(text(R::Body))
                    .col(text_null(R::Reply))
                    .col(timestamp_with_time_zone_null(R::RepliedAt))
                    .col(timestamp_with_time_zone_null(R::ReplyUpdatedAt))
                    .col(boolean(R::Refunded).default(false))
                    .col(timestamp_with_time_zone_null(R::DeletedAt))
                    .col(timestamp_with_time_zone(R::CreatedAt))
                    .col(timestamp_with_time_zone(R::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reviews_transaction")
                            .from(R::Table, R::TransactionId)
                            .to(Transactions::Table, Transactions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reviews_room")
                            .from(R::Table, R::RoomId)
                            .to(Rooms::Table, Rooms::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reviews_seller")
                            .from(R::Table, R::SellerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reviews_author")
                            .from(R::Table, R::AuthorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_reviews_room", R::RoomId),
            ("ix_reviews_seller", R::SellerId),
            ("ix_reviews_author", R::AuthorId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(R::Table)
                        .col(column)
                        .col(R::CreatedAt)
                        .to_owned(),
                )
                .await?;
        }

        use WalletVerifications as V;
        manager
            .create_table(
                Table::create()
                    .table(V::Table)
                    .if_not_exists()
                    .col(pk_uuid(V::Id))
                    .col(uuid(V::UserId))
                    .col(text(V::WalletAddress))
                    .col(text(V::AuthServer))
                    .col(string_len(V::Status, 16))
                    .col(string_len(V::ClientNonce, 64))
                    .col(string_len(V::FinishStateHash, 64))
                    .col(text_null(V::ServerNonce))
                    .col(text_null(V::ContinueUri))
                    .col(text_null(V::ContinueToken))
                    .col(big_integer_null(V::ContinueWaitSecs))
                    .col(timestamp_with_time_zone_null(V::GrantCreatedAt))
                    .col(text_null(V::RedirectUrl))
                    .col(text_null(V::InteractRef))
                    .col(timestamp_with_time_zone_null(V::LeaseUntil))
                    .col(string_len_null(V::FailureCode, 32))
                    .col(timestamp_with_time_zone(V::CreatedAt))
                    .col(timestamp_with_time_zone(V::ExpiresAt))
                    .col(timestamp_with_time_zone_null(V::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_wallet_verifications_user")
                            .from(V::Table, V::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_wallet_verifications_user")
                    .table(V::Table)
                    .col(V::UserId)
                    .col(V::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WalletVerifications::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Reviews::Table).to_owned())
            .await?;
        for column in [WalletProof::By, WalletProof::Address, WalletProof::At] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for table in [Users::Table.into_iden(), Rooms::Table.into_iden()] {
            for column in STARS {
                manager
                    .alter_table(
                        Table::alter()
                            .table(table.clone())
                            .drop_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Stars {
    #[sea_orm(iden = "stars_1")]
    Stars1,
    #[sea_orm(iden = "stars_2")]
    Stars2,
    #[sea_orm(iden = "stars_3")]
    Stars3,
    #[sea_orm(iden = "stars_4")]
    Stars4,
    #[sea_orm(iden = "stars_5")]
    Stars5,
}

/// The user's proof of controlling their wallet.
#[derive(DeriveIden)]
enum WalletProof {
    #[sea_orm(iden = "wallet_verified_at")]
    At,
    #[sea_orm(iden = "wallet_verified_address")]
    Address,
    #[sea_orm(iden = "wallet_verified_by")]
    By,
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Reviews {
    Table,
    Id,
    TransactionId,
    RoomId,
    SellerId,
    AuthorId,
    Rating,
    Body,
    Reply,
    RepliedAt,
    ReplyUpdatedAt,
    Refunded,
    DeletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WalletVerifications {
    Table,
    Id,
    UserId,
    WalletAddress,
    AuthServer,
    Status,
    ClientNonce,
    FinishStateHash,
    ServerNonce,
    ContinueUri,
    ContinueToken,
    ContinueWaitSecs,
    GrantCreatedAt,
    RedirectUrl,
    InteractRef,
    LeaseUntil,
    FailureCode,
    CreatedAt,
    ExpiresAt,
    FinishedAt,
}
