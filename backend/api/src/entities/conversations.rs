//! `conversations`.

use sea_orm::entity::prelude::*;

/// The conversation between a room's seller and one buyer (one per room and buyer).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The room it is about.
    pub room_id: Uuid,
    /// The buyer (who opened it, or whose purchase did).
    pub buyer_id: Uuid,
    /// The room's seller.
    pub seller_id: Uuid,
    /// Its newest message, if any (lists show only conversations with one).
    pub last_message_id: Option<i64>,
    /// When that message was written.
    pub last_message_at: Option<DateTimeUtc>,
    /// The newest message the buyer has read.
    pub buyer_read_id: i64,
    /// The newest message the seller has read.
    pub seller_read_id: i64,
    /// Opened.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
