//! `reviews`.

use sea_orm::entity::prelude::*;

/// A buyer's review of a completed purchase, with the seller's reply.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reviews")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The purchase reviewed (one review each, ever: a deleted one is not written again).
    #[sea_orm(unique)]
    pub transaction_id: Uuid,
    /// Its room.
    pub room_id: Uuid,
    /// Its seller.
    pub seller_id: Uuid,
    /// Its buyer, who wrote it.
    pub author_id: Uuid,
    /// Stars, 1 to 5.
    pub rating: i16,
    /// Plain text, possibly empty (emptied when deleted).
    pub body: String,
    /// The seller's reply.
    pub reply: Option<String>,
    /// When the seller first replied.
    pub replied_at: Option<DateTimeUtc>,
    /// When the seller last changed the reply.
    pub reply_updated_at: Option<DateTimeUtc>,
    /// The purchase was refunded after the review was written.
    pub refunded: bool,
    /// Deleted by its author: no longer shown or counted.
    pub deleted_at: Option<DateTimeUtc>,
    /// Written.
    pub created_at: DateTimeUtc,
    /// Last changed by its author.
    pub updated_at: DateTimeUtc,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
