//! `rooms`.

use sea_orm::entity::prelude::*;

/// A seller's fixed-price room.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rooms")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The short code, unique.
    pub code: String,
    /// The seller.
    pub seller_id: Uuid,
    /// Name.
    pub name: String,
    /// Description (may be empty).
    pub description: String,
    /// Price in minor units.
    pub price_value: i64,
    /// Asset code of the price (the seller wallet's).
    pub price_asset_code: String,
    /// Asset scale of the price.
    pub price_asset_scale: i16,
    /// Where the money goes: the seller's wallet when the room was created or last moved.
    pub wallet_address: String,
    /// The name its provider shows for that wallet (its owner), when it has one.
    pub wallet_public_name: Option<String>,
    /// What a buyer gets once their payment completes (a message, which may hold links);
    /// shown to those buyers only.
    pub delivery: Option<String>,
    /// `open`, `paused` or `closed`.
    pub status: String,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
    /// How many can be sold in all (`None`: no limit).
    pub stock_limit: Option<i32>,
    /// Units held by its payments: every one not over without money (started, approved,
    /// sending, completed). A payment starts only while this is below the limit.
    pub stock_taken: i32,
    /// Its pictures, in order: a JSON array of [`crate::services::room_media::StoredImage`].
    pub images: String,
    /// The file its buyers download, as JSON ([`crate::services::room_media::StoredFile`]).
    pub delivery_file: Option<String>,
    /// Reviews of 1 star (not deleted), kept with every review write.
    pub stars_1: i32,
    /// Reviews of 2 stars (not deleted), kept with every review write.
    pub stars_2: i32,
    /// Reviews of 3 stars (not deleted), kept with every review write.
    pub stars_3: i32,
    /// Reviews of 4 stars (not deleted), kept with every review write.
    pub stars_4: i32,
    /// Reviews of 5 stars (not deleted), kept with every review write.
    pub stars_5: i32,
    /// When an admin withdrew the room from the public (moderation).
    pub hidden_at: Option<DateTimeUtc>,
    /// The admin's reason, shown to the seller.
    pub hidden_reason: Option<String>,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The seller.
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::SellerId",
        to = "super::users::Column::Id"
    )]
    Seller,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Seller.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The room's status, read back checked.
    ///
    /// # Errors
    /// [`super::UnknownStoredValue`] when the column holds no known status.
    pub fn room_status(&self) -> Result<shifting_shared::RoomStatus, super::UnknownStoredValue> {
        super::parse_stored("rooms.status", &self.status)
    }
}

impl Model {
    /// How many reviews gave each number of stars, over this room's purchases.
    #[must_use]
    pub fn star_counts(&self) -> shifting_shared::StarCounts {
        super::star_counts([
            self.stars_1,
            self.stars_2,
            self.stars_3,
            self.stars_4,
            self.stars_5,
        ])
    }
}
