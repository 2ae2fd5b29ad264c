//! Microprice (size-weighted best bid/ask) and weighted mid (average of the volume-weighted
//! bid and ask prices over the first levels).

use kestrel_core::{BookUpdate, Side};

use super::book_scan::Reciprocals;
use super::quote::Quote;

/// Current microprice and weighted mid.
#[derive(Clone, Copy, Debug)]
pub struct Microprice {
    levels: usize,
    micro: Option<f64>,
    weighted_mid: Option<f64>,
    mid: Option<f64>,
    offset_bps: Option<f64>,
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
            offset_bps: None,
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
            self.offset_bps = None;
            return;
        }
        let bid = vwap_sums(u, Side::Buy, self.levels);
        let ask = vwap_sums(u, Side::Sell, self.levels);
        self.set_scanned(q, &Reciprocals::of(q), bid, ask);
    }

    /// Levels per side in the weighted mid.
    #[inline]
    pub(crate) fn levels(&self) -> usize {
        self.levels
    }

    /// Sets the values for a normal book from the `(sum price * qty, sum qty)` of the first
    /// [`Self::levels`] levels of each side, in raw units (the caller scanned them), and the
    /// book's shared reciprocals. No division but the weighted mid's one.
    #[inline]
    pub(crate) fn set_scanned(
        &mut self,
        q: &Quote,
        r: &Reciprocals,
        bid: (f64, f64),
        ask: (f64, f64),
    ) {
        let (b, a) = (q.bid.to_f64(), q.ask.to_f64());
        // Only the ratio of the sizes matters: raw units.
        let (bq, aq) = (q.bid_qty.raw() as f64, q.ask_qty.raw() as f64);
        let mid = q.mid();
        self.mid = Some(mid);
        let micro = if r.inv_top_qty > 0.0 {
            (b * aq + a * bq) * r.inv_top_qty
        } else {
            0.5 * (b + a)
        };
        self.micro = micro.is_finite().then_some(micro);
        // `1 / mid = 2 * FIXED_SCALE / (bid + ask)` in raw units.
        let inv_mid = r.inv_mid2 * (2.0 * kestrel_core::FIXED_SCALE as f64);
        self.offset_bps = match self.micro {
            Some(m) if mid > 0.0 => Some((m - mid) * inv_mid * 1e4),
            _ => None,
        };
        self.weighted_mid = weighted_mid(bid, ask);
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
        self.offset_bps
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

/// Average of the bid and ask volume-weighted prices from their raw-unit `(sum price * qty,
/// sum qty)`, over one common denominator:
/// `(pq_b / q_b + pq_a / q_a) / 2 = (pq_b q_a + pq_a q_b) / (2 q_b q_a)` (one division).
#[inline]
fn weighted_mid(bid: (f64, f64), ask: (f64, f64)) -> Option<f64> {
    let ((bpq, bq), (apq, aq)) = (bid, ask);
    if bq > 0.0 && aq > 0.0 {
        let v = (bpq * aq + apq * bq) / (bq * aq) * (0.5 / kestrel_core::FIXED_SCALE as f64);
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
