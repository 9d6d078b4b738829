//! Shared application state handed to every handler.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use shifting_open_payments::client::OpenPaymentsClient;
use shifting_shared::AddressPolicy;
use tokio::sync::Notify;
use url::Url;

use crate::config::Settings;
use crate::live::Live;
use crate::mail::UnsubscribeKey;
use crate::media::MediaStore;
use crate::secrets::Sealer;
use crate::services::rate_limit::RateLimiter;
use crate::services::room_views::RoomViews;
use crate::services::tokens::TokenKeys;

/// Payment starts cost three wallet-provider requests and a row each: limited per client
/// address and per user.
#[derive(Clone, Debug)]
pub struct PaymentLimiters {
    /// Per client address.
    pub per_ip: Arc<RateLimiter>,
    /// Per user.
    pub per_user: Arc<RateLimiter<uuid::Uuid>>,
}

/// Everything a request may need. Cheap to clone; holds nothing a second replica would need.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Database pool.
    pub db: DatabaseConnection,
    /// JWT keys and token lifetimes.
    pub tokens: Arc<TokenKeys>,
    /// Per-IP limiter for log-in and sign-up.
    pub auth_limiter: Arc<RateLimiter>,
    /// Review and reply writes, per user.
    pub review_limiter: Arc<RateLimiter<uuid::Uuid>>,
    /// Conversation messages, per user.
    pub message_limiter: Arc<RateLimiter<uuid::Uuid>>,
    /// Live socket tickets, per user.
    pub ticket_limiter: Arc<RateLimiter<uuid::Uuid>>,
    /// Payment starts, per client address and per user.
    pub payment_limiters: PaymentLimiters,
    /// Validated settings.
    pub settings: Arc<Settings>,
    /// Whether the refresh cookie carries `Secure`.
    pub cookie_secure: bool,
    /// The Open Payments client with the platform's identity (the sandbox's platform wallet
    /// on the embedded defaults).
    pub open_payments: OpenPaymentsClient,
    /// Which wallet addresses users may enter: `https` only, except for the sandbox.
    pub address_policy: AddressPolicy,
    /// The URL people and wallets reach this server at (finish redirects, share links).
    pub public_url: Url,
    /// Wakes the verification worker (after a finish moved a payment to `sending`).
    pub worker_wake: Arc<Notify>,
    /// Public room views, cached briefly (this replica's own copies).
    pub room_views: RoomViews,
    /// Room pictures and delivery files.
    pub media: MediaStore,
    /// The live fan-out: pushes to this replica's sockets.
    pub live: Live,
    /// Wakes this replica's mail sender (after a request queued mail).
    pub mail_wake: Arc<Notify>,
    /// Mail asked for by a request (reset links, confirmations), per address or account.
    pub mail_limiter: Arc<RateLimiter<String>>,
    /// Signs and checks one-click unsubscribe links.
    pub unsubscribe: UnsubscribeKey,
    /// Encrypts tokens kept for later use.
    pub sealer: Arc<Sealer>,
    /// Where webhooks may be posted (the wallet calls' rules; plain `http` and loopback too
    /// in sandbox mode).
    pub webhook_policy: Arc<shifting_open_payments::fetch_policy::FetchPolicy>,
    /// Wakes this replica's webhook sender (after a request queued a message).
    pub webhook_wake: Arc<Notify>,
}
