//! `messages`.

use sea_orm::entity::prelude::*;

/// One entry of a conversation: a person's text, or a system entry about a payment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    /// Increasing over all conversations: clients resume after the last id they saw.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Its conversation.
    pub conversation_id: Uuid,
    /// Who wrote it; `None` for a system entry.
    pub sender_id: Option<Uuid>,
    /// A person's text.
    pub body: Option<String>,
    /// The transaction a system entry is about.
    pub transaction_id: Option<Uuid>,
    /// What happened to that transaction (`started`, `completed` …).
    pub event: Option<String>,
    /// Written.
    pub created_at: DateTimeUtc,
}

/// A message belongs to its conversation.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Its conversation.
    #[sea_orm(
        belongs_to = "super::conversations::Entity",
        from = "Column::ConversationId",
        to = "super::conversations::Column::Id"
    )]
    Conversation,
}

impl Related<super::conversations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Conversation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
