//! Refunds: the seller gives a completed sale's money back (approving the payment at their own
//! wallet), and the buyer may ask for it first.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::{AmountDto, FailureResponse};
use crate::{FieldCode, FieldError};

/// The longest reason, in characters.
pub const MAX_REASON: usize = 500;

/// Where a refund stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Waiting for the seller to approve it at their wallet.
    AwaitingApproval,
    /// The seller approved; the payment is being made.
    Approved,
    /// The seller's wallet is sending it; the buyer's wallet is being checked.
    Sending,
    /// The buyer's wallet received it.
    Completed,
    /// The seller declined at their wallet.
    Declined,
    /// The approval or the quote expired.
    Expired,
    /// It failed; nothing (or not all) arrived. The sale can be refunded again.
    Failed,
}

impl RefundStatus {
    /// Every status.
    pub const ALL: [Self; 7] = [
        Self::AwaitingApproval,
        Self::Approved,
        Self::Sending,
        Self::Completed,
        Self::Declined,
        Self::Expired,
        Self::Failed,
    ];

    /// The wire and database name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingApproval => "awaiting_approval",
            Self::Approved => "approved",
            Self::Sending => "sending",
            Self::Completed => "completed",
            Self::Declined => "declined",
            Self::Expired => "expired",
            Self::Failed => "failed",
        }
    }

    /// Whether it has ended.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Declined | Self::Expired | Self::Failed
        )
    }
}

impl std::str::FromStr for RefundStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or(())
    }
}

/// `POST /api/transactions/{id}/refund` (the seller) and `…/refund-request` (the buyer).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundReasonRequest {
    /// Why, for the other side (1–500 characters).
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "The lesson was cancelled.",
            min_length = 1,
            max_length = 500
        )
    )]
    pub reason: String,
}

impl RefundReasonRequest {
    /// The reason, trimmed and checked.
    ///
    /// # Errors
    /// `required`, `too_long` or `control_characters`.
    pub fn checked(&self) -> Result<String, FieldError> {
        let reason = self.reason.trim();
        if reason.is_empty() {
            return Err(FieldError::new(FieldCode::Required, "is required"));
        }
        if reason.chars().count() > MAX_REASON {
            return Err(FieldError::new(
                FieldCode::TooLong,
                "is longer than 500 characters",
            ));
        }
        if reason
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(FieldError::new(
                FieldCode::ControlCharacters,
                "contains control characters",
            ));
        }
        Ok(reason.to_owned())
    }
}

/// A refund of a sale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundResponse {
    /// Its id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub id: Uuid,
    /// Where it stands.
    pub status: RefundStatus,
    /// The seller's reason.
    #[cfg_attr(feature = "openapi", schema(example = "The lesson was cancelled."))]
    pub reason: String,
    /// What the seller's wallet sends: what it received for the sale.
    pub amount: AmountDto,
    /// What the buyer's wallet receives, once quoted (their currency, after the wallets' rates
    /// and fees).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_receives: Option<AmountDto>,
    /// The seller's wallet's consent page, while it awaits their approval (the seller only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://auth.interledger-test.dev/interact/3f2e1d0c/4b5a6978")
    )]
    pub consent_url: Option<String>,
    /// Why it did not complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureResponse>,
    /// The incoming payment on the buyer's wallet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "https://ilp.interledger-test.dev/incoming-payments/5b8c2f1a-7d3e-4a6b-9c0d-1e2f3a4b5c6d"
        )
    )]
    pub incoming_payment: Option<String>,
    /// The outgoing payment on the seller's wallet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "https://ilp.interledger-test.dev/outgoing-payments/0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5"
        )
    )]
    pub outgoing_payment: Option<String>,
    /// Started.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
    /// Received by the buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub completed_at: Option<DateTime<Utc>>,
}

/// The buyer's request for a refund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundRequestResponse {
    /// The buyer's reason.
    #[cfg_attr(feature = "openapi", schema(example = "The lesson was cancelled."))]
    pub reason: String,
    /// Asked then.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_checked() {
        let asked = |reason: &str| {
            RefundReasonRequest {
                reason: reason.into(),
            }
            .checked()
        };
        assert_eq!(asked("  Cancelled  ").as_deref(), Ok("Cancelled"));
        assert!(asked("   ").is_err());
        assert!(asked(&"x".repeat(501)).is_err());
        assert!(asked("bell\u{7}").is_err());
        for status in RefundStatus::ALL {
            assert_eq!(status.as_str().parse::<RefundStatus>(), Ok(status));
        }
    }
}
