//! Fixed-point prices and quantities.
//!
//! Both are signed 64-bit integers with eight implied decimals (`1.0 == 100_000_000` raw). Eight
//! decimals hold every venue Kestrel speaks: ITCH `Price(4)` and `Price(8)` fields, LOBSTER's
//! dollars x 10^4, and Binance's decimal strings (at most eight decimals). The range is
//! +/- 92 billion units, far beyond any price or order size.
//!
//! Arithmetic on the hot path is checked (`checked_add`, `checked_sub`) and never wraps. Decimal
//! strings are parsed by a small integer parser (no float, no allocation); `rust_decimal` converts
//! at the edges (configuration, reports).

use core::fmt;
use core::str::FromStr;

use rust_decimal::Decimal;

/// Number of implied decimals in [`Price`] and [`Qty`].
pub const FIXED_DECIMALS: u32 = 8;
/// `10^FIXED_DECIMALS`: the raw value of one whole unit.
pub const FIXED_SCALE: i64 = 100_000_000;

/// Why a decimal could not become a fixed-point value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FixedError {
    /// The input was empty.
    #[error("empty decimal")]
    Empty,
    /// A byte that is not a digit, sign or the one decimal point, at this offset.
    #[error("invalid character at byte {0}")]
    InvalidChar(usize),
    /// More than [`FIXED_DECIMALS`] non-zero fractional digits.
    #[error("more than {FIXED_DECIMALS} significant decimals")]
    TooPrecise,
    /// The value does not fit in 64 bits at eight decimals.
    #[error("value out of range")]
    Overflow,
}

/// Parses `[-+]digits[.digits]` into a raw value at [`FIXED_DECIMALS`], without floats.
/// Trailing zeros beyond eight decimals are accepted (`"1.000000000"`), other digits are not.
pub fn parse_fixed(input: &[u8]) -> Result<i64, FixedError> {
    if input.is_empty() {
        return Err(FixedError::Empty);
    }
    let (negative, digits_start) = match input[0] {
        b'-' => (true, 1),
        b'+' => (false, 1),
        _ => (false, 0),
    };
    let mut value: i64 = 0;
    let mut frac_digits: u32 = 0;
    let mut seen_point = false;
    let mut seen_digit = false;
    for (offset, &byte) in input.iter().enumerate().skip(digits_start) {
        match byte {
            b'0'..=b'9' => {
                seen_digit = true;
                let digit = i64::from(byte - b'0');
                if seen_point {
                    if frac_digits == FIXED_DECIMALS {
                        if digit != 0 {
                            return Err(FixedError::TooPrecise);
                        }
                        continue;
                    }
                    frac_digits += 1;
                }
                value = value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(digit))
                    .ok_or(FixedError::Overflow)?;
            }
            b'.' if !seen_point => seen_point = true,
            _ => return Err(FixedError::InvalidChar(offset)),
        }
    }
    if !seen_digit {
        return Err(FixedError::Empty);
    }
    let scaled = value
        .checked_mul(10_i64.pow(FIXED_DECIMALS - frac_digits))
        .ok_or(FixedError::Overflow)?;
    Ok(if negative { -scaled } else { scaled })
}

/// Writes a raw fixed value as a decimal with trailing fractional zeros trimmed.
/// The longest decimal text of a fixed-point value: a sign, 11 integer digits (`i64::MIN` is
/// -92,233,720,368.54775808), the point and 8 decimals.
pub const FIXED_TEXT_MAX: usize = 21;

