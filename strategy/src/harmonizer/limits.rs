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
    let notional = limits.max_notional.raw16();
    let by_position = limits.max_position.raw();
    // floor(notional / price) >= by_position exactly when notional >= by_position * price
    // (notional >= 0, price > 0; the product of two i64 fits an i128): the position limit is
    // the tighter one, known without dividing.
    if notional >= 0 && notional >= i128::from(by_position) * i128::from(price.raw()) {
        return (by_position, Binding::Position);
    }
    let by_notional = div_positive(notional, price.raw());
    let by_notional = i64::try_from(by_notional).unwrap_or(i64::MAX);
    if by_notional < by_position {
        (by_notional, Binding::Notional)
    } else {
        (by_position, Binding::Position)
    }
}

/// The highest raw price up to which [`position_cap`] returns the position limit by its
/// first test (`notional >= position * price`), for one set of limits: for a raw price `p`
/// with `0 < p <= position_binds_up_to(limits)`, `position_cap(limits, p)` is
/// `(max_position, Binding::Position)`; above it (or for `p <= 0`) call [`position_cap`].
/// Computed with the parameters, so a sizing step compares one price instead of
/// multiplying in `i128`: `notional >= P p` exactly when `p <= floor(notional / P)` for
/// `P > 0`, `notional >= 0` and an integer `p`; `P <= 0` binds at every positive price; a
/// negative notional never takes the first test.
pub fn position_binds_up_to(limits: &LimitParams) -> i64 {
    let notional = limits.max_notional.raw16();
    let by_position = limits.max_position.raw();
    if notional < 0 {
        0
    } else if by_position <= 0 {
        i64::MAX
    } else {
        i64::try_from(notional / i128::from(by_position)).unwrap_or(i64::MAX)
    }
}

/// Quotients below this take the estimated path of [`div_positive`]: the estimate is then
/// within four of the exact one.
const ESTIMATE_BELOW: f64 = 4_503_599_627_370_496.0; // 2^52

/// `n / d` (rounded toward zero) exactly as `i128` division gives it, without the 128-bit
/// division routine (about 60 instructions per call, once per decision): a numerator that
/// fits 64 bits divides in 64 bits; a larger one (a notional at 16 decimals above about
/// 1,800 currency units) takes the quotient's floating-point estimate, corrected by its
/// remainder to the exact quotient. A negative `n` or `d`, or a quotient of 2^52 or more,
/// divides in `i128`; `d = 0` gives 0.
#[inline]
pub fn div_positive(n: i128, d: i64) -> i128 {
    if n < 0 || d <= 0 {
        return if d == 0 { 0 } else { n / i128::from(d) };
    }
    let (hi, lo) = ((n >> 64) as u64, n as u64);
    let d64 = d as u64;
    if hi == 0 {
        return i128::from(lo / d64);
    }
    // n as f64 from its halves (no 128-bit conversion routine): two roundings.
    let estimate = (hi as f64 * TWO_POW_64 + lo as f64) / d as f64;
    if estimate >= ESTIMATE_BELOW {
        return n / i128::from(d);
    }
    // Four roundings of at most 2^-53 each and the truncation: |q - n/d| < 4 here, so each
    // correction below runs at most four times.
    let d128 = i128::from(d);
    let mut q = i128::from(estimate as i64);
    let mut r = n - q * d128;
    while r < 0 {
        q -= 1;
        r += d128;
    }
    while r >= d128 {
        q += 1;
        r -= d128;
    }
    debug_assert!(q == n / d128, "the corrected quotient is the exact one");
    q
}

