//! What the level-book venue handlers (Binance, Databento DBN) report to their callers, one
//! shape for both, so the pipeline source, `verify` and `export` consume either.
//!
//! A handler calls its [`VenueSink`] with each [`VenueEvent`] after the books applied it, with
//! the books (behind [`TopOfBook`]) as they stand after it.

use kestrel_core::book::{L2Books, L3Books};
use kestrel_core::{
    BookTop, InstrumentId, LevelView, MarketEvent, Price, Qty, Side, Timestamp, TradePrint,
};

/// One thing a venue handler did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VenueEvent {
    /// A complete book update (a whole Binance depth diff or snapshot, a DBN MBO event up to its
    /// `F_LAST` record, an MBP record): the instrument's book is consistent now.
    Book {
        /// Instrument.
        instrument: InstrumentId,
        /// Venue time (ns since the epoch).
        exch_ts: Timestamp,
        /// Local receive time (ns since the epoch).
        recv_ts: Timestamp,
        /// The venue's id of the update (Binance: the diff's final `u` or the snapshot's
        /// `lastUpdateId`; DBN: the record's `sequence`).
        update_id: u64,
        /// Whether the book may be shown: synchronised (no gap since its snapshot) and not
        /// crossed. A book that may not be shown is not published.
        shown: bool,
    },
    /// One price level's total quantity changed inside a book update (reported only to sinks
    /// that [`want_details`](VenueSink::want_details)).
    Level {
        /// Instrument.
        instrument: InstrumentId,
        /// Venue time.
        exch_ts: Timestamp,
        /// Side.
        side: Side,
        /// Level price.
        price: Price,
        /// Quantity before.
        old_qty: Qty,
        /// Quantity after (zero: the level is gone).
        new_qty: Qty,
    },
    /// One order event an L3 book applied (reported only to sinks that want details).
    Order {
        /// The event.
        event: MarketEvent,
        /// The side and price of the order it touched (resolved from the book before it
        /// changed, for cancels and deletes that carry only an id).
        side: Side,
        /// Price of the order.
        price: Price,
    },
    /// A trade.
    Trade {
        /// Instrument.
        instrument: InstrumentId,
        /// Venue time.
        exch_ts: Timestamp,
        /// Local receive time.
        recv_ts: Timestamp,
        /// Price, quantity, aggressor (+1 buyer, -1 seller, 0 unknown).
        print: TradePrint,
        /// The venue's trade (match) id; 0 when it has none.
        match_id: u64,
    },
    /// The venue's own best bid and offer (Binance `bookTicker`).
    Quote {
        /// Instrument.
        instrument: InstrumentId,
        /// Venue time (the receive time when the venue does not stamp it).
        exch_ts: Timestamp,
        /// Local receive time.
        recv_ts: Timestamp,
        /// The venue's update id.
        update_id: u64,
        /// Best bid.
        bid: LevelView,
        /// Best ask.
        ask: LevelView,
    },
}

impl VenueEvent {
    /// The instrument the event is about.
    pub fn instrument(&self) -> InstrumentId {
        match *self {
            Self::Book { instrument, .. }
            | Self::Level { instrument, .. }
            | Self::Trade { instrument, .. }
            | Self::Quote { instrument, .. } => instrument,
            Self::Order { event, .. } => event.instrument,
        }
    }
}

/// The top levels of a book, whatever its kind.
pub trait TopOfBook {
    /// Writes the best levels of each side of `id` into `out`.
    fn fill_top(&self, id: InstrumentId, out: &mut BookTop);
}

impl TopOfBook for L2Books {
    #[inline]
    fn fill_top(&self, id: InstrumentId, out: &mut BookTop) {
        L2Books::fill_top(self, id, out);
    }
}

impl TopOfBook for L3Books {
    #[inline]
    fn fill_top(&self, id: InstrumentId, out: &mut BookTop) {
        L3Books::fill_top(self, id, out);
    }
}

/// Receives a venue handler's events, after the books applied them.
pub trait VenueSink<B: ?Sized> {
    /// Called once per event, in stream order.
    fn on_venue(&mut self, event: &VenueEvent, books: &B);

    /// Whether the sink wants [`VenueEvent::Level`] and [`VenueEvent::Order`] details (they
    /// cost a look-up per level; the pipeline does not want them).
    fn want_details(&self) -> bool {
        false
    }
}

impl<B: ?Sized, F: FnMut(&VenueEvent, &B)> VenueSink<B> for F {
    #[inline]
    fn on_venue(&mut self, event: &VenueEvent, books: &B) {
        self(event, books);
    }
}
