//! `account_tokens`.

use sea_orm::entity::prelude::*;

/// A single-use token mailed to a person: e-mail verification, password reset or e-mail
/// change (only its SHA-256 is kept).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_tokens")]
pub struct Model {
    /// Hex SHA-256 of the token.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    /// Whose account it acts on.
    pub user_id: Uuid,
    /// `verify_email`, `reset_password` or `change_email`.
    pub purpose: String,
    /// For `change_email`: the address being confirmed.
    pub new_email: Option<String>,
    /// The mail that carries it: a retried delivery replaces its earlier token.
    pub outbox_id: Option<Uuid>,
    /// Unusable from then on.
    pub expires_at: DateTimeUtc,
    /// Made.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
