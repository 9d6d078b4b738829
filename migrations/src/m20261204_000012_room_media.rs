//! Room pictures and delivery files. Their bytes live in the media store; the room row lists
//! them (a JSON array of at most four pictures, and the file's name, size and type), so the
//! public room view stays one row and one query.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            text(Rooms::Images).default("[]").to_owned(),
            text_null(Rooms::DeliveryFile),
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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Rooms::DeliveryFile, Rooms::Images] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Rooms::Table)
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
    Images,
    DeliveryFile,
}
