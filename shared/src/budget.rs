//! One-click budgets: what a buyer asks for (a limit per period, for a number of periods), where
//! a budget stands, and what a one-click purchase was offered or refused.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::AmountDto;
use crate::{FieldCode, FieldError};

/// The most periods one budget may last (two years of months).
pub const MAX_PERIODS: u32 = 24;

/// How long one period of a budget is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BudgetPeriod {
    /// Seven days.
    Week,
    /// A calendar month (the same day of the next month, or its last day).
    Month,
    /// A calendar year.
    Year,
}

impl BudgetPeriod {
    /// As an ISO 8601 duration, the way the grant's `interval` carries it.
    #[must_use]
    pub fn iso(self) -> &'static str {
        match self {
            Self::Week => "P1W",
            Self::Month => "P1M",
            Self::Year => "P1Y",
        }
    }

    /// The period of an ISO 8601 duration this type writes.
    #[must_use]
    pub fn from_iso(iso: &str) -> Option<Self> {
        [Self::Week, Self::Month, Self::Year]
            .into_iter()
            .find(|period| period.iso() == iso)
    }
}

/// Where a budget stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BudgetStatus {
    /// Waiting for the buyer at their wallet.
    Pending,
    /// The buyer approved; the platform is collecting the token.
    Approved,
    /// Usable for one-click purchases.
    Active,
    /// Its last period is over.
    Ended,
    /// The buyer declined at their wallet.
    Declined,
    /// It did not start (the approval expired, or the wallet refused the token).
    Failed,
    /// Revoked, here or at the wallet.
    Revoked,
}

impl BudgetStatus {
    /// The database name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Active => "active",
            Self::Ended => "ended",
            Self::Declined => "declined",
            Self::Failed => "failed",
            Self::Revoked => "revoked",
        }
    }
}

impl std::str::FromStr for BudgetStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        [
            Self::Pending,
            Self::Approved,
            Self::Active,
            Self::Ended,
            Self::Declined,
            Self::Failed,
            Self::Revoked,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
        .ok_or(())
    }
}

/// `POST /api/me/budgets`: enable one-click purchases from a wallet, up to `amount` per period.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateBudgetRequest {
    /// The wallet to pay from; default: the one in the buyer's profile.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "$ilp.interledger-test.dev/bob"))]
    pub wallet_address: Option<String>,
    /// The most the wallet may pay per period, in major units of the wallet's currency.
    #[cfg_attr(feature = "openapi", schema(example = "50.00"))]
    pub amount: String,
    /// How long one period is.
    pub period: BudgetPeriod,
    /// How many periods, 1 to 24.
    #[cfg_attr(feature = "openapi", schema(example = 6, minimum = 1, maximum = 24))]
    pub periods: u32,
    /// The room the buyer is on: the wallet sends them back there.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "K7M2QX"))]
    pub room_code: Option<String>,
}

impl CreateBudgetRequest {
    /// Checks the number of periods.
    ///
    /// # Errors
    /// `out_of_range` outside 1 to [`MAX_PERIODS`].
    pub fn checked_periods(&self) -> Result<u32, FieldError> {
        if (1..=MAX_PERIODS).contains(&self.periods) {
            Ok(self.periods)
        } else {
            Err(FieldError::new(
                FieldCode::OutOfRange,
                "must be between 1 and 24",
            ))
        }
    }
}

/// Where the amount spent in the current period comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SpentSource {
    /// The wallet said so (`GET outgoing-payment-grant`).
    Wallet,
    /// Our own record of the purchases paid under the budget (the wallet cannot tell).
    Record,
}

/// A one-click budget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetResponse {
    /// Its id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub id: Uuid,
    /// The paying wallet.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://ilp.interledger-test.dev/bruno")
    )]
    pub wallet_address: String,
    /// The most the wallet pays per period.
    pub limit: AmountDto,
    /// How long one period is.
    pub period: BudgetPeriod,
    /// How many periods it lasts.
    #[cfg_attr(feature = "openapi", schema(example = 3))]
    pub periods: u32,
    /// Its first period starts.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub starts_at: DateTime<Utc>,
    /// Its last period ends.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub ends_at: DateTime<Utc>,
    /// Where it stands.
    pub status: BudgetStatus,
    /// Active budgets: spent in the current period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent: Option<AmountDto>,
    /// Active budgets: left in the current period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left: Option<AmountDto>,
    /// Where `spent` comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent_source: Option<SpentSource>,
    /// Active budgets: when the current period ends (what is left does not carry over).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub period_ends_at: Option<DateTime<Utc>>,
    /// Pending budgets: the wallet's page where the buyer approves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://auth.interledger-test.dev/interact/3f2e1d0c/4b5a6978")
    )]
    pub redirect_url: Option<String>,
    /// Asked for.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
}

/// `GET /api/me/budgets`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetListResponse {
    /// This page, newest first.
    pub budgets: Vec<BudgetResponse>,
    /// Pass as `cursor` for the next page; `null` at the end.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "MTc2NDg0MzMwMDAwMDAwMDAwMC42ZjFjMGIzZS05ZDNj")
    )]
    pub next_cursor: Option<String>,
}

/// A purchase paid under a budget: one confirmation, no redirect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OneClickOffer {
    /// The budget.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub budget_id: Uuid,
    /// Left in the current period before this purchase.
    pub left: AmountDto,
}

/// Why a purchase could not be paid under a budget (it goes through the wallet's approval
/// instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OneClickRefusal {
    /// The purchase costs more than what is left in this period.
    OverBudget,
    /// The budget's periods have not started or are over.
    OutsidePeriod,
    /// The budget is not active (revoked, here or at the wallet).
    Inactive,
    /// The quote is in another currency than the budget.
    OtherCurrency,
    /// The wallet refused the payment under the budget.
    WalletRefused,
}

impl OneClickRefusal {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OverBudget => "over_budget",
            Self::OutsidePeriod => "outside_period",
            Self::Inactive => "inactive",
            Self::OtherCurrency => "other_currency",
            Self::WalletRefused => "wallet_refused",
        }
    }
}

/// `POST /api/payments/{id}/confirm`: what the one click did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmPaymentResponse {
    /// The transaction: `sending` (then `completed`), or `failed` when refused.
    pub transaction: crate::api::TransactionResponse,
    /// Why the budget could not pay it: start the purchase again without a budget, through
    /// the wallet's approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_click_refused: Option<OneClickRefusal>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_periods_read_back() {
        for status in [
            BudgetStatus::Pending,
            BudgetStatus::Active,
            BudgetStatus::Revoked,
        ] {
            assert_eq!(status.as_str().parse::<BudgetStatus>(), Ok(status));
        }
        assert_eq!(BudgetPeriod::from_iso("P1M"), Some(BudgetPeriod::Month));
        assert_eq!(BudgetPeriod::from_iso("P2M"), None);
    }

    #[test]
    fn periods_are_bounded() {
        let request = |periods| CreateBudgetRequest {
            wallet_address: None,
            amount: "50".into(),
            period: BudgetPeriod::Month,
            periods,
            room_code: None,
        };
        assert_eq!(request(6).checked_periods(), Ok(6));
        assert!(request(0).checked_periods().is_err());
        assert!(request(25).checked_periods().is_err());
    }
}
