//! Normalised market events: what every feed decoder produces and every book consumes.
//!
//! Small `Copy` types, `#[repr(C)]`, no heap; their sizes are asserted below.

use crate::fixed::{Price, Qty};
use crate::ids::{InstrumentId, OrderId};
use crate::side::Side;
use crate::time::Timestamp;

/// Trading state of an instrument, as the venue announces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[repr(u8)]
pub enum TradingStatus {
    /// Continuous trading.
    Trading = 0,
    /// Halted: no trading, quotes may be cancelled.
    Halted = 1,
    /// Paused (e.g. LULD pause).
    Paused = 2,
    /// Quotation only: orders accepted, no executions.
    QuotationOnly = 3,
}

/// What happened to a book. L3 venues send order events; L2 venues send level events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, u8)]
pub enum BookEventKind {
    /// A new visible order joins the back of its price level's queue.
    Add {
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
    },
    /// `qty` of a resting order executes at its own price (partial or full).
    Execute { order_id: OrderId, qty: Qty },
    /// `qty` of a resting order executes at `price`, which may differ from the order's
    /// (ITCH `C`). The book changes exactly as for [`BookEventKind::Execute`].
    ExecuteAtPrice {
        order_id: OrderId,
        qty: Qty,
        price: Price,
    },
    /// `qty` of a resting order is cancelled; the order keeps its queue position.
    Cancel { order_id: OrderId, qty: Qty },
    /// A resting order is removed entirely.
    Delete { order_id: OrderId },
    /// A resting order is replaced by a new one (new id, price and size; loses queue position).
    Replace {
        old_order_id: OrderId,
        new_order_id: OrderId,
        price: Price,
        qty: Qty,
    },
    /// A trade that does not touch the visible book (ITCH `P`, LOBSTER hidden execution).
    /// `side` is the side of the resting (passive) order when the venue says it.
    Trade {
        side: Option<Side>,
        price: Price,
        qty: Qty,
    },
    /// An L2 venue sets the total quantity at a price level; zero removes the level.
    Level { side: Side, price: Price, qty: Qty },
    /// Remove every order and level (session start, resynchronisation).
    Clear,
    /// The instrument's trading status changed.
    Status(TradingStatus),
}

/// One normalised market event for one instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct MarketEvent {
    /// Dense instrument id.
    pub instrument: InstrumentId,
    /// Venue timestamp (ITCH: nanoseconds since midnight).
    pub exch_ts: Timestamp,
    /// What happened.
    pub kind: BookEventKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_small() {
        assert!(
            core::mem::size_of::<BookEventKind>() <= 40,
            "{}",
            core::mem::size_of::<BookEventKind>()
        );
        assert!(
            core::mem::size_of::<MarketEvent>() <= 56,
            "{}",
            core::mem::size_of::<MarketEvent>()
        );
    }
}
