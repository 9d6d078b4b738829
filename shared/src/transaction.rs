//! The payment state machine's states.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a payment is in its life (see ARCHITECTURE section 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransactionStatus {
    /// Waiting for the buyer to approve the grant at their wallet.
    AwaitingApproval,
    /// The buyer approved; the outgoing payment is being created.
    Approved,
    /// The outgoing payment exists; the platform is verifying that the seller received it.
    Sending,
    /// The seller received the full price.
    Completed,
    /// The buyer declined at their wallet, or cancelled before approving.
    Rejected,
    /// The quote or the consent expired before the buyer approved.
    Expired,
    /// The payment failed; see the failure code and detail.
    Failed,
    /// Completed, and the seller is refunding it (the refund awaits their approval at their
    /// wallet, or is being sent); it goes back to `completed` if the refund does not go through.
    RefundPending,
    /// The seller gave the money back (the refund completed). Final.
    Refunded,
}

impl TransactionStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [Self; 9] = [
        Self::AwaitingApproval,
        Self::Approved,
        Self::Sending,
        Self::Completed,
        Self::Rejected,
        Self::Expired,
        Self::Failed,
        Self::RefundPending,
        Self::Refunded,
    ];

    /// The wire and database name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingApproval => "awaiting_approval",
            Self::Approved => "approved",
            Self::Sending => "sending",
            Self::Completed => "completed",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Failed => "failed",
            Self::RefundPending => "refund_pending",
            Self::Refunded => "refunded",
        }
    }

    /// Whether the payment itself has ended: no step of it is left (a completed payment can
    /// still be refunded, which is the seller's payment, not this one).
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed
                | Self::Rejected
                | Self::Expired
                | Self::Failed
                | Self::RefundPending
                | Self::Refunded
        )
    }

    /// Whether it ended without money moving (declined, expired, failed).
    #[must_use]
    pub fn is_unpaid(self) -> bool {
        matches!(self, Self::Rejected | Self::Expired | Self::Failed)
    }

    /// Whether the buyer paid and the seller kept the money: completed, or a refund is under
    /// way (what the buyer bought is still theirs until it is refunded).
    #[must_use]
    pub fn is_paid(self) -> bool {
        matches!(self, Self::Completed | Self::RefundPending)
    }

    /// Whether the state machine allows moving from `self` to `next`.
    #[must_use]
    pub fn can_transition_to(self, next: Self) -> bool {
        use TransactionStatus::*;
        matches!(
            (self, next),
            (AwaitingApproval, Approved | Rejected | Expired | Failed)
                | (Approved, Sending | Failed)
                | (Sending, Completed | Failed)
                | (Completed, RefundPending)
                | (RefundPending, Completed | Refunded)
        )
    }
}

impl fmt::Display for TransactionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown status name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown transaction status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for TransactionStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// Every code a failed transaction's `failure.code` can take, so that clients can show their
/// own words for each (the API's `payments::Failure` checks it sends nothing else).
pub const FAILURE_CODES: &[&str] = &[
    "declined",
    "consent_failed",
    "expired",
    "provider_error",
    "payment_failed",
    "not_received",
    "room_closed",
    "room_paused",
    "cancelled",
    "budget_refused",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_str_and_serde() {
        for status in TransactionStatus::ALL {
            assert_eq!(
                status.as_str().parse::<TransactionStatus>().unwrap(),
                status
            );
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert!("done".parse::<TransactionStatus>().is_err());
    }

    #[test]
    fn terminal_states_have_no_way_out_but_a_refund() {
        use TransactionStatus::{Completed, RefundPending, Refunded};
        for from in TransactionStatus::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
        {
            for to in TransactionStatus::ALL {
                let refund = matches!(
                    (from, to),
                    (Completed, RefundPending) | (RefundPending, Completed | Refunded)
                );
                assert_eq!(from.can_transition_to(to), refund, "{from} -> {to}");
            }
        }
        assert!(!Refunded.can_transition_to(RefundPending));
        assert!(TransactionStatus::AwaitingApproval.can_transition_to(TransactionStatus::Approved));
        assert!(!TransactionStatus::AwaitingApproval.can_transition_to(TransactionStatus::Sending));
        assert!(TransactionStatus::Sending.can_transition_to(Completed));
    }
}
