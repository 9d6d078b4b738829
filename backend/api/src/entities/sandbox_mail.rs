//! `sandbox_mail`.

use sea_orm::entity::prelude::*;

/// A mail delivered to the local mailbox (no SMTP server configured in sandbox mode), shown at
/// `/sandbox/mail`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sandbox_mail")]
pub struct Model {
    /// Increasing id: the mailbox lists newest first.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The outbox row delivered (unique: delivered once).
    pub outbox_id: Uuid,
    /// The `To` address.
    pub recipient: String,
    /// The subject.
    pub subject: String,
    /// The whole message as it would have gone over SMTP (RFC 5322).
    pub raw: String,
    /// Delivered.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
