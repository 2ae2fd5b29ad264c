//! What the matching engine reports: one [`MatchEvent`] per thing that happened, in order.
//!
//! The OUCH server turns them into the participants' messages, the ITCH publisher into the
//! market data feed, the backtest into execution reports. Events are `Copy` and carry
//! everything their readers need, so no reader looks back into the engine.

use kestrel_core::{InstrumentId, Price, Qty, Side, Timestamp, TradingStatus};

use super::types::{CancelReason, OrderHandle, Owner, RejectReason};

/// One side of a trade, or the order an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Party {
    /// The venue's order reference number (what ITCH shows).
    pub order_ref: u64,
    /// Whose order.
    pub owner: Owner,
    /// The participant's tag (0 for the background).
    pub tag: u64,
    /// The engine's handle.
    pub handle: OrderHandle,
}

/// One thing the engine did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchEvent {
    /// A participant order was accepted (before it matched or rested).
    Accepted {
        /// The order.
        order: Party,
        /// Instrument.
        instrument: InstrumentId,
        /// Side.
        side: Side,
        /// Limit price.
        price: Price,
        /// Quantity entered.
        qty: Qty,
        /// When.
        ts: Timestamp,
    },
    /// A participant order was refused.
    Rejected {
        /// Whose.
        owner: Owner,
        /// The participant's tag.
        tag: u64,
        /// Why.
        reason: RejectReason,
        /// When.
        ts: Timestamp,
    },
    /// An order (participant or background) now rests on the book: ITCH shows an add.
    Booked {
        /// The order.
        order: Party,
        /// Instrument.
        instrument: InstrumentId,
        /// Side.
        side: Side,
        /// Price.
        price: Price,
        /// Quantity resting.
        qty: Qty,
        /// Visible quantity ahead of it in its level when it joined.
        queue_ahead: Qty,
        /// When.
        ts: Timestamp,
    },
    /// A resting order traded.
    Executed {
        /// Instrument.
        instrument: InstrumentId,
        /// The resting order (ITCH shows the execution against it).
        resting: Party,
        /// Side of the resting order.
        resting_side: Side,
        /// The aggressor: a participant order, a background add that crossed, or `None` for a
        /// recorded execution (the replayed market's aggressor).
        aggressor: Option<Party>,
        /// Trade price (the resting order's price unless the recording said otherwise).
        price: Price,
        /// The resting order's own price.
        resting_price: Price,
        /// Shares traded.
        qty: Qty,
        /// Shares the resting order has left.
        resting_left: Qty,
        /// Venue-wide match number.
        match_no: u64,
        /// Visible quantity that was ahead of the resting order when it joined its level.
        queue_ahead: Qty,
        /// When.
        ts: Timestamp,
    },
    /// Shares of an incoming participant order traded against a resting order (the aggressor's
    /// side of an [`MatchEvent::Executed`], reported separately so that every participant fill
    /// has exactly one event naming that participant's order).
    Took {
        /// Instrument.
        instrument: InstrumentId,
        /// The aggressing participant order.
        order: Party,
        /// Its side.
        side: Side,
        /// Trade price.
        price: Price,
        /// Shares traded.
        qty: Qty,
        /// Shares the aggressor has left to match.
        left: Qty,
        /// The match number of the matching [`MatchEvent::Executed`].
        match_no: u64,
        /// When.
        ts: Timestamp,
    },
    /// Shares left an order without trading (cancel, IOC rest, self-match, disconnect, expiry,
    /// the replayed market's cancel).
    Reduced {
        /// Instrument.
        instrument: InstrumentId,
        /// The order.
        order: Party,
        /// Shares taken off.
        cancelled: Qty,
        /// Shares left (0: the order is gone).
        left: Qty,
        /// Whether the order was resting on the book (ITCH shows a cancel or delete).
        on_book: bool,
        /// Why.
        reason: CancelReason,
        /// When.
        ts: Timestamp,
    },
    /// A participant order was replaced.
    Replaced {
        /// Instrument.
        instrument: InstrumentId,
        /// The order before.
        old: Party,
        /// The order after (same reference number when priority was kept).
        new: Party,
        /// Side.
        side: Side,
        /// New price.
        price: Price,
        /// New open quantity.
        qty: Qty,
        /// Shares the old order had open.
        old_qty: Qty,
        /// Whether the order kept its time priority (same price, size not increased).
        kept_priority: bool,
        /// Whether the old order was resting on the book.
        was_on_book: bool,
        /// Whether the new order rests whole without trading, with no [`MatchEvent::Booked`]
        /// following (ITCH shows one order replace). When false and priority was lost, the
        /// events that follow (executions, a booking) describe the new order.
        booked_whole: bool,
        /// Visible quantity ahead of the new order in its level (when it rests).
        queue_ahead: Qty,
        /// When.
        ts: Timestamp,
    },
    /// A trade of the replayed market that did not touch the visible book: a non-displayed
    /// execution (ITCH `P`) or, when `cross`, an auction cross (ITCH `Q`).
    MarketTrade {
        /// Instrument.
        instrument: InstrumentId,
        /// Side of the resting (non-displayed) order, when known (ITCH `P` no longer says it).
        side: Option<Side>,
        /// An auction cross's print rather than a non-displayed execution.
        cross: bool,
        /// Price.
        price: Price,
        /// Shares.
        qty: Qty,
        /// When.
        ts: Timestamp,
    },
    /// The instrument's trading status changed.
    Status {
        /// Instrument.
        instrument: InstrumentId,
        /// The new status.
        status: TradingStatus,
        /// When.
        ts: Timestamp,
    },
    /// Self-match prevention stopped shares of an incoming order from trading against its own
    /// firm (OUCH's AIQ cancel). A [`MatchEvent::Reduced`] with [`CancelReason::SelfMatch`]
    /// follows for each order cancelled.
    SelfMatchPrevented {
        /// Instrument.
        instrument: InstrumentId,
        /// The incoming order.
        order: Party,
        /// The resting order of the same firm.
        resting: Party,
        /// Shares that would have traded.
        qty: Qty,
        /// The price they would have traded at.
        price: Price,
        /// When.
        ts: Timestamp,
    },
}

/// Receives the engine's events in order. Implemented for closures and `Vec<MatchEvent>`.
pub trait MatchSink {
    /// One event.
    fn on_event(&mut self, event: &MatchEvent);
}

impl<F: FnMut(&MatchEvent)> MatchSink for F {
    #[inline]
    fn on_event(&mut self, event: &MatchEvent) {
        self(event);
    }
}

impl MatchSink for Vec<MatchEvent> {
    #[inline]
    fn on_event(&mut self, event: &MatchEvent) {
        self.push(*event);
    }
}

/// A sink that throws events away (benchmarks, background-only replays).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSink;

impl MatchSink for NoSink {
    #[inline]
    fn on_event(&mut self, _event: &MatchEvent) {}
}
