//! Money, dates and relative times as the reader's language writes them, by the browser's own
//! `Intl` (CLDR data the browser already has, so none in our download). Amounts reach `Intl` as
//! exact decimal strings made from integer minor units, never as floating-point numbers.

use chrono::{DateTime, Utc};
use js_sys::{Array, Date, Function, Intl, Object, Reflect};
use shifting_shared::api::AmountDto;
use shifting_shared::money::{AssetScale, format_decimal};
use wasm_bindgen::JsValue;

use crate::i18n::Locale;

/// The BCP 47 tag `Intl` is given for each of our languages.
pub fn tag(locale: Locale) -> &'static str {
    match locale {
        Locale::en => "en",
        Locale::es => "es",
    }
}

/// The decimal mark people type in prices.
pub fn decimal_mark(locale: Locale) -> char {
    match locale {
        Locale::en => '.',
        Locale::es => ',',
    }
}

fn locales(locale: Locale) -> Array {
    Array::of1(&JsValue::from_str(tag(locale)))
}

fn options(pairs: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in pairs {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object
}

/// Calls an `Intl` formatter's bound `format` function.
fn call(format: &Function, value: &JsValue) -> Option<String> {
    format.call1(&JsValue::UNDEFINED, value).ok()?.as_string()
}

/// Whether `Intl` accepts the code as a currency (three letters, ISO 4217 form). Longer asset
/// codes (`USDC` …) are written as a number followed by the code.
fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// An amount as `locale` writes it: `$12.34`, `12,34 €`, `¥1,500`, `1234,56 MXN` …, with
/// exactly the asset's number of decimal places. A malformed amount is shown as sent.
pub fn amount(locale: Locale, amount: &AmountDto) -> String {
    let (Ok(value), Ok(scale)) = (
        amount.value.parse::<u64>(),
        AssetScale::new(amount.asset_scale),
    ) else {
        return amount.display();
    };
    let exact = format_decimal(value, scale);
    let digits = JsValue::from_f64(f64::from(scale.get()));
    let currency = is_currency_code(&amount.asset_code);
    let mut pairs = vec![
        ("minimumFractionDigits", digits.clone()),
        ("maximumFractionDigits", digits),
    ];
    if currency {
        pairs.push(("style", JsValue::from_str("currency")));
        pairs.push(("currency", JsValue::from_str(&amount.asset_code)));
    }
    let formatter = Intl::NumberFormat::new(&locales(locale), &options(&pairs));
    match call(&formatter.format(), &JsValue::from_str(&exact)) {
        Some(text) if currency => text,
        Some(text) => format!("{text}\u{a0}{}", amount.asset_code),
        None => amount.display(),
    }
}

/// A file size for people, in decimal units as the browser writes them: `820B`, `12.5kB`,
/// `3.2MB`.
pub fn bytes(locale: Locale, size: u64) -> String {
    // Sizes are shown to one decimal: an f64 holds every size a file here has.
    #[allow(clippy::cast_precision_loss)]
    let size_f = size as f64;
    let (value, unit) = match size {
        0..1_000 => (size_f, "byte"),
        1_000..1_000_000 => (size_f / 1e3, "kilobyte"),
        _ => (size_f / 1e6, "megabyte"),
    };
    let formatter = Intl::NumberFormat::new(
        &locales(locale),
        &options(&[
            ("style", JsValue::from_str("unit")),
            ("unit", JsValue::from_str(unit)),
            ("unitDisplay", JsValue::from_str("narrow")),
            ("maximumFractionDigits", JsValue::from_f64(1.0)),
        ]),
    );
    call(&formatter.format(), &JsValue::from_f64(value)).unwrap_or_else(|| format!("{size} B"))
}

fn date(at: &DateTime<Utc>) -> Date {
    // Milliseconds since 1970 fit an f64 exactly for any date a person will see.
    #[allow(clippy::cast_precision_loss)]
    Date::new(&JsValue::from_f64(at.timestamp_millis() as f64))
}

fn date_time_with(locale: Locale, at: &DateTime<Utc>, pairs: &[(&str, JsValue)]) -> String {
    let formatter = Intl::DateTimeFormat::new(&locales(locale), &options(pairs));
    call(&formatter.format(), &date(at)).unwrap_or_else(|| at.to_rfc3339())
}

/// A date and time in the browser's time zone: `Dec 3, 2026, 2:05 PM`, `3 dic 2026, 14:05`.
pub fn date_time(locale: Locale, at: &DateTime<Utc>) -> String {
    date_time_with(
        locale,
        at,
        &[
            ("dateStyle", JsValue::from_str("medium")),
            ("timeStyle", JsValue::from_str("short")),
        ],
    )
}

/// A day in the browser's time zone: `Dec 3, 2026`, `3 dic 2026`.
pub fn day(locale: Locale, at: &DateTime<Utc>) -> String {
    date_time_with(locale, at, &[("dateStyle", JsValue::from_str("medium"))])
}

/// A time of day in the browser's time zone: `2:05 PM`, `14:05`.
pub fn time(locale: Locale, at: &DateTime<Utc>) -> String {
    date_time_with(locale, at, &[("timeStyle", JsValue::from_str("short"))])
}

/// The largest unit that fits `seconds` (negative: in the past), and how many of it.
pub fn relative_unit(seconds: i64) -> (i64, &'static str) {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    let magnitude = seconds.unsigned_abs();
    let (unit, name) = match magnitude {
        m if m < 60 => (1, "second"),
        m if m < 3_600 => (MINUTE, "minute"),
        m if m < 86_400 => (HOUR, "hour"),
        m if m < 30 * 86_400 => (DAY, "day"),
        m if m < 365 * 86_400 => (30 * DAY, "month"),
        _ => (365 * DAY, "year"),
    };
    (seconds / unit, name)
}

/// How long ago (or from now) `at` is, as `locale` says it: `3 minutes ago`, `hace 3 minutos`.
pub fn relative(locale: Locale, at: &DateTime<Utc>, now: &DateTime<Utc>) -> String {
    let (count, unit) = relative_unit((*at - *now).num_seconds());
    let formatter = Intl::RelativeTimeFormat::new(
        &locales(locale),
        &options(&[("numeric", JsValue::from_str("auto"))]),
    );
    // Whole units of a few years at most: exact in an f64.
    #[allow(clippy::cast_precision_loss)]
    formatter.format(count as f64, unit).into()
}

/// The effective rate of a quote, `1 USD = 0.9260 EUR` ([`AmountDto::rate`]).
pub fn rate(receive: &AmountDto, debit: &AmountDto) -> Option<String> {
    receive.rate(debit)
}

/// Midnight where the browser is, `days` after the date `day` (`2026-12-04`, as a date input
/// gives it), as an RFC 3339 time in UTC; `None` for an empty or malformed date.
pub fn local_midnight(day: &str, days: u32) -> Option<String> {
    // Read by hand: chrono's format parser costs kilobytes of wasm for this one date.
    let mut parts = day.splitn(3, '-').map(str::parse::<u32>);
    let (Some(Ok(year)), Some(Ok(month @ 1..=12)), Some(Ok(date @ 1..=31))) =
        (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let midnight = Date::new_with_year_month_day(
        year,
        i32::try_from(month - 1).ok()?,
        i32::try_from(date.checked_add(days)?).ok()?,
    );
    midnight.to_iso_string().as_string()
}

/// Today's date where the browser is, as `2026-12-04`.
pub fn today() -> String {
    let now = Date::new_0();
    format!(
        "{:04}-{:02}-{:02}",
        now.get_full_year(),
        now.get_month() + 1,
        now.get_date()
    )
}

/// The time now, by the browser's clock.
pub fn now() -> DateTime<Utc> {
    // Milliseconds since 1970 as a whole number of them.
    #[allow(clippy::cast_possible_truncation)]
    DateTime::from_timestamp_millis(Date::now() as i64).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relative_unit_is_the_largest_that_fits() {
        assert_eq!(relative_unit(-5), (-5, "second"));
        assert_eq!(relative_unit(-180), (-3, "minute"));
        assert_eq!(relative_unit(7_200), (2, "hour"));
        assert_eq!(relative_unit(-3 * 86_400), (-3, "day"));
        assert_eq!(relative_unit(-90 * 86_400), (-3, "month"));
        assert_eq!(relative_unit(-800 * 86_400), (-2, "year"));
    }

    #[test]
    fn only_three_letter_codes_are_written_as_currencies() {
        assert!(is_currency_code("EUR") && is_currency_code("JPY"));
        assert!(!is_currency_code("USDC") && !is_currency_code("eur"));
    }
}

/// In a real browser (`scripts/test.sh` runs these in headless Chromium through
/// wasm-bindgen-test-runner): what people read, per language and per currency scale.
#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests {
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    const NBSP: &str = "\u{a0}";

    fn money(value: &str, code: &str, scale: u8) -> AmountDto {
        AmountDto {
            value: value.into(),
            asset_code: code.into(),
            asset_scale: scale,
        }
    }

    #[wasm_bindgen_test]
    fn file_sizes_are_short_and_decimal() {
        assert_eq!(bytes(Locale::en, 31), "31B");
        assert_eq!(bytes(Locale::en, 12_500), "12.5kB");
        assert_eq!(bytes(Locale::en, 3_240_000), "3.2MB");
        assert_eq!(bytes(Locale::es, 3_240_000), "3,2MB");
    }

    #[wasm_bindgen_test]
    fn amounts_at_scale_two() {
        assert_eq!(amount(Locale::en, &money("1234", "USD", 2)), "$12.34");
        assert_eq!(
            amount(Locale::es, &money("1234", "EUR", 2)),
            format!("12,34{NBSP}€")
        );
        assert_eq!(amount(Locale::en, &money("1234", "EUR", 2)), "€12.34");
        assert_eq!(
            amount(Locale::es, &money("123456", "MXN", 2)),
            format!("1234,56{NBSP}MXN")
        );
        assert_eq!(
            amount(Locale::es, &money("12345678", "MXN", 2)),
            format!("123.456,78{NBSP}MXN")
        );
        assert_eq!(
            amount(Locale::en, &money("123456", "MXN", 2)),
            "MX$1,234.56"
        );
        // Trailing zeros are kept: a price of 25 at scale 2 reads 25.00.
        assert_eq!(amount(Locale::en, &money("2500", "USD", 2)), "$25.00");
    }

    #[wasm_bindgen_test]
    fn amounts_at_scale_zero() {
        assert_eq!(amount(Locale::en, &money("1500", "JPY", 0)), "¥1,500");
        assert_eq!(
            amount(Locale::es, &money("1500", "JPY", 0)),
            format!("1500{NBSP}JPY")
        );
    }

    #[wasm_bindgen_test]
    fn amounts_at_scale_three() {
        assert_eq!(
            amount(Locale::en, &money("1234567", "KWD", 3)),
            format!("KWD{NBSP}1,234.567")
        );
        assert_eq!(
            amount(Locale::es, &money("1234567", "KWD", 3)),
            format!("1234,567{NBSP}KWD")
        );
    }

    #[wasm_bindgen_test]
    fn amounts_are_exact_beyond_what_a_float_holds() {
        // 2^63 - 1 minor units at scale 9: a float would round the last digits.
        let text = amount(Locale::en, &money("9223372036854775807", "USD", 9));
        assert_eq!(text, "$9,223,372,036.854775807");
    }

    #[wasm_bindgen_test]
    fn codes_that_are_not_currencies_follow_the_number() {
        assert_eq!(
            amount(Locale::en, &money("150", "USDC", 2)),
            format!("1.50{NBSP}USDC")
        );
        assert_eq!(
            amount(Locale::es, &money("150", "USDC", 2)),
            format!("1,50{NBSP}USDC")
        );
    }

    #[wasm_bindgen_test]
    fn relative_times_read_in_each_language() {
        let now: DateTime<Utc> = "2026-12-03T12:00:00Z".parse().unwrap();
        let before = |s| now - chrono::Duration::seconds(s);
        assert_eq!(relative(Locale::es, &before(180), &now), "hace 3 minutos");
        assert_eq!(relative(Locale::en, &before(180), &now), "3 minutes ago");
        assert_eq!(relative(Locale::en, &before(86_400), &now), "yesterday");
        assert_eq!(relative(Locale::es, &before(86_400), &now), "ayer");
        assert_eq!(relative(Locale::es, &now, &now), "ahora");
    }

    #[wasm_bindgen_test]
    fn dates_use_each_languages_words() {
        // Midday UTC is the same date in every time zone the test could run in.
        let at: DateTime<Utc> = "2026-12-03T12:00:00Z".parse().unwrap();
        let es = date_time(Locale::es, &at);
        let en = date_time(Locale::en, &at);
        assert!(es.contains("dic") && es.contains("2026"), "{es}");
        assert!(en.contains("Dec") && en.contains("2026"), "{en}");
    }
}
