//! The JSON error body every API error uses:
//! `{"error": {"code", "message", "fields"?, "field_codes"?}}`. Codes are stable and meant for
//! programs (the web app shows its own words for each, in the reader's language); messages are
//! English sentences for people reading the raw API.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What is wrong with one request field, as a stable code (`field_codes` in an error body).
/// Clients show their own words for each; `fields` says the same in English.
// The web app has a text for every code (a unit test there goes through `FieldCode::iter()`):
// adding one here means adding its text to the catalogues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::EnumIter)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldCode {
    /// Missing or empty.
    Required,
    /// Not valid for this field (a wrong JSON type, a malformed value …).
    Invalid,
    /// Not a field this request has.
    UnknownField,
    /// A number outside the allowed range (`limit`, `offset`).
    OutOfRange,
    /// A username of the wrong length (3–32).
    UsernameLength,
    /// A username with a character outside letters, digits, `_` and `-`.
    UsernameCharacters,
    /// The username belongs to someone else.
    UsernameTaken,
    /// An e-mail address longer than 254 characters.
    EmailTooLong,
    /// Not an e-mail address.
    EmailInvalid,
    /// The e-mail address has an account already.
    EmailTaken,
    /// A password shorter than 10 characters.
    PasswordTooShort,
    /// A password longer than 128 characters.
    PasswordTooLong,
    /// One of the most common passwords.
    PasswordTooCommon,
    /// A text longer than its field allows.
    TooLong,
    /// A control character in a text.
    ControlCharacters,
    /// Not a plain decimal number.
    AmountSyntax,
    /// More decimal places than the currency has.
    AmountTooPrecise,
    /// Zero or negative.
    AmountZero,
    /// Too large.
    AmountTooLarge,
    /// Not an asset code.
    AssetCodeInvalid,
    /// Not an asset scale.
    AssetScaleInvalid,
    /// Not a room code.
    RoomCodeInvalid,
    /// Neither a payment pointer nor an https URL.
    WalletScheme,
    /// A wallet address with a user name or password in it.
    WalletUserInfo,
    /// A wallet address with a port.
    WalletPort,
    /// A wallet address with a query.
    WalletQuery,
    /// A wallet address with a fragment.
    WalletFragment,
    /// A wallet address without a valid host.
    WalletHost,
    /// A wallet address the outbound policy refuses (a private address …).
    WalletNotAllowed,
    /// The wallet provider does not know the address (404).
    WalletNotFound,
    /// The wallet provider answered with an error.
    WalletProviderError,
    /// The wallet provider could not be reached.
    WalletUnreachable,
    /// The wallet provider did not answer in time.
    WalletTimeout,
    /// The address does not lead to an Open Payments wallet address document.
    NotAWallet,
    /// The wallet's asset cannot be priced in (a bad code or scale).
    WalletAssetUnsupported,
    /// The buyer's wallet is the seller's own.
    OwnWallet,
    /// A room's stock limit outside 1–1,000,000.
    StockLimitRange,
    /// Every unit of the room is sold or held by a payment in progress.
    SoldOut,
    /// An upload that is not a JPEG, PNG or WebP picture (by its bytes).
    ImageType,
    /// A picture that does not decode (damaged or incomplete).
    ImageUnreadable,
    /// A picture with more pixels than we take (40 megapixels; also what a decompression bomb
    /// claims).
    ImageTooManyPixels,
    /// The room already has its four pictures.
    TooManyImages,
    /// A rating that is not a whole number of stars from 1 to 5.
    RatingRange,
    /// Only a completed purchase can be reviewed.
    NotCompleted,
    /// The 60 days to review a purchase are over.
    ReviewWindowClosed,
    /// The purchase has its review already (one each, also after deleting it).
    AlreadyReviewed,
    /// The review can no longer be changed (the seller replied, or 14 days passed).
    EditWindowClosed,
    /// The wallet's provider does not offer ownership proofs.
    ProofUnsupported,
    /// Not the account's current password.
    PasswordWrong,
    /// A mailed link that is unknown, expired or already used.
    LinkInvalid,
    /// The new e-mail address is the one the account has.
    EmailSame,
    /// A payment of the account is still moving money.
    PaymentInProgress,
    /// A webhook URL the outbound policy refuses (not `https`, or a private address).
    UrlNotAllowed,
}

/// An error of a `shared` parser that has a [`FieldCode`].
pub trait Coded: fmt::Display {
    /// The code.
    fn code(&self) -> FieldCode;
}

/// One field's problem: its code and an English sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The stable code.
    pub code: FieldCode,
    /// What is wrong, for people reading the raw API ("is required").
    pub message: String,
}

