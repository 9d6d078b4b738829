//! Open Payments resources and GNAP messages. Decoding is tolerant (OPEN-PAYMENTS.md §8):
//! unknown fields are ignored, optional fields are optional, and the field names of older spec
//! eras are accepted. Encoding produces exactly the current shapes.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// An amount: minor units with the asset (`{"value":"2500","assetCode":"USD","assetScale":2}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Amount {
    /// Minor units (sent as a decimal string).
    #[serde(
        serialize_with = "u64_as_string",
        deserialize_with = "u64_from_string_or_number"
    )]
    pub value: u64,
    /// Asset code.
    pub asset_code: String,
    /// Decimal places of the minor unit.
    pub asset_scale: u8,
}

impl Amount {
    /// Whether two amounts are in the same asset.
    #[must_use]
    pub fn same_asset(&self, other: &Self) -> bool {
        self.asset_code == other.asset_code && self.asset_scale == other.asset_scale
    }
}

fn u64_as_string<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&value.to_string())
}

fn u64_from_string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(u64),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Number(n) => Ok(n),
        Raw::Text(s) => s.parse().map_err(|_| {
            serde::de::Error::custom(format!("amount value {s:?} is not an unsigned integer"))
        }),
    }
}

/// A wallet address document (`GET {wallet address}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletAddress {
    /// The canonical wallet address URL; use it verbatim everywhere afterwards.
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_name: Option<String>,
    /// Asset code of the account.
    pub asset_code: String,
    /// Asset scale of the account.
    pub asset_scale: u8,
    /// Where to request grants (verbatim, with any tenant path).
    pub auth_server: String,
    /// Base URL of the resource server.
    pub resource_server: String,
}

impl WalletAddress {
    /// `{resourceServer}/{path}` without a doubled slash.
    #[must_use]
    pub fn resource_url(&self, path: &str) -> String {
        format!("{}/{path}", self.resource_server.trim_end_matches('/'))
    }
}

/// Actions a grant can allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessAction {
    /// Create resources.
    Create,
    /// Read own resources.
    Read,
    /// Read all resources of the wallet address.
    ReadAll,
    /// List own resources.
    List,
    /// List all resources.
    ListAll,
    /// Complete incoming payments.
    Complete,
}

/// Limits of an outgoing-payment grant (at most one of the two amounts).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// The only incoming payment the grant may pay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    /// The most the grant may debit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debit_amount: Option<Amount>,
    /// The most the grant may deliver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive_amount: Option<Amount>,
    /// ISO-8601 repeating interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
}

/// One requested access right.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum AccessItem {
    /// Incoming payments (non-interactive on Rafiki).
    IncomingPayment {
        /// Allowed actions.
        actions: Vec<AccessAction>,
        /// Narrow to one wallet address.
        #[serde(skip_serializing_if = "Option::is_none")]
        identifier: Option<String>,
    },
    /// Quotes (non-interactive; no identifier in the schema).
    Quote {
        /// Allowed actions.
        actions: Vec<AccessAction>,
    },
    /// Outgoing payments (interactive; identifier required).
    OutgoingPayment {
        /// Allowed actions.
        actions: Vec<AccessAction>,
        /// The paying wallet address.
        identifier: String,
        /// Amount and receiver limits.
        #[serde(skip_serializing_if = "Option::is_none")]
        limits: Option<Limits>,
    },
}

/// A grant request body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GrantRequest {
    /// What to grant; may be left out of a `subject` grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<AccessTokenRequest>,
    /// Our wallet address `id`, as a plain string (§0.6).
    pub client: String,
    /// Whose identity to prove (spec 1.1.0 `subject` grants).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// Interaction, for interactive grants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interact: Option<InteractRequest>,
}

/// `subject` of a grant request or of its continuation: the identifiers to prove (Open
/// Payments allows one, a wallet address).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The identifiers.
    pub sub_ids: Vec<SubjectId>,
}

impl Subject {
    /// A wallet address, as a `uri` subject identifier.
    #[must_use]
    pub fn wallet(address: impl Into<String>) -> Self {
        Self {
            sub_ids: vec![SubjectId {
                id: address.into(),
                format: "uri".into(),
            }],
        }
    }

    /// Whether the subject names exactly `address`, as a `uri`.
    #[must_use]
    pub fn is_wallet(&self, address: &str) -> bool {
        matches!(self.sub_ids.as_slice(), [one] if one.format == "uri" && one.id == address)
    }
}

/// One subject identifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectId {
    /// The identifier (a wallet address URL).
    pub id: String,
    /// Its format: `uri`.
    pub format: String,
}

/// `access_token` of a grant request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessTokenRequest {
    /// Requested rights.
    pub access: Vec<AccessItem>,
}

