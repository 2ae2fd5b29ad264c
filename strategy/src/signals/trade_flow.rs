//! Trade-flow imbalance: `(buy volume - sell volume) / (buy volume + sell volume)` over the last
//! N prints with a known aggressor. Integer running sums: exact.
//!
//! Prints whose aggressor is unknown (non-displayed executions, crosses) are counted and left
//! out: they are neither buys nor sells. A break takes its print back out of the window (found
//! by match number; the slot stays, emptied), so the window keeps its trade count.

use kestrel_core::{BookUpdate, FIXED_SCALE};

use super::i128_to_f64;
use super::ring::Ring;

/// One print in the window: signed raw quantity and the venue's match number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Entry {
    signed: i128,
    match_number: u64,
}

/// Signed-volume imbalance over a window of trades.
#[derive(Clone, Debug)]
pub struct TradeFlowImbalance {
    trades: Ring<Entry>,
    signed: i128,
    total: i128,
    unknown: u64,
    breaks_applied: u64,
}

impl TradeFlowImbalance {
    /// A window of the last `trades` trades.
    pub fn new(trades: usize) -> Self {
        Self {
            trades: Ring::new(trades),
            signed: 0,
            total: 0,
            unknown: 0,
            breaks_applied: 0,
        }
    }

    /// Adds the print carried by `u`, if any, or takes back the print a break names. Prints
    /// with an unknown aggressor are counted and skipped.
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        if u.trade.is_break() {
            self.take_back(u.trade.match_number);
            return;
        }
        if !u.trade.is_print() {
            return;
        }
        let Some(signed) = u.trade.signed_qty() else {
            self.unknown += 1;
            return;
        };
        let signed = i128::from(signed);
        let entry = Entry {
            signed,
            match_number: u.trade.match_number,
        };
        if let Some(old) = self.trades.push(entry) {
            self.signed -= old.signed;
            self.total -= old.signed.abs();
        }
        self.signed += signed;
        self.total += signed.abs();
    }

    /// A break: the print `match_number` leaves the sums if it is still in the window (match
    /// number 0 means the venue gives none: nothing to find).
    fn take_back(&mut self, match_number: u64) {
        if match_number == 0 {
            return;
        }
        let Some(at) = self
            .trades
            .rposition(|e| e.match_number == match_number && e.signed != 0)
        else {
            return;
        };
        if let Some(e) = self.trades.get_mut(at) {
            self.signed -= e.signed;
            self.total -= e.signed.abs();
            e.signed = 0;
            self.breaks_applied += 1;
        }
    }

    /// The imbalance in `[-1, 1]`, `None` before the first trade.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        (self.total > 0).then(|| i128_to_f64(self.signed) / i128_to_f64(self.total))
    }

    /// Net signed volume over the window, in quantity units.
    #[inline]
    pub fn net_volume(&self) -> f64 {
        i128_to_f64(self.signed) * (1.0 / FIXED_SCALE as f64)
    }

    /// Prints skipped for an unknown aggressor.
    #[inline]
    pub fn unknown_aggressor(&self) -> u64 {
        self.unknown
    }

    /// Breaks that took a print out of the window.
    #[inline]
    pub fn breaks_applied(&self) -> u64 {
        self.breaks_applied
    }

    /// Signed raw quantities in the window, oldest first (a broken print is 0).
    pub fn window(&self) -> impl Iterator<Item = i128> + '_ {
        self.trades.iter().map(|e| e.signed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::{Price, Qty, TradeKind, TradePrint};

    fn print(qty: i64, aggressor: i8, kind: TradeKind, match_number: u64) -> BookUpdate {
        BookUpdate {
            trade: TradePrint {
                price: Price::ONE,
                qty: Qty::from_units(qty).unwrap(),
                match_number,
                aggressor,
                kind,
            },
            ..BookUpdate::default()
        }
    }

    #[test]
    fn unknown_aggressors_are_neither_buys_nor_sells() {
        let mut t = TradeFlowImbalance::new(10);
        t.update(&print(100, 1, TradeKind::Execution, 1));
        // A non-displayed print and a cross: volume, no sign.
        t.update(&print(500, 0, TradeKind::NonDisplayed, 2));
        t.update(&print(900, 0, TradeKind::Cross, 3));
        assert_eq!(t.value(), Some(1.0));
        assert_eq!(t.unknown_aggressor(), 2);
        t.update(&print(100, -1, TradeKind::Execution, 4));
        assert_eq!(t.value(), Some(0.0));
    }

    #[test]
    fn a_break_takes_its_print_back() {
        let mut t = TradeFlowImbalance::new(10);
        t.update(&print(100, 1, TradeKind::Execution, 7));
        t.update(&print(300, -1, TradeKind::Execution, 8));
        assert_eq!(t.value(), Some(-0.5));
        t.update(&print(0, 0, TradeKind::Break, 8));
        assert_eq!(t.value(), Some(1.0));
        assert_eq!(t.breaks_applied(), 1);
        // Breaking it again, or an unknown match, changes nothing.
        t.update(&print(0, 0, TradeKind::Break, 8));
        t.update(&print(0, 0, TradeKind::Break, 99));
        assert_eq!(t.breaks_applied(), 1);
        assert_eq!(t.window().collect::<Vec<_>>(), [100 * 100_000_000, 0]);
    }
}
