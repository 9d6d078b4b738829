//! Shared application state handed to every handler.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use shifting_open_payments::client::OpenPaymentsClient;

use crate::config::Settings;
use crate::services::rate_limit::RateLimiter;
use crate::services::tokens::TokenKeys;

/// Everything a request may need. Cheap to clone; holds nothing a second replica would need.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Database pool.
    pub db: DatabaseConnection,
    /// JWT keys and token lifetimes.
    pub tokens: Arc<TokenKeys>,
    /// Per-IP limiter for log-in and sign-up.
    pub auth_limiter: Arc<RateLimiter>,
    /// Validated settings.
    pub settings: Arc<Settings>,
    /// Whether the refresh cookie carries `Secure`.
    pub cookie_secure: bool,
    /// The Open Payments client, when the platform's identity is configured.
    pub open_payments: Option<OpenPaymentsClient>,
}
