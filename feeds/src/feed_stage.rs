//! The feed stage of the pipeline: capture records -> feed handler (MoldUDP64, ITCH decode,
//! normaliser, `L3Books`) -> one [`BookUpdate`] per event the books accepted, with the top of
//! book after it and any trade print attached.
//!
//! A [`Source`] for `kestrel_core::pipeline`: the same code runs inline and threaded.
//!
//! Books are kept for every instrument; with [`CaptureSource::with_publish_mask`] only the
//! instruments the consumer trades (the strategy's universe) are published, so the others
//! never cost a top-of-book copy or a ring slot.

use kestrel_core::book::L3Books;
use kestrel_core::clock::{Clock, Pace, Pacer, Stamps, TscClock};
use kestrel_core::pipeline::{Emit, Source, SourceStatus};
use kestrel_core::{
    BookTop, BookUpdate, InstrumentId, MARKET_WIDE, Timestamp, TradePrint, TradingStatus,
};

use crate::handler::{EventSink, FeedEvent, FeedHandler, HandlerStats};
use crate::kcap::Record;

/// Replays capture records through a [`FeedHandler`] as a pipeline source. Each poll takes one
/// record (paced per [`Pace`]); after the last record the handler is finished (held packets
/// delivered, open gaps declared lost) and the source reports done.
#[derive(Debug)]
pub struct CaptureSource<I> {
    handler: FeedHandler,
    records: I,
    pacer: Pacer,
    clock: TscClock,
    seq: u64,
    finished: bool,
    /// Per feed instrument: publish its updates. `None` publishes every instrument.
    publish: Option<Vec<bool>>,
    /// Accepted events not published (instrument outside the mask).
    unpublished: u64,
    /// A paced record taken but not due yet: its receive time and intended send time. The
    /// source reports idle until then (never blocking the hot loop); its payload is in `held`.
    pending: Option<(Timestamp, Timestamp)>,
    /// The pending record's payload (preallocated for the largest UDP payload).
    held: Vec<u8>,
}

/// Bytes kept for a record that is not due yet (the largest UDP payload fits).
const HELD_CAPACITY: usize = 65_536;

/// Turns handler events into book updates on the way to the pipeline's output.
struct UpdateSink<'a, E> {
    out: &'a mut E,
    seq: &'a mut u64,
    clock: &'a TscClock,
    recv: Timestamp,
    publish: Option<&'a [bool]>,
    unpublished: &'a mut u64,
}

impl<E: Emit<BookUpdate>> EventSink for UpdateSink<'_, E> {
    /// One update per event the books accepted, those applied with an error included (the
    /// book changed). A market-wide event gives one update per instrument, so the strategy
    /// learns of a circuit breaker on every instrument at once.
    #[inline]
    fn on_event(&mut self, fe: &FeedEvent, books: &L3Books) {
        let Ok(applied) = fe.outcome else {
            return;
        };
        if fe.event.instrument == MARKET_WIDE {
            self.market_wide(fe, books);
            return;
        }
        self.emit_update(
            fe,
            fe.event.instrument,
            applied.trade.unwrap_or_default(),
            books,
        );
    }
}

impl<E: Emit<BookUpdate>> UpdateSink<'_, E> {
    #[cold]
    fn market_wide(&mut self, fe: &FeedEvent, books: &L3Books) {
        for index in 0..books.instruments() {
            let id = InstrumentId(u32::try_from(index).unwrap_or(u32::MAX));
            self.emit_update(fe, id, TradePrint::default(), books);
        }
    }

    /// One update for `id`, unless the publish mask leaves it out.
    #[inline]
    fn emit_update(
        &mut self,
        fe: &FeedEvent,
        id: InstrumentId,
        trade: TradePrint,
        books: &L3Books,
    ) {
        if let Some(mask) = self.publish
            && !mask.get(id.index()).copied().unwrap_or(false)
        {
            *self.unpublished += 1;
            return;
        }
        let booked = self.clock.now();
        let mut top = BookTop::default();
        books.fill_top(id, &mut top);
        *self.seq += 1;
        self.out.emit(BookUpdate {
            instrument: id,
            seq: *self.seq,
            exch_ts: fe.event.exch_ts,
            recv_ts: fe.recv_ts,
            top,
            trade,
            trading: books.status(id) == TradingStatus::Trading,
            stamps: Stamps {
                recv: self.recv,
                // The handler decodes and books in one call: no separate decode stamp.
                decoded: Timestamp::ZERO,
                booked,
                published: Timestamp::ZERO,
            },
        });
    }
}

