//! `webhook_endpoints`.

use sea_orm::entity::prelude::*;

/// Where an integrator receives events: its URL, the event types it wants, and its signing
/// secrets (sealed, [`crate::secrets`]).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Its owner: the events are theirs.
    pub user_id: Uuid,
    /// Where events are posted.
    pub url: String,
    /// What it is for (may be empty).
    pub description: String,
    /// The event types it receives, space-separated.
    pub event_types: String,
    /// The signing secret (`whsec_…`), sealed.
    pub secret: String,
    /// The secret it replaced, sealed; still signs until `previous_secret_until`.
    pub previous_secret: Option<String>,
    /// Until when the previous secret signs too.
    pub previous_secret_until: Option<DateTimeUtc>,
    /// Whether events are delivered to it.
    pub enabled: bool,
    /// When it was turned off (by its owner, by failing for days, or by answering 410).
    pub disabled_at: Option<DateTimeUtc>,
    /// Why: `owner`, `failing` or `gone`.
    pub disabled_reason: Option<String>,
    /// Since when every delivery has failed (`None`: the last one succeeded).
    pub failing_since: Option<DateTimeUtc>,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
