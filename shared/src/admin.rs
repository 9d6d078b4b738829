//! Administration and moderation: roles, reports, the audit log and the admin panel's views.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::AmountDto;
pub use crate::api::Role;
use crate::{FieldCode, FieldError, TransactionStatus};

/// The longest admin reason or report text, in characters.
pub const MAX_REASON: usize = 500;
/// The longest report text, in characters.
pub const MAX_REPORT_TEXT: usize = 2000;

/// Defines a closed set of names: wire and database form `snake_case`, parsed back checked.
macro_rules! names {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::EnumIter)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// The wire and database name.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// Every value, in order.
            pub fn all() -> impl Iterator<Item = Self> {
                <Self as strum::IntoEnumIterator>::iter()
            }
        }

        impl std::str::FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                Self::all().find(|value| value.as_str() == s).ok_or(())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names! {
    /// What a report is about.
    ReportTarget {
        /// A room (its code).
        Room => "room",
        /// A review (its id).
        Review => "review",
        /// A message in a conversation (its id).
        Message => "message",
    }
}

names! {
    /// Why it was reported.
    ReportReason {
        /// Unwanted advertising or repeated posts.
        Spam => "spam",
        /// A scam: money taken, nothing given.
        Fraud => "fraud",
        /// Insulting, hateful or harassing.
        Offensive => "offensive",
        /// Something that may not be sold.
        Prohibited => "prohibited",
        /// Anything else (the text says what).
        Other => "other",
    }
}

names! {
    /// Where a report stands.
    ReportStatus {
        /// Waiting for an admin.
        Open => "open",
        /// An admin acted on it.
        Resolved => "resolved",
        /// An admin found nothing to act on.
        Dismissed => "dismissed",
    }
}

names! {
    /// What an admin did (the audit log's `action`).
    AuditAction {
        /// Made an account an admin.
        GrantAdmin => "grant_admin",
        /// Took an account's admin role away.
        RevokeAdmin => "revoke_admin",
        /// Suspended an account.
        SuspendUser => "suspend_user",
        /// Lifted a suspension.
        UnsuspendUser => "unsuspend_user",
        /// Withdrew a room from the public.
        HideRoom => "hide_room",
        /// Put it back.
        UnhideRoom => "unhide_room",
        /// Closed a room for good.
        CloseRoom => "close_room",
        /// Resolved a report.
        ResolveReport => "resolve_report",
        /// Dismissed a report.
        DismissReport => "dismiss_report",
        /// Read a payment live from the wallet providers.
        CheckPayment => "check_payment",
    }
}

/// Trims and checks a reason or a text of at most `max` characters.
///
/// # Errors
/// `required` (when `required`), `too_long` or `control_characters`.
pub fn checked_text(text: &str, max: usize, required: bool) -> Result<String, FieldError> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(FieldError::new(FieldCode::Required, "is required"));
    }
    if text.chars().count() > max {
        return Err(FieldError::new(
            FieldCode::TooLong,
            format!("is longer than {max} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(FieldError::new(
            FieldCode::ControlCharacters,
            "contains control characters",
        ));
    }
    Ok(text.to_owned())
}

/// `POST /api/reports`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateReportRequest {
    /// What is reported.
    pub target_type: ReportTarget,
    /// The room's code, or the review's or message's id.
    #[cfg_attr(feature = "openapi", schema(example = "K7M2QX9P"))]
    pub target_id: String,
    /// Why.
    pub reason: ReportReason,
    /// What happened, for the admins (up to 2000 characters; required for `other`).
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "The seller asked me to pay outside the platform.",
            max_length = 2000
        )
    )]
    #[serde(default)]
    pub text: String,
}

/// A reason an admin gives for an action (1–500 characters), kept in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AdminReasonRequest {
    /// Why (shown in the audit log; for suspensions and hidden rooms, to the person too).
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "Reported twice for asking payment outside the platform.",
            min_length = 1,
            max_length = 500
        )
    )]
    pub reason: String,
}

/// `POST /api/admin/users/{id}/role`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetRoleRequest {
    /// The new role.
    pub role: Role,
    /// Why (1–500 characters).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Joins the support team.", min_length = 1, max_length = 500)
    )]
    pub reason: String,
}

