//! What the handler hands to its caller: each market event after the books applied it.

use kestrel_core::book::{Applied, BookError, L3Books};
use kestrel_core::{MarketEvent, Timestamp};

/// One normalised event with where it came from and what the book made of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedEvent {
    /// Receive time of the record (datagram) that carried the message.
    pub recv_ts: Timestamp,
    /// The message's sequence number (MoldUDP64 sequence; for a raw ITCH file, the message's
    /// 1-based index in the file).
    pub seq: u64,
    /// The event.
    pub event: MarketEvent,
    /// What the books did with it.
    pub outcome: Result<Applied, BookError>,
}

/// Receives every event, after the books applied it (so `books` shows the book after the
/// event). Implemented for `FnMut(&FeedEvent, &L3Books)` closures.
pub trait EventSink {
    /// Called once per event, in sequence order.
    fn on_event(&mut self, event: &FeedEvent, books: &L3Books);
}

impl<F: FnMut(&FeedEvent, &L3Books)> EventSink for F {
    #[inline]
    fn on_event(&mut self, event: &FeedEvent, books: &L3Books) {
        self(event, books);
    }
}
