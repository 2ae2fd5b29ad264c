//! What the handler hands to its caller: each market event after the books applied it.

use kestrel_core::book::{Applied, BookError, L3Books, Touched};
use kestrel_core::{MarketEvent, Timestamp};

use crate::itch::OrderMessage;

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
///
/// The handler calls [`on_order_event`](Self::on_order_event) for the order messages it
/// applied through the books' direct entry points and [`on_event`](Self::on_event) for every
/// other event; the default `on_order_event` builds the [`FeedEvent`] and calls `on_event`, so
/// a sink that implements only `on_event` sees every event as one [`FeedEvent`].
pub trait EventSink {
    /// Called once per event, in sequence order.
    fn on_event(&mut self, event: &FeedEvent, books: &L3Books);

    /// An order message (add, execute, cancel, delete, replace) applied through the books'
    /// direct entry points: `message` is the message with its instrument (its
    /// [`MarketEvent`] is built on demand, [`OrderMessage::event`]), `result` is what the book
    /// did, before it is turned into an [`Applied`] ([`Touched::into_applied`]). Called in
    /// sequence order with the other events.
    ///
    /// The default hands `on_event` exactly the [`FeedEvent`] the event path gives (`event`
    /// = [`OrderMessage::event`], `outcome` = `result` through [`Touched::into_applied`]). A
    /// sink that reads only a few fields may override it to build neither the event nor the
    /// [`Applied`] (the feed stage's sink reads the time, whether it is a replace, and the
    /// print: [`OrderMessage::exch_ts`], [`OrderMessage::is_replace`],
    /// [`OrderMessage::trade`]), and must then behave exactly as the default would
    /// (`feed_stage`'s tests check it over random streams).
    #[inline]
    fn on_order_event(
        &mut self,
        recv_ts: Timestamp,
        seq: u64,
        message: OrderMessage<'_>,
        result: Result<Touched, BookError>,
        books: &L3Books,
    ) {
        let event: MarketEvent = message.event();
        let outcome = result.map(|t| t.into_applied(event.instrument, &event.kind));
        self.on_event(
            &FeedEvent {
                recv_ts,
                seq,
                event,
                outcome,
            },
            books,
        );
    }
}

impl<F: FnMut(&FeedEvent, &L3Books)> EventSink for F {
    #[inline]
    fn on_event(&mut self, event: &FeedEvent, books: &L3Books) {
        self(event, books);
    }
}
