//! Request and response bodies of the JSON API. Requests reject unknown fields, so a client can
//! never smuggle in a value the server did not ask for.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::{Language, MailPreferences};
use crate::error::{FieldCode, FieldError, FieldErrors};
use crate::money::{Amount, Asset, format_decimal};
use crate::review::{RatingSummary, ReviewResponse, WalletBadge};
use crate::room::{RoomDescription, RoomName, RoomStatus, StockLimit};
use crate::transaction::TransactionStatus;
use crate::user::{Email, Password, Username};

/// `POST /api/auth/signup`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// 3–32 letters, digits, `_` or `-`; unique regardless of case.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "alice",
            pattern = "^[A-Za-z0-9_-]{3,32}$",
            min_length = 3,
            max_length = 32
        )
    )]
    pub username: String,
    /// Unique e-mail address.
    #[cfg_attr(feature = "openapi", schema(example = "alice@example.com"))]
    pub email: String,
    /// 10–128 characters, not a common password.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "correct horse battery", format = Password, min_length = 10, max_length = 128)
    )]
    pub password: String,
    /// The language their mail is written in; default: from `Accept-Language`, else English.
    #[serde(default)]
    pub language: Option<Language>,
}

/// A sign-up request whose fields all passed validation.
#[derive(Clone, Debug)]
pub struct NewAccount {
    /// The username.
    pub username: Username,
    /// The e-mail address.
    pub email: Email,
    /// The password.
    pub password: Password,
    /// The language they asked for, if any.
    pub language: Option<Language>,
}

impl SignupRequest {
    /// Validates every field, reporting all problems at once.
    ///
    /// # Errors
    /// The problems, keyed by field name.
    pub fn parse(&self) -> Result<NewAccount, FieldErrors> {
        let mut errors = FieldErrors::new();
        let username = Username::parse(&self.username)
            .map_err(|e| errors.insert("username", e))
            .ok();
        let email = Email::parse(&self.email)
            .map_err(|e| errors.insert("email", e))
            .ok();
        let password = Password::parse(&self.password)
            .map_err(|e| errors.insert("password", e))
            .ok();
        match (username, email, password) {
            (Some(username), Some(email), Some(password)) => Ok(NewAccount {
                username,
                email,
                password,
                language: self.language,
            }),
            _ => Err(errors),
        }
    }
}

/// `POST /api/auth/login`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username (any case) or e-mail address.
    #[cfg_attr(feature = "openapi", schema(example = "alice"))]
    pub login: String,
    /// The password.
    #[cfg_attr(feature = "openapi", schema(example = "correct horse battery", format = Password))]
    pub password: String,
}

impl LoginRequest {
    /// Checks that both fields are present (the credentials themselves are checked by the server).
    ///
    /// # Errors
    /// The empty fields.
    pub fn check(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.login.trim().is_empty() {
            errors.insert("login", FieldError::new(FieldCode::Required, "is required"));
        }
        if self.password.is_empty() {
            errors.insert(
                "password",
                FieldError::new(FieldCode::Required, "is required"),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// A user's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A buyer and seller.
    User,
    /// An operator.
    Admin,
}

impl Role {
    /// The wire and database name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        [Self::User, Self::Admin]
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or(())
    }
}

/// The signed-in user's own profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserResponse {
    /// User id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub id: Uuid,
    /// Username as typed at sign-up.
    #[cfg_attr(feature = "openapi", schema(example = "alice"))]
    pub username: String,
    /// E-mail address, lower-cased.
    #[cfg_attr(feature = "openapi", schema(example = "alice@example.com"))]
    pub email: String,
    /// Canonical wallet address URL, once set.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://ilp.interledger-test.dev/alice")
    )]
    pub wallet_address: Option<String>,
    /// The wallet as its provider describes it, once set.
    pub wallet: Option<WalletResponse>,
    /// Role.
    pub role: Role,
    /// When the account was created.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
    /// The proof that the user controls their wallet, while that wallet is unchanged.
    #[serde(default)]
    pub wallet_badge: Option<WalletBadge>,
    /// Whether they confirmed their e-mail address (by a link sent to it); notices wait for it.
    #[serde(default)]
    pub email_verified: bool,
    /// The language their mail is written in.
    #[serde(default)]
    pub language: Language,
    /// The notices they want.
    #[serde(default)]
    pub mail: MailPreferences,
}

