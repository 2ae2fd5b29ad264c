//! Normalised market events: what every feed decoder produces and every book consumes.
//!
//! Small `Copy` types, `#[repr(C)]`, no heap; their sizes are asserted below.

use crate::fixed::{Price, Qty};
use crate::ids::{InstrumentId, OrderId};
use crate::side::Side;
use crate::time::Timestamp;
use crate::top::TradeKind;

/// The instrument of a venue-wide event ([`BookEventKind::MarketWideHalt`]): it names no
/// instrument, the event applies to all of them.
pub const MARKET_WIDE: InstrumentId = InstrumentId(u32::MAX);

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
    /// `qty` of a resting order executes at its own price (partial or full): a print (ITCH `E`).
    Execute {
        order_id: OrderId,
        qty: Qty,
        match_number: u64,
    },
    /// `qty` of a resting order executes at `price`, which may differ from the order's: a
    /// print (ITCH `C` marked printable). The book changes exactly as for
    /// [`BookEventKind::Execute`].
    ExecuteAtPrice {
        order_id: OrderId,
        qty: Qty,
        price: Price,
        match_number: u64,
    },
    /// `qty` of a resting order executes but is not a print (ITCH `C` marked non-printable:
    /// an execution in a cross, whose volume the cross's `Q` prints once). The book changes
    /// exactly as for [`BookEventKind::Execute`]; no trade is reported. `price` is the
    /// message's execution price (kept for re-encoding).
    ExecuteNonPrintable {
        order_id: OrderId,
        qty: Qty,
        price: Price,
        match_number: u64,
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
    /// A trade that does not touch the visible book: a non-displayed execution (ITCH `P`,
    /// LOBSTER type 5; `kind` [`TradeKind::NonDisplayed`]) or a cross (ITCH `Q`, LOBSTER type
    /// 6; [`TradeKind::Cross`]). `side` is the side of the resting (passive) order when the
    /// venue really says it (it does not for `P`, `Q` or LOBSTER): the aggressor is its
    /// opposite; `None` leaves the aggressor unknown.
    Trade {
        side: Option<Side>,
        kind: TradeKind,
        price: Price,
        qty: Qty,
        match_number: u64,
    },
    /// The print with this match number was broken (ITCH `B`). The book does not change.
    Break { match_number: u64 },
    /// An L2 venue sets the total quantity at a price level; zero removes the level.
    Level { side: Side, price: Price, qty: Qty },
    /// Remove every order and level (session start, resynchronisation).
    Clear,
    /// The instrument's regulatory trading state (ITCH `H`, LOBSTER type 7). It also ends a
    /// market-wide halt for this instrument: the venue announces each instrument's own halt
    /// and resumption after a circuit breaker.
    Status(TradingStatus),
    /// The venue's own operational halt of the instrument (ITCH `h`): `halted` true halts it,
    /// false lifts the operational halt (a regulatory halt stays).
    OperationalHalt { halted: bool },
    /// A market-wide circuit breaker breached `level` (1, 2 or 3; ITCH `W`): every instrument
    /// is halted until its own status message resumes it. Sent with [`MARKET_WIDE`] as the
    /// instrument.
    MarketWideHalt { level: u8 },
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
