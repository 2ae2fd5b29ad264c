//! Why a book event was rejected (or only partly applied).

use crate::fixed::Qty;
use crate::ids::{InstrumentId, OrderId};

/// The two kinds of book, named in [`BookError::WrongBookType`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum BookKind {
    /// Order-by-order book ([`L3Books`](super::L3Books)).
    L3,
    /// Price-level book ([`L2Books`](super::L2Books)).
    L2,
}

/// A book event that could not be applied as given. Every variant is counted in
/// [`BookStats`](super::BookStats); the book stays consistent and keeps accepting events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// The event names an order the book does not hold (e.g. one that predates the capture).
    /// The book is unchanged.
    #[error("unknown order {order_id:?}")]
    UnknownOrder {
        /// The order id the event named.
        order_id: OrderId,
    },
    /// An add or replace names a new order id that is already live. The book is unchanged.
    #[error("duplicate order {order_id:?}")]
    DuplicateOrder {
        /// The id that is already live.
        order_id: OrderId,
    },
    /// An execution of more than the order's remaining quantity. The order was removed (its
    /// whole remaining quantity is gone from the book).
    #[error("order {order_id:?}: execution of {requested} exceeds the remaining {remaining}")]
    ExcessQty {
        /// The executed order.
        order_id: OrderId,
        /// Quantity the event executed.
        requested: Qty,
        /// Quantity the order had left.
        remaining: Qty,
    },
    /// A zero or negative quantity where a positive one is required (negative for L2 levels).
    /// The book is unchanged.
    #[error("invalid quantity {qty} for instrument {instrument:?} (order {order_id:?})")]
    InvalidQty {
        /// The event's instrument.
        instrument: InstrumentId,
        /// The order the event named, if it names one.
        order_id: Option<OrderId>,
        /// The rejected quantity.
        qty: Qty,
    },
    /// The instrument id is beyond the configured count; `ensure_instrument` adds it.
    #[error("unknown instrument {instrument:?} (books hold {configured})")]
    UnknownInstrument {
        /// The event's instrument.
        instrument: InstrumentId,
        /// Number of instruments the books hold.
        configured: usize,
    },
    /// An L2 event on an L3 book or an order event on an L2 book. The book is unchanged.
    #[error("event for instrument {instrument:?} does not apply to an {book:?} book")]
    WrongBookType {
        /// The event's instrument.
        instrument: InstrumentId,
        /// The kind of book that received it.
        book: BookKind,
    },
    /// An order event names an order that rests in another instrument's book. The book is
    /// unchanged.
    #[error("order {order_id:?} rests in {resting:?}, event says {instrument:?}")]
    InstrumentMismatch {
        /// The order the event named.
        order_id: OrderId,
        /// The event's instrument.
        instrument: InstrumentId,
        /// The instrument the order rests in.
        resting: InstrumentId,
    },
    /// The order or level pool ran out of `u32` indices (over four billion live entries).
    /// The book is unchanged.
    #[error("book capacity exhausted for instrument {instrument:?}")]
    CapacityExhausted {
        /// The event's instrument.
        instrument: InstrumentId,
    },
    /// Adding the quantity would overflow the level's total. The book is unchanged (for a
    /// replace: the old order is already gone).
    #[error("quantity overflow at a level of instrument {instrument:?}")]
    QtyOverflow {
        /// The event's instrument.
        instrument: InstrumentId,
    },
}