/// A successful sign-up, log-in or refresh. The refresh token travels in an HttpOnly cookie.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthResponse {
    /// The user.
    pub user: UserResponse,
    /// A JWT to send as `Authorization: Bearer …`.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI2ZjFjMGIzZSJ9.c2lnbmF0dXJl")
    )]
    pub access_token: String,
    /// Always `Bearer`.
    #[cfg_attr(feature = "openapi", schema(example = "Bearer"))]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[cfg_attr(feature = "openapi", schema(example = 900))]
    pub expires_in: u64,
}

/// An amount on the wire, as in Open Payments: minor units as a string, with the asset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AmountDto {
    /// Minor units, as a decimal string of digits.
    #[cfg_attr(feature = "openapi", schema(example = "1250"))]
    pub value: String,
    /// Asset code.
    #[cfg_attr(feature = "openapi", schema(example = "USD"))]
    pub asset_code: String,
    /// Decimal places of the minor unit.
    #[cfg_attr(feature = "openapi", schema(example = 2))]
    pub asset_scale: u8,
}

impl From<&Amount> for AmountDto {
    fn from(amount: &Amount) -> Self {
        Self {
            value: amount.value().to_string(),
            asset_code: amount.asset().code.to_string(),
            asset_scale: amount.asset().scale.get(),
        }
    }
}

impl AmountDto {
    /// The amount in major units for people, such as `12.50 USD`, or the raw value if the
    /// server sent something malformed.
    #[must_use]
    pub fn display(&self) -> String {
        match (
            self.value.parse::<u64>(),
            crate::money::AssetScale::new(self.asset_scale),
        ) {
            (Ok(v), Ok(scale)) => format!("{} {}", format_decimal(v, scale), self.asset_code),
            _ => format!("{} {}", self.value, self.asset_code),
        }
    }

    /// The effective rate of a quote that delivers `self` for `debit`, `1 USD = 0.9260 EUR`:
    /// what one major unit of `self` costs in `debit`, to four decimals, in integers; `None`
    /// when both are in the same currency or an amount is malformed.
    #[must_use]
    pub fn rate(&self, debit: &AmountDto) -> Option<String> {
        let receive = self;
        if receive.asset_code == debit.asset_code {
            return None;
        }
        let (paid, got) = (
            debit.value.parse::<u128>().ok()?,
            receive.value.parse::<u128>().ok()?,
        );
        // paid / 10^ds per got / 10^rs, times 10^4, rounded half up: twice that, plus one, halved.
        let numerator = paid
            .checked_mul(10u128.checked_pow(u32::from(receive.asset_scale))?)?
            .checked_mul(20_000)?;
        let denominator = got.checked_mul(10u128.checked_pow(u32::from(debit.asset_scale))?)?;
        if denominator == 0 {
            return None;
        }
        let scaled = (numerator / denominator).checked_add(1)? / 2;
        Some(format!(
            "1 {} = {}.{:04} {}",
            receive.asset_code,
            scaled / 10_000,
            scaled % 10_000,
            debit.asset_code
        ))
    }
}

/// A wallet address as its Open Payments provider describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletResponse {
    /// The canonical wallet address URL (the provider's `id`).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://ilp.interledger-test.dev/alice")
    )]
    pub address: String,
    /// The name the provider shows for it.
    #[cfg_attr(feature = "openapi", schema(example = "Alice Rivera"))]
    pub public_name: Option<String>,
    /// The account's currency.
    #[cfg_attr(feature = "openapi", schema(example = "USD"))]
    pub asset_code: String,
    /// Decimal places of the currency's minor unit.
    #[cfg_attr(feature = "openapi", schema(example = 2))]
    pub asset_scale: u8,
}

/// `PATCH /api/me`: set the wallet address payments go to and come from.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileRequest {
    /// A payment pointer (`$wallet.example/alice`) or an `https://` URL.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "$ilp.interledger-test.dev/alice")
    )]
    pub wallet_address: String,
}