/// `interact` of a grant request: redirect start, redirect finish.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InteractRequest {
    /// `["redirect"]`.
    pub start: Vec<String>,
    /// Where and how the wallet sends the user back.
    pub finish: InteractFinish,
}

/// `interact.finish` of a grant request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InteractFinish {
    /// `redirect`.
    pub method: String,
    /// Our finish URL.
    pub uri: String,
    /// Our client nonce.
    pub nonce: String,
}

impl InteractRequest {
    /// Redirect start and redirect finish to `uri` with `nonce`.
    #[must_use]
    pub fn redirect(uri: impl Into<String>, nonce: impl Into<String>) -> Self {
        Self {
            start: vec!["redirect".into()],
            finish: InteractFinish {
                method: "redirect".into(),
                uri: uri.into(),
                nonce: nonce.into(),
            },
        }
    }
}

/// A grant response (request, continuation or rotation). Which fields are present tells what
/// happened; see [`GrantResponse::outcome`].
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct GrantResponse {
    /// The access token, when granted.
    #[serde(default)]
    pub access_token: Option<AccessToken>,
    /// Interaction to start, when pending.
    #[serde(default)]
    pub interact: Option<InteractResponse>,
    /// How to continue the grant.
    #[serde(default, rename = "continue")]
    pub continuation: Option<Continuation>,
    /// The proven subject, when a `subject` grant is finalized.
    #[serde(default)]
    pub subject: Option<Subject>,
}

/// What a grant response means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantOutcome<'a> {
    /// Access granted.
    Granted(&'a AccessToken),
    /// The user must interact first.
    Pending(&'a InteractResponse, &'a Continuation),
    /// A `subject` grant was finalized: the auth server vouches for the subject.
    Subject(&'a Subject),
    /// A shape this client does not use (a `card` flow …).
    Unsupported,
}

impl GrantResponse {
    /// Classifies the response.
    #[must_use]
    pub fn outcome(&self) -> GrantOutcome<'_> {
        match (
            &self.access_token,
            &self.interact,
            &self.continuation,
            &self.subject,
        ) {
            (Some(token), _, _, _) => GrantOutcome::Granted(token),
            (None, Some(interact), Some(continuation), _) => {
                GrantOutcome::Pending(interact, continuation)
            }
            (None, None, _, Some(subject)) => GrantOutcome::Subject(subject),
            _ => GrantOutcome::Unsupported,
        }
    }
}

/// An access token.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct AccessToken {
    /// The token, sent as `Authorization: GNAP <value>`.
    pub value: String,
    /// Rotation and revocation URL.
    pub manage: String,
    /// Lifetime in seconds, if limited.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// The granted rights, as the server describes them.
    #[serde(default)]
    pub access: Vec<Value>,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"***")
            .field("manage", &self.manage)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// `interact` of a pending grant.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct InteractResponse {
    /// Where to send the user's browser.
    pub redirect: String,
    /// The server's finish nonce (for the finish hash).
    pub finish: String,
}

/// `continue` of a grant response.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Continuation {
    /// The continuation token.
    pub access_token: ContinuationToken,
    /// Where to continue (POST) or cancel (DELETE).
    pub uri: String,
    /// Seconds to wait before continuing.
    #[serde(default)]
    pub wait: Option<u64>,
}

impl Continuation {
    /// A continuation as stored from an earlier grant answer.
    #[must_use]
    pub fn new(uri: impl Into<String>, token: impl Into<String>, wait: Option<u64>) -> Self {
        Self {
            access_token: ContinuationToken {
                value: token.into(),
            },
            uri: uri.into(),
            wait,
        }
    }
}

impl fmt::Debug for Continuation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Continuation")
            .field("uri", &self.uri)
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

/// The continuation token.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct ContinuationToken {
    /// The token.
    pub value: String,
}

impl fmt::Debug for ContinuationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContinuationToken(***)")
    }
}

/// `POST {continue.uri}` body after the finish redirect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContinueRequest {
    /// The `interact_ref` from the finish redirect.
    pub interact_ref: String,
}

/// An incoming payment.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncomingPayment {
    /// Its URL; persist it (creation is not idempotent).
    pub id: String,
    /// The receiving wallet address.
    #[serde(alias = "paymentPointer")]
    pub wallet_address: String,
    /// The amount it expects, if limited.
    #[serde(default)]
    pub incoming_amount: Option<Amount>,
    /// What it has received so far.
    pub received_amount: Amount,
    /// Whether it is completed.
    #[serde(default)]
    pub completed: bool,
    /// When it stops accepting money.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: Option<Value>,
    /// Payment methods (ILP details), on create and authenticated get.
    #[serde(default)]
    pub methods: Vec<Value>,
}

impl IncomingPayment {
    /// Whether the full expected amount has arrived.
    #[must_use]
    pub fn is_fully_paid(&self) -> bool {
        self.completed
            || self.incoming_amount.as_ref().is_some_and(|expected| {
                expected.same_asset(&self.received_amount)
                    && self.received_amount.value >= expected.value
            })
    }
}

