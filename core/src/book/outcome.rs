//! What applying one event did.

use crate::fixed::{Price, Qty};
use crate::ids::InstrumentId;
use crate::side::Side;
use crate::top::{TradeKind, TradePrint};

use super::error::BookError;

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
    /// The trade this event reported: printable executions (aggressor +1 when the resting
    /// order was a sell, -1 when it was a buy), off-book trades and breaks (see
    /// [`TradeKind`]). `None` for everything else, non-printable executions included.
    pub trade: Option<TradePrint>,
    /// The event changed the book and then met an error (an execution of more than the
    /// order held, a replace whose new id is already live): the change stands, the error is
    /// counted in [`BookStats`](super::BookStats), and the update must still be published.
    /// Events rejected whole return `Err` instead.
    pub error: Option<BookError>,
}

impl Applied {
    /// A trade that leaves the book unchanged (ITCH `P`/`Q`, hidden executions, crosses): the
    /// print, with the aggressor opposite the resting side when the venue names it.
    #[inline]
    pub(crate) const fn off_book_trade(
        instrument: InstrumentId,
        resting: Option<Side>,
        kind: TradeKind,
        price: Price,
        qty: Qty,
        match_number: u64,
    ) -> Self {
        Self {
            instrument,
            side: resting,
            price: Some(price),
            top_changed: false,
            trade: Some(TradePrint {
                price,
                qty,
                match_number,
                aggressor: aggressor_of(resting),
                kind,
            }),
            error: None,
        }
    }

    /// A break of the print `match_number`: no book change, the correction for consumers.
    #[inline]
    pub(crate) const fn trade_break(instrument: InstrumentId, match_number: u64) -> Self {
        Self {
            trade: Some(TradePrint {
                price: Price::ZERO,
                qty: Qty::ZERO,
                match_number,
                aggressor: 0,
                kind: TradeKind::Break,
            }),
            ..Self::quiet(instrument)
        }
    }

    /// An outcome that changed nothing visible.
    #[inline]
    pub(crate) const fn quiet(instrument: InstrumentId) -> Self {
        Self {
            instrument,
            side: None,
            price: None,
            top_changed: false,
            trade: None,
            error: None,
        }
    }

    /// The execution print of a resting order on `resting`'s side at `price` (the order's own
    /// price for `E`, the execution price for a printable `C`).
    #[inline]
    pub(crate) const fn execution_print(
        resting: Side,
        price: Price,
        qty: Qty,
        match_number: u64,
    ) -> TradePrint {
        TradePrint {
            price,
            qty,
            match_number,
            aggressor: aggressor_against(resting),
            kind: TradeKind::Execution,
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
            core::mem::size_of::<Applied>() <= 104,
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
