//! One-click budgets: an outgoing-payment grant a buyer approved once at their wallet, with a
//! debit limit per period and no receiver, whose tokens the platform keeps (sealed) to pay later
//! purchases without a redirect; and the link from a transaction to the budget that paid it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Budgets as B;
        manager
            .create_table(
                Table::create()
                    .table(B::Table)
                    .if_not_exists()
                    .col(pk_uuid(B::Id))
                    .col(uuid(B::UserId))
                    .col(text(B::WalletAddress))
                    .col(text(B::AuthServer))
                    .col(text(B::ResourceServer))
                    .col(big_integer(B::LimitValue))
                    .col(string_len(B::AssetCode, 12))
                    .col(small_integer(B::AssetScale))
                    .col(string_len(B::Period, 8))
                    .col(integer(B::Periods))
                    .col(text(B::Interval))
                    .col(timestamp_with_time_zone(B::StartsAt))
                    .col(timestamp_with_time_zone(B::EndsAt))
                    .col(string_len(B::Status, 16))
                    .col(string_len_null(B::ReturnTo, 16))
                    .col(string_len(B::ClientNonce, 64))
                    .col(string_len(B::FinishStateHash, 64))
                    .col(text_null(B::ServerNonce))
                    .col(text_null(B::ContinueUri))
                    .col(text_null(B::ContinueToken))
                    .col(big_integer_null(B::ContinueWaitSecs))
                    .col(timestamp_with_time_zone_null(B::GrantCreatedAt))
                    .col(text_null(B::RedirectUrl))
                    .col(text_null(B::InteractRef))
                    .col(timestamp_with_time_zone_null(B::LeaseUntil))
                    .col(text_null(B::AccessToken))
                    .col(text_null(B::TokenManage))
                    .col(timestamp_with_time_zone_null(B::TokenExpiresAt))
                    .col(timestamp_with_time_zone_null(B::TokenRotatedAt))
                    .col(uuid_null(B::RotationOwner))
                    .col(timestamp_with_time_zone_null(B::RotationUntil))
                    .col(string_len_null(B::FailureCode, 32))
                    .col(timestamp_with_time_zone(B::CreatedAt))
                    .col(timestamp_with_time_zone(B::ExpiresAt))
                    .col(timestamp_with_time_zone_null(B::ActivatedAt))
                    .col(timestamp_with_time_zone_null(B::EndedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_budgets_user")
                            .from(B::Table, B::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_budgets_user")
                    .table(B::Table)
                    .col(B::UserId)
                    .col(B::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_budgets_rotation")
                    .table(B::Table)
                    .col(B::Status)
                    .col(B::TokenRotatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Transactions::Table)
                    .add_column(uuid_null(Paid::BudgetId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_transactions_budget")
                    .table(Transactions::Table)
                    .col(Paid::BudgetId)
                    .col(Transactions::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_transactions_budget")
                    .table(Transactions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Transactions::Table)
                    .drop_column(Paid::BudgetId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Budgets::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Budgets {
    Table,
    Id,
    UserId,
    WalletAddress,
    AuthServer,
    ResourceServer,
    LimitValue,
    AssetCode,
    AssetScale,
    Period,
    Periods,
    Interval,
    StartsAt,
    EndsAt,
    Status,
    ReturnTo,
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
    AccessToken,
    TokenManage,
    TokenExpiresAt,
    TokenRotatedAt,
    RotationOwner,
    RotationUntil,
    FailureCode,
    CreatedAt,
    ExpiresAt,
    ActivatedAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
    Status,
}

#[derive(DeriveIden)]
enum Paid {
    BudgetId,
}
