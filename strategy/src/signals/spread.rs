//! Bid-ask spread in ticks and in basis points of the mid.

use kestrel_core::{BookUpdate, Price};

use super::quote::Quote;

/// Current spread of a normal book.
#[derive(Clone, Copy, Debug)]
pub struct Spread {
    tick: Price,
    ticks: Option<f64>,
    bps: Option<f64>,
}

impl Spread {
    /// Spread measured against `tick` (a non-positive tick gives no tick count).
    pub fn new(tick: Price) -> Self {
        Self {
            tick,
            ticks: None,
            bps: None,
        }
    }

    /// Recomputes from the book after `u`.
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        let q = Quote::of(&u.top);
        if !q.state.is_normal() {
            self.ticks = None;
            self.bps = None;
            return;
        }
        let width = i128::from(q.ask.raw()) - i128::from(q.bid.raw());
        self.ticks = (self.tick.raw() > 0).then(|| width as f64 / self.tick.raw() as f64);
        let mid2 = q.mid_raw2();
        self.bps = (mid2 > 0).then(|| 2.0 * width as f64 / mid2 as f64 * 1e4);
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
