//! DBN prices (signed 64-bit at 1e-9) to Kestrel's fixed point (1e-8), exactly or not at all.

use kestrel_core::Price;

use super::error::DbnErrorKind;

/// A DBN price as a [`Price`]: `None` for `UNDEF_PRICE` (no level); an error when the last
/// (ninth) decimal is not zero.
#[inline]
pub fn dbn_price(raw: i64) -> Result<Option<Price>, DbnErrorKind> {
    if raw == ::dbn::UNDEF_PRICE {
        return Ok(None);
    }
    if raw % 10 != 0 {
        return Err(DbnErrorKind::TooPrecise(raw));
    }
    Ok(Some(Price::from_raw(raw / 10)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(
            dbn_price(3_720_250_000_000),
            Ok(Some("3720.25".parse().unwrap()))
        );
        assert_eq!(dbn_price(-10), Ok(Some(Price::from_raw(-1))));
        assert_eq!(dbn_price(::dbn::UNDEF_PRICE), Ok(None));
        assert_eq!(dbn_price(1), Err(DbnErrorKind::TooPrecise(1)));
    }
}