/// `POST /api/rooms`. The price is in the currency of the seller's wallet.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateRoomRequest {
    /// 1–80 characters.
    #[cfg_attr(feature = "openapi", schema(example = "Guitar lesson, 1 hour"))]
    pub name: String,
    /// At most 2000 characters; may be empty.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Beginners welcome. Bring your own guitar.")
    )]
    pub description: String,
    /// A plain decimal in major units with at most the currency's decimal places (spaces around
    /// it are ignored).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "25.00", pattern = "^\\s*[0-9]+(\\.[0-9]+)?\\s*$")
    )]
    pub price: String,
    /// How many can be sold in all, 1–1,000,000; absent or `null`: no limit.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(example = 3, minimum = 1, maximum = 1_000_000)
    )]
    pub stock_limit: Option<u32>,
    /// What the buyer gets once their payment completes: a message, which may hold links, at
    /// most 2000 characters; only buyers of completed payments see it. Empty: nothing.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Your lesson link: https://meet.example/abc. See you Tuesday!")
    )]
    pub delivery: String,
}

/// A room request whose fields passed validation; the price is parsed at the wallet's asset.
#[derive(Clone, Debug)]
pub struct NewRoom {
    /// The name.
    pub name: RoomName,
    /// The description.
    pub description: RoomDescription,
    /// The price.
    pub price: Amount,
    /// How many can be sold in all.
    pub stock_limit: Option<StockLimit>,
    /// What the buyer gets (empty: nothing).
    pub delivery: RoomDescription,
}

impl CreateRoomRequest {
    /// Validates every field, parsing the price exactly at `asset`, reporting all problems.
    ///
    /// # Errors
    /// The problems, keyed by field name.
    pub fn parse(&self, asset: Asset) -> Result<NewRoom, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = RoomName::parse(&self.name)
            .map_err(|e| errors.insert("name", e))
            .ok();
        let description = RoomDescription::parse(&self.description)
            .map_err(|e| errors.insert("description", e))
            .ok();
        let price = Amount::parse_decimal(self.price.trim(), asset)
            .map_err(|e| errors.insert("price", e))
            .ok();
        let stock_limit = self
            .stock_limit
            .map(StockLimit::new)
            .transpose()
            .map_err(|e| errors.insert("stock_limit", e))
            .ok();
        let delivery = RoomDescription::parse(&self.delivery)
            .map_err(|e| errors.insert("delivery", e))
            .ok();
        match (name, description, price, stock_limit, delivery) {
            (Some(name), Some(description), Some(price), Some(stock_limit), Some(delivery)) => {
                Ok(NewRoom {
                    name,
                    description,
                    price,
                    stock_limit,
                    delivery,
                })
            }
            _ => Err(errors),
        }
    }
}

/// `PATCH /api/rooms/{code}`: what the owner may change. The price never changes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateRoomRequest {
    /// `open`, `paused` or `closed` (closing is final).
    #[serde(default)]
    pub status: Option<RoomStatus>,
    /// A new description.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "One hour, beginners welcome."))]
    pub description: Option<String>,
    /// A new delivery message for buyers of completed payments (empty: none).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Thank you! Write to me to choose the day of your lesson.")
    )]
    pub delivery: Option<String>,
    /// A new stock limit (1–1,000,000), or `null` for no limit; absent: unchanged.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<u32>, nullable, minimum = 1, maximum = 1_000_000, example = 20)
    )]
    pub stock_limit: Option<Option<u32>>,
}

/// A field that is present, even as `null` (absent fields take the default, `None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `POST /api/rooms/{code}/wallet`: move the room's payouts to the seller's current wallet.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MoveRoomRequest {
    /// The new price, a plain decimal in the new wallet's currency (nothing is converted).
    #[cfg_attr(feature = "openapi", schema(example = "3750"))]
    pub price: String,
}

/// Someone on a room or a transaction, as others see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartyResponse {
    /// Their username (empty for a guest).
    #[cfg_attr(feature = "openapi", schema(example = "alice"))]
    pub username: String,
    /// A guest: a buyer who paid without an account (and has not claimed the purchase).
    #[serde(default)]
    pub guest: bool,
}

