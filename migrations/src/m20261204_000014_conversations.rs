//! Conversations between a room's buyer and its seller: one per (room, buyer), their messages
//! (people's text and the payment's system entries, numbered by one increasing id that clients
//! resume from), each side's read marker, and the single-use tickets that open a live socket.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_users::Users;
use crate::m20261201_000004_create_rooms::Rooms;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Conversations as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .if_not_exists()
                    .col(pk_uuid(C::Id))
                    .col(uuid(C::RoomId))
                    .col(uuid(C::BuyerId))
                    .col(uuid(C::SellerId))
                    .col(big_integer_null(C::LastMessageId))
                    .col(timestamp_with_time_zone_null(C::LastMessageAt))
                    .col(big_integer(C::BuyerReadId).default(0))
                    .col(big_integer(C::SellerReadId).default(0))
                    .col(timestamp_with_time_zone(C::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_conversations_room")
                            .from(C::Table, C::RoomId)
                            .to(Rooms::Table, Rooms::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_conversations_buyer")
                            .from(C::Table, C::BuyerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_conversations_seller")
                            .from(C::Table, C::SellerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_conversations_room_buyer")
                    .table(C::Table)
                    .col(C::RoomId)
                    .col(C::BuyerId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_conversations_buyer", C::BuyerId),
            ("ix_conversations_seller", C::SellerId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(C::Table)
                        .col(column)
                        .col(C::LastMessageId)
                        .to_owned(),
                )
                .await?;
        }

        use Messages as M;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .if_not_exists()
                    .col(big_pk_auto(M::Id))
                    .col(uuid(M::ConversationId))
                    .col(uuid_null(M::SenderId))
                    .col(text_null(M::Body))
                    .col(uuid_null(M::TransactionId))
                    .col(string_len_null(M::Event, 16))
                    .col(timestamp_with_time_zone(M::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_messages_conversation")
                            .from(M::Table, M::ConversationId)
                            .to(C::Table, C::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_messages_sender")
                            .from(M::Table, M::SenderId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_messages_conversation")
                    .table(M::Table)
                    .col(M::ConversationId)
                    .col(M::Id)
                    .to_owned(),
            )
            .await?;

        use LiveTickets as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .if_not_exists()
                    .col(string_len(T::Hash, 64).primary_key())
                    .col(uuid(T::UserId))
                    .col(timestamp_with_time_zone(T::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_live_tickets_user")
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
                    .name("ix_live_tickets_expires")
                    .table(T::Table)
                    .col(T::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            LiveTickets::Table.into_iden(),
            Messages::Table.into_iden(),
            Conversations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    RoomId,
    BuyerId,
    SellerId,
    LastMessageId,
    LastMessageAt,
    BuyerReadId,
    SellerReadId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ConversationId,
    SenderId,
    Body,
    TransactionId,
    Event,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LiveTickets {
    Table,
    Hash,
    UserId,
    ExpiresAt,
}
