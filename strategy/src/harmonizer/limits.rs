//! Hard limits: position and notional caps per instrument, order size, and the order-rate token
//! bucket on event time. The daily loss limit lives with the P&L in [`super::book`]; these all
//! sit under every other sizing rule.

use kestrel_core::Price;

use super::decision::Binding;
use crate::params::LimitParams;

/// Order-rate limiter: `capacity` tokens, refilled at `rate` per second of event time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenBucket {
    tokens: f64,
    capacity: f64,
    per_ns: f64,
    last_ns: Option<u64>,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate_per_s: f64, burst: u32) -> Self {
        let capacity = f64::from(burst);
        Self {
            tokens: capacity,
            capacity,
            per_ns: rate_per_s * 1e-9,
            last_ns: None,
        }
    }

    /// Applies new rate and capacity (tokens held are capped at the new capacity).
    pub fn reconfigure(&mut self, rate_per_s: f64, burst: u32) {
        self.capacity = f64::from(burst);
        self.per_ns = rate_per_s * 1e-9;
        self.tokens = self.tokens.min(self.capacity);
    }

    fn refill(&mut self, now_ns: u64) {
        if let Some(last) = self.last_ns {
            // Time that goes backwards refills nothing.
            let elapsed = now_ns.saturating_sub(last) as f64;
            self.tokens = (self.tokens + elapsed * self.per_ns).min(self.capacity);
        }
        self.last_ns = Some(self.last_ns.map_or(now_ns, |l| l.max(now_ns)));
    }

    /// Whether a token is available at `now_ns` (refills, takes nothing).
    pub fn available(&mut self, now_ns: u64) -> bool {
        self.refill(now_ns);
        self.tokens >= 1.0
    }

    /// Takes one token at `now_ns` if there is one.
    pub fn try_take(&mut self, now_ns: u64) -> bool {
        self.refill(now_ns);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Event time started again from `now_ns` (a new capture day, the next file of a replay):
    /// refills count from `now_ns`, the tokens held stay (a reset never adds tokens).
    pub fn rebase(&mut self, now_ns: u64) {
        self.last_ns = Some(now_ns);
    }

    /// Tokens now held.
    pub fn tokens(&self) -> f64 {
        self.tokens
    }
}

/// The largest absolute position (raw quantity) the position and notional limits allow at
/// `price`, and which of the two is the tighter. A non-positive price allows nothing.
pub fn position_cap(limits: &LimitParams, price: Price) -> (i64, Binding) {
    if price.raw() <= 0 {
        return (0, Binding::Notional);
    }
    let by_notional = limits.max_notional.raw16() / i128::from(price.raw());
    let by_notional = i64::try_from(by_notional).unwrap_or(i64::MAX);
    let by_position = limits.max_position.raw();
    if by_notional < by_position {
        (by_notional, Binding::Notional)
    } else {
        (by_position, Binding::Position)
    }
}

/// Rounds a raw quantity toward zero to a multiple of `lot` (raw, > 0).
#[inline]
pub fn round_to_lot(raw: i64, lot: i64) -> i64 {
    if lot <= 0 { raw } else { raw / lot * lot }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Money;
    use kestrel_core::Qty;

    const S: u64 = 1_000_000_000;

    #[test]
    fn bucket_bursts_then_refills_on_event_time() {
        let mut b = TokenBucket::new(2.0, 3);
        assert!(b.try_take(0) && b.try_take(0) && b.try_take(0));
        assert!(!b.try_take(0));
        assert!(!b.try_take(S / 4)); // 0.5 token
        assert!(b.try_take(S / 2)); // 1 token
        assert!(!b.try_take(S / 2));
        // Time going backwards refills nothing.
        assert!(!b.try_take(0));
        assert!(b.try_take(10 * S));
        assert!((b.tokens() - 2.0).abs() < 1e-9, "capped at the capacity");
    }

    #[test]
    fn a_rebased_bucket_refills_from_the_new_time_without_a_bonus() {
        let mut b = TokenBucket::new(1.0, 1);
        assert!(b.try_take(50_000 * S));
        // Back to the start of a day: jitter refills nothing and the bucket waits...
        assert!(!b.try_take(34_200 * S));
        assert!(!b.try_take(34_201 * S));
        // ...for the old time, unless event time is rebased.
        b.rebase(34_200 * S);
        assert!(!b.try_take(34_200 * S), "a rebase adds no token");
        assert!(b.try_take(34_201 * S));
    }

    #[test]
    fn caps_by_position_or_notional() {
        let limits = LimitParams {
            max_position: Qty::from_units(100).unwrap(),
            max_notional: Money::from_raw(5_000 * 100_000_000),
            max_order_qty: Qty::from_units(10).unwrap(),
            orders_per_second: 1.0,
            order_burst: 1,
            daily_loss: Money::from_raw(1),
        };
        let (cap, b) = position_cap(&limits, Price::from_units(20).unwrap());
        assert_eq!(
            (cap, b),
            (Qty::from_units(100).unwrap().raw(), Binding::Position)
        );
        let (cap, b) = position_cap(&limits, Price::from_units(200).unwrap());
        assert_eq!(
            (cap, b),
            (Qty::from_units(25).unwrap().raw(), Binding::Notional)
        );
        assert_eq!(position_cap(&limits, Price::ZERO).0, 0);
        assert_eq!(round_to_lot(-1234, 100), -1200);
        assert_eq!(round_to_lot(1299, 100), 1200);
    }
}
