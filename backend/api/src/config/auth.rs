//! Accounts and sessions: the JWT secret, token lifetimes, log-in rate limits, the cookie.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{Problems, RateLimit};

const DAY: u64 = 86_400;

/// The session settings as read.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Raw {
    /// `SHIFTING_JWT_SECRET`: HMAC secret (at least 32 characters); default: generated once and
    /// kept in the data dir.
    pub jwt_secret: Option<SecretString>,
    /// `SHIFTING_SECRETS_KEY`: the key (32 bytes, base64) that encrypts tokens kept for later
    /// use; default: generated once and kept in the data dir.
    pub secrets_key: Option<SecretString>,
    /// `SHIFTING_ACCESS_TOKEN_TTL_SECS`: access-token lifetime.
    pub access_token_ttl_secs: u64,
    /// `SHIFTING_REFRESH_TOKEN_TTL_DAYS`: refresh-token lifetime.
    pub refresh_token_ttl_days: u64,
    /// `SHIFTING_REFRESH_REUSE_GRACE_SECS`: how long a just-rotated refresh token still yields
    /// the same successor (two tabs refreshing at once); 0 turns the grace off.
    pub refresh_reuse_grace_secs: u64,
    /// `SHIFTING_REFRESH_FAMILY_MAX_AGE_DAYS`: the longest a session lives from its log-in,
    /// however often it is refreshed.
    pub refresh_family_max_age_days: u64,
    /// `SHIFTING_AUTH_RATE_LIMIT_PER_MINUTE`: sustained log-in/sign-up attempts per IP.
    pub auth_rate_limit_per_minute: u32,
    /// `SHIFTING_AUTH_RATE_LIMIT_BURST`: attempts allowed at once per IP.
    pub auth_rate_limit_burst: u32,
    /// `SHIFTING_REVIEW_RATE_LIMIT_PER_MINUTE`: sustained review and reply writes per user.
    pub review_rate_limit_per_minute: u32,
    /// `SHIFTING_REVIEW_RATE_LIMIT_BURST`: review and reply writes allowed at once per user.
    pub review_rate_limit_burst: u32,
    /// `SHIFTING_MESSAGE_RATE_LIMIT_PER_MINUTE`: sustained conversation messages per user.
    pub message_rate_limit_per_minute: u32,
    /// `SHIFTING_MESSAGE_RATE_LIMIT_BURST`: conversation messages allowed at once per user.
    pub message_rate_limit_burst: u32,
    /// `SHIFTING_COOKIE_SECURE`: mark the refresh cookie `Secure`; default: when the public URL
    /// is https.
    pub cookie_secure: Option<bool>,
}

impl Default for Raw {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            secrets_key: None,
            access_token_ttl_secs: 900,
            refresh_token_ttl_days: 30,
            refresh_reuse_grace_secs: 20,
            refresh_family_max_age_days: 90,
            auth_rate_limit_per_minute: 10,
            auth_rate_limit_burst: 10,
            review_rate_limit_per_minute: 2,
            review_rate_limit_burst: 10,
            message_rate_limit_per_minute: 20,
            message_rate_limit_burst: 20,
            cookie_secure: None,
        }
    }
}

/// The validated session settings.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// Explicit JWT secret; `None` means the one generated in the data dir.
    pub jwt_secret: Option<SecretString>,
    /// Explicit key for stored secrets; `None` means the one generated in the data dir.
    pub secrets_key: Option<[u8; 32]>,
    /// Access-token lifetime.
    pub access_token_ttl: Duration,
    /// Refresh-token lifetime.
    pub refresh_token_ttl: Duration,
    /// How long a just-rotated refresh token still yields the same successor.
    pub refresh_reuse_grace: Duration,
    /// The longest a session lives from its log-in.
    pub refresh_family_max_age: Duration,
    /// Log-in and sign-up attempts per IP.
    pub rate_limit: RateLimit,
    /// Review and reply writes per user.
    pub review_rate_limit: RateLimit,
    /// Conversation messages per user.
    pub message_rate_limit: RateLimit,
    /// Explicit `Secure` flag for the refresh cookie.
    pub cookie_secure: Option<bool>,
}

impl Raw {
    pub(super) fn validate(self, problems: &mut Problems) -> AuthSettings {
        if let Some(secret) = &self.jwt_secret
            && secret.expose_secret().len() < 32
        {
            problems.push("jwt_secret must be at least 32 characters long");
        }
        let secrets_key = self.secrets_key.as_ref().and_then(|key| {
            crate::secrets::Sealer::parse_key(key.expose_secret())
                .map_err(|problem| problems.push(format!("secrets_key {problem}")))
                .ok()
        });
        problems.range(
            "access_token_ttl_secs",
            self.access_token_ttl_secs,
            60..=3600,
        );
        problems.range(
            "refresh_token_ttl_days",
            self.refresh_token_ttl_days,
            1..=365,
        );
        problems.range(
            "refresh_reuse_grace_secs",
            self.refresh_reuse_grace_secs,
            0..=300,
        );
        problems.range(
            "refresh_family_max_age_days",
            self.refresh_family_max_age_days,
            1..=3650,
        );
        let rate_limit = problems.rate_limit(
            "auth_rate_limit",
            self.auth_rate_limit_per_minute,
            self.auth_rate_limit_burst,
        );
        let review_rate_limit = problems.rate_limit(
            "review_rate_limit",
            self.review_rate_limit_per_minute,
            self.review_rate_limit_burst,
        );
        let message_rate_limit = problems.rate_limit(
            "message_rate_limit",
            self.message_rate_limit_per_minute,
            self.message_rate_limit_burst,
        );
        // The ranges above keep these products far from overflowing.
        AuthSettings {
            jwt_secret: self.jwt_secret,
            secrets_key,
            access_token_ttl: Duration::from_secs(self.access_token_ttl_secs),
            refresh_token_ttl: Duration::from_secs(self.refresh_token_ttl_days.min(365) * DAY),
            refresh_reuse_grace: Duration::from_secs(self.refresh_reuse_grace_secs),
            refresh_family_max_age: Duration::from_secs(
                self.refresh_family_max_age_days.min(3650) * DAY,
            ),
            rate_limit,
            review_rate_limit,
            message_rate_limit,
            cookie_secure: self.cookie_secure,
        }
    }
}