/// Writes `raw` (at [`FIXED_DECIMALS`] implied decimals) as the shortest exact decimal into the
/// end of `buf` and returns it: no trailing zeros after the point, no point for a whole number,
/// `-` for a negative value. The one formatter behind `Display` and the CSV writers.
fn fixed_ascii(raw: i64, buf: &mut [u8; FIXED_TEXT_MAX]) -> &[u8] {
    let abs = raw.unsigned_abs();
    let scale = FIXED_SCALE as u64;
    let (mut int, mut frac) = (abs / scale, abs % scale);
    let mut pos = FIXED_TEXT_MAX;
    if frac != 0 {
        let mut digits = FIXED_DECIMALS;
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        for _ in 0..digits {
            pos -= 1;
            buf[pos] = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        pos -= 1;
        buf[pos] = b'.';
    }
    loop {
        pos -= 1;
        buf[pos] = b'0' + (int % 10) as u8;
        int /= 10;
        if int == 0 {
            break;
        }
    }
    if raw < 0 {
        pos -= 1;
        buf[pos] = b'-';
    }
    &buf[pos..]
}

fn format_fixed(raw: i64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut buf = [0; FIXED_TEXT_MAX];
    // The buffer holds ASCII digits, '.' and '-' only.
    f.write_str(core::str::from_utf8(fixed_ascii(raw, &mut buf)).map_err(|_| fmt::Error)?)
}

macro_rules! fixed_point {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[repr(transparent)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Zero.
            pub const ZERO: Self = Self(0);
            /// One whole unit.
            pub const ONE: Self = Self(FIXED_SCALE);
            /// The largest representable value.
            pub const MAX: Self = Self(i64::MAX);
            /// The smallest representable value.
            pub const MIN: Self = Self(i64::MIN);

            /// From a raw value at [`FIXED_DECIMALS`] decimals.
            #[inline]
            pub const fn from_raw(raw: i64) -> Self {
                Self(raw)
            }

            /// The raw value at [`FIXED_DECIMALS`] decimals.
            #[inline]
            pub const fn raw(self) -> i64 {
                self.0
            }

            /// The value's decimal text (what `Display` writes), written into `buf` without
            /// allocating or going through `fmt`: for writers of many values, such as CSV.
            #[inline]
            pub fn ascii(self, buf: &mut [u8; FIXED_TEXT_MAX]) -> &[u8] {
                fixed_ascii(self.0, buf)
            }

            /// From a whole number of units; `None` on overflow.
            #[inline]
            pub const fn from_units(units: i64) -> Option<Self> {
                match units.checked_mul(FIXED_SCALE) {
                    Some(raw) => Some(Self(raw)),
                    None => None,
                }
            }

            /// From an integer with `decimals` implied decimals (e.g. an ITCH `Price(4)` field
            /// with `decimals = 4`); `None` on overflow or when `decimals` exceeds eight.
            #[inline]
            pub const fn from_scaled(value: i64, decimals: u32) -> Option<Self> {
                if decimals > FIXED_DECIMALS {
                    return None;
                }
                match value.checked_mul(10_i64.pow(FIXED_DECIMALS - decimals)) {
                    Some(raw) => Some(Self(raw)),
                    None => None,
                }
            }

            /// The value as an integer with `decimals` implied decimals, if it is exact there.
            #[inline]
            pub const fn to_scaled(self, decimals: u32) -> Option<i64> {
                if decimals > FIXED_DECIMALS {
                    return None;
                }
                let div = 10_i64.pow(FIXED_DECIMALS - decimals);
                if self.0 % div == 0 { Some(self.0 / div) } else { None }
            }

            /// Parses a decimal string (see [`parse_fixed`]).
            #[inline]
            pub fn parse_bytes(input: &[u8]) -> Result<Self, FixedError> {
                parse_fixed(input).map(Self)
            }

            /// `self + rhs`, `None` on overflow.
            #[inline]
            pub const fn checked_add(self, rhs: Self) -> Option<Self> {
                match self.0.checked_add(rhs.0) {
                    Some(raw) => Some(Self(raw)),
                    None => None,
                }
            }

            /// `self - rhs`, `None` on overflow.
            #[inline]
            pub const fn checked_sub(self, rhs: Self) -> Option<Self> {
                match self.0.checked_sub(rhs.0) {
                    Some(raw) => Some(Self(raw)),
                    None => None,
                }
            }

            /// `self * n` for an integer count, `None` on overflow.
            #[inline]
            pub const fn checked_mul_int(self, n: i64) -> Option<Self> {
                match self.0.checked_mul(n) {
                    Some(raw) => Some(Self(raw)),
                    None => None,
                }
            }

            /// `self - rhs`, clamped at zero (for quantities that must not go negative).
            #[inline]
            pub const fn saturating_sub_floor_zero(self, rhs: Self) -> Self {
                let v = self.0.saturating_sub(rhs.0);
                Self(if v < 0 { 0 } else { v })
            }

            /// Whether the value is zero.
            #[inline]
            pub const fn is_zero(self) -> bool {
                self.0 == 0
            }

            /// Whether the value is strictly positive.
            #[inline]
            pub const fn is_positive(self) -> bool {
                self.0 > 0
            }

            /// Lossy conversion for signals and reports, never for book or OMS arithmetic.
            #[inline]
            pub fn to_f64(self) -> f64 {
                self.0 as f64 / FIXED_SCALE as f64
            }

            /// Exact conversion to `rust_decimal` (configuration, reports).
            pub fn to_decimal(self) -> Decimal {
                Decimal::new(self.0, FIXED_DECIMALS)
            }

            /// Exact conversion from `rust_decimal`; fails when the value has more than eight
            /// significant decimals or does not fit.
            pub fn from_decimal(value: Decimal) -> Result<Self, FixedError> {
                let normalized = value.normalize();
                if normalized.scale() > FIXED_DECIMALS {
                    return Err(FixedError::TooPrecise);
                }
                let scaled = normalized
                    .checked_mul(Decimal::from(FIXED_SCALE))
                    .ok_or(FixedError::Overflow)?;
                let raw = i64::try_from(scaled.mantissa() / 10_i128.pow(scaled.scale()))
                    .map_err(|_| FixedError::Overflow)?;
                Ok(Self(raw))
            }
        }

        impl FromStr for $name {
            type Err = FixedError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse_bytes(s.as_bytes())
            }
        }

        impl TryFrom<Decimal> for $name {
            type Error = FixedError;
            fn try_from(value: Decimal) -> Result<Self, Self::Error> {
                Self::from_decimal(value)
            }
        }

        impl From<$name> for Decimal {
            fn from(value: $name) -> Decimal {
                value.to_decimal()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                format_fixed(self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(", stringify!($name))?;
                format_fixed(self.0, f)?;
                write!(f, ")")
            }
        }
    };
}

fixed_point!(
    /// A price at eight implied decimals. Never `f64` in a book or the OMS.
    Price
);
fixed_point!(
    /// A quantity (shares, contracts, coins) at eight implied decimals.
    Qty
);

/// `price * qty` as an exact notional at 16 implied decimals (no overflow for any pair of
/// 64-bit inputs).
#[inline]
pub const fn notional_raw(price: Price, qty: Qty) -> i128 {
    price.raw() as i128 * qty.raw() as i128
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!("123.45".parse::<Price>().unwrap().raw(), 12_345_000_000);
        assert_eq!("-0.5".parse::<Price>().unwrap().raw(), -50_000_000);
        assert_eq!("7".parse::<Qty>().unwrap(), Qty::from_units(7).unwrap());
        assert_eq!("0.00000001".parse::<Qty>().unwrap().raw(), 1);
        assert_eq!("1.000000000".parse::<Qty>().unwrap(), Qty::ONE);
        assert_eq!(Price::from_raw(12_345_000_000).to_string(), "123.45");
        assert_eq!(Price::from_raw(-1).to_string(), "-0.00000001");
        assert_eq!(Price::from_units(3).unwrap().to_string(), "3");
    }

    /// The plain reference: integer and eight-digit fraction, then trailing zeros and a bare
    /// point trimmed.
    fn reference_text(raw: i64) -> String {
        let abs = raw.unsigned_abs();
        let text = format!(
            "{}.{:08}",
            abs / FIXED_SCALE as u64,
            abs % FIXED_SCALE as u64
        );
        let text = text.trim_end_matches('0').trim_end_matches('.');
        if raw < 0 {
            format!("-{text}")
        } else {
            text.to_owned()
        }
    }

    #[test]
    fn text_at_the_edges() {
        for raw in [
            0,
            1,
            -1,
            10,
            100_000_000,
            -100_000_000,
            i64::MAX,
            i64::MIN,
            1_234_500_000,
        ] {
            let mut buf = [0; FIXED_TEXT_MAX];
            assert_eq!(
                Price::from_raw(raw).ascii(&mut buf),
                reference_text(raw).as_bytes()
            );
            assert_eq!(Qty::from_raw(raw).to_string(), reference_text(raw));
        }
        assert_eq!(Price::MIN.to_string(), "-92233720368.54775808");
        assert_eq!(Price::MIN.to_string().len(), FIXED_TEXT_MAX);
    }

    proptest! {
        #[test]
        fn text_matches_the_reference(raw in any::<i64>(), small in -10_000_000_000i64..10_000_000_000) {
            for r in [raw, small, small * 1_000_000] {
                let mut buf = [0; FIXED_TEXT_MAX];
                let want = reference_text(r);
                prop_assert_eq!(Price::from_raw(r).ascii(&mut buf), want.as_bytes());
                prop_assert_eq!(Price::from_raw(r).to_string(), want);
            }
        }
    }

    #[test]
    fn rejects_bad_input_with_position() {
        assert_eq!(Price::parse_bytes(b""), Err(FixedError::Empty));
        assert_eq!(Price::parse_bytes(b"-"), Err(FixedError::Empty));
        assert_eq!(
            Price::parse_bytes(b"1.2.3"),
            Err(FixedError::InvalidChar(3))
        );
        assert_eq!(Price::parse_bytes(b"12a"), Err(FixedError::InvalidChar(2)));
        assert_eq!(
            Price::parse_bytes(b"0.000000001"),
            Err(FixedError::TooPrecise)
        );
        assert_eq!(
            Price::parse_bytes(b"99999999999999999999"),
            Err(FixedError::Overflow)
        );
    }

    #[test]
    fn scaled_conversions() {
        assert_eq!(
            Price::from_scaled(1_234_500, 4).unwrap().to_string(),
            "123.45"
        );
        assert_eq!(Price::from_scaled(1, 9), None);
        assert_eq!(Price::from_scaled(i64::MAX, 0), None);
        assert_eq!(
            "123.45".parse::<Price>().unwrap().to_scaled(4),
            Some(1_234_500)
        );
        assert_eq!("0.00001".parse::<Price>().unwrap().to_scaled(4), None);
    }

    #[test]
    fn checked_arithmetic_never_wraps() {
        assert_eq!(Price::MAX.checked_add(Price::from_raw(1)), None);
        assert_eq!(Qty::MIN.checked_sub(Qty::from_raw(1)), None);
        assert_eq!(
            Qty::from_raw(5).saturating_sub_floor_zero(Qty::from_raw(9)),
            Qty::ZERO
        );
        assert_eq!(
            notional_raw(Price::MAX, Qty::MAX),
            i64::MAX as i128 * i64::MAX as i128
        );
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(raw in any::<i64>().prop_filter("MIN has no positive twin", |r| *r != i64::MIN)) {
            let p = Price::from_raw(raw);
            prop_assert_eq!(p.to_string().parse::<Price>().unwrap(), p);
        }

        #[test]
        fn decimal_round_trip(raw in any::<i64>()) {
            let q = Qty::from_raw(raw);
            prop_assert_eq!(Qty::from_decimal(q.to_decimal()).unwrap(), q);
        }

        #[test]
        fn checked_add_matches_i128(a in any::<i64>(), b in any::<i64>()) {
            let wide = a as i128 + b as i128;
            let expected = i64::try_from(wide).ok().map(Price::from_raw);
            prop_assert_eq!(Price::from_raw(a).checked_add(Price::from_raw(b)), expected);
        }

        #[test]
        fn scaled_round_trip(v in -10_000_000_000_i64..10_000_000_000, d in 0_u32..=8) {
            let p = Price::from_scaled(v, d).unwrap();
            prop_assert_eq!(p.to_scaled(d), Some(v));
        }
    }
}
