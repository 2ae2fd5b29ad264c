//! Microprice (size-weighted best bid/ask) and weighted mid (average of the volume-weighted
//! bid and ask prices over the first levels).

use kestrel_core::{BookUpdate, Side};

use super::quote::Quote;

/// Current microprice and weighted mid.
#[derive(Clone, Copy, Debug)]
pub struct Microprice {
    levels: usize,
    micro: Option<f64>,
    weighted_mid: Option<f64>,
    mid: Option<f64>,
}

impl Default for Microprice {
    fn default() -> Self {
        Self::new(5)
    }
}

impl Microprice {
    /// Weighted mid over the first `levels` levels per side (1..=10).
    pub fn new(levels: usize) -> Self {
        Self {
            levels: levels.clamp(1, kestrel_core::TOP_LEVELS),
            micro: None,
            weighted_mid: None,
            mid: None,
        }
    }

    /// Recomputes from the book after `u`.
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        self.update_with(u, &Quote::of(&u.top));
    }

    /// As [`Self::update`], with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub fn update_with(&mut self, u: &BookUpdate, q: &Quote) {
        if !q.state.is_normal() {
            self.micro = None;
            self.weighted_mid = None;
            self.mid = None;
            return;
        }
        let bid = vwap_sums(u, Side::Buy, self.levels);
        let ask = vwap_sums(u, Side::Sell, self.levels);
        self.set_scanned(q, bid, ask);
    }

    /// Levels per side in the weighted mid.
    #[inline]
    pub(crate) fn levels(&self) -> usize {
        self.levels
    }

    /// Sets the values for a normal book from the `(sum price * qty, sum qty)` of the first
    /// [`Self::levels`] levels of each side, in raw units (the caller scanned them).
    #[inline]
    pub(crate) fn set_scanned(&mut self, q: &Quote, bid: (f64, f64), ask: (f64, f64)) {
        let (b, a) = (q.bid.to_f64(), q.ask.to_f64());
        // Only the ratio of the sizes matters: raw units avoid two divisions.
        let (bq, aq) = (q.bid_qty.raw() as f64, q.ask_qty.raw() as f64);
        self.mid = Some(q.mid());
        self.micro = microprice(b, bq, a, aq);
        let bv = vwap(bid.0, bid.1);
        let av = vwap(ask.0, ask.1);
        self.weighted_mid = match (bv, av) {
            (Some(x), Some(y)) => Some(0.5 * (x + y)),
            _ => None,
        };
    }

    /// `(bid * ask_qty + ask * bid_qty) / (bid_qty + ask_qty)`.
    #[inline]
    pub fn microprice(&self) -> Option<f64> {
        self.micro
    }

    /// Average of the volume-weighted bid and ask prices.
    #[inline]
    pub fn weighted_mid(&self) -> Option<f64> {
        self.weighted_mid
    }

    /// Plain mid of the last normal book.
    #[inline]
    pub fn mid(&self) -> Option<f64> {
        self.mid
    }

    /// `(microprice - mid) / mid` in basis points.
    #[inline]
    pub fn micro_offset_bps(&self) -> Option<f64> {
        match (self.micro, self.mid) {
            (Some(m), Some(mid)) if mid > 0.0 => Some((m - mid) / mid * 1e4),
            _ => None,
        }
    }
}

/// The microprice; the plain mid when both sizes are zero.
#[inline]
pub fn microprice(bid: f64, bid_qty: f64, ask: f64, ask_qty: f64) -> Option<f64> {
    let total = bid_qty + ask_qty;
    let v = if total > 0.0 {
        (bid * ask_qty + ask * bid_qty) / total
    } else {
        0.5 * (bid + ask)
    };
    v.is_finite().then_some(v)
}

/// `(sum price * qty, sum qty)` of the first `levels` levels of one side, raw units.
fn vwap_sums(u: &BookUpdate, side: Side, levels: usize) -> (f64, f64) {
    let mut pq = 0.0;
    let mut q = 0.0;
    for lvl in u.top.side(side).iter().take(levels) {
        let qty = lvl.qty.raw() as f64;
        pq += lvl.price.raw() as f64 * qty;
        q += qty;
    }
    (pq, q)
}

/// Volume-weighted price from raw-unit sums (one scaling at the end).
#[inline]
fn vwap(pq: f64, q: f64) -> Option<f64> {
    if q > 0.0 {
        let v = pq / q * (1.0 / kestrel_core::FIXED_SCALE as f64);
        v.is_finite().then_some(v)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microprice_leans_to_the_thin_side() {
        // 300 on the bid, 100 on the ask: the price leans toward the ask.
        assert_eq!(microprice(100.0, 300.0, 101.0, 100.0), Some(100.75));
        assert_eq!(microprice(100.0, 0.0, 101.0, 0.0), Some(100.5));
    }
}
