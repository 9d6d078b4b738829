//! `live_tickets`.

use sea_orm::entity::prelude::*;

/// A single-use ticket that opens a live socket for its user (only its SHA-256 is kept).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "live_tickets")]
pub struct Model {
    /// Hex SHA-256 of the ticket.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    /// Whose socket it opens.
    pub user_id: Uuid,
    /// Unusable from then on.
    pub expires_at: DateTimeUtc,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
