//! `budgets`.

use sea_orm::entity::prelude::*;

/// A buyer's one-click budget: an interactive outgoing-payment grant on their wallet with a
/// debit limit per period and no receiver, approved once. Each step is stored before the next;
/// the tokens the platform keeps for later purchases are sealed (`secrets`).
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "budgets")]
pub struct Model {
    /// Id (in the finish URI).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The buyer.
    pub user_id: Uuid,
    /// The paying wallet's `id`.
    pub wallet_address: String,
    /// Its `authServer`, verbatim (the finish hash is computed with it).
    pub auth_server: String,
    /// Its `resourceServer` (where the spent amounts are read).
    pub resource_server: String,
    /// The most the wallet may debit per period, in minor units of the wallet's asset.
    pub limit_value: i64,
    /// The wallet's asset code.
    pub asset_code: String,
    /// The wallet's asset scale.
    pub asset_scale: i16,
    /// One period, ISO 8601 (`P1W`, `P1M`, `P1Y`).
    pub period: String,
    /// How many periods the budget lasts.
    pub periods: i32,
    /// The grant's `limits.interval` as sent (`R{periods-1}/{start}/{period}`: Rafiki counts
    /// `Rn` as the first interval and n repetitions).
    pub interval: String,
    /// Its first period starts.
    pub starts_at: DateTimeUtc,
    /// Its last period ends.
    pub ends_at: DateTimeUtc,
    /// A `BudgetStatus` name.
    pub status: String,
    /// The room the buyer enabled it from: the finish redirect goes back there.
    pub return_to: Option<String>,
    /// Our finish nonce.
    pub client_nonce: String,
    /// Hex SHA-256 of the `state` the finish URI carries.
    pub finish_state_hash: String,
    /// The auth server's finish nonce.
    pub server_nonce: Option<String>,
    /// The grant's continuation (and management) URI: `DELETE` on it revokes the grant.
    pub continue_uri: Option<String>,
    /// The continuation token (sealed).
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
    /// The outgoing-payment access token (sealed).
    pub access_token: Option<String>,
    /// The token's management URL (sealed: whoever holds it and our key can rotate it).
    pub token_manage: Option<String>,
    /// When the provider said the token expires (it can still be rotated afterwards).
    pub token_expires_at: Option<DateTimeUtc>,
    /// When the token was issued or last rotated.
    pub token_rotated_at: Option<DateTimeUtc>,
    /// Who is rotating the token now (one rotation at a time per grant).
    pub rotation_owner: Option<Uuid>,
    /// Until when that rotation holds the grant.
    pub rotation_until: Option<DateTimeUtc>,
    /// Why it ended (machine-readable).
    pub failure_code: Option<String>,
    /// Asked for.
    pub created_at: DateTimeUtc,
    /// An unapproved budget ends then.
    pub expires_at: DateTimeUtc,
    /// Approved and usable since.
    pub activated_at: Option<DateTimeUtc>,
    /// Revoked, declined or failed then.
    pub ended_at: Option<DateTimeUtc>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens and the manage URL are secrets: never in logs.
        f.debug_struct("Budget")
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
