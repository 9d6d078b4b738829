//! Checkout lifetimes, payment-start rate limits and the verification worker.

use std::time::Duration;

use serde::Deserialize;

use super::{Problems, RateLimit};

const DAY: u64 = 86_400;

/// The payment settings as read.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Raw {
    /// `SHIFTING_PAYMENT_RATE_LIMIT_PER_MINUTE`: sustained payment starts per user and per IP.
    pub payment_rate_limit_per_minute: u32,
    /// `SHIFTING_PAYMENT_RATE_LIMIT_BURST`: payment starts allowed at once per user and per IP.
    pub payment_rate_limit_burst: u32,
    /// `SHIFTING_INCOMING_PAYMENT_LIFETIME_SECS`: `expiresAt` of the incoming payment created on
    /// the seller's wallet for each checkout.
    pub incoming_payment_lifetime_secs: u64,
    /// `SHIFTING_APPROVAL_TIMEOUT_SECS`: how long a buyer has to approve (the quote's expiry
    /// also ends it).
    pub approval_timeout_secs: u64,
    /// `SHIFTING_VERIFICATION_TIMEOUT_SECS`: how long after consent the seller must have
    /// received the money before the payment counts as failed.
    pub verification_timeout_secs: u64,
    /// `SHIFTING_CLAIM_GRACE_SECS`: how long (beyond the grant's `wait`) an approval claimed by
    /// a finish callback is left to it before a worker treats it as interrupted.
    pub claim_grace_secs: u64,
    /// `SHIFTING_PAYMENT_WORKER`: run the verification worker in this process.
    pub payment_worker: bool,
}

impl Default for Raw {
    fn default() -> Self {
        Self {
            payment_rate_limit_per_minute: 10,
            payment_rate_limit_burst: 5,
            incoming_payment_lifetime_secs: 3600,
            approval_timeout_secs: 600,
            verification_timeout_secs: 600,
            claim_grace_secs: 120,
            payment_worker: true,
        }
    }
}

/// The validated payment settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaymentSettings {
    /// Payment starts per user and per IP.
    pub rate_limit: RateLimit,
    /// `expiresAt` of the incoming payment on the seller's wallet, from the start.
    pub incoming_payment_lifetime: Duration,
    /// How long an approval may stay unanswered (also bounded by the quote's expiry).
    pub approval_timeout: Duration,
    /// How long after consent the seller must have received the money.
    pub verification_timeout: Duration,
    /// How long (beyond the continuation's `wait`) an approval claimed by a finish callback
    /// is left to it before a worker resumes it as interrupted.
    pub claim_grace: Duration,
    /// Whether this process runs the verification worker.
    pub worker: bool,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        Raw::default().validate(&mut Problems::default())
    }
}

impl Raw {
    pub(super) fn validate(self, problems: &mut Problems) -> PaymentSettings {
        let rate_limit = problems.rate_limit(
            "payment_rate_limit",
            self.payment_rate_limit_per_minute,
            self.payment_rate_limit_burst,
        );
        // Open Payments allows incoming payments to live at most 30 days.
        let lifetimes = [
            (
                "incoming_payment_lifetime_secs",
                &self.incoming_payment_lifetime_secs,
                60..=30 * DAY,
            ),
            (
                "approval_timeout_secs",
                &self.approval_timeout_secs,
                10..=DAY,
            ),
            (
                "verification_timeout_secs",
                &self.verification_timeout_secs,
                10..=DAY,
            ),
            ("claim_grace_secs", &self.claim_grace_secs, 0..=DAY),
        ];
        for (name, value, range) in lifetimes {
            problems.range(name, *value, range);
        }
        // Out-of-range values are reported above; the clamps only keep dates computable.
        let secs = |value: u64| Duration::from_secs(value.min(30 * DAY));
        PaymentSettings {
            rate_limit,
            incoming_payment_lifetime: secs(self.incoming_payment_lifetime_secs),
            approval_timeout: secs(self.approval_timeout_secs),
            verification_timeout: secs(self.verification_timeout_secs),
            claim_grace: secs(self.claim_grace_secs),
            worker: self.payment_worker,
        }
    }
}
