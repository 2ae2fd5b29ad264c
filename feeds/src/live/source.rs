//! The live feed as the pipeline's source: datagrams off the socket, in order, through the
//! feed handler's ITCH decoder, normaliser and `L3Books`, one `BookUpdate` per event. While a
//! gap is open or after one was lost, updates say the instrument is not trading, so the strategy
//! does not act on a book it cannot trust.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use kestrel_core::book::L3Books;
use kestrel_core::clock::{Clock, Stamps, TscClock};
use kestrel_core::pipeline::{Emit, Source, SourceStatus};
use kestrel_core::{BookTop, BookUpdate, Timestamp, TradingStatus};

use super::receiver::{Delivery, LiveFeed};
use crate::handler::{EventSink, FeedEvent, FeedHandler, HandlerStats};

/// A live MoldUDP64 / ITCH feed as a pipeline source. See the module docs.
#[derive(Debug)]
pub struct LiveSource {
    feed: LiveFeed<TscClock>,
    handler: FeedHandler,
    stop: Arc<AtomicBool>,
    seq: u64,
    lost: u64,
    invalid_updates: u64,
    done: bool,
}

struct Updates<'a, E> {
    out: &'a mut E,
    seq: &'a mut u64,
    clock: &'a TscClock,
    valid: bool,
    invalid_updates: &'a mut u64,
}

impl<E: Emit<BookUpdate>> EventSink for Updates<'_, E> {
    #[inline]
    fn on_event(&mut self, fe: &FeedEvent, books: &L3Books) {
        let Ok(applied) = fe.outcome else {
            return;
        };
        let booked = self.clock.now();
        let id = fe.event.instrument;
        let mut top = BookTop::default();
        books.fill_top(id, &mut top);
        *self.seq += 1;
        if !self.valid {
            *self.invalid_updates += 1;
        }
        self.out.emit(BookUpdate {
            instrument: id,
            seq: *self.seq,
            exch_ts: fe.event.exch_ts,
            recv_ts: fe.recv_ts,
            top,
            trade: applied.trade.unwrap_or_default(),
            trading: self.valid && books.status(id) == TradingStatus::Trading,
            more_in_packet: false,
            stamps: Stamps {
                recv: fe.recv_ts,
                decoded: Timestamp::ZERO,
                booked,
                published: Timestamp::ZERO,
            },
        });
    }
}

impl LiveSource {
    /// A source over `feed` into `handler`; it reports done when the session ends or `stop`
    /// is set.
    pub fn new(feed: LiveFeed<TscClock>, handler: FeedHandler, stop: Arc<AtomicBool>) -> Self {
        Self {
            feed,
            handler,
            stop,
            seq: 0,
            lost: 0,
            invalid_updates: 0,
            done: false,
        }
    }

    /// The handler (books, instruments, counters).
    pub fn handler(&self) -> &FeedHandler {
        &self.handler
    }

    /// The handler, consuming the source.
    pub fn into_parts(self) -> (LiveFeed<TscClock>, FeedHandler) {
        (self.feed, self.handler)
    }

    /// The live feed.
    pub fn feed(&self) -> &LiveFeed<TscClock> {
        &self.feed
    }

    /// Handler counters.
    pub fn stats(&self) -> HandlerStats {
        self.handler.stats()
    }

    /// Book updates emitted while the feed was not valid.
    pub fn invalid_updates(&self) -> u64 {
        self.invalid_updates
    }

    /// Message ranges declared lost.
    pub fn lost_ranges(&self) -> u64 {
        self.lost
    }
}

impl Source for LiveSource {
    type Out = BookUpdate;

    #[inline]
    fn poll<E: Emit<BookUpdate>>(&mut self, out: &mut E) -> SourceStatus {
        if self.done {
            return SourceStatus::Done;
        }
        let clock = self.feed.clock().clone();
        let (handler, seq, lost, invalid) = (
            &mut self.handler,
            &mut self.seq,
            &mut self.lost,
            &mut self.invalid_updates,
        );
        let mut valid = self.feed.is_valid();
        let read = self.feed.poll(&mut |d: Delivery<'_>| match d {
            Delivery::Message {
                recv_ts,
                seq: msg_seq,
                payload,
                ..
            } => {
                let mut sink = Updates {
                    out: &mut *out,
                    seq: &mut *seq,
                    clock: &clock,
                    valid,
                    invalid_updates: &mut *invalid,
                };
                handler.on_itch_message(recv_ts, msg_seq, payload, &mut sink);
            }
            Delivery::Lost(_) => {
                *lost += 1;
                valid = false;
            }
        });
        if self.feed.ended() || self.stop.load(Ordering::Relaxed) {
            self.done = true;
            return SourceStatus::Busy;
        }
        if read > 0 {
            SourceStatus::Busy
        } else {
            SourceStatus::Idle
        }
    }
}
