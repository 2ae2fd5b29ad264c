//! Direct apply: per-message-type entry points for order feeds (ITCH `A`/`F`, `E`, `C`, `X`,
//! `D`, `U`; MBO adds, fills, cancels and modifies), taking the instrument, the venue's order
//! reference and the message's fields, and returning a small [`Touched`] instead of a full
//! [`Applied`].
//!
//! A feed handler that decodes a message and applies it here skips the decode ->
//! [`MarketEvent`](crate::MarketEvent) -> [`L3Books::apply`] round trip: no second dispatch on
//! the event kind and no 100-byte outcome. Both paths run the same book code (`apply` calls
//! these operations and converts with [`Touched::into_applied`]), so they build identical books
//! and count identical [`BookStats`](super::BookStats); a property test over random ITCH
//! streams (`feeds/tests/itch_direct_apply.rs`) checks it.

use crate::event::BookEventKind;
use crate::fixed::{Price, Qty};
use crate::ids::{InstrumentId, OrderId};
use crate::side::Side;
use crate::top::TradePrint;

use super::error::BookError;
use super::l3::L3Books;
use super::outcome::Applied;

/// An error met after an operation had already changed the book: the change stands, the
/// error is counted, and the update must still be published (see [`Applied::error`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LateError {
    /// An execution of more than the order held: the order was removed; it had `remaining`.
    ExcessQty {
        /// What the order had left before the execution.
        remaining: Qty,
    },
    /// A replace whose new reference is already live: the old order is gone, the new one was
    /// not added.
    DuplicateNewOrder,
    /// A replace whose new order would overflow its level's total: the old order is gone.
    QtyOverflow,
    /// A replace whose new order found the pools exhausted: the old order is gone.
    CapacityExhausted,
}

impl LateError {
    /// The late form of an error inserting a replace's new order.
    #[inline]
    pub(super) fn of_insert(e: BookError) -> Self {
        match e {
            BookError::QtyOverflow { .. } => Self::QtyOverflow,
            BookError::DuplicateOrder { .. } => Self::DuplicateNewOrder,
            _ => Self::CapacityExhausted,
        }
    }
}

/// What one direct operation did to the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Touched {
    /// The side of the order touched.
    pub side: Side,
    /// The price level touched: the resting order's price (executions, cancels, deletes),
    /// the new order's price (adds, replaces).
    pub price: Price,
    /// Whether the best bid or best ask (price or quantity) differs from before.
    pub top_changed: bool,
    /// An error met after the book changed (`None` almost always).
    pub late: Option<LateError>,
}

impl Touched {
    #[inline(always)]
    pub(super) const fn new(side: Side, price: Price, top_changed: bool) -> Self {
        Self {
            side,
            price,
            top_changed,
            late: None,
        }
    }

    /// The trade print of the event `kind` (an order event) that this operation applied, as
    /// [`into_applied`](Self::into_applied) reports it: a printable execution's print (at the
    /// resting order's price for `Execute`, at the execution price for `ExecuteAtPrice`),
    /// `None` for every other kind. For a caller that needs the print without the rest of the
    /// [`Applied`] (the feed stage's sink).
    #[inline]
    pub fn trade(&self, kind: &BookEventKind) -> Option<TradePrint> {
        match *kind {
            BookEventKind::Execute {
                qty, match_number, ..
            } => Some(Applied::execution_print(
                self.side,
                self.price,
                qty,
                match_number,
            )),
            BookEventKind::ExecuteAtPrice {
                qty,
                price,
                match_number,
                ..
            } => Some(Applied::execution_print(
                self.side,
                price,
                qty,
                match_number,
            )),
            _ => None,
        }
    }

    /// The [`Applied`] that [`L3Books::apply`] reports for the event `kind` (an order event)
    /// that this operation applied: the trade print of a printable execution, the late error
    /// with the event's own ids. For other kinds, the plain outcome.
    #[inline]
    pub fn into_applied(self, instrument: InstrumentId, kind: &BookEventKind) -> Applied {
        let trade = self.trade(kind);
        let error = self.late.map(|late| match (late, *kind) {
            (
                LateError::ExcessQty { remaining },
                BookEventKind::Execute { order_id, qty, .. }
                | BookEventKind::ExecuteAtPrice { order_id, qty, .. }
                | BookEventKind::ExecuteNonPrintable { order_id, qty, .. },
            ) => BookError::ExcessQty {
                order_id,
                requested: qty,
                remaining,
            },
            (LateError::DuplicateNewOrder, BookEventKind::Replace { new_order_id, .. }) => {
                BookError::DuplicateOrder {
                    order_id: new_order_id,
                }
            }
            (LateError::QtyOverflow, _) => BookError::QtyOverflow { instrument },
            _ => BookError::CapacityExhausted { instrument },
        });
        Applied {
            instrument,
            side: Some(self.side),
            price: Some(self.price),
            top_changed: self.top_changed,
            trade,
            error,
        }
    }
}

/// The direct entry points. Each counts one event, as [`L3Books::apply`] does, and rejects an
/// instrument without a book ([`BookError::UnknownInstrument`]; `ensure_instrument` adds it).
impl L3Books {
    /// A new order (`Add`): `order_id` joins the back of `price`'s queue on `side`.
    #[inline(always)]
    pub fn add_order(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
    ) -> Result<Touched, BookError> {
        self.begin_order_event(instrument)?;
        self.add(instrument, order_id, side, price, qty)
    }

    /// A printable execution of `qty` of a resting order, at its own price (ITCH `E`) or at
    /// another price (a printable `C`: the print's price is the message's, the book's change
    /// is the same).
    #[inline(always)]
    pub fn execute_order(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
        qty: Qty,
    ) -> Result<Touched, BookError> {
        self.begin_order_event(instrument)?;
        self.execute(instrument, order_id, qty, true)
    }

    /// A non-printable execution (ITCH `C` marked `N`: part of a cross, printed by its `Q`):
    /// the book changes, there is no print.
    #[inline(always)]
    pub fn execute_order_non_printable(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
        qty: Qty,
    ) -> Result<Touched, BookError> {
        self.begin_order_event(instrument)?;
        self.execute(instrument, order_id, qty, false)
    }

    /// `qty` cancelled from a resting order (all of it removes the order).
    #[inline(always)]
    pub fn cancel_order(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
        qty: Qty,
    ) -> Result<Touched, BookError> {
        self.begin_order_event(instrument)?;
        self.cancel(instrument, order_id, qty)
    }

    /// A resting order deleted.
    #[inline(always)]
    pub fn delete_order(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
    ) -> Result<Touched, BookError> {
        self.begin_order_event(instrument)?;
        self.delete(instrument, order_id)
    }

    /// A resting order replaced by `new_order_id` at `price` for `qty`, same side, back of
    /// the queue.
    #[inline(always)]
    pub fn replace_order(
        &mut self,
        instrument: InstrumentId,
        old_order_id: OrderId,
        new_order_id: OrderId,
        price: Price,
        qty: Qty,
    ) -> Result<Touched, BookError> {
        self.begin_order_event(instrument)?;
        self.replace(instrument, old_order_id, new_order_id, price, qty)
    }
}
