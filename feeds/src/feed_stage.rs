//! The feed stage of the pipeline: capture records -> feed handler (MoldUDP64, ITCH decode,
//! normaliser, `L3Books`) -> [`BookUpdate`]s (the top of book after the event, any trade print
//! attached), as often as the [`PublishPolicy`] says.
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
    BookEventKind, BookTop, BookUpdate, InstrumentId, MARKET_WIDE, Timestamp, TradePrint,
    TradingStatus,
};

use crate::handler::{EventSink, FeedEvent, FeedHandler, HandlerStats};
use crate::kcap::Record;

/// When the feed stage publishes a book update.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PublishPolicy {
    /// After every event the books accepted: the consumer sees every intermediate state of
    /// every book.
    #[default]
    EveryEvent,
    /// Per capture record (one MoldUDP64 packet: the messages the venue sent together), one
    /// update for each instrument whose book changed in it, after the record's last message;
    /// and, as they happen, one update per trade print and per status change (no print or
    /// halt is merged into another). A consumer that acts on what it sees then acts on the
    /// packet's final book, which is all a live reader can act on, and costs one decision per
    /// instrument and packet instead of one per message.
    Packet,
}

impl PublishPolicy {
    /// The policy's name in configuration files and reports: `every_event` or `packet`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::EveryEvent => "every_event",
            Self::Packet => "packet",
        }
    }
}

impl core::str::FromStr for PublishPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "every_event" => Ok(Self::EveryEvent),
            "packet" => Ok(Self::Packet),
            other => Err(format!("publish `{other}`: every_event or packet")),
        }
    }
}

/// Per feed instrument: a change not yet published (packet policy).
#[derive(Clone, Copy, Debug, Default)]
struct Pending {
    dirty: bool,
    exch_ts: Timestamp,
    recv_ts: Timestamp,
}

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
    policy: PublishPolicy,
    /// Packet policy: per feed instrument, a change not yet published.
    pending: Vec<Pending>,
    /// Packet policy: instruments with a pending change, in order of their first change.
    dirty: Vec<InstrumentId>,
    /// Accepted events merged into a later update (packet policy).
    merged: u64,
    /// A paced record taken but not due yet: its receive time, intended send time and channel.
    /// The source reports idle until then (never blocking the hot loop); its payload is in
    /// `held`.
    not_due: Option<(Timestamp, Timestamp, u16)>,
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
    policy: PublishPolicy,
    pending: &'a mut Vec<Pending>,
    dirty: &'a mut Vec<InstrumentId>,
    merged: &'a mut u64,
}