/// 2^64 as a float.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// Rounds a raw quantity toward zero to a multiple of `lot` (raw, > 0).
#[inline]
pub fn round_to_lot(raw: i64, lot: i64) -> i64 {
    if lot <= 0 { raw } else { raw / lot * lot }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Money;
    use kestrel_core::{FIXED_SCALE, Qty};

    const S: u64 = 1_000_000_000;

    proptest::proptest! {
        /// The estimated quotient equals `i128` division everywhere: money-sized numerators
        /// (16-decimal notionals), small and huge ones, prices from one raw unit up.
        #[test]
        fn div_positive_is_i128_division(
            n in proptest::prop_oneof![
                0i128..1_000_000,
                0i128..(1i128 << 80),
                0i128..i128::MAX,
                (-(1i128 << 80))..0,
            ],
            d in proptest::prop_oneof![1i64..100, 1i64..(1i64 << 40), 1i64..i64::MAX],
        ) {
            proptest::prop_assert_eq!(div_positive(n, d), n / i128::from(d));
        }
    }

    /// `position_cap` as it was: one `i128` division, then the comparison.
    fn position_cap_reference(limits: &LimitParams, price: Price) -> (i64, Binding) {
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

    proptest::proptest! {
        /// Deciding the binding limit by a product, dividing only when the notional binds,
        /// gives the reference's cap and binding: both limits binding, ties, negative and
        /// huge limits, prices from one raw unit up.
        #[test]
        fn position_cap_equals_the_division_first_reference(
            position in proptest::prop_oneof![0i64..2_000_000_000_000, i64::MIN..i64::MAX],
            notional in proptest::prop_oneof![
                0i64..100_000_000_000_000,
                i64::MIN..i64::MAX,
            ],
            price in proptest::prop_oneof![-10i64..1_000_000_000_000, 1i64..i64::MAX],
            tie in proptest::option::of(-1i64..=1),
        ) {
            let (position, price) = match tie {
                // At a price of 1.0 the notional allows exactly its own raw value: a position
                // limit equal to it, or one raw unit either side.
                Some(delta) => (notional.saturating_add(delta), FIXED_SCALE),
                None => (position, price),
            };
            let limits = LimitParams {
                max_position: Qty::from_raw(position),
                max_notional: Money::from_raw(notional),
                max_order_qty: Qty::ONE,
                orders_per_second: 1.0,
                order_burst: 1,
                daily_loss: Money::from_raw(1),
            };
            let price = Price::from_raw(price);
            proptest::prop_assert_eq!(
                position_cap(&limits, price),
                position_cap_reference(&limits, price)
            );
        }
    }

    proptest::proptest! {
        /// Up to `position_binds_up_to` every positive price gets the position limit from
        /// `position_cap`, and the next raw price does not take `position_cap`'s first test
        /// (so the bound is the exact one): money-sized and extreme limits, ties.
        #[test]
        fn position_binds_up_to_is_position_caps_boundary(
            position in proptest::prop_oneof![1i64..2_000_000_000_000, i64::MIN..i64::MAX],
            notional in proptest::prop_oneof![
                0i64..100_000_000_000_000,
                i64::MIN..i64::MAX,
            ],
            below in 0i64..3,
            price in proptest::prop_oneof![-10i64..1_000_000_000_000, 1i64..i64::MAX],
        ) {
            let limits = LimitParams {
                max_position: Qty::from_raw(position),
                max_notional: Money::from_raw(notional),
                max_order_qty: Qty::ONE,
                orders_per_second: 1.0,
                order_burst: 1,
                daily_loss: Money::from_raw(1),
            };
            let to = position_binds_up_to(&limits);
            let binds = |p: i64| p > 0 && p <= to;
            for p in [price, to.saturating_sub(below), to, to.saturating_add(1)] {
                if binds(p) {
                    proptest::prop_assert_eq!(
                        position_cap(&limits, Price::from_raw(p)),
                        (position, Binding::Position)
                    );
                } else if p > 0 {
                    let n = limits.max_notional.raw16();
                    proptest::prop_assert!(
                        !(n >= 0 && n >= i128::from(position) * i128::from(p)),
                        "{p} takes the first test above the bound {to}"
                    );
                }
            }
        }
    }

    #[test]
    fn div_positive_edges() {
        for (n, d) in [
            (0, 1),
            (i128::MAX, 1),
            (i128::MAX, i64::MAX),
            ((1i128 << 52) * 7, 7),
            ((1i128 << 52) * 7 - 1, 7),
            (10_000_000_000_000_000_000_000, 10_000_000_000),
            (10_000_000_000_000_000_000_000 - 1, 10_000_000_000),
            (-5, 2),
        ] {
            assert_eq!(div_positive(n, d), n / i128::from(d), "{n} / {d}");
        }
        assert_eq!(div_positive(5, 0), 0);
    }

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
