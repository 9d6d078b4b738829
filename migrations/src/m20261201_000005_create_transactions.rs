//! `transactions` and `transaction_events`: every payment for a room, with each Open Payments
//! step stored before the next one (ARCHITECTURE §3–4), and its append-only status history.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_users::Users;
use crate::m20261201_000004_create_rooms::Rooms;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Transactions as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .if_not_exists()
                    .col(pk_uuid(T::Id))
                    .col(uuid(T::RoomId))
                    .col(uuid(T::BuyerId))
                    .col(uuid(T::SellerId))
                    .col(string_len(T::Status, 24))
                    .col(big_integer(T::AmountValue))
                    .col(string_len(T::AssetCode, 16))
                    .col(small_integer(T::AssetScale))
                    .col(text(T::BuyerWalletAddress))
                    .col(text(T::SellerWalletAddress))
                    .col(text_null(T::BuyerAuthServer))
                    .col(text_null(T::IncomingPaymentUrl))
                    .col(text_null(T::QuoteUrl))
                    .col(timestamp_with_time_zone_null(T::QuoteExpiresAt))
                    .col(big_integer_null(T::DebitValue))
                    .col(string_len_null(T::DebitAssetCode, 16))
                    .col(small_integer_null(T::DebitAssetScale))
                    .col(big_integer_null(T::ReceiveValue))
                    .col(text_null(T::ContinueUri))
                    .col(text_null(T::ContinueToken))
                    .col(big_integer_null(T::ContinueWaitSecs))
                    .col(timestamp_with_time_zone_null(T::GrantCreatedAt))
                    .col(string_len(T::ClientNonce, 64))
                    .col(text_null(T::ServerNonce))
                    .col(text_null(T::RedirectUrl))
                    .col(text_null(T::InteractRef))
                    .col(text_null(T::OutgoingToken))
                    .col(text_null(T::OutgoingTokenManage))
                    .col(text_null(T::OutgoingPaymentUrl))
                    .col(big_integer_null(T::ReceivedValue))
                    .col(string_len_null(T::FailureCode, 48))
                    .col(text_null(T::FailureDetail))
                    .col(timestamp_with_time_zone_null(T::ApprovalExpiresAt))
                    .col(timestamp_with_time_zone_null(T::ApprovedAt))
                    .col(timestamp_with_time_zone_null(T::NextCheckAt))
                    .col(integer(T::Attempts).default(0))
                    .col(uuid_null(T::LeaseOwner))
                    .col(timestamp_with_time_zone_null(T::LeaseUntil))
                    .col(timestamp_with_time_zone(T::CreatedAt))
                    .col(timestamp_with_time_zone(T::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_transactions_room")
                            .from(T::Table, T::RoomId)
                            .to(Rooms::Table, Rooms::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_transactions_buyer")
                            .from(T::Table, T::BuyerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_transactions_seller")
                            .from(T::Table, T::SellerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("ix_transactions_buyer", [T::BuyerId, T::CreatedAt]),
            ("ix_transactions_seller", [T::SellerId, T::CreatedAt]),
            ("ix_transactions_due", [T::Status, T::NextCheckAt]),
            ("ix_transactions_room", [T::RoomId, T::Status]),
        ] {
            let mut index = Index::create();
            index.name(name).table(T::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        use TransactionEvents as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .if_not_exists()
                    .col(pk_uuid(E::Id))
                    .col(uuid(E::TransactionId))
                    .col(string_len_null(E::FromStatus, 24))
                    .col(string_len(E::ToStatus, 24))
                    .col(text_null(E::Detail))
                    .col(timestamp_with_time_zone(E::At))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_transaction_events_transaction")
                            .from(E::Table, E::TransactionId)
                            .to(T::Table, T::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_transaction_events_transaction")
                    .table(E::Table)
                    .col(E::TransactionId)
                    .col(E::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TransactionEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Transactions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
    Id,
    RoomId,
    BuyerId,
    SellerId,
    Status,
    AmountValue,
    AssetCode,
    AssetScale,
    BuyerWalletAddress,
    SellerWalletAddress,
    BuyerAuthServer,
    IncomingPaymentUrl,
    QuoteUrl,
    QuoteExpiresAt,
    DebitValue,
    DebitAssetCode,
    DebitAssetScale,
    ReceiveValue,
    ContinueUri,
    ContinueToken,
    ContinueWaitSecs,
    GrantCreatedAt,
    ClientNonce,
    ServerNonce,
    RedirectUrl,
    InteractRef,
    OutgoingToken,
    OutgoingTokenManage,
    OutgoingPaymentUrl,
    ReceivedValue,
    FailureCode,
    FailureDetail,
    ApprovalExpiresAt,
    ApprovedAt,
    NextCheckAt,
    Attempts,
    LeaseOwner,
    LeaseUntil,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TransactionEvents {
    Table,
    Id,
    TransactionId,
    FromStatus,
    ToStatus,
    Detail,
    At,
}
