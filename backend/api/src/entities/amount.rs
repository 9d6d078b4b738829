//! Amounts as the tables store them: a BIGINT value in minor units, the asset code and a
//! SMALLINT scale. The columns only ever hold values that came from valid amounts (a price
//! parsed by `shared`, a quote checked against it), so this is the one place that reads them
//! back, for the API and for Open Payments alike.

use shifting_open_payments::types::Amount as OpAmount;
use shifting_shared::api::AmountDto;

/// A stored amount, as read from its three columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredAmount<'a> {
    value: i64,
    asset_code: &'a str,
    asset_scale: i16,
}

impl<'a> StoredAmount<'a> {
    /// The amount in the columns `value`, `asset_code`, `asset_scale`.
    #[must_use]
    pub fn new(value: i64, asset_code: &'a str, asset_scale: i16) -> Self {
        Self {
            value,
            asset_code,
            asset_scale,
        }
    }

    /// Minor units (never negative in the tables).
    #[must_use]
    pub fn value(self) -> u64 {
        u64::try_from(self.value).unwrap_or_default()
    }

    /// Decimal places of the minor unit (0–255 in the tables).
    #[must_use]
    pub fn scale(self) -> u8 {
        u8::try_from(self.asset_scale).unwrap_or_default()
    }

    /// As the API shows it.
    #[must_use]
    pub fn dto(self) -> AmountDto {
        AmountDto {
            value: self.value().to_string(),
            asset_code: self.asset_code.to_owned(),
            asset_scale: self.scale(),
        }
    }

    /// As Open Payments sends it.
    #[must_use]
    pub fn open_payments(self) -> OpAmount {
        OpAmount {
            value: self.value(),
            asset_code: self.asset_code.to_owned(),
            asset_scale: self.scale(),
        }
    }
}
