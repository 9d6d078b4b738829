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
    /// Reviews of 1 star over all their rooms, kept with every review write.
    pub stars_1: i32,
    /// Reviews of 2 stars over all their rooms, kept with every review write.
    pub stars_2: i32,
    /// Reviews of 3 stars over all their rooms, kept with every review write.
    pub stars_3: i32,
    /// Reviews of 4 stars over all their rooms, kept with every review write.
    pub stars_4: i32,
    /// Reviews of 5 stars over all their rooms, kept with every review write.
    pub stars_5: i32,
    /// When they last proved that they control `wallet_address` (an Open Payments `subject`
    /// grant); cleared when the wallet changes.
    pub wallet_verified_at: Option<DateTimeUtc>,
    /// The wallet that proof is for.
    pub wallet_verified_address: Option<String>,
    /// The auth server (the wallet's provider) that gave it.
    pub wallet_verified_by: Option<String>,
    /// When they proved the address is theirs (a link sent to it); mail beyond account
    /// security waits for it.
    pub email_verified_at: Option<DateTimeUtc>,
    /// The language mail is written in: `en` or `es`.
    pub language: String,
    /// Whether they want the "you sold …" notice.
    pub mail_sales: bool,
    /// Whether they want to hear about their payments that failed or expired.
    pub mail_payment_problems: bool,
    /// Whether they want a mail for a message they did not read within a while.
    pub mail_messages: bool,
    /// When they deleted the account; the row then only keeps what records need.
    pub deleted_at: Option<DateTimeUtc>,
    /// When an admin suspended the account: it cannot sign in, and its rooms are withdrawn.
    pub suspended_at: Option<DateTimeUtc>,
    /// The admin's reason, shown to the account at sign-in.
    pub suspended_reason: Option<String>,
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

impl Model {
    /// How many reviews gave each number of stars, over this seller's rooms.
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
