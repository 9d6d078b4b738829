//! `transactions`.

use sea_orm::entity::prelude::*;

/// A payment for a room, with every Open Payments step that has happened so far.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transactions")]
pub struct Model {
    /// Id (also in the finish URL and the Open Payments metadata).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The room.
    pub room_id: Uuid,
    /// The buyer's account; none for a guest's purchase until they claim it.
    pub buyer_id: Option<Uuid>,
    /// The seller.
    pub seller_id: Uuid,
    /// A `TransactionStatus` name.
    pub status: String,
    /// The price in minor units, copied from the room.
    pub amount_value: i64,
    /// The price's asset code.
    pub asset_code: String,
    /// The price's asset scale.
    pub asset_scale: i16,
    /// The paying wallet's `id`.
    pub buyer_wallet_address: String,
    /// The receiving wallet's `id`.
    pub seller_wallet_address: String,
    /// The buyer's `authServer`, verbatim: where the outgoing grant was requested (finish hash).
    pub buyer_auth_server: Option<String>,
    /// The incoming payment on the seller's wallet.
    pub incoming_payment_url: Option<String>,
    /// The quote on the buyer's wallet.
    pub quote_url: Option<String>,
    /// Until when the quote can be paid.
    pub quote_expires_at: Option<DateTimeUtc>,
    /// The quote's debit amount (minor units of the buyer's asset).
    pub debit_value: Option<i64>,
    /// The buyer's asset code.
    pub debit_asset_code: Option<String>,
    /// The buyer's asset scale.
    pub debit_asset_scale: Option<i16>,
    /// The quote's receive amount (the price's asset).
    pub receive_value: Option<i64>,
    /// The outgoing grant's continuation URI.
    pub continue_uri: Option<String>,
    /// The outgoing grant's continuation token (a secret).
    pub continue_token: Option<String>,
    /// Seconds to wait before continuing.
    pub continue_wait_secs: Option<i64>,
    /// When the outgoing grant was requested (the `wait` counts from here).
    pub grant_created_at: Option<DateTimeUtc>,
    /// Our finish nonce.
    pub client_nonce: String,
    /// Hex SHA-256 of the `state` query value the finish URI carries: a redirect without it
    /// proves nothing and changes nothing.
    pub finish_state_hash: Option<String>,
    /// The auth server's finish nonce (`interact.finish`).
    pub server_nonce: Option<String>,
    /// The consent page.
    pub redirect_url: Option<String>,
    /// The `interact_ref` of the verified finish redirect.
    pub interact_ref: Option<String>,
    /// The outgoing-payment access token (a secret).
    pub outgoing_token: Option<String>,
    /// Its management URL.
    pub outgoing_token_manage: Option<String>,
    /// The outgoing payment on the buyer's wallet.
    pub outgoing_payment_url: Option<String>,
    /// What the seller's incoming payment last reported as received.
    pub received_value: Option<i64>,
    /// Why it did not complete (machine-readable).
    pub failure_code: Option<String>,
    /// Why it did not complete (for people).
    pub failure_detail: Option<String>,
    /// When an unanswered approval expires.
    pub approval_expires_at: Option<DateTimeUtc>,
    /// When the buyer approved (verification timeouts count from here).
    pub approved_at: Option<DateTimeUtc>,
    /// When the verification worker should look next.
    pub next_check_at: Option<DateTimeUtc>,
    /// Verification checks so far.
    pub attempts: i32,
    /// The worker holding the row.
    pub lease_owner: Option<Uuid>,
    /// Until when it holds it.
    pub lease_until: Option<DateTimeUtc>,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
    /// When the seller had received the full price (sales count from here).
    pub completed_at: Option<DateTimeUtc>,
    /// The sale's number among its seller's sales (1, 2, 3 …), given at completion.
    pub receipt_seq: Option<i64>,
    /// Hex SHA-256 of the key that opens a guest's purchase (its receipt link); kept after a
    /// claim so the link still works.
    pub guest_key_hash: Option<String>,
    /// The address a guest left for the receipt.
    pub guest_email: Option<String>,
    /// The language the guest checked out in (their receipt's).
    pub guest_language: Option<String>,
    /// Hex SHA-256 of the second key that opens a guest's purchase: the one in the link of
    /// their e-mailed receipt (made when the mail is sent, never stored in the clear).
    pub guest_mail_key_hash: Option<String>,
    /// The one-click budget that pays this purchase (no redirect); `None`: an approval at the
    /// buyer's wallet.
    pub budget_id: Option<Uuid>,
    /// When the buyer asked the seller for a refund.
    pub refund_requested_at: Option<DateTimeUtc>,
    /// Why (the buyer's words, shown to the seller).
    pub refund_request_reason: Option<String>,
}

impl Model {
    /// The transaction's status, read back checked.
    ///
    /// # Errors
    /// [`super::UnknownStoredValue`] when the column holds no known status.
    pub fn transaction_status(
        &self,
    ) -> Result<shifting_shared::TransactionStatus, super::UnknownStoredValue> {
        super::parse_stored("transactions.status", &self.status)
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The continuation and access tokens are secrets: never in logs.
        f.debug_struct("Transaction")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("amount_value", &self.amount_value)
            .field("asset_code", &self.asset_code)
            .field("incoming_payment_url", &self.incoming_payment_url)
            .field("quote_url", &self.quote_url)
            .field("outgoing_payment_url", &self.outgoing_payment_url)
            .finish_non_exhaustive()
    }
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The room.
    #[sea_orm(
        belongs_to = "super::rooms::Entity",
        from = "Column::RoomId",
        to = "super::rooms::Column::Id"
    )]
    Room,
    /// The status history.
    #[sea_orm(has_many = "super::transaction_events::Entity")]
    Events,
}

impl Related<super::rooms::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Room.def()
    }
}

impl Related<super::transaction_events::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Events.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