impl FieldError {
    /// A problem with its sentence.
    #[must_use]
    pub fn new(code: FieldCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl<E: Coded> From<E> for FieldError {
    fn from(err: E) -> Self {
        Self::new(err.code(), err.to_string())
    }
}

/// Problems with individual request fields: field name → what is wrong with it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, FieldError>);

impl FieldErrors {
    /// No problems.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// One field's problem.
    #[must_use]
    pub fn one(field: impl Into<String>, error: impl Into<FieldError>) -> Self {
        let mut errors = Self::new();
        errors.insert(field, error);
        errors
    }

    /// Records `field`'s problem (the last one recorded wins).
    pub fn insert(&mut self, field: impl Into<String>, error: impl Into<FieldError>) {
        self.0.insert(field.into(), error.into());
    }

    /// `field`'s problem.
    #[must_use]
    pub fn get(&self, field: &str) -> Option<&FieldError> {
        self.0.get(field)
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The field names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.keys()
    }

    /// Field names and their problems, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &FieldError)> {
        self.0.iter()
    }

    /// The sentences by field, as `fields` in the error body.
    #[must_use]
    pub fn messages(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .map(|(name, e)| (name.clone(), e.message.clone()))
            .collect()
    }

    /// The codes by field, as `field_codes` in the error body.
    #[must_use]
    pub fn codes(&self) -> BTreeMap<String, FieldCode> {
        self.0
            .iter()
            .map(|(name, e)| (name.clone(), e.code))
            .collect()
    }
}

impl IntoIterator for FieldErrors {
    type Item = (String, FieldError);
    type IntoIter = std::collections::btree_map::IntoIter<String, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<K: Into<String>, E: Into<FieldError>> FromIterator<(K, E)> for FieldErrors {
    fn from_iter<I: IntoIterator<Item = (K, E)>>(iter: I) -> Self {
        let mut errors = Self::new();
        for (field, error) in iter {
            errors.insert(field, error);
        }
        errors
    }
}

/// Machine-readable error codes: stable, for programs to act on and clients to put in words.
// The web app has a text for every code (a unit test goes through `ErrorCode::iter()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::EnumIter)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request could not be read (malformed JSON, missing body …).
    BadRequest,
    /// 401: missing, invalid or expired credentials.
    Unauthorized,
    /// 403: authenticated but not allowed.
    Forbidden,
    /// 404: no such resource.
    NotFound,
    /// 405: the path exists but not with this method.
    MethodNotAllowed,
    /// 409: conflicts with existing data (a taken username …).
    Conflict,
    /// 410: it existed, and was withdrawn (a room an admin hid, or its seller's account
    /// suspended).
    Gone,
    /// 413: the request body is too large.
    PayloadTooLarge,
    /// 415: the request body is not JSON.
    UnsupportedMediaType,
    /// 422: some fields are invalid; see `fields`.
    ValidationFailed,
    /// 429: too many requests; see `Retry-After`.
    TooManyRequests,
    /// 502: a wallet provider failed.
    UpstreamError,
    /// 503: not ready (database unreachable).
    Unavailable,
    /// 500: our fault; details are in the server log.
    InternalError,
}

/// The `error` object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Machine-readable code.
    pub code: ErrorCode,
    /// A sentence for people.
    pub message: String,
    /// Per-field problems, for validation errors and conflicts: field name → sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
    /// The same problems as stable codes: field name → code. Programs (and translations) use
    /// these; `fields` says the same in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_codes: Option<BTreeMap<String, FieldCode>>,
}

impl ErrorDetail {
    /// The field problems with their codes. A field whose code is missing (an older server)
    /// counts as [`FieldCode::Invalid`].
    #[must_use]
    pub fn field_errors(&self) -> FieldErrors {
        let codes = self.field_codes.clone().unwrap_or_default();
        self.fields
            .iter()
            .flatten()
            .map(|(name, message)| {
                let code = codes.get(name).copied().unwrap_or(FieldCode::Invalid);
                (name.clone(), FieldError::new(code, message.clone()))
            })
            .collect()
    }
}

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

impl ErrorBody {
    /// An error without field details.
    #[must_use]
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
                fields: None,
                field_codes: None,
            },
        }
    }

    /// An error with field details.
    #[must_use]
    pub fn with_fields(code: ErrorCode, message: impl Into<String>, fields: FieldErrors) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
                fields: Some(fields.messages()),
                field_codes: Some(fields.codes()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_the_documented_shape() {
        let body = ErrorBody::with_fields(
            ErrorCode::ValidationFailed,
            "Some fields are invalid.",
            FieldErrors::one(
                "email",
                FieldError::new(FieldCode::EmailInvalid, "is not a valid e-mail address"),
            ),
        );
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {"code": "validation_failed", "message": "Some fields are invalid.",
                "fields": {"email": "is not a valid e-mail address"},
                "field_codes": {"email": "email_invalid"}}})
        );
        let read: ErrorBody = serde_json::from_value(json).unwrap();
        assert_eq!(
            read.error.field_errors().get("email").map(|e| e.code),
            Some(FieldCode::EmailInvalid)
        );
        let plain =
            serde_json::to_value(ErrorBody::new(ErrorCode::NotFound, "No such room.")).unwrap();
        assert!(plain["error"].get("fields").is_none());
    }
}
