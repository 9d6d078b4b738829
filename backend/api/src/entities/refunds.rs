//! `refunds`.

use sea_orm::entity::prelude::*;

/// A refund of a completed sale: a payment from the seller's wallet (the payer) to the buyer's
/// (the payee), approved by the seller at their wallet, with every Open Payments step stored
/// before the next. Its tokens are sealed (`secrets`).
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    /// Id (in the finish URI and the payments' metadata).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The sale it returns.
    pub transaction_id: Uuid,
    /// The seller, who pays it.
    pub seller_id: Uuid,
    /// Why (the seller's words, shown to the buyer).
    pub reason: String,
    /// A `RefundStatus` name.
    pub status: String,
    /// What the seller's wallet sends: what it received for the sale.
    pub debit_value: i64,
    /// Its asset code (the seller's wallet's).
    pub debit_asset_code: String,
    /// Its asset scale.
    pub debit_asset_scale: i16,
    /// The seller's wallet's `id`.
    pub payer_wallet_address: String,
    /// Its `authServer`, verbatim (the finish hash is computed with it).
    pub payer_auth_server: String,
    /// The buyer's wallet's `id`.
    pub payee_wallet_address: String,
    /// The incoming payment on the buyer's wallet.
    pub incoming_payment_url: Option<String>,
    /// The quote on the seller's wallet.
    pub quote_url: Option<String>,
    /// Until when the quote can be paid.
    pub quote_expires_at: Option<DateTimeUtc>,
    /// What the buyer receives (their wallet's asset).
    pub receive_value: Option<i64>,
    /// Its asset code.
    pub receive_asset_code: Option<String>,
    /// Its asset scale.
    pub receive_asset_scale: Option<i16>,
    /// The grant's continuation URI.
    pub continue_uri: Option<String>,
    /// The continuation token (sealed).
    pub continue_token: Option<String>,
    /// Seconds to wait before continuing.
    pub continue_wait_secs: Option<i64>,
    /// When the grant was requested.
    pub grant_created_at: Option<DateTimeUtc>,
    /// Our finish nonce.
    pub client_nonce: String,
    /// Hex SHA-256 of the `state` the finish URI carries.
    pub finish_state_hash: Option<String>,
    /// The auth server's finish nonce.
    pub server_nonce: Option<String>,
    /// The seller's wallet's consent page.
    pub redirect_url: Option<String>,
    /// The `interact_ref` of the verified finish.
    pub interact_ref: Option<String>,
    /// The outgoing-payment access token (sealed): stored before the payment is created.
    pub outgoing_token: Option<String>,
    /// Its management URL (sealed).
    pub outgoing_token_manage: Option<String>,
    /// The outgoing payment on the seller's wallet.
    pub outgoing_payment_url: Option<String>,
    /// What the buyer's incoming payment received.
    pub received_value: Option<i64>,
    /// Why it did not complete (machine-readable).
    pub failure_code: Option<String>,
    /// Why, in words.
    pub failure_detail: Option<String>,
    /// An unanswered approval ends then.
    pub approval_expires_at: Option<DateTimeUtc>,
    /// The seller approved then.
    pub approved_at: Option<DateTimeUtc>,
    /// The next verification is due then.
    pub next_check_at: Option<DateTimeUtc>,
    /// Verifications so far.
    pub attempts: i32,
    /// Who holds the row now (a finish, a worker).
    pub lease_owner: Option<Uuid>,
    /// Until when.
    pub lease_until: Option<DateTimeUtc>,
    /// Started.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
    /// The buyer received it then.
    pub completed_at: Option<DateTimeUtc>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens are secrets: never in logs.
        f.debug_struct("Refund")
            .field("id", &self.id)
            .field("transaction_id", &self.transaction_id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
