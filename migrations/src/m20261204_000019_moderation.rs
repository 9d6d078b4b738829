//! Administration and moderation: suspended accounts, hidden rooms, the reports queue and the
//! append-only audit log of every admin action.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            timestamp_with_time_zone_null(Withdrawn::SuspendedAt),
            text_null(Withdrawn::SuspendedReason),
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
            timestamp_with_time_zone_null(Withdrawn::HiddenAt),
            text_null(Withdrawn::HiddenReason),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Rooms::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(pk_uuid(AuditLog::Id))
                    .col(uuid_null(AuditLog::ActorId))
                    .col(string_len(AuditLog::ActorName, 64))
                    .col(string_len(AuditLog::Action, 32))
                    .col(string_len(AuditLog::TargetType, 16))
                    .col(string_len(AuditLog::TargetId, 64))
                    .col(text(AuditLog::Reason))
                    .col(text_null(AuditLog::Before))
                    .col(text_null(AuditLog::After))
                    .col(string_len_null(AuditLog::RequestId, 64))
                    .col(timestamp_with_time_zone(AuditLog::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reports::Table)
                    .if_not_exists()
                    .col(pk_uuid(Reports::Id))
                    .col(uuid(Reports::ReporterId))
                    .col(string_len(Reports::TargetType, 16))
                    .col(string_len(Reports::TargetId, 64))
                    .col(string_len(Reports::RoomCode, 16))
                    .col(string_len(Reports::Reason, 24))
                    .col(text(Reports::Body))
                    .col(string_len(Reports::Status, 16))
                    .col(timestamp_with_time_zone(Reports::CreatedAt))
                    .col(timestamp_with_time_zone_null(Reports::HandledAt))
                    .col(uuid_null(Reports::HandledBy))
                    .col(text_null(Reports::Resolution))
                    .to_owned(),
            )
            .await?;
        let indexes: [(&str, AuditLog, &[AuditLog]); 3] = [
            (
                "ix_audit_log_created",
                AuditLog::Table,
                &[AuditLog::CreatedAt],
            ),
            (
                "ix_audit_log_target",
                AuditLog::Table,
                &[AuditLog::TargetType, AuditLog::TargetId],
            ),
            ("ix_audit_log_actor", AuditLog::Table, &[AuditLog::ActorId]),
        ];
        for (name, table, columns) in indexes {
            let mut index = Index::create();
            index.name(name).table(table);
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_reports_queue")
                    .table(Reports::Table)
                    .col(Reports::Status)
                    .col(Reports::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_reports_target")
                    .table(Reports::Table)
                    .col(Reports::TargetType)
                    .col(Reports::TargetId)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // One open report per person and thing, even when two arrive at once.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_reports_open ON reports (reporter_id, target_type, target_id) \
             WHERE status = 'open'",
        )
        .await?;
        // The log is append-only in the database itself, whatever code runs against it.
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION audit_log_is_append_only() RETURNS trigger \
                     LANGUAGE plpgsql AS $$ BEGIN \
                     RAISE EXCEPTION 'audit_log is append-only'; END $$",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log \
                     FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only()",
                )
                .await?;
            }
            _ => {
                for event in ["UPDATE", "DELETE"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER audit_log_no_{} BEFORE {event} ON audit_log \
                         BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
                        event.to_lowercase()
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log; \
                     DROP FUNCTION IF EXISTS audit_log_is_append_only()",
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Reports::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await?;
        for column in [Withdrawn::HiddenReason, Withdrawn::HiddenAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Rooms::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [Withdrawn::SuspendedReason, Withdrawn::SuspendedAt] {
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
enum Rooms {
    Table,
}

#[derive(DeriveIden)]
enum Withdrawn {
    SuspendedAt,
    SuspendedReason,
    HiddenAt,
    HiddenReason,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    Id,
    ActorId,
    ActorName,
    Action,
    TargetType,
    TargetId,
    Reason,
    Before,
    After,
    RequestId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Reports {
    Table,
    Id,
    ReporterId,
    TargetType,
    TargetId,
    RoomCode,
    Reason,
    Body,
    Status,
    CreatedAt,
    HandledAt,
    HandledBy,
    Resolution,
}
