//! Reviews, seller profiles and the verified-wallet badge: the rules every side checks the same
//! way (a rating is 1–5 stars, a text at most 2,000 characters) and the API's shapes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::{PartyResponse, RoomResponse};
use crate::room::RoomTextError;

/// A review's stars: 1 to 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rating(u8);

/// A rating outside 1–5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number of stars from 1 to 5")]
pub struct RatingError;

impl Rating {
    /// Checks the number of stars.
    ///
    /// # Errors
    /// [`RatingError`] outside 1–5.
    pub fn new(stars: i64) -> Result<Self, RatingError> {
        u8::try_from(stars)
            .ok()
            .filter(|s| (1..=5).contains(s))
            .map(Self)
            .ok_or(RatingError)
    }

    /// The stars.
    #[must_use]
    pub fn get(self) -> u8 {
        self.0
    }
}

impl crate::error::Coded for RatingError {
    fn code(&self) -> crate::FieldCode {
        crate::FieldCode::RatingRange
    }
}

/// A review's or a reply's text: plain text, trimmed, at most [`ReviewText::MAX_CHARS`]
/// characters; line breaks and tabs allowed, other control characters not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewText(String);

impl ReviewText {
    /// The most characters a text may have.
    pub const MAX_CHARS: usize = 2000;

    /// Parses an optional text (a review may have none).
    ///
    /// # Errors
    /// [`RoomTextError::TooLong`] or [`RoomTextError::Control`].
    pub fn parse(input: &str) -> Result<Self, RoomTextError> {
        crate::room::plain_text(input, Self::MAX_CHARS).map(Self)
    }

    /// Parses a text that must say something (a reply).
    ///
    /// # Errors
    /// As [`ReviewText::parse`], and [`RoomTextError::Empty`] for white space only.
    pub fn parse_required(input: &str) -> Result<Self, RoomTextError> {
        let text = Self::parse(input)?;
        if text.0.is_empty() {
            return Err(RoomTextError::Empty);
        }
        Ok(text)
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many days after a purchase completes its buyer may review it.
pub const REVIEW_WINDOW_DAYS: i64 = 60;
/// How many days after writing a review its author may still change it (unless the seller has
/// replied).
pub const EDIT_WINDOW_DAYS: i64 = 14;

/// Star counts, one per rating: `counts[0]` is 1 star, `counts[4]` is 5 stars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StarCounts(pub [u32; 5]);

impl StarCounts {
    /// How many reviews.
    #[must_use]
    pub fn count(self) -> u32 {
        self.0.iter().sum()
    }

    /// The average in tenths of a star, rounded half up (43 for 4.3); `None` without reviews.
    #[must_use]
    pub fn average_tenths(self) -> Option<u32> {
        let count = u64::from(self.count());
        if count == 0 {
            return None;
        }
        let stars: u64 = self
            .0
            .iter()
            .zip(1u64..)
            .map(|(n, s)| u64::from(*n) * s)
            .sum();
        u32::try_from((stars * 20 + count) / (count * 2)).ok()
    }

    /// The summary the API shows.
    #[must_use]
    pub fn summary(self) -> RatingSummary {
        RatingSummary {
            count: self.count(),
            average: self
                .average_tenths()
                .map(|t| format!("{}.{}", t / 10, t % 10)),
            distribution: self.0.to_vec(),
        }
    }
}

/// A rating summary: how many reviews, their average and how they spread over the stars.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RatingSummary {
    /// How many reviews.
    #[cfg_attr(feature = "openapi", schema(example = 12))]
    pub count: u32,
    /// The average with one decimal, as a string; `null` without reviews.
    #[cfg_attr(feature = "openapi", schema(example = "4.3"))]
    pub average: Option<String>,
    /// How many reviews gave 1, 2, 3, 4 and 5 stars, in that order (always five numbers).
    #[cfg_attr(feature = "openapi", schema(example = json!([0, 0, 1, 3, 9])))]
    pub distribution: Vec<u32>,
}

/// The seller's proof that they control their payout wallet: an Open Payments `subject` grant
/// their wallet's provider approved after they signed in there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletBadge {
    /// The wallet address proven.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://ilp.interledger-test.dev/alice")
    )]
    pub wallet_address: String,
    /// When.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub verified_at: DateTime<Utc>,
    /// The provider's authorization server that confirmed it.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://auth.interledger-test.dev")
    )]
    pub verified_by: String,
    /// That server's host name, to show people.
    #[cfg_attr(feature = "openapi", schema(example = "auth.interledger-test.dev"))]
    pub provider: String,
}