/// One of a room's pictures (re-encoded by the server, without metadata).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomImage {
    /// Its id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub id: Uuid,
    /// The picture, at most 1600 pixels on its longest side.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "https://shifting.example/api/rooms/K7M2QX/images/0b9e4c1e-3f57-4a44-9a43-3c3c2b1f6d10"
        )
    )]
    pub url: String,
    /// Its thumbnail, at most 480 pixels on its longest side.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "https://shifting.example/api/rooms/8E382G/images/3c2b1a09-8f7e-4d6c-5b4a-39281706f5e4/thumbnail"
        )
    )]
    pub thumbnail_url: String,
    /// Width in pixels (of `url`).
    #[cfg_attr(feature = "openapi", schema(example = 800))]
    pub width: u32,
    /// Height in pixels (of `url`).
    #[cfg_attr(feature = "openapi", schema(example = 600))]
    pub height: u32,
}

/// A file a room delivers to its buyers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryFileResponse {
    /// Its name, as the buyer's download saves it.
    #[cfg_attr(feature = "openapi", schema(example = "lesson-notes.pdf"))]
    pub name: String,
    /// Its size in bytes.
    #[cfg_attr(feature = "openapi", schema(example = 184320))]
    pub size: u64,
    /// The media type the seller uploaded it with (downloads are always served as attachments).
    #[cfg_attr(feature = "openapi", schema(example = "application/pdf"))]
    pub content_type: String,
}

/// A room as anyone sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomResponse {
    /// The short code.
    #[cfg_attr(feature = "openapi", schema(example = "K7M2QX"))]
    pub code: String,
    /// The name.
    #[cfg_attr(feature = "openapi", schema(example = "Guitar lesson"))]
    pub name: String,
    /// The description.
    #[cfg_attr(feature = "openapi", schema(example = "One hour, beginners welcome."))]
    pub description: String,
    /// The fixed price in the seller's currency.
    pub price: AmountDto,
    /// The price for people, such as `25.00 USD`.
    #[cfg_attr(feature = "openapi", schema(example = "25.00 USD"))]
    pub price_display: String,
    /// The seller.
    pub seller: PartyResponse,
    /// The wallet address the money goes to.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://ilp.interledger-test.dev/alice")
    )]
    pub wallet_address: String,
    /// The name that wallet's provider shows for it (its owner), when it has one.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "Alice Anderson"))]
    pub wallet_name: Option<String>,
    /// Whether it can be paid.
    pub status: RoomStatus,
    /// How many can be sold in all; `null`: no limit.
    #[cfg_attr(feature = "openapi", schema(example = 20))]
    pub stock_limit: Option<u32>,
    /// How many can still be bought now: the limit less the units sold or held by payments in
    /// progress (a held unit comes back when its payment ends without money); `null`: no limit.
    #[cfg_attr(feature = "openapi", schema(example = 3))]
    pub stock_left: Option<u32>,
    /// The link to share.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://shifting.example/r/K7M2QX")
    )]
    pub share_url: String,
    /// Its pictures, in order (at most four).
    #[serde(default)]
    pub images: Vec<RoomImage>,
    /// The reviews of this room's purchases.
    #[serde(default)]
    pub rating: RatingSummary,
    /// The reviews of all the seller's rooms.
    #[serde(default)]
    pub seller_rating: RatingSummary,
    /// The seller's proof of controlling the wallet this room pays into; `null` when there is
    /// none or the room pays into another wallet.
    #[serde(default)]
    pub wallet_badge: Option<WalletBadge>,
    /// When it was created.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
}

/// One of the caller's own rooms, with its sales.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OwnRoomResponse {
    /// The room.
    #[serde(flatten)]
    pub room: RoomResponse,
    /// Completed payments.
    pub sales: u64,
    /// Payments a buyer has started and not yet sent: pausing or closing the room stops them
    /// (nothing is paid, the buyer is told why).
    pub payments_in_progress: u64,
    /// What buyers get once their payment completes (empty: nothing); the seller's eyes only.
    pub delivery: String,
    /// The file buyers download once their payment completes; the seller's eyes only.
    #[serde(default)]
    pub delivery_file: Option<DeliveryFileResponse>,
    /// Why the platform withdrew it from the public (an admin hid it, or the account is
    /// suspended); `null` while it is public.
    #[serde(default)]
    pub withdrawn: Option<String>,
}

/// `GET /api/rooms`: the caller's rooms, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomListResponse {
    /// This page of rooms, newest first.
    pub rooms: Vec<OwnRoomResponse>,
    /// Pass as `cursor` for the next page; `null` at the end.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "MTc2NDg0MzMwMDAwMDAwMDAwMC42ZjFjMGIzZS05ZDNj")
    )]
    pub next_cursor: Option<String>,
}

