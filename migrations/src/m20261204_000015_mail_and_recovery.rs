//! Mail and account recovery: each account's verified address, language, notice preferences
//! and deletion mark; single-use account tokens (e-mail verification, password reset, e-mail
//! change), stored hashed; the durable outbox shared by mail and (later) webhooks, with its
//! attempts log; and the local mailbox that stands in for SMTP on the embedded default.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            timestamp_with_time_zone_null(Account::EmailVerifiedAt),
            string_len(Account::Language, 8).default("en").to_owned(),
            boolean(Account::MailSales).default(true).to_owned(),
            boolean(Account::MailPaymentProblems)
                .default(true)
                .to_owned(),
            timestamp_with_time_zone_null(Account::DeletedAt),
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
        for column in [
            string_len_null(Guest::GuestLanguage, 8),
            string_len_null(Guest::GuestMailKeyHash, 64),
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

        use AccountTokens as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .if_not_exists()
                    .col(string_len(T::Hash, 64).primary_key())
                    .col(uuid(T::UserId))
                    .col(string_len(T::Purpose, 16))
                    .col(string_len_null(T::NewEmail, 254))
                    .col(uuid_null(T::OutboxId))
                    .col(timestamp_with_time_zone(T::ExpiresAt))
                    .col(timestamp_with_time_zone(T::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_account_tokens_user")
                            .from(T::Table, T::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_account_tokens_outbox")
                    .table(T::Table)
                    .col(T::OutboxId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_account_tokens_user")
                    .table(T::Table)
                    .col(T::UserId)
                    .col(T::Purpose)
                    .to_owned(),
            )
            .await?;

        use Outbox as O;
        manager
            .create_table(
                Table::create()
                    .table(O::Table)
                    .if_not_exists()
                    .col(pk_uuid(O::Id))
                    .col(string_len(O::Channel, 16))
                    .col(string_len(O::DedupeKey, 200))
                    .col(uuid_null(O::UserId))
                    .col(text(O::Payload))
                    .col(string_len(O::Status, 12))
                    .col(integer(O::Attempts).default(0))
                    .col(timestamp_with_time_zone(O::NextAttemptAt))
                    .col(uuid_null(O::LeaseOwner))
                    .col(timestamp_with_time_zone_null(O::LeaseUntil))
                    .col(text_null(O::LastError))
                    .col(timestamp_with_time_zone(O::CreatedAt))
                    .col(timestamp_with_time_zone_null(O::DoneAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_outbox_dedupe")
                    .table(O::Table)
                    .col(O::DedupeKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("ix_outbox_due", [O::Status, O::NextAttemptAt]),
            ("ix_outbox_user", [O::UserId, O::Status]),
        ] {
            let mut index = Index::create();
            index.name(name).table(O::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        use OutboxAttempts as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .if_not_exists()
                    .col(pk_uuid(A::Id))
                    .col(uuid(A::OutboxId))
                    .col(integer(A::Attempt))
                    .col(string_len(A::Outcome, 12))
                    .col(text_null(A::Detail))
                    .col(timestamp_with_time_zone(A::At))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outbox_attempts_outbox")
                            .from(A::Table, A::OutboxId)
                            .to(O::Table, O::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_attempts_outbox")
                    .table(A::Table)
                    .col(A::OutboxId)
                    .col(A::Attempt)
                    .to_owned(),
            )
            .await?;

        use SandboxMail as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .if_not_exists()
                    .col(big_pk_auto(S::Id))
                    .col(uuid(S::OutboxId))
                    .col(string_len(S::Recipient, 254))
                    .col(text(S::Subject))
                    .col(text(S::Raw))
                    .col(timestamp_with_time_zone(S::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_sandbox_mail_outbox")
                    .table(S::Table)
                    .col(S::OutboxId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SandboxMail::Table.into_iden(),
            OutboxAttempts::Table.into_iden(),
            Outbox::Table.into_iden(),
            AccountTokens::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [Guest::GuestLanguage, Guest::GuestMailKeyHash] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Transactions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            Account::EmailVerifiedAt,
            Account::Language,
            Account::MailSales,
            Account::MailPaymentProblems,
            Account::DeletedAt,
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
enum Account {
    EmailVerifiedAt,
    Language,
    MailSales,
    MailPaymentProblems,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
}

#[derive(DeriveIden)]
enum Guest {
    GuestLanguage,
    GuestMailKeyHash,
}

#[derive(DeriveIden)]
enum AccountTokens {
    Table,
    Hash,
    UserId,
    Purpose,
    NewEmail,
    OutboxId,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Channel,
    DedupeKey,
    UserId,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseOwner,
    LeaseUntil,
    LastError,
    CreatedAt,
    DoneAt,
}

#[derive(DeriveIden)]
enum OutboxAttempts {
    Table,
    Id,
    OutboxId,
    Attempt,
    Outcome,
    Detail,
    At,
}

#[derive(DeriveIden)]
enum SandboxMail {
    Table,
    Id,
    OutboxId,
    Recipient,
    Subject,
    Raw,
    CreatedAt,
}