/// A report, as its reporter and the admins see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportResponse {
    /// Id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub id: Uuid,
    /// What is reported.
    pub target_type: ReportTarget,
    /// The room's code, or the review's or message's id.
    #[cfg_attr(feature = "openapi", schema(example = "8E382G"))]
    pub target_id: String,
    /// The room it is in: the link to it is `/r/{room_code}`.
    #[cfg_attr(feature = "openapi", schema(example = "8E382G"))]
    pub room_code: String,
    /// Why.
    pub reason: ReportReason,
    /// The reporter's words.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Patient and clear; I can play three chords now.")
    )]
    pub text: String,
    /// Where it stands.
    pub status: ReportStatus,
    /// The reporter's username (admins only; `null` for the reporter).
    #[cfg_attr(feature = "openapi", schema(example = "bruno"))]
    pub reporter: Option<String>,
    /// What is reported, quoted for the admins (a room's name, a review's or message's text).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Great lesson, but the room was…")
    )]
    pub excerpt: Option<String>,
    /// When.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
    /// When an admin handled it.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub handled_at: Option<DateTime<Utc>>,
    /// What they said.
    #[cfg_attr(feature = "openapi", schema(example = "Hid the room."))]
    pub resolution: Option<String>,
}

/// A page of reports, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportPageResponse {
    /// This page.
    pub items: Vec<ReportResponse>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "MTc2NDg0MzMwMDAwMDAwMDAwMC42ZjFjMGIzZS05ZDNj")
    )]
    pub next_cursor: Option<String>,
}

/// One admin action in the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntryResponse {
    /// Id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub id: Uuid,
    /// The admin (`null`: the command line on the server).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub actor_id: Option<Uuid>,
    /// Their username then, or `command line`.
    #[cfg_attr(feature = "openapi", schema(example = "admin"))]
    pub actor_name: String,
    /// What they did.
    pub action: AuditAction,
    /// `user`, `room`, `report` or `transaction`.
    #[cfg_attr(feature = "openapi", schema(example = "room"))]
    pub target_type: String,
    /// Its id (a room's code).
    #[cfg_attr(feature = "openapi", schema(example = "8E382G"))]
    pub target_id: String,
    /// Why.
    #[cfg_attr(feature = "openapi", schema(example = "Spam in the description."))]
    pub reason: String,
    /// The target's fields before.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub before: Option<serde_json::Value>,
    /// And after.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub after: Option<serde_json::Value>,
    /// When.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
}

/// A page of the audit log, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPageResponse {
    /// This page.
    pub items: Vec<AuditEntryResponse>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "MTc2NDg0MzMwMDAwMDAwMDAwMC42ZjFjMGIzZS05ZDNj")
    )]
    pub next_cursor: Option<String>,
}

/// Sales completed in one currency on one day (UTC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DailyVolume {
    /// The day, `YYYY-MM-DD` (UTC).
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04"))]
    pub day: String,
    /// How many sales completed.
    #[cfg_attr(feature = "openapi", schema(example = 12))]
    pub count: u64,
    /// Their sum.
    pub amount: AmountDto,
}

/// How many payments failed for one reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailureCount {
    /// The failure code (`rejected`, `not_received`, …) or the final status when it has none
    /// (`expired`, `cancelled`).
    #[cfg_attr(feature = "openapi", schema(example = "Spam in the description."))]
    pub reason: String,
    /// How many.
    #[cfg_attr(feature = "openapi", schema(example = 12))]
    pub count: u64,
}

/// The payment funnel over the last 30 days: how far the payments started then got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Funnel {
    /// Payments started.
    #[cfg_attr(feature = "openapi", schema(example = 100))]
    pub started: u64,
    /// Of those, approved by the buyer (at their wallet, or with one click).
    #[cfg_attr(feature = "openapi", schema(example = 80))]
    pub approved: u64,
    /// Of those, completed (the seller received the price).
    #[cfg_attr(feature = "openapi", schema(example = 74))]
    pub completed: u64,
    /// Those that ended without the money, by reason, most frequent first.
    pub failures: Vec<FailureCount>,
}

/// `GET /api/admin/overview`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminOverviewResponse {
    /// Accounts (not deleted).
    #[cfg_attr(feature = "openapi", schema(example = 512))]
    pub users: u64,
    /// Suspended accounts.
    #[cfg_attr(feature = "openapi", schema(example = 1))]
    pub suspended_users: u64,
    /// Rooms.
    #[cfg_attr(feature = "openapi", schema(example = 128))]
    pub rooms: u64,
    /// Rooms withdrawn by an admin.
    #[cfg_attr(feature = "openapi", schema(example = 2))]
    pub hidden_rooms: u64,
    /// Transactions, of every status.
    #[cfg_attr(feature = "openapi", schema(example = 1450))]
    pub transactions: u64,
    /// Reports waiting.
    #[cfg_attr(feature = "openapi", schema(example = 3))]
    pub open_reports: u64,
    /// Payments that look stuck.
    #[cfg_attr(feature = "openapi", schema(example = 0))]
    pub stuck_payments: u64,
    /// Completed sales per currency per day, the last 30 days (days without sales left out).
    pub volume: Vec<DailyVolume>,
    /// The last 30 days' funnel.
    pub funnel: Funnel,
}

