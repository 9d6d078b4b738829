//! What the outbox's retention prune looks rows up by: a channel's rows by when they were done,
//! and webhook messages by when they were made (each worker prunes hourly, in batches).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_channel_done")
                    .table(Outbox::Table)
                    .col(Outbox::Channel)
                    .col(Outbox::DoneAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_messages_created")
                    .table(WebhookMessages::Table)
                    .col(WebhookMessages::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_webhook_messages_created")
                    .table(WebhookMessages::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_outbox_channel_done")
                    .table(Outbox::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Channel,
    DoneAt,
}

#[derive(DeriveIden)]
enum WebhookMessages {
    Table,
    CreatedAt,
}
