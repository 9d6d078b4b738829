//! Refunds: a payment from the seller's wallet back to the buyer's, recorded on the sale it
//! returns (each step stored before the next, as for payments), and the buyer's request for one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Refunds as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .if_not_exists()
                    .col(pk_uuid(R::Id))
                    .col(uuid(R::TransactionId))
                    .col(uuid(R::SellerId))
                    .col(text(R::Reason))
                    .col(string_len(R::Status, 24))
                    .col(big_integer(R::DebitValue))
                    .col(string_len(R::DebitAssetCode, 12))
                    .col(small_integer(R::DebitAssetScale))
                    .col(text(R::PayerWalletAddress))
                    .col(text(R::PayerAuthServer))
                    .col(text(R::PayeeWalletAddress))
                    .col(text_null(R::IncomingPaymentUrl))
                    .col(text_null(R::QuoteUrl))
                    .col(timestamp_with_time_zone_null(R::QuoteExpiresAt))
                    .col(big_integer_null(R::ReceiveValue))
                    .col(string_len_null(R::ReceiveAssetCode, 12))
                    .col(small_integer_null(R::ReceiveAssetScale))
                    .col(text_null(R::ContinueUri))
                    .col(text_null(R::ContinueToken))
                    .col(big_integer_null(R::ContinueWaitSecs))
                    .col(timestamp_with_time_zone_null(R::GrantCreatedAt))
                    .col(string_len(R::ClientNonce, 64))
                    .col(string_len_null(R::FinishStateHash, 64))
                    .col(text_null(R::ServerNonce))
                    .col(text_null(R::RedirectUrl))
                    .col(text_null(R::InteractRef))
                    .col(text_null(R::OutgoingToken))
                    .col(text_null(R::OutgoingTokenManage))
                    .col(text_null(R::OutgoingPaymentUrl))
                    .col(big_integer_null(R::ReceivedValue))
                    .col(string_len_null(R::FailureCode, 32))
                    .col(text_null(R::FailureDetail))
                    .col(timestamp_with_time_zone_null(R::ApprovalExpiresAt))
                    .col(timestamp_with_time_zone_null(R::ApprovedAt))
                    .col(timestamp_with_time_zone_null(R::NextCheckAt))
                    .col(integer(R::Attempts).default(0))
                    .col(uuid_null(R::LeaseOwner))
                    .col(timestamp_with_time_zone_null(R::LeaseUntil))
                    .col(timestamp_with_time_zone(R::CreatedAt))
                    .col(timestamp_with_time_zone(R::UpdatedAt))
                    .col(timestamp_with_time_zone_null(R::CompletedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("ix_refunds_transaction", [R::TransactionId, R::CreatedAt]),
            ("ix_refunds_due", [R::Status, R::NextCheckAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(R::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        for column in [
            timestamp_with_time_zone_null(Asked::RefundRequestedAt),
            text_null(Asked::RefundRequestReason),
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
        for column in [Asked::RefundRequestReason, Asked::RefundRequestedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Transactions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Refunds::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Refunds {
    Table,
    Id,
    TransactionId,
    SellerId,
    Reason,
    Status,
    DebitValue,
    DebitAssetCode,
    DebitAssetScale,
    PayerWalletAddress,
    PayerAuthServer,
    PayeeWalletAddress,
    IncomingPaymentUrl,
    QuoteUrl,
    QuoteExpiresAt,
    ReceiveValue,
    ReceiveAssetCode,
    ReceiveAssetScale,
    ContinueUri,
    ContinueToken,
    ContinueWaitSecs,
    GrantCreatedAt,
    ClientNonce,
    FinishStateHash,
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
    CompletedAt,
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
}

#[derive(DeriveIden)]
enum Asked {
    RefundRequestedAt,
    RefundRequestReason,
}