/// An account, as the admins see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminUserResponse {
    /// Id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub id: Uuid,
    /// Username.
    #[cfg_attr(feature = "openapi", schema(example = "alice"))]
    pub username: String,
    /// E-mail address.
    #[cfg_attr(feature = "openapi", schema(example = "alice@example.com"))]
    pub email: String,
    /// Role.
    pub role: Role,
    /// Their wallet address.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://ilp.interledger-test.dev/alice")
    )]
    pub wallet_address: Option<String>,
    /// Signed up.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
    /// When suspended (`null`: not suspended).
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub suspended_at: Option<DateTime<Utc>>,
    /// Why.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Repeated spam in conversations.")
    )]
    pub suspended_reason: Option<String>,
    /// Whether they deleted the account.
    pub deleted: bool,
}

/// A page of accounts, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminUserPageResponse {
    /// This page.
    pub items: Vec<AdminUserResponse>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "MTc2NDg0MzMwMDAwMDAwMDAwMC42ZjFjMGIzZS05ZDNj")
    )]
    pub next_cursor: Option<String>,
}

/// A room, as the admins see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminRoomResponse {
    /// Its code (the public link is `/r/{code}`).
    #[cfg_attr(feature = "openapi", schema(example = "8E382G"))]
    pub code: String,
    /// Name.
    #[cfg_attr(feature = "openapi", schema(example = "Guitar lesson"))]
    pub name: String,
    /// The seller's username.
    #[cfg_attr(feature = "openapi", schema(example = "alice"))]
    pub seller: String,
    /// The seller's id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub seller_id: Uuid,
    /// `open`, `paused` or `closed`.
    pub status: crate::RoomStatus,
    /// Price.
    pub price: AmountDto,
    /// When an admin withdrew it (`null`: public).
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub hidden_at: Option<DateTime<Utc>>,
    /// Why.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Sells something the platform does not allow.")
    )]
    pub hidden_reason: Option<String>,
    /// Whether its seller is suspended (which withdraws it too).
    pub seller_suspended: bool,
    /// Created.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
}

/// A page of rooms, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminRoomPageResponse {
    /// This page.
    pub items: Vec<AdminRoomResponse>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "MTc2NDg0MzMwMDAwMDAwMDAwMC42ZjFjMGIzZS05ZDNj")
    )]
    pub next_cursor: Option<String>,
}

/// A transaction in the admins' lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminTransactionResponse {
    /// Id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub id: Uuid,
    /// Its room's code.
    #[cfg_attr(feature = "openapi", schema(example = "8E382G"))]
    pub room_code: String,
    /// Its room's name.
    #[cfg_attr(feature = "openapi", schema(example = "Guitar lesson"))]
    pub room_name: String,
    /// The buyer's username (`null`: a guest's purchase).
    #[cfg_attr(feature = "openapi", schema(example = "bruno"))]
    pub buyer: Option<String>,
    /// The seller's username.
    #[cfg_attr(feature = "openapi", schema(example = "alice"))]
    pub seller: String,
    /// Where it stands.
    pub status: TransactionStatus,
    /// The price.
    pub amount: AmountDto,
    /// Why it did not complete.
    #[cfg_attr(feature = "openapi", schema(example = "declined"))]
    pub failure_code: Option<String>,
    /// Started.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
    /// Last changed.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub updated_at: DateTime<Utc>,
}

/// A page of transactions, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminTransactionPageResponse {
    /// This page.
    pub items: Vec<AdminTransactionResponse>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "MTc2NDg0MzMwMDAwMDAwMDAwMC42ZjFjMGIzZS05ZDNj")
    )]
    pub next_cursor: Option<String>,
}

/// One status change in a transaction's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChange {
    /// From (`null` for the first).
    pub from: Option<TransactionStatus>,
    /// To.
    pub to: TransactionStatus,
    /// What happened.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "The buyer approved at their wallet.")
    )]
    pub detail: Option<String>,
    /// When.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub at: DateTime<Utc>,
}

