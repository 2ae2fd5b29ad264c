//! Trade-flow imbalance: `(buy volume - sell volume) / (buy volume + sell volume)` over the last
//! N trades with a known aggressor. Integer running sums: exact.

use kestrel_core::{BookUpdate, FIXED_SCALE};

use super::i128_to_f64;
use super::ring::Ring;

/// Signed-volume imbalance over a window of trades.
#[derive(Clone, Debug)]
pub struct TradeFlowImbalance {
    trades: Ring<i128>,
    signed: i128,
    total: i128,
    unknown: u64,
}

impl TradeFlowImbalance {
    /// A window of the last `trades` trades.
    pub fn new(trades: usize) -> Self {
        Self {
            trades: Ring::new(trades),
            signed: 0,
            total: 0,
            unknown: 0,
        }
    }

    /// Adds the trade carried by `u`, if any (quantity zero means none). Trades with an unknown
    /// aggressor are counted and skipped.
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        let qty = i128::from(u.trade.qty.raw());
        if qty <= 0 {
            return;
        }
        let signed = match u.trade.aggressor {
            1 => qty,
            -1 => -qty,
            _ => {
                self.unknown += 1;
                return;
            }
        };
        if let Some(old) = self.trades.push(signed) {
            self.signed -= old;
            self.total -= old.abs();
        }
        self.signed += signed;
        self.total += qty;
    }

    /// The imbalance in `[-1, 1]`, `None` before the first trade.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        (self.total > 0).then(|| i128_to_f64(self.signed) / i128_to_f64(self.total))
    }

    /// Net signed volume over the window, in quantity units.
    #[inline]
    pub fn net_volume(&self) -> f64 {
        i128_to_f64(self.signed) / FIXED_SCALE as f64
    }

    /// Trades skipped for an unknown aggressor.
    #[inline]
    pub fn unknown_aggressor(&self) -> u64 {
        self.unknown
    }

    /// Signed raw quantities in the window, oldest first.
    pub fn window(&self) -> impl Iterator<Item = i128> + '_ {
        self.trades.iter()
    }
}
