//! Bid-ask spread in ticks and in basis points of the mid.
//!
//! Ticks follow the instrument's [`TickRule`]: the same market gives the same spread in ticks
//! whether it came through LOBSTER or raw ITCH (both use the US equity rule).

use kestrel_core::{BookUpdate, TickRule};

use super::i128_to_f64;
use super::quote::Quote;

/// Current spread of a normal book.
#[derive(Clone, Copy, Debug)]
pub struct Spread {
    rule: TickRule,
    ticks: Option<f64>,
    bps: Option<f64>,
}

impl Spread {
    /// Spread counted in the ticks of `rule` (a fixed non-positive tick gives no tick count).
    pub fn new(rule: TickRule) -> Self {
        Self {
            rule,
            ticks: None,
            bps: None,
        }
    }

    /// The spread `width` (raw price units) of `q` in ticks.
    #[inline]
    fn in_ticks(&self, q: &Quote, width: i128) -> Option<f64> {
        let tick = self.rule.spread_tick(q.bid, q.ask).raw();
        (tick > 0).then(|| i128_to_f64(width) / tick as f64)
    }

    /// Recomputes from the book after `u`.
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        self.update_with(u, &Quote::of(&u.top));
    }

    /// As [`Self::update`], with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub fn update_with(&mut self, _u: &BookUpdate, q: &Quote) {
        if !q.state.is_normal() {
            self.ticks = None;
            self.bps = None;
            return;
        }
        let width = i128::from(q.ask.raw()) - i128::from(q.bid.raw());
        self.ticks = self.in_ticks(q, width);
        let mid2 = q.mid_raw2();
        self.bps = (mid2 > 0).then(|| 2.0 * i128_to_f64(width) / i128_to_f64(mid2) * 1e4);
    }

    /// As [`Self::update_with`] for a normal book, the bps from the shared spread in bps
    /// ([`super::book_scan::Reciprocals::spread_bps`]; one division for the ticks only).
    #[inline]
    pub(crate) fn set_normal(&mut self, q: &Quote, spread_bps: f64) {
        let width = i128::from(q.ask.raw()) - i128::from(q.bid.raw());
        self.ticks = self.in_ticks(q, width);
        self.bps = (q.mid_raw2() > 0).then_some(spread_bps);
    }

    /// Spread in ticks.
    #[inline]
    pub fn ticks(&self) -> Option<f64> {
        self.ticks
    }

    /// Spread in basis points of the mid.
    #[inline]
    pub fn bps(&self) -> Option<f64> {
        self.bps
    }
}
