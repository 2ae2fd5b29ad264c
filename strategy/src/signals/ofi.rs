//! Order-flow imbalance (Cont, Kukanov & Stoikov, 2014) over an event window and a time window.
//!
//! Each book update with a normal book before and after it contributes
//! `e_n = 1{Pb_n >= Pb_n-1} qb_n - 1{Pb_n <= Pb_n-1} qb_n-1 - 1{Pa_n <= Pa_n-1} qa_n + 1{Pa_n >= Pa_n-1} qa_n-1`
//! (raw fixed-point quantity, exact in `i128`). OFI is the sum of `e_n` over the window; the
//! normalised OFI divides it by the window's mean top depth `(qb + qa) / 2`. Running sums are
//! integers, so the incremental value equals a recomputation from the window exactly.

use kestrel_core::{BookUpdate, FIXED_SCALE};

use super::i128_to_f64;
use super::quote::Quote;
use super::ring::Ring;

/// One OFI contribution with the top depth it was measured at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OfiEntry {
    /// Event time (exchange timestamp, ns).
    pub ts: u64,
    /// `e_n` in raw quantity units.
    pub e: i128,
    /// `qb_n + qa_n` in raw quantity units (twice the mean depth).
    pub depth2: i128,
}

/// `e_n` for the move from `prev` to `cur` (both must be normal books).
#[inline]
pub fn ofi_contribution(prev: &Quote, cur: &Quote) -> i128 {
    let mut e = 0i128;
    if cur.bid >= prev.bid {
        e += i128::from(cur.bid_qty.raw());
    }
    if cur.bid <= prev.bid {
        e -= i128::from(prev.bid_qty.raw());
    }
    if cur.ask <= prev.ask {
        e -= i128::from(cur.ask_qty.raw());
    }
    if cur.ask >= prev.ask {
        e += i128::from(prev.ask_qty.raw());
    }
    e
}

/// Windowed sums of OFI entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OfiSums {
    /// Sum of `e_n`.
    pub e: i128,
    /// Sum of `qb + qa`.
    pub depth2: i128,
    /// Number of entries.
    pub n: usize,
}

impl OfiSums {
    #[inline]
    fn add(&mut self, x: &OfiEntry) {
        self.e += x.e;
        self.depth2 += x.depth2;
        self.n += 1;
    }

    #[inline]
    fn sub(&mut self, x: &OfiEntry) {
        self.e -= x.e;
        self.depth2 -= x.depth2;
        self.n = self.n.saturating_sub(1);
    }

    /// OFI in quantity units.
    #[inline]
    pub fn ofi(&self) -> f64 {
        i128_to_f64(self.e) / FIXED_SCALE as f64
    }

    /// OFI divided by the mean top depth over the window; zero when there is no depth.
    #[inline]
    pub fn normalized(&self) -> f64 {
        if self.depth2 <= 0 || self.n == 0 {
            return 0.0;
        }
        // mean depth = depth2 / (2 n)
        i128_to_f64(self.e) * 2.0 * self.n as f64 / i128_to_f64(self.depth2)
    }

    /// The sums recomputed from a list of entries (the direct reference).
    pub fn direct(entries: impl Iterator<Item = OfiEntry>) -> Self {
        let mut s = Self::default();
        for x in entries {
            s.add(&x);
        }
        s
    }
}

/// OFI over the last `events` contributions and over the last `window_ns` of exchange time.
#[derive(Clone, Debug)]
pub struct OrderFlowImbalance {
    prev: Option<Quote>,
    events: Ring<OfiEntry>,
    event_sums: OfiSums,
    timed: Ring<OfiEntry>,
    time_sums: OfiSums,
    window_ns: u64,
    overflows: u64,
}

impl OrderFlowImbalance {
    /// Windows of `events` contributions and `window_ns` nanoseconds; the time window holds at
    /// most `time_capacity` entries (older ones are dropped early and counted when it is full).
    pub fn new(events: usize, window_ns: u64, time_capacity: usize) -> Self {
        Self {
            prev: None,
            events: Ring::new(events),
            event_sums: OfiSums::default(),
            timed: Ring::new(time_capacity),
            time_sums: OfiSums::default(),
            window_ns,
            overflows: 0,
        }
    }

    /// Adds the contribution of `u`. A non-normal book contributes nothing and breaks the chain
    /// (the next normal book starts afresh); time still expires old entries.
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        self.update_with(u, &Quote::of(&u.top));
    }

    /// As [`Self::update`], with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub fn update_with(&mut self, u: &BookUpdate, cur: &Quote) {
        let now = u.exch_ts.nanos();
        self.expire(now);
        if !cur.state.is_normal() {
            self.prev = None;
            return;
        }
        if let Some(prev) = self.prev {
            let entry = OfiEntry {
                ts: now,
                e: ofi_contribution(&prev, cur),
                depth2: i128::from(cur.bid_qty.raw()) + i128::from(cur.ask_qty.raw()),
            };
            if let Some(old) = self.events.push(entry) {
                self.event_sums.sub(&old);
            }
            self.event_sums.add(&entry);
            if let Some(old) = self.timed.push(entry) {
                self.time_sums.sub(&old);
                self.overflows += 1;
            }
            self.time_sums.add(&entry);
        }
        self.prev = Some(*cur);
    }

    fn expire(&mut self, now: u64) {
        while let Some(old) = self.timed.oldest() {
            if now.saturating_sub(old.ts) < self.window_ns {
                break;
            }
            self.time_sums.sub(&old);
            self.timed.pop_oldest();
        }
    }

    /// Sums over the event window.
    #[inline]
    pub fn event_window(&self) -> OfiSums {
        self.event_sums
    }

    /// Sums over the time window.
    #[inline]
    pub fn time_window(&self) -> OfiSums {
        self.time_sums
    }

    /// Entries in the event window, oldest first.
    pub fn event_entries(&self) -> impl Iterator<Item = OfiEntry> + '_ {
        self.events.iter()
    }

    /// Entries in the time window, oldest first.
    pub fn time_entries(&self) -> impl Iterator<Item = OfiEntry> + '_ {
        self.timed.iter()
    }

    /// Entries dropped from the time window before their time because its ring was full.
    #[inline]
    pub fn time_overflows(&self) -> u64 {
        self.overflows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::{Price, Qty};

    fn q(bid: i64, bq: i64, ask: i64, aq: i64) -> Quote {
        Quote {
            bid: Price::from_raw(bid),
            ask: Price::from_raw(ask),
            bid_qty: Qty::from_raw(bq),
            ask_qty: Qty::from_raw(aq),
            state: super::super::quote::BookState::Normal,
        }
    }

    #[test]
    fn hand_computed_contributions() {
        let base = q(1000, 10, 1010, 20);
        // Same prices: e = dqb - dqa.
        assert_eq!(ofi_contribution(&base, &q(1000, 15, 1010, 18)), 5 + 2);
        // Bid up: e = qb_n; ask unchanged: -(qa_n - qa_prev) = 0.
        assert_eq!(ofi_contribution(&base, &q(1001, 7, 1010, 20)), 7);
        // Bid down: e = -qb_prev.
        assert_eq!(ofi_contribution(&base, &q(999, 30, 1010, 20)), -10);
        // Ask down: e = -qa_n.
        assert_eq!(ofi_contribution(&base, &q(1000, 10, 1009, 4)), -4);
        // Ask up: e = +qa_prev.
        assert_eq!(ofi_contribution(&base, &q(1000, 10, 1011, 50)), 20);
    }
}
