//! `webhook_messages`.

use sea_orm::entity::prelude::*;

/// One event for one endpoint: its id is the `webhook-id` the receiver deduplicates on, its
/// body the exact bytes posted every time it is (re)sent. Its attempts are the outbox rows
/// whose `subject_id` it is.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_messages")]
pub struct Model {
    /// Id (`webhook-id` is `msg_` and its simple form).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The endpoint it goes to.
    pub endpoint_id: Uuid,
    /// `transaction.completed`, `room.created`, …
    pub event_type: String,
    /// The JSON posted.
    pub body: String,
    /// When the event happened.
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The endpoint it goes to.
    #[sea_orm(
        belongs_to = "super::webhook_endpoints::Entity",
        from = "Column::EndpointId",
        to = "super::webhook_endpoints::Column::Id"
    )]
    Endpoint,
}

impl Related<super::webhook_endpoints::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Endpoint.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
