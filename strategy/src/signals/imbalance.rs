//! Top-of-book imbalance: `(bid_qty - ask_qty) / (bid_qty + ask_qty)`, in `[-1, 1]`.

use kestrel_core::BookUpdate;

use super::book_scan::Reciprocals;
use super::quote::Quote;

/// Imbalance of the quantities at the best bid and ask. Positive: more bid than ask.
#[derive(Clone, Copy, Debug, Default)]
pub struct TopImbalance {
    value: Option<f64>,
}

impl TopImbalance {
    /// A signal with no value yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Recomputes from the book after `u`; no value unless the book is
    /// [`Normal`](super::quote::BookState::Normal) with some size at the top.
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        self.update_with(u, &Quote::of(&u.top));
    }

    /// As [`Self::update`], with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub fn update_with(&mut self, _u: &BookUpdate, q: &Quote) {
        self.value = if q.state.is_normal() {
            imbalance(q.bid_qty.raw() as f64, q.ask_qty.raw() as f64)
        } else {
            None
        };
    }

    /// As [`Self::update_with`] for a normal book, with the top quantity's reciprocal shared
    /// (no division).
    #[inline]
    pub(crate) fn set_normal(&mut self, q: &Quote, r: &Reciprocals) {
        let (b, a) = (q.bid_qty.raw() as f64, q.ask_qty.raw() as f64);
        self.value = if r.inv_top_qty > 0.0 {
            let v = (b - a) * r.inv_top_qty;
            v.is_finite().then_some(v.clamp(-1.0, 1.0))
        } else {
            None
        };
    }

    /// The current imbalance.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}

/// `(b - a) / (b + a)`, `None` when both are zero (or the result is not finite).
#[inline]
pub fn imbalance(b: f64, a: f64) -> Option<f64> {
    let total = b + a;
    if total <= 0.0 {
        return None;
    }
    let v = (b - a) / total;
    v.is_finite().then_some(v.clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        assert_eq!(imbalance(300.0, 100.0), Some(0.5));
        assert_eq!(imbalance(0.0, 100.0), Some(-1.0));
        assert_eq!(imbalance(0.0, 0.0), None);
    }
}
