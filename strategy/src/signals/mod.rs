//! Microstructure signals, updated incrementally once per book update.
//!
//! One file per signal; each holds its state and has an `update(&BookUpdate)` method (O(1) or
//! O(levels), no allocation after construction). [`SignalSet`] updates them all per instrument
//! and publishes a `Copy` [`SignalValues`]. Books that are empty, one-sided, locked or crossed are
//! classified by [`quote::Quote`] and give no price-based values; non-finite values are clamped
//! to zero and counted in [`SignalStats`].

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

/// `x as f64`, through `i64` when it fits (the common case; a full 128-bit conversion is a
/// software routine).
#[inline]
pub fn i128_to_f64(x: i128) -> f64 {
    match i64::try_from(x) {
        Ok(v) => v as f64,
        Err(_) => x as f64,
    }
}
