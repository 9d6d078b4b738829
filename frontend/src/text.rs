//! Our own words, in the reader's language, for every code the API sends: error codes, field
//! codes, payment failure codes and statuses. The server's English `message` is shown only for
//! a code this app does not know (a newer server).

use shifting_shared::{ErrorCode, FieldCode, RoomStatus, TransactionStatus};

use crate::api::client::ApiError;
use crate::i18n::{Locale, td_string, use_i18n};

/// A text of the catalogues that follows the reader's language: `tr!(room.share_title)`, as a
/// view child or as a text prop. Every use renders through the one closure type of [`follow`],
/// so the hundreds of texts of the app cost one compiled renderer, not one each.
macro_rules! tr {
    ($($key:ident).+) => {
        $crate::text::follow(|locale| $crate::i18n::td_string!(locale, $($key).+))
    };
}
pub(crate) use tr;

/// The text `text` gives for the current language, re-read when the language changes.
pub fn follow(
    text: fn(Locale) -> &'static str,
) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let i18n = use_i18n();
    move || text(i18n.get_locale())
}

/// What is wrong with a field ("is required").
pub fn field(locale: Locale, code: FieldCode) -> &'static str {
    match code {
        FieldCode::Required => td_string!(locale, fields.required),
        FieldCode::Invalid => td_string!(locale, fields.invalid),
        FieldCode::UnknownField => td_string!(locale, fields.unknown_field),
        FieldCode::OutOfRange => td_string!(locale, fields.out_of_range),
        FieldCode::UsernameLength => td_string!(locale, fields.username_length),
        FieldCode::UsernameCharacters => td_string!(locale, fields.username_characters),
        FieldCode::UsernameTaken => td_string!(locale, fields.username_taken),
        FieldCode::EmailTooLong => td_string!(locale, fields.email_too_long),
        FieldCode::EmailInvalid => td_string!(locale, fields.email_invalid),
        FieldCode::EmailTaken => td_string!(locale, fields.email_taken),
        FieldCode::PasswordTooShort => td_string!(locale, fields.password_too_short),
        FieldCode::PasswordTooLong => td_string!(locale, fields.password_too_long),
        FieldCode::PasswordTooCommon => td_string!(locale, fields.password_too_common),
        FieldCode::TooLong => td_string!(locale, fields.too_long),
        FieldCode::ControlCharacters => td_string!(locale, fields.control_characters),
        FieldCode::AmountSyntax => td_string!(locale, fields.amount_syntax),
        FieldCode::AmountTooPrecise => td_string!(locale, fields.amount_too_precise),
        FieldCode::AmountZero => td_string!(locale, fields.amount_zero),
        FieldCode::AmountTooLarge => td_string!(locale, fields.amount_too_large),
        FieldCode::AssetCodeInvalid => td_string!(locale, fields.asset_code_invalid),
        FieldCode::AssetScaleInvalid => td_string!(locale, fields.asset_scale_invalid),
        FieldCode::RoomCodeInvalid => td_string!(locale, fields.room_code_invalid),
        FieldCode::WalletScheme => td_string!(locale, fields.wallet_scheme),
        FieldCode::WalletUserInfo => td_string!(locale, fields.wallet_user_info),
        FieldCode::WalletPort => td_string!(locale, fields.wallet_port),
        FieldCode::WalletQuery => td_string!(locale, fields.wallet_query),
        FieldCode::WalletFragment => td_string!(locale, fields.wallet_fragment),
        FieldCode::WalletHost => td_string!(locale, fields.wallet_host),
        FieldCode::WalletNotAllowed => td_string!(locale, fields.wallet_not_allowed),
        FieldCode::WalletNotFound => td_string!(locale, fields.wallet_not_found),
        FieldCode::WalletProviderError => td_string!(locale, fields.wallet_provider_error),
        FieldCode::WalletUnreachable => td_string!(locale, fields.wallet_unreachable),
        FieldCode::WalletTimeout => td_string!(locale, fields.wallet_timeout),
        FieldCode::NotAWallet => td_string!(locale, fields.not_a_wallet),
        FieldCode::WalletAssetUnsupported => td_string!(locale, fields.wallet_asset_unsupported),
        FieldCode::OwnWallet => td_string!(locale, fields.own_wallet),
        FieldCode::StockLimitRange => td_string!(locale, fields.stock_limit_range),
        FieldCode::SoldOut => td_string!(locale, fields.sold_out),
        FieldCode::ImageType => td_string!(locale, fields.image_type),
        FieldCode::ImageUnreadable => td_string!(locale, fields.image_unreadable),
        FieldCode::ImageTooManyPixels => td_string!(locale, fields.image_too_many_pixels),
        FieldCode::TooManyImages => td_string!(locale, fields.too_many_images),
        FieldCode::RatingRange => td_string!(locale, fields.rating_range),
        FieldCode::NotCompleted => td_string!(locale, fields.not_completed),
        FieldCode::ReviewWindowClosed => td_string!(locale, fields.review_window_closed),
        FieldCode::AlreadyReviewed => td_string!(locale, fields.already_reviewed),
        FieldCode::EditWindowClosed => td_string!(locale, fields.edit_window_closed),
        FieldCode::ProofUnsupported => td_string!(locale, fields.proof_unsupported),
        FieldCode::PasswordWrong => td_string!(locale, fields.password_wrong),
        FieldCode::LinkInvalid => td_string!(locale, fields.link_invalid),
        FieldCode::EmailSame => td_string!(locale, fields.email_same),
        FieldCode::PaymentInProgress => td_string!(locale, fields.payment_in_progress),
        FieldCode::UrlNotAllowed => td_string!(locale, fields.url_not_allowed),
    }
}