/// `GET /api/admin/transactions/{id}`: the whole record (never its secrets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminTransactionDetailResponse {
    /// What the lists show.
    pub summary: AdminTransactionResponse,
    /// The paying wallet.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://ilp.interledger-test.dev/bruno")
    )]
    pub buyer_wallet_address: String,
    /// The receiving wallet.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://ilp.interledger-test.dev/alice")
    )]
    pub seller_wallet_address: String,
    /// The incoming payment on the seller's wallet.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "https://ilp.interledger-test.dev/incoming-payments/5b8c2f1a-7d3e-4a6b-9c0d-1e2f3a4b5c6d"
        )
    )]
    pub incoming_payment_url: Option<String>,
    /// The quote on the buyer's wallet.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "https://ilp.interledger-test.dev/quotes/9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4"
        )
    )]
    pub quote_url: Option<String>,
    /// The outgoing payment on the buyer's wallet.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "https://ilp.interledger-test.dev/outgoing-payments/0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5"
        )
    )]
    pub outgoing_payment_url: Option<String>,
    /// What the quote debits from the buyer.
    pub debit: Option<AmountDto>,
    /// What the seller's wallet last reported as received (our record).
    pub received: Option<AmountDto>,
    /// Why it did not complete, for people.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "The buyer declined at their wallet.")
    )]
    pub failure_detail: Option<String>,
    /// The one-click budget that paid it.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub budget_id: Option<Uuid>,
    /// When the buyer approved.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub approved_at: Option<DateTime<Utc>>,
    /// When the seller had the price.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub completed_at: Option<DateTime<Utc>>,
    /// Verification checks so far.
    #[cfg_attr(feature = "openapi", schema(example = 2))]
    pub attempts: i32,
    /// When the worker looks next.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub next_check_at: Option<DateTime<Utc>>,
    /// Until when a worker holds it.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub lease_until: Option<DateTime<Utc>>,
    /// Every status change, oldest first.
    pub history: Vec<StatusChange>,
}

/// What a wallet provider says about one payment resource, read live.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderReading {
    /// The resource.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "https://ilp.interledger-test.dev/incoming-payments/5b8c2f1a-7d3e-4a6b-9c0d-1e2f3a4b5c6d"
        )
    )]
    pub url: String,
    /// Whether it could be read; when not, `problem` says why and the amounts are `null`.
    pub read: bool,
    /// Why it could not be read.
    #[cfg_attr(feature = "openapi", schema(example = "The provider answered 503."))]
    pub problem: Option<String>,
    /// Received so far (incoming payment) or sent so far (outgoing payment).
    pub amount: Option<AmountDto>,
    /// The incoming payment's expected amount, or the outgoing payment's debit amount.
    pub expected: Option<AmountDto>,
    /// `completed`, `pending`, `failed` (outgoing) or `open` (incoming).
    #[cfg_attr(feature = "openapi", schema(example = "COMPLETED"))]
    pub state: Option<String>,
}

/// One point where our record and a provider disagree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Disagreement {
    /// `amount_received`, `incoming_state`, `outgoing_state` or `amount_sent`.
    #[cfg_attr(feature = "openapi", schema(example = "amount_received"))]
    pub field: String,
    /// What our record says.
    #[cfg_attr(feature = "openapi", schema(example = "25.00 USD"))]
    pub ours: String,
    /// What the provider says.
    #[cfg_attr(feature = "openapi", schema(example = "10.00 USD"))]
    pub theirs: String,
}

/// `POST /api/admin/transactions/{id}/provider-check`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderCheckResponse {
    /// Our record at the time of the check.
    pub record: AdminTransactionDetailResponse,
    /// The seller's incoming payment, live (`null`: the payment never made one).
    pub incoming: Option<ProviderReading>,
    /// The buyer's outgoing payment, live (`null`: none was made).
    pub outgoing: Option<ProviderReading>,
    /// Every disagreement found; empty when both agree with our record.
    pub disagreements: Vec<Disagreement>,
    /// When the providers were read.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub checked_at: DateTime<Utc>,
}

/// Why a payment is listed as stuck.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StuckPaymentResponse {
    /// The payment.
    pub transaction: AdminTransactionResponse,
    /// `sending_too_long` (sending past the verification timeout) or `approval_lease_over`
    /// (approved, and its lease ran out without it moving on).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Sending for 45 minutes, past the verification timeout.")
    )]
    pub why: String,
    /// Since when it has been like this.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub since: DateTime<Utc>,
}

/// `GET /api/admin/stuck-payments`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StuckPaymentsResponse {
    /// Oldest first (at most 200).
    pub items: Vec<StuckPaymentResponse>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for action in AuditAction::all() {
            assert_eq!(action.as_str().parse::<AuditAction>(), Ok(action));
            assert_eq!(
                serde_json::to_value(action).ok(),
                Some(serde_json::Value::from(action.as_str()))
            );
        }
        assert_eq!("nobody".parse::<Role>(), Err(()));
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
    }

    #[test]
    fn reasons_are_trimmed_and_bounded() {
        assert_eq!(
            checked_text("  spam  ", 10, true).ok().as_deref(),
            Some("spam")
        );
        assert_eq!(
            checked_text("  ", 10, true).map_err(|e| e.code),
            Err(FieldCode::Required)
        );
        assert_eq!(checked_text("", 10, false).ok().as_deref(), Some(""));
        assert_eq!(
            checked_text(&"x".repeat(11), 10, true).map_err(|e| e.code),
            Err(FieldCode::TooLong)
        );
        assert_eq!(
            checked_text("a\u{7}b", 10, true).map_err(|e| e.code),
            Err(FieldCode::ControlCharacters)
        );
    }
}
