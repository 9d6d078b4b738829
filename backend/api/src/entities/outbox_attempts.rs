//! `outbox_attempts`.

use sea_orm::entity::prelude::*;

/// One delivery attempt of an outbox row: the log support reads.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_attempts")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The row attempted.
    pub outbox_id: Uuid,
    /// 1 for the first attempt.
    pub attempt: i32,
    /// `sent`, `retry` or `failed`.
    pub outcome: String,
    /// What the other side said, for a failure.
    pub detail: Option<String>,
    /// When.
    pub at: DateTimeUtc,
    /// The HTTP status the other side answered, when it answered over HTTP.
    pub response_code: Option<i32>,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
