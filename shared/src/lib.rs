//! Wasm-safe domain types, validation, API DTOs and the JSON error body, shared by the API and
//! the web app. Every type here parses its input once (`parse`/`TryFrom`) and is valid from then
//! on; nothing in this crate does IO.

pub mod account;
pub mod admin;
pub mod api;
pub mod budget;
pub mod conversation;
pub mod error;
pub mod keys;
pub mod money;
pub mod refund;
pub mod review;
pub mod room;
pub mod transaction;
pub mod user;
pub mod wallet;
pub mod webhooks;

pub use account::{Language, MailPreferences, Notice};
pub use conversation::{ConversationSide, MessageText, PaymentEvent};
pub use error::{Coded, ErrorBody, ErrorCode, ErrorDetail, FieldCode, FieldError, FieldErrors};
pub use money::{
    Amount, AmountError, Asset, AssetCode, AssetCodeError, AssetScale, AssetScaleError,
};
pub use review::{Rating, RatingError, RatingSummary, ReviewText, StarCounts, WalletBadge};
pub use room::{
    RoomCode, RoomCodeError, RoomDescription, RoomName, RoomStatus, RoomTextError, StockLimit,
    StockLimitError,
};
pub use transaction::TransactionStatus;
pub use user::{Email, EmailError, Password, PasswordError, Username, UsernameError};
pub use wallet::{AddressPolicy, WalletAddress, WalletAddressError};
