//! Microstructure signals, updated incrementally once per book update.
//!
//! One file per signal; each holds its state and has an `update(&BookUpdate)` method (O(1) or
//! O(levels), no allocation after construction). [`SignalSet`] updates them all per instrument
//! and publishes a `Copy` [`SignalValues`]. Books that are empty, one-sided, locked or crossed are
//! classified by [`quote::Quote`] and give no price-based values; non-finite values are clamped
//! to zero and counted in [`SignalStats`].

mod book_scan;
pub mod depth;
pub mod imbalance;
pub mod kyle;
pub mod liquidity;
pub mod microprice;
pub mod ofi;
pub mod quote;
pub mod regime;
pub mod ring;
pub mod set;
pub mod spread;
pub mod stats;
pub mod trade_flow;
pub mod volatility;
pub mod vpin;

pub use quote::{BookState, Quote};
pub use regime::{RegimeConfig, TrendRegime, VolRegime};
pub use set::{InstrumentSignals, SignalConfig, SignalSet, SignalValues};
pub use stats::SignalStats;
pub use vpin::VpinClassification;

/// Whether `x` is finite and strictly positive (NaN is not).
#[inline]
pub fn is_positive_finite(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// `x` as `f64` without the 128-bit software conversion routine: exact to rounding when `x` fits
/// in `i64` (the common case), within a couple of ulps otherwise (high and low halves converted
/// separately). Written so the compiler cannot fold both arms back into `x as f64`.
#[inline]
pub fn i128_to_f64(x: i128) -> f64 {
    match i64::try_from(x) {
        Ok(v) => v as f64,
        Err(_) => wide_i128_to_f64(x),
    }
}

/// [`i128_to_f64`] beyond `i64`: out of line, so that the many inlined conversions on the
/// strategy's hot path carry one call instead of this arm each.
#[cold]
#[inline(never)]
fn wide_i128_to_f64(x: i128) -> f64 {
    let hi = (x >> 64) as i64;
    let lo = x as u64;
    hi as f64 * 18_446_744_073_709_551_616.0 + lo as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i128_conversion_is_close() {
        for x in [
            0i128,
            1,
            -1,
            i64::MAX as i128,
            i64::MIN as i128,
            1 << 70,
            -(3 << 90) + 12345,
            i128::MAX,
            i128::MIN,
        ] {
            let exact = x as f64;
            let fast = i128_to_f64(x);
            assert!(
                (fast - exact).abs() <= exact.abs() * 1e-15,
                "{x}: {fast} vs {exact}"
            );
        }
    }
}