/// `POST /api/rooms/{code}/payments`. There is no amount: the price comes from the room.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartPaymentRequest {
    /// The wallet to pay from; default: the one in the buyer's profile.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "$ilp.interledger-test.dev/bob"))]
    pub wallet_address: Option<String>,
    /// Pay under this one-click budget of the buyer's (its wallet pays): the answer then has no
    /// `redirect_url`, and `POST /api/payments/{id}/confirm` sends the payment. A budget that
    /// cannot pay it (over what is left, revoked …) falls back to the wallet's approval, saying
    /// why in `one_click_refused`.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "0b7d6a52-3f1e-4d8a-9c2b-5e4f3a2b1c0d")
    )]
    pub budget_id: Option<Uuid>,
}

/// `POST /api/rooms/{code}/guest-payments`: paying without an account.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GuestPaymentRequest {
    /// The wallet to pay from.
    #[cfg_attr(feature = "openapi", schema(example = "$ilp.interledger-test.dev/bob"))]
    pub wallet_address: String,
    /// Where the receipt may be sent (optional; kept with the purchase only).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "bob@example.com"))]
    pub email: Option<String>,
}

/// `POST /api/me/purchases`: moves a guest purchase into the caller's account.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClaimPurchaseRequest {
    /// The guest purchase.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub transaction_id: Uuid,
    /// Its key, from the receipt link (`#key=…`).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Xk2p9Qm4Lr7Tz1Wv8Yb3Nc6Hd0Js5Fa2Ge9Ku4Pw7Ro")
    )]
    pub key: String,
}

/// What the buyer's wallet quoted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuoteResponse {
    /// What the buyer pays, in the buyer's currency, fees included.
    pub debit_amount: AmountDto,
    /// What the seller receives (the price).
    pub receive_amount: AmountDto,
    /// Until when the quote can be paid.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why a payment did not complete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailureResponse {
    /// Machine-readable reason.
    #[cfg_attr(feature = "openapi", schema(example = "payment_failed"))]
    pub code: String,
    /// A sentence for people.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "The buyer declined at their wallet.")
    )]
    pub detail: String,
}

/// The Open Payments resources behind a transaction: evidence anyone can check with the
/// wallet providers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceResponse {
    /// The buyer's wallet address.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://ilp.interledger-test.dev/bruno")
    )]
    pub buyer_wallet_address: String,
    /// The seller's wallet address.
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
    pub incoming_payment: Option<String>,
    /// The quote on the buyer's wallet.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "https://ilp.interledger-test.dev/quotes/9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4"
        )
    )]
    pub quote: Option<String>,
    /// The outgoing payment on the buyer's wallet.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "https://ilp.interledger-test.dev/outgoing-payments/0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5"
        )
    )]
    pub outgoing_payment: Option<String>,
}

/// One step of a transaction's status history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    /// The status entered.
    pub status: TransactionStatus,
    /// When.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub at: DateTime<Utc>,
    /// What happened.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "The buyer approved at their wallet.")
    )]
    pub detail: Option<String>,
}

