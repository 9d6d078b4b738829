//! Webhooks for integrators: endpoints (their secrets sealed), the messages sent to them, and
//! what the outbox needs to tell a message's attempts apart (the row's subject, the answer's
//! status code).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WebhookEndpoints as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .if_not_exists()
                    .col(pk_uuid(E::Id))
                    .col(uuid(E::UserId))
                    .col(text(E::Url))
                    .col(string_len(E::Description, 200))
                    .col(text(E::EventTypes))
                    .col(text(E::Secret))
                    .col(text_null(E::PreviousSecret))
                    .col(timestamp_with_time_zone_null(E::PreviousSecretUntil))
                    .col(boolean(E::Enabled))
                    .col(timestamp_with_time_zone_null(E::DisabledAt))
                    .col(text_null(E::DisabledReason))
                    .col(timestamp_with_time_zone_null(E::FailingSince))
                    .col(timestamp_with_time_zone(E::CreatedAt))
                    .col(timestamp_with_time_zone(E::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_endpoints_user")
                            .from(E::Table, E::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_endpoints_user")
                    .table(E::Table)
                    .col(E::UserId)
                    .col(E::Enabled)
                    .to_owned(),
            )
            .await?;

        use WebhookMessages as M;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .if_not_exists()
                    .col(pk_uuid(M::Id))
                    .col(uuid(M::EndpointId))
                    .col(string_len(M::EventType, 40))
                    .col(text(M::Body))
                    .col(timestamp_with_time_zone(M::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_messages_endpoint")
                            .from(M::Table, M::EndpointId)
                            .to(E::Table, E::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_messages_endpoint")
                    .table(M::Table)
                    .col(M::EndpointId)
                    .col(M::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(uuid_null(Outbox::SubjectId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_subject")
                    .table(Outbox::Table)
                    .col(Outbox::SubjectId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OutboxAttempts::Table)
                    .add_column(integer_null(OutboxAttempts::ResponseCode))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OutboxAttempts::Table)
                    .drop_column(OutboxAttempts::ResponseCode)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_outbox_subject")
                    .table(Outbox::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .drop_column(Outbox::SubjectId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(WebhookMessages::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    UserId,
    Url,
    Description,
    EventTypes,
    Secret,
    PreviousSecret,
    PreviousSecretUntil,
    Enabled,
    DisabledAt,
    DisabledReason,
    FailingSince,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookMessages {
    Table,
    Id,
    EndpointId,
    EventType,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    SubjectId,
}

#[derive(DeriveIden)]
enum OutboxAttempts {
    Table,
    ResponseCode,
}