/// What an error code means, in general terms.
pub fn error(locale: Locale, code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::BadRequest => td_string!(locale, errors.bad_request),
        ErrorCode::Unauthorized => td_string!(locale, errors.unauthorized),
        ErrorCode::Forbidden => td_string!(locale, errors.forbidden),
        ErrorCode::NotFound => td_string!(locale, errors.not_found),
        ErrorCode::MethodNotAllowed => td_string!(locale, errors.method_not_allowed),
        ErrorCode::Conflict => td_string!(locale, errors.conflict),
        ErrorCode::PayloadTooLarge => td_string!(locale, errors.payload_too_large),
        ErrorCode::UnsupportedMediaType => td_string!(locale, errors.unsupported_media_type),
        ErrorCode::ValidationFailed => td_string!(locale, errors.validation_failed),
        ErrorCode::TooManyRequests => td_string!(locale, errors.too_many_requests),
        ErrorCode::UpstreamError => td_string!(locale, errors.upstream_error),
        ErrorCode::Unavailable => td_string!(locale, errors.unavailable),
        ErrorCode::Gone => td_string!(locale, errors.gone),
        ErrorCode::InternalError => td_string!(locale, errors.internal_error),
    }
}

/// A failed request, for people.
pub fn api_error(locale: Locale, err: &ApiError) -> String {
    match err {
        ApiError::Network => td_string!(locale, errors.network).to_owned(),
        ApiError::Api { body, .. } => error(locale, body.error.code).to_owned(),
        ApiError::Unknown { message, .. } => message.clone(),
        ApiError::Unexpected(_) => td_string!(locale, errors.unexpected).to_owned(),
    }
}

/// Why a payment failed, from its failure code; `None` for a code this app does not know.
pub fn failure(locale: Locale, code: &str) -> Option<&'static str> {
    Some(match code {
        "declined" => td_string!(locale, failures.declined),
        "consent_failed" => td_string!(locale, failures.consent_failed),
        "expired" => td_string!(locale, failures.expired),
        "provider_error" => td_string!(locale, failures.provider_error),
        "payment_failed" => td_string!(locale, failures.payment_failed),
        "not_received" => td_string!(locale, failures.not_received),
        "room_closed" => td_string!(locale, failures.room_closed),
        "room_paused" => td_string!(locale, failures.room_paused),
        "cancelled" => td_string!(locale, failures.cancelled),
        "budget_refused" => td_string!(locale, failures.budget_refused),
        _ => return None,
    })
}