/// A payment for a room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransactionResponse {
    /// The id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6")
    )]
    pub id: Uuid,
    /// The room's code.
    #[cfg_attr(feature = "openapi", schema(example = "8E382G"))]
    pub room_code: String,
    /// The room's name.
    #[cfg_attr(feature = "openapi", schema(example = "Guitar lesson"))]
    pub room_name: String,
    /// Where the payment is.
    pub status: TransactionStatus,
    /// The buyer's wallet's consent page, to go back to: shown to the buyer only, while the
    /// payment awaits approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://auth.interledger-test.dev/interact/3f2e1d0c/4b5a6978")
    )]
    pub consent_url: Option<String>,
    /// The price, copied from the room.
    pub amount: AmountDto,
    /// The quote, once there is one.
    pub quote: Option<QuoteResponse>,
    /// What the seller's wallet reported as received.
    pub received_amount: Option<AmountDto>,
    /// Why it failed, was declined or expired.
    pub failure: Option<FailureResponse>,
    /// The buyer.
    pub buyer: PartyResponse,
    /// The seller.
    pub seller: PartyResponse,
    /// The Open Payments resources.
    pub evidence: EvidenceResponse,
    /// When it started.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub updated_at: DateTime<Utc>,
    /// When the seller had received the full price (completed payments only).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub completed_at: Option<DateTime<Utc>>,
    /// What the seller delivers with the room: to its buyer, once the payment completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Thank you! Write to me to choose the day of your lesson.")
    )]
    pub delivery: Option<String>,
    /// The file the seller delivers with the room, downloadable by its buyer once the payment
    /// completed (`GET /api/transactions/{id}/delivery-file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_file: Option<DeliveryFileResponse>,
    /// The receipt number of a completed payment: the seller's mark and the sale's number among
    /// theirs.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "SHF-7Q2-00042"))]
    pub receipt_number: Option<String>,
    /// The status history, oldest first (in the detail view).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
    /// Until when its buyer may review it: 60 days after completion (completed purchases of
    /// a signed-in buyer only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-04T10:15:00Z"))]
    pub review_until: Option<DateTime<Utc>>,
    /// Its review, with the seller's reply (in the detail view, once written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewResponse>,
    /// The latest refund of this sale, if the seller started one (single views only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<crate::refund::RefundResponse>,
    /// The buyer's request for a refund, if they asked (buyer and seller only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_request: Option<crate::refund::RefundRequestResponse>,
}

/// `POST /api/rooms/{code}/payments`: the transaction and where to send the buyer's browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartPaymentResponse {
    /// The transaction, awaiting approval.
    pub transaction: TransactionResponse,
    /// The buyer's wallet's consent page; open it as a top-level navigation. None for a
    /// purchase under a one-click budget (`one_click`): confirm it instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://auth.interledger-test.dev/interact/3f2e1d0c/4b5a6978")
    )]
    pub redirect_url: Option<String>,
    /// The quote to show before sending the buyer there.
    pub quote: QuoteResponse,
    /// Guest checkouts only: the key that opens this purchase (send it as `X-Guest-Key`; the
    /// receipt link carries it as `#key=…`). Shown once, never stored in the clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Xk2p9Qm4Lr7Tz1Wv8Yb3Nc6Hd0Js5Fa2Ge9Ku4Pw7Ro")
    )]
    pub guest_key: Option<String>,
    /// Guest checkouts only: the receipt link, with the key in its fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "https://shifting.example/transactions/6f1c0b3e-9d3c-4c1e-a3c0-b1f2d3e4a5b6#key=Xk2p9Qm4Lr7T"
        )
    )]
    pub receipt_url: Option<String>,
    /// Paid under a one-click budget: confirm with `POST /api/payments/{id}/confirm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_click: Option<crate::budget::OneClickOffer>,
    /// A budget was asked for but cannot pay this purchase: it awaits the wallet's approval
    /// (`redirect_url`) instead, for this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_click_refused: Option<crate::budget::OneClickRefusal>,
}

/// How many completed payments, and how much, in one currency over one period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotalResponse {
    /// Completed payments.
    #[cfg_attr(feature = "openapi", schema(example = 12))]
    pub count: u64,
    /// Their sum.
    pub amount: AmountDto,
}

/// One currency's totals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrencyTotalsResponse {
    /// Since the start of today in the caller's time zone (`utc_offset`).
    pub today: TotalResponse,
    /// The last 30 days (720 hours up to now).
    pub last_30_days: TotalResponse,
    /// Ever.
    pub all_time: TotalResponse,
}

/// `GET /api/transactions/summary`: completed payments per currency, counted from completion.
/// Only completed payments count; attempts never do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalesSummaryResponse {
    /// One entry per currency with at least one completed payment, ordered by asset code.
    pub currencies: Vec<CurrencyTotalsResponse>,
}

/// `GET /api/transactions`: a page of the caller's transactions, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransactionPageResponse {
    /// The transactions on this page.
    pub transactions: Vec<TransactionResponse>,
    /// How many there are in all.
    #[cfg_attr(feature = "openapi", schema(example = 57))]
    pub total: u64,
    /// The page size asked for.
    #[cfg_attr(feature = "openapi", schema(example = 20))]
    pub limit: u64,
    /// How many were skipped (0 when paging by `cursor`).
    #[cfg_attr(feature = "openapi", schema(example = 0))]
    pub offset: u64,
    /// Pass as `cursor` for the next page (stable under new transactions, unlike `offset`);
    /// `null` at the end.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "MTc2NDg0MzMwMDAwMDAwMDAwMC42ZjFjMGIzZS05ZDNj")
    )]
    pub next_cursor: Option<String>,
}