impl<'a, I, Err> CaptureSource<I>
where
    I: Iterator<Item = Result<Record<'a>, Err>>,
{
    /// A source over `records` (e.g. `KcapReader::records()`), feeding `handler`, paced by
    /// `pace` on `clock`.
    pub fn new(handler: FeedHandler, records: I, pace: Pace, clock: TscClock) -> Self {
        Self {
            handler,
            records,
            pacer: Pacer::new(pace),
            clock,
            seq: 0,
            finished: false,
            publish: None,
            unpublished: 0,
            pending: None,
            held: Vec::with_capacity(HELD_CAPACITY),
        }
    }

    /// Publishes only the updates of instruments whose entry in `mask` (indexed by feed
    /// instrument id) is true; instruments beyond the mask (learned later) are not published.
    /// The books still apply every event.
    pub fn with_publish_mask(mut self, mask: Vec<bool>) -> Self {
        self.publish = Some(mask);
        self
    }
}

impl<I> CaptureSource<I> {
    /// The handler's counters (records, anomalies, ...).
    pub fn stats(&self) -> HandlerStats {
        self.handler.stats()
    }

    /// The handler, with its final books.
    pub fn handler(&self) -> &FeedHandler {
        &self.handler
    }

    /// The handler, with its final books and counters.
    pub fn into_handler(self) -> FeedHandler {
        self.handler
    }

    /// Book updates emitted so far.
    pub fn updates(&self) -> u64 {
        self.seq
    }

    /// Accepted events not published because their instrument is outside the publish mask.
    pub fn unpublished(&self) -> u64 {
        self.unpublished
    }
}

impl<'a, I, Err> Source for CaptureSource<I>
where
    I: Iterator<Item = Result<Record<'a>, Err>>,
{
    type Out = BookUpdate;

    #[inline]
    fn poll<E: Emit<BookUpdate>>(&mut self, out: &mut E) -> SourceStatus {
        // Paced: a record that is not due yet waits in `held` and the source reports idle, so
        // the pipeline's loop keeps control (interval ends, abort) instead of blocking here.
        if let Some((recv_ts, due)) = self.pending {
            if self.clock.now() < due {
                return SourceStatus::Idle;
            }
            self.pending = None;
            let mut sink = UpdateSink {
                out,
                seq: &mut self.seq,
                clock: &self.clock,
                recv: due,
                publish: self.publish.as_deref(),
                unpublished: &mut self.unpublished,
            };
            self.handler.on_datagram(recv_ts, &self.held, &mut sink);
            return SourceStatus::Busy;
        }
        match self.records.next() {
            Some(Ok(record)) => {
                // Paced: latency counts from the intended send time (coordinated-omission
                // correction); unpaced: from now.
                let recv = self.pacer.intended(record.recv_ts, &self.clock);
                if self.pacer.pace() != Pace::Max && self.clock.now() < recv {
                    self.held.clear();
                    self.held.extend_from_slice(record.payload);
                    self.pending = Some((record.recv_ts, recv));
                    return SourceStatus::Idle;
                }
                let mut sink = UpdateSink {
                    out,
                    seq: &mut self.seq,
                    clock: &self.clock,
                    recv,
                    publish: self.publish.as_deref(),
                    unpublished: &mut self.unpublished,
                };
                self.handler
                    .on_datagram(record.recv_ts, record.payload, &mut sink);
                SourceStatus::Busy
            }
            Some(Err(_)) => {
                self.handler.count_capture_error();
                SourceStatus::Busy
            }
            None if !self.finished => {
                self.finished = true;
                let mut sink = UpdateSink {
                    out,
                    seq: &mut self.seq,
                    clock: &self.clock,
                    recv: self.clock.now(),
                    publish: self.publish.as_deref(),
                    unpublished: &mut self.unpublished,
                };
                self.handler.finish(&mut sink);
                SourceStatus::Busy
            }
            None => SourceStatus::Done,
        }
    }
}
