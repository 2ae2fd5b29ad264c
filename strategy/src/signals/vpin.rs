//! VPIN (Easley, Lopez de Prado & O'Hara): volume-synchronised probability of informed trading.
//!
//! Traded volume fills buckets of `bucket_volume`; each bucket records `|buy - sell|`. VPIN is
//! `sum |buy - sell| / (n * bucket_volume)` over the last `n <= buckets` completed buckets.
//! A trade's buy share comes from its aggressor ([`VpinClassification::Aggressor`]) or from bulk
//! volume classification, `Phi(dp / sigma_dp)` with `dp` the change from the previous trade price
//! and `sigma_dp` an EWMA of `dp^2` ([`VpinClassification::Bulk`]).

use kestrel_core::BookUpdate;

use super::ring::Ring;
use crate::normal::normal_cdf;

/// How a trade's volume is split between buys and sells.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VpinClassification {
    /// The trade's aggressor sign (unknown aggressor: half and half).
    #[default]
    Aggressor,
    /// Bulk volume classification from trade-to-trade price changes.
    Bulk,
}

/// VPIN state.
#[derive(Clone, Debug)]
pub struct Vpin {
    bucket_volume: f64,
    mode: VpinClassification,
    buckets: Ring<f64>,
    sum_abs: f64,
    cur_buy: f64,
    cur_sell: f64,
    last_trade_price: Option<f64>,
    dp_var: f64,
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
            sum_abs: 0.0,
            cur_buy: 0.0,
            cur_sell: 0.0,
            last_trade_price: None,
            dp_var: 0.0,
        }
    }

    /// Adds the trade carried by `u`, if any. O(buckets) at worst (a trade spanning more buckets
    /// than the window holds fills the window once, since older buckets would be evicted anyway).
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        let qty = u.trade.qty.to_f64();
        if !super::is_positive_finite(qty) {
            return;
        }
        let buy_share = self.buy_share(u.trade.aggressor, u.trade.price.to_f64());
        self.add_volume(qty, buy_share);
    }

    fn buy_share(&mut self, aggressor: i8, price: f64) -> f64 {
        match self.mode {
            VpinClassification::Aggressor => match aggressor {
                1 => 1.0,
                -1 => 0.0,
                _ => 0.5,
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
        }
    }

    fn add_volume(&mut self, qty: f64, buy_share: f64) {
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
        let mut guard = self.buckets.capacity() + 3;
        while remaining > 0.0 && guard > 0 {
            guard -= 1;
            let room = v - (self.cur_buy + self.cur_sell);
            let take = remaining.min(room);
            self.cur_buy += take * buy_share;
            self.cur_sell += take * (1.0 - buy_share);
            remaining -= take;
            if self.cur_buy + self.cur_sell >= v * (1.0 - 1e-12) {
                let imbalance = (self.cur_buy - self.cur_sell).abs();
                if let Some(old) = self.buckets.push(imbalance) {
                    self.sum_abs -= old;
                }
                self.sum_abs += imbalance;
                self.cur_buy = 0.0;
                self.cur_sell = 0.0;
            }
        }
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
        self.buckets.iter()
    }

    /// The bucket volume.
    pub fn bucket_volume(&self) -> f64 {
        self.bucket_volume
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_buckets() {
        let mut v = Vpin::new(100.0, 2, VpinClassification::Aggressor);
        // 150 bought: bucket 1 = 100 buy (|B-S| = 100), 50 carried.
        v.add_volume(150.0, 1.0);
        assert_eq!(v.value(), Some(1.0));
        // 50 sold: bucket 2 = 50 buy + 50 sell (|B-S| = 0).
        v.add_volume(50.0, 0.0);
        assert_eq!(v.value(), Some(0.5));
        // A huge sell fills the whole window with one-sided buckets.
        v.add_volume(10_000.0, 0.0);
        assert_eq!(v.value(), Some(1.0));
        assert_eq!(v.bucket_imbalances().count(), 2);
    }
}
