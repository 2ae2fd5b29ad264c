//! A money amount in fixed point (account currency, eight implied decimals).

use kestrel_core::{FIXED_SCALE, FixedError, Price};
use rust_decimal::Decimal;

/// Money at eight implied decimals, like [`Price`]; parsed exactly from a decimal string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    /// Zero.
    pub const ZERO: Self = Self(0);

    /// From a raw value at eight decimals.
    pub const fn from_raw(raw: i64) -> Self {
        Self(raw)
    }

    /// The raw value at eight decimals.
    pub const fn raw(self) -> i64 {
        self.0
    }

    /// The value at sixteen implied decimals, the scale of `price * qty` notionals.
    pub const fn raw16(self) -> i128 {
        self.0 as i128 * FIXED_SCALE as i128
    }

    /// Exact conversion from a decimal.
    pub fn from_decimal(value: Decimal) -> Result<Self, FixedError> {
        Price::from_decimal(value).map(|p| Self(p.raw()))
    }

    /// Lossy conversion for risk arithmetic.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / FIXED_SCALE as f64
    }
}