/// `POST /api/transactions/{id}/review`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// Stars, 1 to 5.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5, example = 4))]
    pub rating: i64,
    /// Plain text, at most 2,000 characters (trimmed); may be left out.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Clear, patient lesson. Recommended.")
    )]
    pub text: Option<String>,
}

/// `PATCH /api/transactions/{id}/review`: what changes (at least one of them).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewUpdateRequest {
    /// New stars, 1 to 5.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5, example = 4))]
    pub rating: Option<i64>,
    /// New text (empty removes it).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Patient and clear; I can play three chords now.")
    )]
    pub text: Option<String>,
}

/// `PUT /api/transactions/{id}/review/reply`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// Plain text, 1–2,000 characters (trimmed).
    #[cfg_attr(feature = "openapi", schema(example = "Thank you, see you next time!"))]
    pub text: String,
}

/// The seller's public answer to a review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyResponse {
    /// Plain text (show it as text, never as HTML).
    #[cfg_attr(feature = "openapi", schema(example = "Thank you, see you next week!"))]
    pub text: String,
    /// First posted.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
    /// Last changed.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub updated_at: DateTime<Utc>,
}

/// A review of a completed purchase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewResponse {
    /// Its id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub id: Uuid,
    /// The purchase it reviews (only its buyer and seller can open it).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub transaction_id: Uuid,
    /// The room's code.
    #[cfg_attr(feature = "openapi", schema(example = "K7M2QX"))]
    pub room_code: String,
    /// The room's name.
    #[cfg_attr(feature = "openapi", schema(example = "Guitar lesson"))]
    pub room_name: String,
    /// Who wrote it: the buyer.
    pub author: PartyResponse,
    /// Stars, 1 to 5.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5, example = 4))]
    pub rating: u8,
    /// Plain text, possibly empty (show it as text, never as HTML).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Patient and clear; I can play three chords now.")
    )]
    pub text: String,
    /// The purchase was refunded after the review was written; the review stays.
    pub refunded: bool,
    /// Written.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
    /// Last changed by its author.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub updated_at: DateTime<Utc>,
    /// Until when its author can still change it; `null` once the seller has replied.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub editable_until: Option<DateTime<Utc>>,
    /// The seller's reply.
    pub reply: Option<ReplyResponse>,
}

/// A page of reviews, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewPageResponse {
    /// The reviews on this page.
    pub reviews: Vec<ReviewResponse>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "MTc2NDg0MzMwMDAwMDAwMDAwMC42ZjFjMGIzZS05ZDNj")
    )]
    pub next_cursor: Option<String>,
}

/// `GET /api/users/{username}`: a seller's public profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SellerProfileResponse {
    /// Their username.
    #[cfg_attr(feature = "openapi", schema(example = "alice"))]
    pub username: String,
    /// When they joined.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub member_since: DateTime<Utc>,
    /// How many of their sales have completed.
    #[cfg_attr(feature = "openapi", schema(example = 37))]
    pub completed_sales: u64,
    /// Over all their rooms.
    pub rating: RatingSummary,
    /// Their proof of controlling their payout wallet, while that wallet is unchanged.
    pub wallet_badge: Option<WalletBadge>,
    /// Their open rooms, newest first (at most 50).
    pub rooms: Vec<RoomResponse>,
    /// Their latest reviews (the first page of `GET /api/users/{username}/reviews`).
    pub reviews: ReviewPageResponse,
}

/// Where a wallet-ownership proof stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    /// Waiting for the owner at their wallet's provider.
    Pending,
    /// The owner approved; we are confirming it with the provider.
    Approved,
    /// Proven: the badge is shown.
    Verified,
    /// The owner declined at their wallet.
    Declined,
    /// The provider does not offer ownership proofs (`subject` grants).
    Unsupported,
    /// It did not finish (expired, or the provider refused to confirm it).
    Failed,
}

