//! `outbox`.

use sea_orm::entity::prelude::*;

/// Something to deliver outside (a mail, later a webhook call), written in the transaction of
/// the change it tells about and delivered by the outbox worker of any replica.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    /// Id (a mail's `Message-ID` is made from it, so a repeated delivery is recognisable).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Which deliverer takes it: `mail` or `webhook`.
    pub channel: String,
    /// Unique: the same fact written twice (a replayed step) queues one delivery.
    pub dedupe_key: String,
    /// The account it is for, if any (erased with the account).
    pub user_id: Option<Uuid>,
    /// What the deliverer needs, as JSON: ids (an address for a reset or a change of address),
    /// never a secret; emptied (`{}`) once delivered or given up.
    pub payload: String,
    /// `pending`, `sent` or `failed` (given up).
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// Not tried again before then.
    pub next_attempt_at: DateTimeUtc,
    /// The worker delivering it now.
    pub lease_owner: Option<Uuid>,
    /// Until when that worker holds it.
    pub lease_until: Option<DateTimeUtc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Queued.
    pub created_at: DateTimeUtc,
    /// Sent or given up.
    pub done_at: Option<DateTimeUtc>,
    /// What it delivers, when several rows deliver one thing (a webhook message sent again):
    /// the message's id.
    pub subject_id: Option<Uuid>,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
