//! One pass over the visible levels of one side of the book, gathering what the depth
//! imbalance, the weighted mid and the liquidity band each need (instead of three passes).

use kestrel_core::{LevelView, TOP_LEVELS};

/// Sums over one side's levels, best first.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct SideScan {
    /// `sum_i w_i * qty_i` in raw quantity units (depth imbalance).
    pub weighted_qty: f64,
    /// `sum price_i * qty_i` over the first `vwap_levels` levels, raw units (weighted mid).
    pub vwap_pq: f64,
    /// `sum qty_i` over the first `vwap_levels` levels, raw units (weighted mid).
    pub vwap_q: f64,
    /// Quantity of the levels up to the first one outside the band, raw units (liquidity),
    /// exact (at most ten `i64` quantities never overflow `i128`).
    pub band_qty: i128,
}

/// Scans `levels` once. A level is inside the band while `inside(price_raw)` holds, up to the
/// first level where it does not (levels are best first). Each sum accumulates in the same
/// order as the separate passes did, so the results are identical to them.
#[inline(always)]
pub(crate) fn scan_side(
    levels: &[LevelView],
    weights: &[f64; TOP_LEVELS],
    vwap_levels: usize,
    inside: impl Fn(i64) -> bool,
) -> SideScan {
    let mut s = SideScan::default();
    // The weighted mid's levels first, then the rest: no per-level test of the level index.
    let (head, tail) = levels.split_at(vwap_levels.min(levels.len()));
    let (w_head, w_tail) = weights.split_at(head.len().min(TOP_LEVELS));
    for (w, lvl) in w_head.iter().zip(head) {
        let qty_raw = lvl.qty.raw();
        let qty = qty_raw as f64;
        s.weighted_qty += w * qty;
        s.vwap_pq += lvl.price.raw() as f64 * qty;
        s.vwap_q += qty;
    }
    for (w, lvl) in w_tail.iter().zip(tail) {
        let qty_raw = lvl.qty.raw();
        s.weighted_qty += w * qty_raw as f64;
    }
    // The band: the levels before the first one outside it (best first), usually a few, so
    // a short loop of its own instead of a test and an overflow flag on every level.
    for lvl in levels {
        if !inside(lvl.price.raw()) {
            break;
        }
        s.band_qty += i128::from(lvl.qty.raw());
    }
    s
}

/// `sum_i w_i * qty_i` over `levels` in raw quantity units, best first: the depth imbalance's
/// sum alone, accumulated in the same order as [`scan_side`]'s `weighted_qty` (same value).
#[inline(always)]
pub(crate) fn weighted_qty(levels: &[LevelView], weights: &[f64; TOP_LEVELS]) -> f64 {
    let mut sum = 0.0;
    for (w, lvl) in weights.iter().zip(levels) {
        sum += w * lvl.qty.raw() as f64;
    }
    sum
}

/// The two denominators several signals of a normal book share, inverted once: the mid
/// (spread in bps, liquidity spread term, microprice offset) and the quantity at the top
/// (top imbalance, microprice).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Reciprocals {
    /// `1 / (bid + ask)` in raw price units (`1 / (2 mid)`); infinite or negative where
    /// `bid + ask` is not positive.
    pub inv_mid2: f64,
    /// `1 / (bid_qty + ask_qty)` in raw quantity units; `0.0` when that is not positive.
    pub inv_top_qty: f64,
}

impl Reciprocals {
    /// The reciprocals of `q` (two divisions).
    #[inline]
    pub fn of(q: &super::quote::Quote) -> Self {
        let total = q.bid_qty.raw() as f64 + q.ask_qty.raw() as f64;
        Self {
            inv_mid2: 1.0 / super::i128_to_f64(q.mid_raw2()),
            inv_top_qty: if total > 0.0 { 1.0 / total } else { 0.0 },
        }
    }

    /// Only the top quantity's reciprocal (one division), what the top imbalance needs;
    /// `inv_mid2` is NaN (not to be read).
    #[inline]
    pub fn of_top_qty(q: &super::quote::Quote) -> Self {
        let total = q.bid_qty.raw() as f64 + q.ask_qty.raw() as f64;
        Self {
            inv_mid2: f64::NAN,
            inv_top_qty: if total > 0.0 { 1.0 / total } else { 0.0 },
        }
    }

    /// Spread in bps of the mid: `2e4 (ask - bid) / (bid + ask)`.
    #[inline]
    pub fn spread_bps(&self, q: &super::quote::Quote) -> f64 {
        2e4 * (q.ask.raw() as f64 - q.bid.raw() as f64) * self.inv_mid2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::{Price, Qty};
    use proptest::prelude::*;

    proptest! {
        /// The band quantity is the exact sum over the levels before the first one outside
        /// the band (the reference: `take_while` summed in `i128`), quantities up to `i64::MAX`
        /// included; the other sums are those of a plain pass over the levels.
        #[test]
        fn one_pass_sums_equal_plain_passes(
            levels in prop::collection::vec((1i64..1_000, prop_oneof![0i64..1_000, Just(i64::MAX)]), 0..=TOP_LEVELS),
            vwap_levels in 0usize..12,
            limit in 0i64..1_000,
        ) {
            let levels: Vec<LevelView> = levels
                .into_iter()
                .map(|(p, q)| LevelView { price: Price::from_raw(p), qty: Qty::from_raw(q) })
                .collect();
            let weights: [f64; TOP_LEVELS] = core::array::from_fn(|i| 1.0 / (i + 1) as f64);
            let s = scan_side(&levels, &weights, vwap_levels, |p| p >= limit);
            let band: i128 = levels
                .iter()
                .take_while(|l| l.price.raw() >= limit)
                .map(|l| i128::from(l.qty.raw()))
                .sum();
            prop_assert_eq!(s.band_qty, band);
            let mut w = 0.0;
            let (mut pq, mut q) = (0.0, 0.0);
            for (i, l) in levels.iter().enumerate() {
                w += weights[i] * l.qty.raw() as f64;
                if i < vwap_levels {
                    pq += l.price.raw() as f64 * l.qty.raw() as f64;
                    q += l.qty.raw() as f64;
                }
            }
            prop_assert_eq!(s.weighted_qty.to_bits(), w.to_bits());
            prop_assert_eq!((s.vwap_pq.to_bits(), s.vwap_q.to_bits()), (pq.to_bits(), q.to_bits()));
        }
    }
}
