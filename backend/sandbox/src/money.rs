//! Exchange between the sandbox currencies at fixed rates, in exact integer arithmetic, and the
//! display of amounts. The sandbox charges no fee; a conversion rounds the debit up and the
//! delivered amount down, so the payer never pays less than the receiver gets.

/// The fixed value of one major unit of each currency, in US dollars, as a fraction
/// (numerator, denominator). A currency not listed cannot be exchanged.
const USD_VALUE: &[(&str, u128, u128)] = &[
    ("USD", 1, 1),
    ("EUR", 27, 25),   // 1 EUR = 1.08 USD
    ("MXN", 1, 18),    // 18 MXN = 1 USD
    ("JPY", 1, 150),   // 150 JPY = 1 USD
    ("GBP", 127, 100), // 1 GBP = 1.27 USD
];

/// The rates as `(code, "value of one unit in USD")`, for documentation and the accounts page.
#[must_use]
pub fn rates() -> Vec<(&'static str, String)> {
    USD_VALUE
        .iter()
        .map(|(code, num, den)| {
            let scaled = num * 10_000 / den;
            (*code, format_minor(scaled, 4))
        })
        .collect()
}

fn usd_value(code: &str) -> Option<(u128, u128)> {
    USD_VALUE
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, n, d)| (*n, *d))
}

/// An asset: code and scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asset<'a> {
    /// Code.
    pub code: &'a str,
    /// Scale.
    pub scale: u8,
}

/// Which way to round a conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Towards zero (what is delivered).
    Down,
    /// Away from zero (what is debited).
    Up,
}

/// Converts `value` minor units of `from` into minor units of `to`. `None` when there is no
/// rate for one of the assets or the result does not fit.
#[must_use]
pub fn convert(value: u64, from: Asset<'_>, to: Asset<'_>, rounding: Rounding) -> Option<u64> {
    let (from_num, from_den) = usd_value(from.code)?;
    let (to_num, to_den) = usd_value(to.code)?;
    let numerator = u128::from(value)
        .checked_mul(from_num)?
        .checked_mul(to_den)?
        .checked_mul(10u128.checked_pow(u32::from(to.scale))?)?;
    let denominator = from_den
        .checked_mul(to_num)?
        .checked_mul(10u128.checked_pow(u32::from(from.scale))?)?;
    let quotient = match rounding {
        Rounding::Down => numerator / denominator,
        Rounding::Up => numerator.div_ceil(denominator),
    };
    u64::try_from(quotient).ok()
}

/// `2500` at scale 2 → `"25.00"`.
#[must_use]
pub fn format_minor(value: u128, scale: u8) -> String {
    let digits = value.to_string();
    let scale = usize::from(scale);
    if scale == 0 {
        return digits;
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    format!("{whole}.{fraction}")
}

/// `2500` USD at scale 2 → `"25.00 USD"`.
#[must_use]
pub fn display(value: u64, asset: Asset<'_>) -> String {
    format!(
        "{} {}",
        format_minor(u128::from(value), asset.scale),
        asset.code
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const USD: Asset<'static> = Asset {
        code: "USD",
        scale: 2,
    };
    const EUR: Asset<'static> = Asset {
        code: "EUR",
        scale: 2,
    };
    const JPY: Asset<'static> = Asset {
        code: "JPY",
        scale: 0,
    };

    #[test]
    fn same_asset_converts_to_itself() {
        assert_eq!(convert(2500, USD, USD, Rounding::Up), Some(2500));
        assert_eq!(convert(2500, USD, USD, Rounding::Down), Some(2500));
    }

    #[test]
    fn cross_currency_rounds_the_debit_up_and_the_delivery_down() {
        // 25.00 EUR = 27.00 USD exactly.
        assert_eq!(convert(2500, EUR, USD, Rounding::Up), Some(2700));
        // 0.01 USD = 1/108 EUR cents... rounds to 0 down and 1 up.
        assert_eq!(convert(1, USD, EUR, Rounding::Down), Some(0));
        assert_eq!(convert(1, USD, EUR, Rounding::Up), Some(1));
        // 1000 JPY = 6.666… USD → 6.67 USD debited.
        assert_eq!(convert(1000, JPY, USD, Rounding::Up), Some(667));
        assert_eq!(convert(667, USD, JPY, Rounding::Down), Some(1000));
    }

    #[test]
    fn unknown_assets_and_overflow_give_none() {
        let xyz = Asset {
            code: "XYZ",
            scale: 2,
        };
        assert_eq!(convert(1, xyz, USD, Rounding::Up), None);
        let huge = Asset {
            code: "USD",
            scale: 250,
        };
        assert_eq!(convert(1, USD, huge, Rounding::Up), None);
        assert_eq!(convert(u64::MAX, USD, JPY, Rounding::Up), None);
    }

    #[test]
    fn amounts_display_with_their_scale() {
        assert_eq!(display(2500, USD), "25.00 USD");
        assert_eq!(display(5, USD), "0.05 USD");
        assert_eq!(display(1500, JPY), "1500 JPY");
        assert_eq!(format_minor(12345, 4), "1.2345");
    }
}
