//! Money: asset codes, scales and exact integer amounts in minor units. No floats anywhere.

use std::fmt;

/// An asset code as Open Payments uses it (`USD`, `EUR`, `MXN` …): 3–12 upper-case ASCII letters
/// or digits, starting with a letter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssetCode(String);

/// Why a string is not an [`AssetCode`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be 3 to 12 upper-case letters or digits, starting with a letter")]
pub struct AssetCodeError;

impl AssetCode {
    /// Parses an asset code.
    ///
    /// # Errors
    /// [`AssetCodeError`] when the code is not 3–12 upper-case alphanumerics starting with a letter.
    pub fn parse(input: &str) -> Result<Self, AssetCodeError> {
        let valid = (3..=12).contains(&input.len())
            && input.starts_with(|c: char| c.is_ascii_uppercase())
            && input
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if valid {
            Ok(Self(input.to_owned()))
        } else {
            Err(AssetCodeError)
        }
    }

    /// The code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AssetCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How many decimal places the minor unit has (`2` for cents): 0–18.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssetScale(u8);

/// Why a number is not an [`AssetScale`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be between 0 and 18")]
pub struct AssetScaleError;

impl AssetScale {
    /// Largest scale: 10^18 still fits in a `u64`.
    pub const MAX: u8 = 18;

    /// Checks a scale.
    ///
    /// # Errors
    /// [`AssetScaleError`] when `scale` is above 18.
    pub fn new(scale: u8) -> Result<Self, AssetScaleError> {
        if scale <= Self::MAX {
            Ok(Self(scale))
        } else {
            Err(AssetScaleError)
        }
    }

    /// The number of decimal places.
    #[must_use]
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for AssetScale {
    type Error = AssetScaleError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        u8::try_from(value)
            .map_err(|_| AssetScaleError)
            .and_then(Self::new)
    }
}

/// An asset: its code and scale.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Asset {
    /// The asset code.
    pub code: AssetCode,
    /// The scale of its minor unit.
    pub scale: AssetScale,
}

/// A positive amount of an asset, in minor units (`1250` at scale 2 is 12.50), at most
/// `i64::MAX` so it fits every database's BIGINT.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Amount {
    value: u64,
    asset: Asset,
}

/// Why a decimal string or a minor-unit value is not an [`Amount`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Empty input.
    #[error("is required")]
    Empty,
    /// Anything but digits with at most one `.` between digits (signs, exponents, whitespace,
    /// thousands separators …).
    #[error("must be a plain decimal number such as 12.50")]
    Syntax,
    /// More decimal places than the asset's scale.
    #[error("has more than {0} decimal places")]
    TooPrecise(u8),
    /// Zero.
    #[error("must be greater than zero")]
    Zero,
    /// A minus sign before a number: an amount is never negative.
    #[error("must be greater than zero")]
    Negative,
    /// Above `i64::MAX` minor units.
    #[error("is larger than any price can be: check the number of digits")]
    TooLarge,
}

impl Amount {
    /// Largest value in minor units.
    pub const MAX_VALUE: u64 = i64::MAX as u64;

    /// Builds an amount from minor units.
    ///
    /// # Errors
    /// [`AmountError::Zero`] or [`AmountError::TooLarge`].
    pub fn from_minor_units(value: u64, asset: Asset) -> Result<Self, AmountError> {
        match value {
            0 => Err(AmountError::Zero),
            v if v > Self::MAX_VALUE => Err(AmountError::TooLarge),
            v => Ok(Self { value: v, asset }),
        }
    }

