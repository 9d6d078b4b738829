//! `audit_log`: append-only (the database refuses updates and deletes).

use sea_orm::entity::prelude::*;

/// One admin action, written in the same database transaction as the action.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The admin who acted; `None` for the command line on the server.
    pub actor_id: Option<Uuid>,
    /// Their username then (or `command line`).
    pub actor_name: String,
    /// What they did (an [`shifting_shared::AuditAction`] name).
    pub action: String,
    /// `user`, `room` or `report`.
    pub target_type: String,
    /// The target's id (a room's code for rooms).
    pub target_id: String,
    /// Why, in the admin's words.
    pub reason: String,
    /// The target's relevant fields before, as JSON.
    pub before: Option<String>,
    /// And after.
    pub after: Option<String>,
    /// The request's `x-request-id`, when it came over HTTP.
    pub request_id: Option<String>,
    /// When.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
