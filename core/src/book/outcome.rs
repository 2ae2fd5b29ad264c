//! What applying one event did.

use crate::fixed::{Price, Qty};
use crate::ids::InstrumentId;
use crate::side::Side;
use crate::top::TradePrint;

/// The result of a successfully applied event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Applied {
    /// The instrument whose book the event touched.
    pub instrument: InstrumentId,
    /// The side touched, when the event has one.
    pub side: Option<Side>,
    /// The price level touched (for a replace: the new price; for an execution: the resting
    /// order's price), when the event has one.
    pub price: Option<Price>,
    /// Whether the best bid or best ask (price or quantity) differs from before the event.
    pub top_changed: bool,
    /// The trade this event reported: executions (aggressor +1 when the resting order was a
    /// sell, -1 when it was a buy) and off-book trades.
    pub trade: Option<TradePrint>,
}

impl Applied {
    /// An outcome that changed nothing visible.
    #[inline]
    /// A trade that leaves the book unchanged (ITCH `P`/`Q`, hidden executions): the print,
    /// with the aggressor opposite the resting side when the venue names it.
    pub(crate) const fn off_book_trade(
        instrument: InstrumentId,
        resting: Option<Side>,
        price: Price,
        qty: Qty,
    ) -> Self {
        Self {
            instrument,
            side: resting,
            price: Some(price),
            top_changed: false,
            trade: Some(TradePrint {
                price,
                qty,
                aggressor: aggressor_of(resting),
            }),
        }
    }

    pub(crate) const fn quiet(instrument: InstrumentId) -> Self {
        Self {
            instrument,
            side: None,
            price: None,
            top_changed: false,
            trade: None,
        }
    }
}

/// One live order as the book holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderView {
    /// The instrument it rests in.
    pub instrument: InstrumentId,
    /// Its side.
    pub side: Side,
    /// Its price.
    pub price: Price,
    /// Its remaining visible quantity.
    pub qty: Qty,
}

/// `+1` when the resting order was a sell (a buyer hit it), `-1` when it was a buy.
#[inline]
pub(crate) const fn aggressor_against(resting: Side) -> i8 {
    match resting {
        Side::Buy => -1,
        Side::Sell => 1,
    }
}

/// Aggressor for an off-book trade whose resting side may be unknown.
#[inline]
pub(crate) const fn aggressor_of(resting: Option<Side>) -> i8 {
    match resting {
        Some(side) => aggressor_against(side),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applied_is_small() {
        assert!(
            core::mem::size_of::<Applied>() <= 64,
            "{}",
            core::mem::size_of::<Applied>()
        );
    }

    #[test]
    fn aggressor_sign() {
        assert_eq!(aggressor_against(Side::Sell), 1);
        assert_eq!(aggressor_against(Side::Buy), -1);
        assert_eq!(aggressor_of(None), 0);
    }
}