    /// Parses a string of minor units (`"1250"`), as Open Payments and our API send them.
    ///
    /// # Errors
    /// [`AmountError`] when the string is not a positive integer up to `i64::MAX`.
    pub fn parse_minor_units(input: &str, asset: Asset) -> Result<Self, AmountError> {
        if input.is_empty() {
            return Err(AmountError::Empty);
        }
        if !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError::Syntax);
        }
        let value = input.parse::<u64>().map_err(|_| AmountError::TooLarge)?;
        Self::from_minor_units(value, asset)
    }

    /// Parses a decimal string in major units exactly: `"12.50"` at scale 2 is 1250 minor units.
    ///
    /// Accepts digits with an optional `.` followed by at most `scale` digits. Rejects signs,
    /// exponents, whitespace, separators, zero, and values above `i64::MAX` minor units.
    ///
    /// # Errors
    /// [`AmountError`] saying which rule the input broke.
    pub fn parse_decimal(input: &str, asset: Asset) -> Result<Self, AmountError> {
        if input.is_empty() {
            return Err(AmountError::Empty);
        }
        // "-5" is a negative price, not a typing accident: say so rather than "not a number".
        if input
            .strip_prefix('-')
            .is_some_and(|rest| Self::parse_decimal(rest, asset.clone()).is_ok())
        {
            return Err(AmountError::Negative);
        }
        let (whole, fraction) = match input.split_once('.') {
            Some((w, f)) => (w, f),
            None => (input, ""),
        };
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits_only(whole)
            || !digits_only(fraction)
            || (input.contains('.') && fraction.is_empty())
        {
            return Err(AmountError::Syntax);
        }
        let scale = asset.scale.get();
        if fraction.len() > usize::from(scale) {
            return Err(AmountError::TooPrecise(scale));
        }
        let too_large = || AmountError::TooLarge;
        let whole: u64 = whole.parse().map_err(|_| too_large())?;
        let padded = format!("{fraction:0<width$}", width = usize::from(scale));
        let fraction: u64 = if padded.is_empty() {
            0
        } else {
            padded.parse().map_err(|_| too_large())?
        };
        let value = 10u64
            .checked_pow(u32::from(scale))
            .and_then(|unit| whole.checked_mul(unit))
            .and_then(|v| v.checked_add(fraction))
            .ok_or_else(too_large)?;
        Self::from_minor_units(value, asset)
    }

    /// Parses a decimal typed with `mark` as its decimal mark (`,` in Spanish, `.` in English),
    /// exactly as [`Amount::parse_decimal`] does. Only that mark is accepted: with `,`, a `.`
    /// (a thousands separator to a Spanish reader, a decimal mark to others) is a syntax error
    /// rather than a guess about a price.
    ///
    /// # Errors
    /// [`AmountError`] saying which rule the input broke.
    pub fn parse_decimal_with(input: &str, asset: Asset, mark: char) -> Result<Self, AmountError> {
        if mark == '.' {
            return Self::parse_decimal(input, asset);
        }
        if input.contains('.') {
            return Err(AmountError::Syntax);
        }
        Self::parse_decimal(&input.replace(mark, "."), asset)
    }

    /// The value in minor units.
    #[must_use]
    pub fn value(&self) -> u64 {
        self.value
    }

    /// The asset.
    #[must_use]
    pub fn asset(&self) -> &Asset {
        &self.asset
    }

    /// The canonical decimal form in major units, with exactly `scale` decimals: `"12.50"`.
    #[must_use]
    pub fn to_decimal_string(&self) -> String {
        format_decimal(self.value, self.asset.scale)
    }
}

/// Formats minor units as a decimal with exactly `scale` decimals (`1250`, 2 → `"12.50"`).
#[must_use]
pub fn format_decimal(value: u64, scale: AssetScale) -> String {
    let scale = usize::from(scale.get());
    if scale == 0 {
        return value.to_string();
    }
    let digits = format!("{value:0>width$}", width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    format!("{whole}.{fraction}")
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.asset.code)
    }
}

impl crate::error::Coded for AssetCodeError {
    fn code(&self) -> crate::FieldCode {
        crate::FieldCode::AssetCodeInvalid
    }
}

impl crate::error::Coded for AssetScaleError {
    fn code(&self) -> crate::FieldCode {
        crate::FieldCode::AssetScaleInvalid
    }
}