impl<E: Emit<BookUpdate>> UpdateSink<'_, E> {
    /// Publishes `id`'s book as it is now.
    #[inline]
    fn publish_now(
        &mut self,
        books: &L3Books,
        id: InstrumentId,
        exch_ts: Timestamp,
        recv_ts: Timestamp,
        trade: TradePrint,
    ) {
        let booked = self.clock.now();
        let mut top = BookTop::default();
        books.fill_top(id, &mut top);
        *self.seq += 1;
        self.out.emit(BookUpdate {
            instrument: id,
            seq: *self.seq,
            exch_ts,
            recv_ts,
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

    /// Packet policy: publishes every instrument with a pending change, in order of first
    /// change (after the record's last message).
    fn flush(&mut self, books: &L3Books) {
        for k in 0..self.dirty.len() {
            let id = self.dirty[k];
            let Some(p) = self.pending.get_mut(id.index()) else {
                continue;
            };
            if !p.dirty {
                continue;
            }
            p.dirty = false;
            let (exch_ts, recv_ts) = (p.exch_ts, p.recv_ts);
            self.publish_now(books, id, exch_ts, recv_ts, TradePrint::default());
        }
        self.dirty.clear();
    }
}

impl<E: Emit<BookUpdate>> EventSink for UpdateSink<'_, E> {
    /// Every event the books accepted, those applied with an error included (the book
    /// changed), is published per the policy. A market-wide event gives one update per
    /// instrument, so the strategy learns of a circuit breaker on every instrument at once.
    #[inline]
    fn on_event(&mut self, fe: &FeedEvent, books: &L3Books) {
        let Ok(applied) = fe.outcome else {
            return;
        };
        if fe.event.instrument == MARKET_WIDE {
            self.market_wide(fe, books);
            return;
        }
        // Prints, breaks and status changes go out as they happen, never merged.
        let urgent = applied.trade.is_some()
            || matches!(
                fe.event.kind,
                BookEventKind::Status(_)
                    | BookEventKind::OperationalHalt { .. }
                    | BookEventKind::MarketWideHalt { .. }
            );
        self.route(
            fe,
            fe.event.instrument,
            applied.trade.unwrap_or_default(),
            urgent,
            books,
        );
    }
}

impl<E: Emit<BookUpdate>> UpdateSink<'_, E> {
    #[cold]
    fn market_wide(&mut self, fe: &FeedEvent, books: &L3Books) {
        for index in 0..books.instruments() {
            let id = InstrumentId(u32::try_from(index).unwrap_or(u32::MAX));
            self.route(fe, id, TradePrint::default(), true, books);
        }
    }

    /// `id`'s update for `fe`, unless the publish mask leaves it out: now (every-event
    /// policy, or `urgent`), or at the end of the packet (packet policy).
    #[inline]
    fn route(
        &mut self,
        fe: &FeedEvent,
        id: InstrumentId,
        trade: TradePrint,
        urgent: bool,
        books: &L3Books,
    ) {
        if let Some(mask) = self.publish
            && !mask.get(id.index()).copied().unwrap_or(false)
        {
            *self.unpublished += 1;
            return;
        }
        let (exch_ts, recv_ts) = (fe.event.exch_ts, fe.recv_ts);
        if self.policy == PublishPolicy::EveryEvent || urgent {
            if let Some(p) = self.pending.get_mut(id.index())
                && p.dirty
            {
                // This update shows the pending change too: it is merged into this one.
                p.dirty = false;
                *self.merged += 1;
            }
            self.publish_now(books, id, exch_ts, recv_ts, trade);
            return;
        }
        if self.pending.len() <= id.index() {
            // A new instrument (learned mid-stream): off the steady-state path.
            self.pending.resize(id.index() + 1, Pending::default());
        }
        let p = &mut self.pending[id.index()];
        if p.dirty {
            *self.merged += 1;
        } else {
            p.dirty = true;
            self.dirty.push(id);
        }
        p.exch_ts = exch_ts;
        p.recv_ts = recv_ts;
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
            policy: PublishPolicy::EveryEvent,
            pending: Vec::new(),
            dirty: Vec::new(),
            merged: 0,
            not_due: None,
            held: Vec::with_capacity(HELD_CAPACITY),
        }
    }

    /// Publishes per `policy` (default [`PublishPolicy::EveryEvent`]).
    pub fn with_policy(mut self, policy: PublishPolicy) -> Self {
        self.policy = policy;
        let n = self.handler.books().instruments();
        self.pending = vec![Pending::default(); n];
        self.dirty = Vec::with_capacity(n.max(16));
        self
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

    /// Accepted events whose change went out in a later update of the same packet (packet
    /// policy). Published updates + merged + unpublished = accepted events.
    pub fn merged(&self) -> u64 {
        self.merged
    }

    /// The publish policy.
    pub fn policy(&self) -> PublishPolicy {
        self.policy
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
        if let Some((recv_ts, due, channel)) = self.not_due {
            if self.clock.now() < due {
                return SourceStatus::Idle;
            }
            self.not_due = None;
            let mut sink = UpdateSink {
                out,
                seq: &mut self.seq,
                clock: &self.clock,
                recv: due,
                publish: self.publish.as_deref(),
                unpublished: &mut self.unpublished,
                policy: self.policy,
                pending: &mut self.pending,
                dirty: &mut self.dirty,
                merged: &mut self.merged,
            };
            self.handler
                .on_channel_datagram(channel, recv_ts, &self.held, &mut sink);
            if !sink.dirty.is_empty() {
                sink.flush(self.handler.books());
            }
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
                    self.not_due = Some((record.recv_ts, recv, record.channel));
                    return SourceStatus::Idle;
                }
                let mut sink = UpdateSink {
                    out,
                    seq: &mut self.seq,
                    clock: &self.clock,
                    recv,
                    publish: self.publish.as_deref(),
                    unpublished: &mut self.unpublished,
                    policy: self.policy,
                    pending: &mut self.pending,
                    dirty: &mut self.dirty,
                    merged: &mut self.merged,
                };
                self.handler.on_channel_datagram(
                    record.channel,
                    record.recv_ts,
                    record.payload,
                    &mut sink,
                );
                if !sink.dirty.is_empty() {
                    sink.flush(self.handler.books());
                }
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
                    policy: self.policy,
                    pending: &mut self.pending,
                    dirty: &mut self.dirty,
                    merged: &mut self.merged,
                };
                self.handler.finish(&mut sink);
                if !sink.dirty.is_empty() {
                    sink.flush(self.handler.books());
                }
                SourceStatus::Busy
            }
            None => SourceStatus::Done,
        }
    }
}