/// `GET /health` and `GET /ready`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthResponse {
    /// `ok`.
    #[cfg_attr(feature = "openapi", schema(example = "ok"))]
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signup_reports_every_bad_field_at_once() {
        let req = SignupRequest {
            username: "a".into(),
            email: "nope".into(),
            password: "short".into(),
            language: None,
        };
        let errors = req.parse().unwrap_err();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["email", "password", "username"]
        );
    }

    #[test]
    fn requests_reject_unknown_fields() {
        let err =
            serde_json::from_str::<LoginRequest>(r#"{"login":"a","password":"b","admin":true}"#)
                .unwrap_err();
        assert!(err.to_string().contains("unknown field `admin`"));
    }

    #[test]
    fn room_requests_parse_the_price_at_the_wallet_scale() {
        use crate::money::{AssetCode, AssetScale};
        let yen = Asset {
            code: AssetCode::parse("JPY").unwrap(),
            scale: AssetScale::new(0).unwrap(),
        };
        let request = CreateRoomRequest {
            name: "Tea".into(),
            description: String::new(),
            price: "1500".into(),
            stock_limit: Some(3),
            delivery: String::new(),
        };
        let room = request.parse(yen.clone()).unwrap();
        assert_eq!(room.price.value(), 1500);
        assert_eq!(room.stock_limit.map(StockLimit::get), Some(3));
        for limit in [0, StockLimit::MAX + 1] {
            let request = CreateRoomRequest {
                stock_limit: Some(limit),
                ..request.clone()
            };
            let errors = request.parse(yen.clone()).unwrap_err();
            assert_eq!(
                errors.get("stock_limit").map(|e| e.code),
                Some(FieldCode::StockLimitRange)
            );
        }
        let long_delivery = CreateRoomRequest {
            delivery: "x".repeat(2001),
            ..request.clone()
        };
        let errors = long_delivery.parse(yen.clone()).unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["delivery"]);
        let too_precise = CreateRoomRequest {
            price: "15.5".into(),
            name: " ".into(),
            ..request
        };
        let errors = too_precise.parse(yen).unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["name", "price"]);
    }

    #[test]
    fn a_payment_request_cannot_carry_an_amount() {
        let err =
            serde_json::from_str::<StartPaymentRequest>(r#"{"amount":{"value":"1"}}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `amount`"));
    }

    #[test]
    fn amounts_display_in_major_units() {
        let dto = AmountDto {
            value: "1250".into(),
            asset_code: "EUR".into(),
            asset_scale: 2,
        };
        assert_eq!(dto.display(), "12.50 EUR");
    }

    fn money(value: &str, code: &str, scale: u8) -> AmountDto {
        AmountDto {
            value: value.into(),
            asset_code: code.into(),
            asset_scale: scale,
        }
    }

    #[test]
    fn the_rate_is_what_one_unit_costs_to_four_decimals() {
        let usd = money("2500", "USD", 2);
        assert_eq!(
            usd.rate(&money("2315", "EUR", 2)).as_deref(),
            Some("1 USD = 0.9260 EUR")
        );
        // Different scales: 25.00 USD for 3,750 JPY is 150 yen a dollar.
        assert_eq!(
            usd.rate(&money("3750", "JPY", 0)).as_deref(),
            Some("1 USD = 150.0000 JPY")
        );
        // Rounded half up: 1/3 and 2/3.
        assert_eq!(
            money("300", "USD", 2)
                .rate(&money("100", "EUR", 2))
                .as_deref(),
            Some("1 USD = 0.3333 EUR")
        );
        assert_eq!(
            money("300", "USD", 2)
                .rate(&money("200", "EUR", 2))
                .as_deref(),
            Some("1 USD = 0.6667 EUR")
        );
        assert_eq!(usd.rate(&money("2500", "USD", 2)), None);
        assert_eq!(money("0", "USD", 2).rate(&money("1", "EUR", 2)), None);
        assert_eq!(usd.rate(&money("many", "EUR", 2)), None);
    }
}