/// The unauthenticated view of an incoming payment.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicIncomingPayment {
    /// What it has received, if shown.
    #[serde(default)]
    pub received_amount: Option<Amount>,
    /// The auth server of its wallet.
    #[serde(default)]
    pub auth_server: Option<String>,
}

/// Body of `POST /incoming-payments`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateIncomingPayment {
    /// The receiving wallet address `id`.
    pub wallet_address: String,
    /// The amount to receive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incoming_amount: Option<Amount>,
    /// When to stop accepting money (RFC 3339, UTC).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "rfc3339_millis"
    )]
    pub expires_at: Option<DateTime<Utc>>,
    /// Metadata (strings only: servers re-serialise it before checking the digest, §0.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

fn rfc3339_millis<S: Serializer>(
    value: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(at) => {
            serializer.serialize_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        }
        None => serializer.serialize_none(),
    }
}

/// A quote.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// Its URL.
    pub id: String,
    /// The paying wallet address.
    #[serde(alias = "paymentPointer")]
    pub wallet_address: String,
    /// The incoming payment it pays.
    pub receiver: String,
    /// What the sender pays, fees included.
    pub debit_amount: Amount,
    /// What the receiver gets.
    pub receive_amount: Amount,
    /// Payment method (`ilp`).
    #[serde(default)]
    pub method: Option<String>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// When it stops being usable.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Body of `POST /quotes` (no amounts: the quote delivers what the incoming payment still
/// expects).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateQuote {
    /// The paying wallet address `id`.
    pub wallet_address: String,
    /// The incoming payment URL.
    pub receiver: String,
    /// `ilp`.
    pub method: String,
    /// A fixed debit (the payer's asset); without it the receiver's amount decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debit_amount: Option<Amount>,
}

/// What an outgoing-payment grant has spent (`GET {resourceServer}/outgoing-payment-grant`):
/// in the current interval when the grant has one, over its life otherwise; `None` before the
/// first payment, or outside the grant's intervals.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantSpentAmounts {
    /// Debited from the payer's wallet.
    pub spent_debit_amount: Option<Amount>,
    /// Delivered to the receivers.
    pub spent_receive_amount: Option<Amount>,
}

/// An outgoing payment.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutgoingPayment {
    /// Its URL.
    pub id: String,
    /// The paying wallet address.
    #[serde(alias = "paymentPointer")]
    pub wallet_address: String,
    /// The quote it was created from.
    #[serde(default)]
    pub quote_id: Option<String>,
    /// Whether it failed or was cancelled (there is no "completed" flag).
    #[serde(default)]
    pub failed: bool,
    /// The incoming payment it pays.
    pub receiver: String,
    /// What the sender pays.
    pub debit_amount: Amount,
    /// What the receiver should get.
    pub receive_amount: Amount,
    /// What has been sent so far (sender's asset).
    pub sent_amount: Amount,
    /// Metadata.
    #[serde(default)]
    pub metadata: Option<Value>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// What the grant has spent (newer servers, on create).
    #[serde(default)]
    pub grant_spent_debit_amount: Option<Amount>,
    /// What the grant has delivered (newer servers, on create).
    #[serde(default)]
    pub grant_spent_receive_amount: Option<Amount>,
}

/// Body of `POST /outgoing-payments`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOutgoingPayment {
    /// The paying wallet address `id`.
    pub wallet_address: String,
    /// The quote URL.
    pub quote_id: String,
    /// Metadata (strings only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Page<T> {
    /// Cursors.
    pub pagination: PageInfo,
    /// The items.
    pub result: Vec<T>,
}

/// Pagination of a list page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    /// First item's cursor.
    #[serde(default)]
    pub start_cursor: Option<String>,
    /// Last item's cursor (pass as `cursor` for the next page).
    #[serde(default)]
    pub end_cursor: Option<String>,
    /// Whether a next page exists.
    #[serde(default)]
    pub has_next_page: bool,
    /// Whether a previous page exists.
    #[serde(default)]
    pub has_previous_page: bool,
}

/// An error body from an auth server (`code` is a GNAP code) or a resource server (`code` is
/// the status as a string). Every field is optional: validation errors omit `code`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ErrorResponse {
    /// The error.
    #[serde(default)]
    pub error: ErrorInfo,
}

/// The `error` object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ErrorInfo {
    /// GNAP code (`too_fast`, `invalid_client` …) or HTTP status as a string.
    #[serde(default, deserialize_with = "string_or_number")]
    pub code: Option<String>,
    /// Human description.
    #[serde(default)]
    pub description: Option<String>,
    /// Extra details (newer resource servers).
    #[serde(default)]
    pub details: Option<Value>,
}

fn string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}
