//! `wallet_verifications`.

use sea_orm::entity::prelude::*;

/// One attempt of a user to prove that they control their wallet (an Open Payments `subject`
/// grant), with each step stored before the next.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wallet_verifications")]
pub struct Model {
    /// Id (in the finish URI).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Who is proving.
    pub user_id: Uuid,
    /// The wallet being proven.
    pub wallet_address: String,
    /// Its `authServer`, verbatim (the finish hash is computed with it).
    pub auth_server: String,
    /// A `VerificationStatus` name.
    pub status: String,
    /// Our finish nonce.
    pub client_nonce: String,
    /// Hex SHA-256 of the `state` the finish URI carries.
    pub finish_state_hash: String,
    /// The auth server's finish nonce.
    pub server_nonce: Option<String>,
    /// The grant's continuation URI.
    pub continue_uri: Option<String>,
    /// The continuation token (a secret; erased once the grant is over).
    pub continue_token: Option<String>,
    /// Seconds to wait before continuing.
    pub continue_wait_secs: Option<i64>,
    /// When the grant was requested (`wait` counts from here).
    pub grant_created_at: Option<DateTimeUtc>,
    /// The provider's consent page.
    pub redirect_url: Option<String>,
    /// The `interact_ref` of the verified finish redirect.
    pub interact_ref: Option<String>,
    /// While set and in the future, one request is continuing the grant.
    pub lease_until: Option<DateTimeUtc>,
    /// Why it failed (machine-readable).
    pub failure_code: Option<String>,
    /// Started.
    pub created_at: DateTimeUtc,
    /// An unanswered proof ends then.
    pub expires_at: DateTimeUtc,
    /// Ended.
    pub finished_at: Option<DateTimeUtc>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The continuation token is a secret: never in logs.
        f.debug_struct("WalletVerification")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("wallet_address", &self.wallet_address)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
