//! VPIN (Easley, Lopez de Prado & O'Hara): volume-synchronised probability of informed trading.
//!
//! Traded volume fills buckets of `bucket_volume`; each bucket records `|buy - sell|`. VPIN is
//! `sum |buy - sell| / (n * bucket_volume)` over the last `n <= buckets` completed buckets.
//! A trade's buy share comes from its aggressor ([`VpinClassification::Aggressor`]) or from bulk
//! volume classification, `Phi(dp / sigma_dp)` with `dp` the change from the previous trade price
//! and `sigma_dp` an EWMA of `dp^2` ([`VpinClassification::Bulk`]).
//!
//! Every print's volume counts once. In aggressor mode a print whose aggressor is unknown
//! (non-displayed executions, crosses) is left out and counted: it is neither a buy nor a sell.
//! Bulk classification needs no aggressor and takes every print. A break takes its print's
//! volume back out of the buckets that hold it (found by match number among the last
//! [`PRINT_MEMORY`] prints); bucket boundaries stay where they were.

use kestrel_core::BookUpdate;

use super::ring::Ring;
use crate::normal::normal_cdf;

/// How a trade's volume is split between buys and sells.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VpinClassification {
    /// The trade's aggressor sign (prints with an unknown aggressor are left out).
    #[default]
    Aggressor,
    /// Bulk volume classification from trade-to-trade price changes.
    Bulk,
}

/// Prints remembered for breaks.
pub const PRINT_MEMORY: usize = 256;

/// One completed bucket's buy and sell volume.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Bucket {
    buy: f64,
    sell: f64,
}

impl Bucket {
    #[inline]
    fn imbalance(&self) -> f64 {
        (self.buy - self.sell).abs()
    }
}

/// Where a print's volume went: `first_take` into bucket `first_bucket`, then whole buckets,
/// then the rest, `recorded` in all, split by `buy_share`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct PrintRecord {
    match_number: u64,
    first_bucket: u64,
    first_take: f64,
    recorded: f64,
    buy_share: f64,
}

/// VPIN state.
#[derive(Clone, Debug)]
pub struct Vpin {
    bucket_volume: f64,
    mode: VpinClassification,
    buckets: Ring<Bucket>,
    /// Buckets completed so far (the open bucket's number).
    completed: u64,
    sum_abs: f64,
    cur_buy: f64,
    cur_sell: f64,
    last_trade_price: Option<f64>,
    dp_var: f64,
    prints: Ring<PrintRecord>,
    unknown: u64,
    breaks_applied: u64,
}

/// EWMA weight of the newest squared price change in bulk classification.
const BULK_DP_ALPHA: f64 = 0.05;

impl Vpin {
    /// `buckets` buckets of `bucket_volume` (quantity units; non-positive becomes 1).
    pub fn new(bucket_volume: f64, buckets: usize, mode: VpinClassification) -> Self {
        let bucket_volume = if bucket_volume.is_finite() && bucket_volume > 0.0 {
            bucket_volume
        } else {
            1.0
        };
        Self {
            bucket_volume,
            mode,
            buckets: Ring::new(buckets),
            completed: 0,
            sum_abs: 0.0,
            cur_buy: 0.0,
            cur_sell: 0.0,
            last_trade_price: None,
            dp_var: 0.0,
            prints: Ring::new(PRINT_MEMORY),
            unknown: 0,
            breaks_applied: 0,
        }
    }