/// A payment status.
pub fn status(locale: Locale, status: TransactionStatus) -> &'static str {
    match status {
        TransactionStatus::AwaitingApproval => td_string!(locale, status.awaiting_approval),
        TransactionStatus::Approved => td_string!(locale, status.approved),
        TransactionStatus::Sending => td_string!(locale, status.sending),
        TransactionStatus::Completed => td_string!(locale, status.completed),
        TransactionStatus::Rejected => td_string!(locale, status.rejected),
        TransactionStatus::Expired => td_string!(locale, status.expired),
        TransactionStatus::Failed => td_string!(locale, status.failed),
        TransactionStatus::RefundPending => td_string!(locale, status.refund_pending),
        TransactionStatus::Refunded => td_string!(locale, status.refunded),
    }
}

/// How many of a room can still be bought: `Sold out`, `1 left`, `3 left`.
pub fn stock_left(locale: Locale, left: u32) -> String {
    match left {
        0 => td_string!(locale, room.sold_out).to_owned(),
        1 => td_string!(locale, room.left_one).to_owned(),
        count => td_string!(locale, room.left_many, count = count).to_string(),
    }
}

/// A room status.
pub fn room_status(locale: Locale, status: RoomStatus) -> &'static str {
    match status {
        RoomStatus::Open => td_string!(locale, status.open),
        RoomStatus::Paused => td_string!(locale, status.paused),
        RoomStatus::Closed => td_string!(locale, status.closed),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;
    use strum::IntoEnumIterator;

    use super::*;

    /// A code as the API writes it (`email_taken`).
    fn json_name(code: &impl serde::Serialize) -> String {
        match serde_json::to_value(code) {
            Ok(Value::String(name)) => name,
            other => panic!("a code is a JSON string, not {other:?}"),
        }
    }

    const CATALOGUES: &[(&str, &str)] = &[
        ("en", include_str!("../locales/en.json")),
        ("es", include_str!("../locales/es.json")),
    ];

    /// Every key path of a catalogue, such as `fields.required`.
    fn keys(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    keys(inner, &path, out);
                }
            }
            Value::String(text) => {
                assert!(!text.trim().is_empty(), "{prefix} is empty");
                out.insert(prefix.to_owned());
            }
            other => panic!("{prefix} is not text: {other}"),
        }
    }

    fn catalogue(json: &str) -> BTreeSet<String> {
        let value: Value = serde_json::from_str(json).expect("a catalogue is JSON");
        let mut out = BTreeSet::new();
        keys(&value, "", &mut out);
        out
    }

    #[test]
    fn every_catalogue_has_exactly_the_keys_of_the_english_one() {
        let english = catalogue(CATALOGUES[0].1);
        for (name, json) in &CATALOGUES[1..] {
            let other = catalogue(json);
            let missing: Vec<_> = english.difference(&other).collect();
            let extra: Vec<_> = other.difference(&english).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{name}: missing {missing:?}, not in English {extra:?}"
            );
        }
    }

    #[test]
    fn every_api_code_has_a_translation_in_every_language() {
        for (name, json) in CATALOGUES {
            let keys = catalogue(json);
            for code in ErrorCode::iter() {
                let key = format!("errors.{}", json_name(&code));
                assert!(keys.contains(&key), "{name} lacks {key}");
            }
            for code in FieldCode::iter() {
                let key = format!("fields.{}", json_name(&code));
                assert!(keys.contains(&key), "{name} lacks {key}");
            }
            for code in shifting_shared::transaction::FAILURE_CODES {
                assert!(
                    keys.contains(&format!("failures.{code}")),
                    "{name} lacks {code}"
                );
            }
        }
    }

    #[test]
    fn codes_read_in_each_language() {
        assert_eq!(field(Locale::en, FieldCode::Required), "is required");
        assert_eq!(field(Locale::es, FieldCode::Required), "es obligatorio");
        assert_eq!(
            error(Locale::es, ErrorCode::TooManyRequests),
            "Demasiados intentos. Espera un momento y vuelve a intentarlo."
        );
        assert_eq!(
            failure(Locale::es, "declined"),
            Some("Rechazaste el pago en tu billetera. No se pagó nada.")
        );
        assert_eq!(failure(Locale::en, "something_new"), None);
        assert_eq!(
            api_error(Locale::es, &ApiError::Unexpected(418)),
            "El servidor envió una respuesta que esta página no puede leer. Recarga la página; si vuelve a ocurrir, inténtalo dentro de unos minutos."
        );
        for code in FieldCode::iter() {
            assert_ne!(field(Locale::en, code), field(Locale::es, code), "{code:?}");
        }
    }
}
