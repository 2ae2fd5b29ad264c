//! The order-rate throttle: a token bucket refilled continuously in integer arithmetic.

/// Tokens are kept in nano-tokens (1e9 per order) so refills stay exact at any rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    rate_per_s: u64,
    capacity: u64,
    nano_tokens: u64,
    last_ns: u64,
    started: bool,
}

const NANO: u64 = 1_000_000_000;

impl TokenBucket {
    /// A full bucket of `burst` orders refilled at `rate` orders per second.
    pub fn new(rate: u32, burst: u32) -> Self {
        let capacity = u64::from(burst.max(1)) * NANO;
        Self {
            rate_per_s: u64::from(rate),
            capacity,
            nano_tokens: capacity,
            last_ns: 0,
            started: false,
        }
    }

    /// Changes the rate and burst (tokens held are capped at the new burst).
    pub fn set_rate(&mut self, rate: u32, burst: u32) {
        self.rate_per_s = u64::from(rate);
        self.capacity = u64::from(burst.max(1)) * NANO;
        self.nano_tokens = self.nano_tokens.min(self.capacity);
    }

    fn refill(&mut self, now_ns: u64) {
        if !self.started {
            self.started = true;
            self.last_ns = now_ns;
            return;
        }
        let dt = now_ns.saturating_sub(self.last_ns);
        self.last_ns = self.last_ns.max(now_ns);
        let add = u128::from(dt) * u128::from(self.rate_per_s);
        self.nano_tokens =
            (u128::from(self.nano_tokens) + add).min(u128::from(self.capacity)) as u64;
    }

    /// Takes one order's token if there is one.
    #[inline]
    pub fn try_take(&mut self, now_ns: u64) -> bool {
        self.refill(now_ns);
        if self.nano_tokens >= NANO {
            self.nano_tokens -= NANO;
            true
        } else {
            false
        }
    }

    /// Whole tokens available at `now_ns` (without taking any).
    pub fn available(&mut self, now_ns: u64) -> u64 {
        self.refill(now_ns);
        self.nano_tokens / NANO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_rate() {
        let mut b = TokenBucket::new(10, 3);
        let t0 = 1_000_000_000;
        assert!(b.try_take(t0));
        assert!(b.try_take(t0));
        assert!(b.try_take(t0));
        assert!(!b.try_take(t0), "burst spent");
        assert!(
            !b.try_take(t0 + 50_000_000),
            "half a token after 50 ms at 10/s"
        );
        assert!(b.try_take(t0 + 100_000_000), "one token after 100 ms");
        assert_eq!(b.available(t0 + 10_000_000_000), 3, "capped at the burst");
        // Time going backwards refills nothing and does not panic.
        assert_eq!(b.available(t0), 3);
    }
}
