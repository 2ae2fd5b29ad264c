//! The best bid and ask of a book, classified: the one place that decides whether a book is
//! fit for price-based signals.

use kestrel_core::{BookTop, Price, Qty};

/// What the top of a book looks like.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BookState {
    /// Both sides present, best bid strictly below best ask.
    #[default]
    Normal,
    /// No levels on either side.
    Empty,
    /// Levels on one side only.
    OneSided,
    /// Best bid equals best ask.
    Locked,
    /// Best bid above best ask.
    Crossed,
}

impl BookState {
    /// Whether price-based signals (mid, spread, imbalance) may be computed.
    #[inline]
    pub const fn is_normal(self) -> bool {
        matches!(self, BookState::Normal)
    }
}

/// Best bid and ask with sizes, and the book's [`BookState`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quote {
    /// Best bid price (zero when absent).
    pub bid: Price,
    /// Best ask price (zero when absent).
    pub ask: Price,
    /// Quantity at the best bid.
    pub bid_qty: Qty,
    /// Quantity at the best ask.
    pub ask_qty: Qty,
    /// Classification of the top of book.
    pub state: BookState,
}

impl Quote {
    /// Classifies the top of `top`.
    #[inline]
    pub fn of(top: &BookTop) -> Self {
        let bid = top.best_bid();
        let ask = top.best_ask();
        let (state, b, a) = match (bid, ask) {
            (None, None) => (BookState::Empty, Default::default(), Default::default()),
            (Some(b), None) => (BookState::OneSided, b, Default::default()),
            (None, Some(a)) => (BookState::OneSided, Default::default(), a),
            (Some(b), Some(a)) => {
                let state = if b.price < a.price {
                    BookState::Normal
                } else if b.price == a.price {
                    BookState::Locked
                } else {
                    BookState::Crossed
                };
                (state, b, a)
            }
        };
        Self {
            bid: b.price,
            ask: a.price,
            bid_qty: b.qty,
            ask_qty: a.qty,
            state,
        }
    }

    /// `bid + ask` in raw fixed-point units (twice the mid), exact.
    #[inline]
    pub fn mid_raw2(&self) -> i128 {
        i128::from(self.bid.raw()) + i128::from(self.ask.raw())
    }

    /// The mid price as `f64` (only meaningful for a [`BookState::Normal`] book).
    #[inline]
    pub fn mid(&self) -> f64 {
        super::i128_to_f64(self.mid_raw2()) * (0.5 / kestrel_core::FIXED_SCALE as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::LevelView;

    fn lv(p: i64, q: i64) -> LevelView {
        LevelView {
            price: Price::from_units(p).unwrap_or_default(),
            qty: Qty::from_units(q).unwrap_or_default(),
        }
    }

    #[test]
    fn classifies_books() {
        let mut top = BookTop::default();
        assert_eq!(Quote::of(&top).state, BookState::Empty);
        top.bids[0] = lv(10, 1);
        top.bid_levels = 1;
        assert_eq!(Quote::of(&top).state, BookState::OneSided);
        top.asks[0] = lv(11, 2);
        top.ask_levels = 1;
        let q = Quote::of(&top);
        assert_eq!(q.state, BookState::Normal);
        assert_eq!(q.mid(), 10.5);
        top.asks[0] = lv(10, 2);
        assert_eq!(Quote::of(&top).state, BookState::Locked);
        top.asks[0] = lv(9, 2);
        assert_eq!(Quote::of(&top).state, BookState::Crossed);
        top.bid_levels = 0;
        assert_eq!(Quote::of(&top).state, BookState::OneSided);
    }
}