impl VerificationStatus {
    /// The database name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Verified => "verified",
            Self::Declined => "declined",
            Self::Unsupported => "unsupported",
            Self::Failed => "failed",
        }
    }
}

impl std::str::FromStr for VerificationStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        [
            Self::Pending,
            Self::Approved,
            Self::Verified,
            Self::Declined,
            Self::Unsupported,
            Self::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
        .ok_or(())
    }
}

/// A wallet-ownership proof in progress or finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletVerificationResponse {
    /// Its id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub id: Uuid,
    /// The wallet being proven.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://ilp.interledger-test.dev/alice")
    )]
    pub wallet_address: String,
    /// Where it stands.
    pub status: VerificationStatus,
    /// The provider's page where the owner signs in and approves (while pending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://auth.interledger-test.dev/interact/3f2e1d0c/4b5a6978")
    )]
    pub redirect_url: Option<String>,
    /// Started.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
    /// Ended, once it has.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub finished_at: Option<DateTime<Utc>>,
    /// The badge it gave, while the wallet is unchanged.
    pub badge: Option<WalletBadge>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_are_one_to_five_stars() {
        for bad in [0, 6, -1, 256, i64::MAX] {
            assert_eq!(Rating::new(bad), Err(RatingError), "{bad}");
        }
        assert_eq!(Rating::new(1).map(Rating::get), Ok(1));
        assert_eq!(Rating::new(5).map(Rating::get), Ok(5));
    }

    #[test]
    fn review_texts_are_trimmed_plain_text_of_at_most_2000_characters() {
        assert_eq!(ReviewText::parse("  fine  ").unwrap().as_str(), "fine");
        assert_eq!(ReviewText::parse("   ").unwrap().as_str(), "");
        assert_eq!(ReviewText::parse_required("  "), Err(RoomTextError::Empty));
        assert!(ReviewText::parse(&"é".repeat(2000)).is_ok());
        assert_eq!(
            ReviewText::parse(&"é".repeat(2001)),
            Err(RoomTextError::TooLong(2000))
        );
        assert_eq!(ReviewText::parse("a\u{7}b"), Err(RoomTextError::Control));
        assert!(ReviewText::parse("line\nline\tcol").is_ok());
        // Markup is text like any other: shown as typed, never interpreted.
        assert_eq!(
            ReviewText::parse("<b>bold</b>").unwrap().as_str(),
            "<b>bold</b>"
        );
    }

    #[test]
    fn averages_have_one_decimal_rounded_half_up() {
        assert_eq!(StarCounts::default().summary().average, None);
        assert_eq!(
            StarCounts([0, 0, 0, 1, 0]).summary().average.as_deref(),
            Some("4.0")
        );
        // (4 + 5) / 2 = 4.5
        assert_eq!(
            StarCounts([0, 0, 0, 1, 1]).summary().average.as_deref(),
            Some("4.5")
        );
        // (5 + 5 + 4) / 3 = 4.666… → 4.7
        assert_eq!(
            StarCounts([0, 0, 0, 1, 2]).summary().average.as_deref(),
            Some("4.7")
        );
        // (1 + 2 + 2) / 3 = 1.666… → 1.7; (1 + 1 + 2) / 3 = 1.333… → 1.3
        assert_eq!(
            StarCounts([1, 2, 0, 0, 0]).summary().average.as_deref(),
            Some("1.7")
        );
        assert_eq!(
            StarCounts([2, 1, 0, 0, 0]).summary().average.as_deref(),
            Some("1.3")
        );
        // 4.25 → 4.3 (half up)
        assert_eq!(
            StarCounts([0, 0, 0, 3, 1]).summary().average.as_deref(),
            Some("4.3")
        );
        let summary = StarCounts([0, 1, 1, 3, 7]).summary();
        assert_eq!(summary.count, 12);
        assert_eq!(summary.distribution, vec![0, 1, 1, 3, 7]);
    }
}
