//! Multi-level depth imbalance with level weights:
//! `sum_i w_i (bid_qty_i - ask_qty_i) / sum_i w_i (bid_qty_i + ask_qty_i)` over the first levels.

use kestrel_core::{BookUpdate, TOP_LEVELS};

use super::imbalance::imbalance;
use super::quote::Quote;

/// Default level weights: `1 / (level + 1)`, so the top level counts most.
pub const DEFAULT_DEPTH_WEIGHTS: [f64; TOP_LEVELS] = [
    1.0,
    1.0 / 2.0,
    1.0 / 3.0,
    1.0 / 4.0,
    1.0 / 5.0,
    1.0 / 6.0,
    1.0 / 7.0,
    1.0 / 8.0,
    1.0 / 9.0,
    1.0 / 10.0,
];

/// Weighted imbalance of the visible depth. Missing levels count as zero quantity; negative or
/// non-finite weights are treated as zero.
#[derive(Clone, Copy, Debug)]
pub struct DepthImbalance {
    weights: [f64; TOP_LEVELS],
    value: Option<f64>,
}

impl Default for DepthImbalance {
    fn default() -> Self {
        Self::new(DEFAULT_DEPTH_WEIGHTS)
    }
}

impl DepthImbalance {
    /// A signal with the given per-level weights (level 0 is the best).
    pub fn new(weights: [f64; TOP_LEVELS]) -> Self {
        let mut w = weights;
        for x in &mut w {
            if !x.is_finite() || *x < 0.0 {
                *x = 0.0;
            }
        }
        Self {
            weights: w,
            value: None,
        }
    }

    /// Recomputes from the book after `u` (O(levels)).
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        self.update_with(u, &Quote::of(&u.top));
    }

    /// As [`Self::update`], with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub fn update_with(&mut self, u: &BookUpdate, q: &Quote) {
        if !q.state.is_normal() {
            self.value = None;
            return;
        }
        let mut b = 0.0;
        let mut a = 0.0;
        for (w, lvl) in self.weights.iter().zip(u.top.side(kestrel_core::Side::Buy)) {
            b += w * lvl.qty.raw() as f64;
        }
        for (w, lvl) in self
            .weights
            .iter()
            .zip(u.top.side(kestrel_core::Side::Sell))
        {
            a += w * lvl.qty.raw() as f64;
        }
        self.set_sums(b, a);
    }

    /// The per-level weights (non-negative, finite).
    #[inline]
    pub(crate) fn weights(&self) -> &[f64; TOP_LEVELS] {
        &self.weights
    }

    /// Sets the value from the weighted bid and ask sums of a normal book (the caller scanned
    /// the levels with [`Self::weights`]).
    #[inline]
    pub(crate) fn set_sums(&mut self, bid: f64, ask: f64) {
        self.value = imbalance(bid, ask);
    }

    /// The current weighted imbalance in `[-1, 1]`.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}
