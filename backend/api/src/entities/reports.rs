//! `reports`.

use sea_orm::entity::prelude::*;

/// A user's report of a room, a review or a message, waiting for an admin.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reports")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Who reported.
    pub reporter_id: Uuid,
    /// `room`, `review` or `message`.
    pub target_type: String,
    /// The room's code, or the review's or message's id.
    pub target_id: String,
    /// The room it is in (for the link to it).
    pub room_code: String,
    /// A [`shifting_shared::ReportReason`] name.
    pub reason: String,
    /// The reporter's words.
    pub body: String,
    /// `open`, `resolved` or `dismissed`.
    pub status: String,
    /// When.
    pub created_at: DateTimeUtc,
    /// When an admin resolved or dismissed it.
    pub handled_at: Option<DateTimeUtc>,
    /// Which admin.
    pub handled_by: Option<Uuid>,
    /// What they said about it.
    pub resolution: Option<String>,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
