//! `refresh_tokens`.

use sea_orm::entity::prelude::*;

/// A refresh token, stored as the SHA-256 of the opaque value.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Rotation family: every token rotated from the same log-in.
    pub family_id: Uuid,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// Issued.
    pub created_at: DateTimeUtc,
    /// When the family's first token was issued (its age is bounded).
    pub family_started_at: Option<DateTimeUtc>,
    /// Expires.
    pub expires_at: DateTimeUtc,
    /// Rotated or revoked.
    pub revoked_at: Option<DateTimeUtc>,
    /// The token that replaced this one on rotation.
    pub replaced_by: Option<Uuid>,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The owner.
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::UserId",
        to = "super::users::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
