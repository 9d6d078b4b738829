//! `idempotency_keys`.

use sea_orm::entity::prelude::*;

/// A write sent with `Idempotency-Key`, and its first answer once there is one.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Whose key (keys are per person).
    pub user_id: Uuid,
    /// The header's value.
    pub key: String,
    /// Hex SHA-256 of the method, path and body it was first sent with.
    pub fingerprint: String,
    /// The first answer's status; `None` while it is being answered.
    pub status_code: Option<i32>,
    /// The first answer's body.
    pub response: Option<String>,
    /// When it was first sent (kept 24 hours from then).
    pub created_at: DateTimeUtc,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
