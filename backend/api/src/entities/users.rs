//! `users`.

use sea_orm::entity::prelude::*;

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Username as typed.
    pub username: String,
    /// Lower-cased username, unique.
    pub username_key: String,
    /// Lower-cased e-mail, unique.
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Canonical wallet address URL.
    pub wallet_address: Option<String>,
    /// The wallet's `publicName`, when it has one.
    pub wallet_public_name: Option<String>,
    /// The wallet's asset code.
    pub wallet_asset_code: Option<String>,
    /// The wallet's asset scale.
    pub wallet_asset_scale: Option<i16>,
    /// `user` or `admin`.
    pub role: String,
    /// How many of their sales have completed: the last receipt number given.
    pub receipts_issued: i64,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Refresh tokens of the user.
    #[sea_orm(has_many = "super::refresh_tokens::Entity")]
    RefreshTokens,
}

impl Related<super::refresh_tokens::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RefreshTokens.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