    /// Adds the print carried by `u`, if any, or takes back the print a break names. O(buckets)
    /// at worst (a trade spanning more buckets than the window holds fills the window once,
    /// since older buckets would be evicted anyway).
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        if u.trade.is_break() {
            self.take_back(u.trade.match_number);
            return;
        }
        if !u.trade.is_print() {
            return;
        }
        let qty = u.trade.qty.to_f64();
        if !super::is_positive_finite(qty) {
            return;
        }
        let Some(buy_share) = self.buy_share(u.trade.aggressor, u.trade.price.to_f64()) else {
            self.unknown += 1;
            return;
        };
        self.add_volume(qty, buy_share, u.trade.match_number);
    }

    /// The buy share of a print; `None` when the mode needs an aggressor and it is unknown.
    fn buy_share(&mut self, aggressor: i8, price: f64) -> Option<f64> {
        Some(match self.mode {
            VpinClassification::Aggressor => match aggressor {
                1 => 1.0,
                -1 => 0.0,
                _ => return None,
            },
            VpinClassification::Bulk => {
                let share = match self.last_trade_price {
                    Some(prev) => {
                        let dp = price - prev;
                        let share = if self.dp_var > 0.0 {
                            normal_cdf(dp / self.dp_var.sqrt())
                        } else if dp > 0.0 {
                            1.0
                        } else if dp < 0.0 {
                            0.0
                        } else {
                            0.5
                        };
                        self.dp_var = (1.0 - BULK_DP_ALPHA) * self.dp_var + BULK_DP_ALPHA * dp * dp;
                        share
                    }
                    None => 0.5,
                };
                self.last_trade_price = Some(price);
                if share.is_finite() { share } else { 0.5 }
            }
        })
    }

    fn add_volume(&mut self, qty: f64, buy_share: f64, match_number: u64) {
        let v = self.bucket_volume;
        let mut remaining = qty;
        // Skip whole buckets that would be evicted before this trade is done.
        let room = v - (self.cur_buy + self.cur_sell);
        let cap = self.buckets.capacity() as f64;
        if remaining > room + v * (cap + 1.0) {
            let skip = ((remaining - room) / v).floor() - cap;
            if skip > 0.0 {
                remaining -= skip * v;
            }
        }
        let mut record = PrintRecord {
            match_number,
            first_bucket: self.completed,
            first_take: remaining.min(room),
            recorded: remaining,
            buy_share,
        };
        let mut guard = self.buckets.capacity() + 3;
        while remaining > 0.0 && guard > 0 {
            guard -= 1;
            let room = v - (self.cur_buy + self.cur_sell);
            let take = remaining.min(room);
            self.cur_buy += take * buy_share;
            self.cur_sell += take * (1.0 - buy_share);
            remaining -= take;
            if self.cur_buy + self.cur_sell >= v * (1.0 - 1e-12) {
                let bucket = Bucket {
                    buy: self.cur_buy,
                    sell: self.cur_sell,
                };
                if let Some(old) = self.buckets.push(bucket) {
                    self.sum_abs -= old.imbalance();
                }
                self.sum_abs += bucket.imbalance();
                self.completed += 1;
                self.cur_buy = 0.0;
                self.cur_sell = 0.0;
            }
        }
        record.recorded -= remaining;
        if match_number != 0 {
            self.prints.push(record);
        }
    }

    /// A break: the print's volume leaves the buckets that hold it (those still in the
    /// window, and the open one).
    fn take_back(&mut self, match_number: u64) {
        if match_number == 0 {
            return;
        }
        let Some(at) = self
            .prints
            .rposition(|p| p.match_number == match_number && p.recorded > 0.0)
        else {
            return;
        };
        let Some(p) = self.prints.get_mut(at) else {
            return;
        };
        let record = *p;
        p.recorded = 0.0;
        self.breaks_applied += 1;
        let v = self.bucket_volume;
        let mut left = record.recorded;
        let mut bucket = record.first_bucket;
        let mut take = record.first_take.min(left);
        let oldest_held = self.completed - self.buckets.len() as u64;
        while left > 0.0 && bucket <= self.completed {
            let (buy, sell) = (take * record.buy_share, take * (1.0 - record.buy_share));
            if bucket == self.completed {
                self.cur_buy = (self.cur_buy - buy).max(0.0);
                self.cur_sell = (self.cur_sell - sell).max(0.0);
            } else if bucket >= oldest_held
                && let Some(b) = self.buckets.get_mut((bucket - oldest_held) as usize)
            {
                self.sum_abs -= b.imbalance();
                b.buy = (b.buy - buy).max(0.0);
                b.sell = (b.sell - sell).max(0.0);
                self.sum_abs += b.imbalance();
            }
            left -= take;
            bucket += 1;
            take = left.min(v);
        }
        self.sum_abs = self.sum_abs.max(0.0);
    }

    /// Prints left out for an unknown aggressor (aggressor mode).
    #[inline]
    pub fn unknown_aggressor(&self) -> u64 {
        self.unknown
    }

    /// Breaks that took a print's volume back.
    #[inline]
    pub fn breaks_applied(&self) -> u64 {
        self.breaks_applied
    }

    /// VPIN over the completed buckets in the window, `None` before the first bucket completes.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        let n = self.buckets.len();
        if n == 0 {
            return None;
        }
        let v = (self.sum_abs / (n as f64 * self.bucket_volume)).clamp(0.0, 1.0);
        v.is_finite().then_some(v)
    }

    /// `|buy - sell|` of the completed buckets in the window, oldest first.
    pub fn bucket_imbalances(&self) -> impl Iterator<Item = f64> + '_ {
        self.buckets.iter().map(|b| b.imbalance())
    }

    /// The bucket volume.
    pub fn bucket_volume(&self) -> f64 {
        self.bucket_volume
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::{Price, Qty, TradeKind, TradePrint};

    #[test]
    fn hand_computed_buckets() {
        let mut v = Vpin::new(100.0, 2, VpinClassification::Aggressor);
        // 150 bought: bucket 1 = 100 buy (|B-S| = 100), 50 carried.
        v.add_volume(150.0, 1.0, 0);
        assert_eq!(v.value(), Some(1.0));
        // 50 sold: bucket 2 = 50 buy + 50 sell (|B-S| = 0).
        v.add_volume(50.0, 0.0, 0);
        assert_eq!(v.value(), Some(0.5));
        // A huge sell fills the whole window with one-sided buckets.
        v.add_volume(10_000.0, 0.0, 0);
        assert_eq!(v.value(), Some(1.0));
        assert_eq!(v.bucket_imbalances().count(), 2);
    }

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
    fn unknown_aggressors_are_not_sells() {
        let mut v = Vpin::new(100.0, 4, VpinClassification::Aggressor);
        v.update(&print(100, 1, TradeKind::Execution, 1));
        // Before the fix a P's unknown aggressor went in half and half (and, with its `B` side
        // byte, as a sell): now it is left out.
        v.update(&print(100, 0, TradeKind::NonDisplayed, 2));
        v.update(&print(100, 0, TradeKind::Cross, 3));
        assert_eq!(v.value(), Some(1.0));
        assert_eq!(v.unknown_aggressor(), 2);
        // Bulk classification needs no aggressor: every print's volume counts once.
        let mut b = Vpin::new(100.0, 4, VpinClassification::Bulk);
        b.update(&print(100, 0, TradeKind::NonDisplayed, 2));
        b.update(&print(100, 0, TradeKind::Cross, 3));
        assert_eq!(b.bucket_imbalances().count(), 2);
        assert_eq!(b.unknown_aggressor(), 0);
    }

    #[test]
    fn a_break_takes_volume_back_from_the_buckets_that_hold_it() {
        let mut v = Vpin::new(100.0, 4, VpinClassification::Aggressor);
        v.update(&print(60, 1, TradeKind::Execution, 1));
        // 90 sold: 40 close bucket 1 (60 buy, 40 sell), 50 stay open.
        v.update(&print(90, -1, TradeKind::Execution, 2));
        assert_eq!(v.bucket_imbalances().collect::<Vec<_>>(), [20.0]);
        v.update(&print(0, 0, TradeKind::Break, 2));
        // Bucket 1 keeps its 60 buy only; the open bucket is empty again.
        assert_eq!(v.bucket_imbalances().collect::<Vec<_>>(), [60.0]);
        assert_eq!(v.breaks_applied(), 1);
        v.update(&print(100, -1, TradeKind::Execution, 3));
        assert_eq!(v.bucket_imbalances().collect::<Vec<_>>(), [60.0, 100.0]);
        // Unknown or repeated breaks change nothing.
        v.update(&print(0, 0, TradeKind::Break, 2));
        v.update(&print(0, 0, TradeKind::Break, 77));
        assert_eq!(v.breaks_applied(), 1);
    }
}