impl crate::error::Coded for AmountError {
    fn code(&self) -> crate::FieldCode {
        use crate::FieldCode;
        match self {
            Self::Empty => FieldCode::Required,
            Self::Syntax => FieldCode::AmountSyntax,
            Self::TooPrecise(_) => FieldCode::AmountTooPrecise,
            Self::Zero | Self::Negative => FieldCode::AmountZero,
            Self::TooLarge => FieldCode::AmountTooLarge,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_negative_amount_says_it_must_be_positive() {
        let usd = Asset {
            code: AssetCode::parse("USD").unwrap(),
            scale: AssetScale::new(2).unwrap(),
        };
        assert_eq!(
            Amount::parse_decimal("-5", usd.clone()),
            Err(AmountError::Negative)
        );
        assert_eq!(
            Amount::parse_decimal("-5.00", usd.clone()),
            Err(AmountError::Negative)
        );
        // Not a number after the sign: still a syntax error.
        assert_eq!(
            Amount::parse_decimal("-x", usd.clone()),
            Err(AmountError::Syntax)
        );
        assert_eq!(Amount::parse_decimal("--5", usd), Err(AmountError::Syntax));
        assert_eq!(
            crate::Coded::code(&AmountError::Negative),
            crate::FieldCode::AmountZero
        );
    }

    use super::*;

    #[test]
    fn a_locales_decimal_mark_parses_to_the_same_exact_amount() {
        let asset = |scale| Asset {
            code: AssetCode::parse("EUR").unwrap(),
            scale: AssetScale::new(scale).unwrap(),
        };
        for (typed, scale, minor) in [("12,34", 2, 1234), ("1500", 0, 1500), ("0,125", 3, 125)] {
            let amount = Amount::parse_decimal_with(typed, asset(scale), ',').unwrap();
            assert_eq!(amount.value(), minor, "{typed}");
            let english = typed.replace(',', ".");
            assert_eq!(
                Amount::parse_decimal_with(&english, asset(scale), '.').unwrap(),
                amount
            );
        }
        // With ',' as the mark a '.' is never guessed at; in English ',' is never a mark.
        assert_eq!(
            Amount::parse_decimal_with("1.234,56", asset(2), ','),
            Err(AmountError::Syntax)
        );
        assert_eq!(
            Amount::parse_decimal_with("12.34", asset(2), ','),
            Err(AmountError::Syntax)
        );
        assert_eq!(
            Amount::parse_decimal_with("12,34", asset(2), '.'),
            Err(AmountError::Syntax)
        );
        assert_eq!(
            Amount::parse_decimal_with("1,2,3", asset(3), ','),
            Err(AmountError::Syntax)
        );
        assert_eq!(
            Amount::parse_decimal_with("12,345", asset(2), ','),
            Err(AmountError::TooPrecise(2))
        );
    }
    use proptest::prelude::*;

    fn asset(code: &str, scale: u8) -> Asset {
        Asset {
            code: AssetCode::parse(code).unwrap(),
            scale: AssetScale::new(scale).unwrap(),
        }
    }

    fn usd() -> Asset {
        asset("USD", 2)
    }

    #[test]
    fn decimal_prices_parse_exactly_at_the_asset_scale() {
        assert_eq!(Amount::parse_decimal("12.50", usd()).unwrap().value(), 1250);
        assert_eq!(Amount::parse_decimal("12.5", usd()).unwrap().value(), 1250);
        assert_eq!(Amount::parse_decimal("12", usd()).unwrap().value(), 1200);
        assert_eq!(Amount::parse_decimal("0.01", usd()).unwrap().value(), 1);
        assert_eq!(
            Amount::parse_decimal("7", asset("JPY", 0)).unwrap().value(),
            7
        );
        assert_eq!(
            Amount::parse_decimal("0.000000000000000001", asset("ETH", 18))
                .unwrap()
                .value(),
            1
        );
    }

    #[test]
    fn decimal_parser_rejects_everything_that_is_not_a_plain_positive_number() {
        use AmountError::*;
        let cases = [
            ("", Empty),
            ("-1", Negative),
            ("-0.5", Negative),
            ("-", Syntax),
            ("+1", Syntax),
            ("1e3", Syntax),
            ("1E3", Syntax),
            (" 1", Syntax),
            ("1 ", Syntax),
            ("1,000", Syntax),
            ("1_000", Syntax),
            ("1'000", Syntax),
            (".5", Syntax),
            ("5.", Syntax),
            ("1.2.3", Syntax),
            ("NaN", Syntax),
            ("١٢", Syntax),
            ("12.505", TooPrecise(2)),
            ("0", Zero),
            ("0.00", Zero),
            ("92233720368547758.08", TooLarge),
            ("99999999999999999999999", TooLarge),
        ];
        for (input, expected) in cases {
            assert_eq!(
                Amount::parse_decimal(input, usd()),
                Err(expected),
                "input {input:?}"
            );
        }
        assert_eq!(
            Amount::parse_decimal("1.5", asset("JPY", 0)),
            Err(TooPrecise(0))
        );
    }

    #[test]
    fn the_largest_amount_is_i64_max() {
        let max = Amount::parse_decimal("92233720368547758.07", usd()).unwrap();
        assert_eq!(max.value(), i64::MAX as u64);
        assert_eq!(
            Amount::parse_minor_units("9223372036854775808", usd()),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn amounts_format_with_exactly_scale_decimals() {
        assert_eq!(
            Amount::parse_minor_units("1250", usd())
                .unwrap()
                .to_decimal_string(),
            "12.50"
        );
        assert_eq!(
            Amount::parse_minor_units("5", usd())
                .unwrap()
                .to_decimal_string(),
            "0.05"
        );
        assert_eq!(
            Amount::parse_minor_units("5", asset("JPY", 0))
                .unwrap()
                .to_string(),
            "5 JPY"
        );
    }

    #[test]
    fn asset_codes_and_scales_are_checked() {
        assert!(AssetCode::parse("USD").is_ok());
        assert!(AssetCode::parse("usd").is_err());
        assert!(AssetCode::parse("US").is_err());
        assert!(AssetCode::parse("1USD").is_err());
        assert!(AssetScale::new(18).is_ok());
        assert!(AssetScale::new(19).is_err());
        assert!(AssetScale::try_from(-1i64).is_err());
    }

    fn canonical_decimal() -> impl Strategy<Value = (String, u8)> {
        (0u8..=18).prop_flat_map(|scale| {
            let fraction = if scale == 0 {
                Just(String::new()).boxed()
            } else {
                proptest::string::string_regex(&format!("[0-9]{{{scale}}}"))
                    .unwrap()
                    .boxed()
            };
            ("[1-9][0-9]{0,5}|0", fraction).prop_map(move |(whole, fraction)| {
                if scale == 0 {
                    (whole, scale)
                } else {
                    (format!("{whole}.{fraction}"), scale)
                }
            })
        })
    }

    proptest! {
        #[test]
        fn format_of_parse_is_identity_for_canonical_input((input, scale) in canonical_decimal()) {
            match Amount::parse_decimal(&input, asset("XYZ", scale)) {
                Ok(amount) => prop_assert_eq!(amount.to_decimal_string(), input),
                // A large whole part at a high scale can exceed i64::MAX minor units.
                Err(e) => prop_assert!(matches!(e, AmountError::Zero | AmountError::TooLarge), "{e:?}"),
            }
        }

        #[test]
        fn parse_of_format_is_identity(value in 1u64..=Amount::MAX_VALUE, scale in 0u8..=18) {
            let a = Amount::from_minor_units(value, asset("XYZ", scale)).unwrap();
            let back = Amount::parse_decimal(&a.to_decimal_string(), a.asset().clone()).unwrap();
            prop_assert_eq!(back, a);
        }

        #[test]
        fn decimal_parser_never_panics(s in "\\PC{0,40}", scale in 0u8..=18) {
            if let Ok(a) = Amount::parse_decimal(&s, asset("XYZ", scale)) {
                prop_assert!(a.value() >= 1 && a.value() <= Amount::MAX_VALUE);
            }
        }
    }
}
