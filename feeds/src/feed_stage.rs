//! The feed stage of the pipeline: capture records -> feed handler (MoldUDP64, ITCH decode,
//! normaliser, `L3Books`) -> [`BookUpdate`]s (the top of book after the event, any trade print
//! attached), as often as the [`PublishPolicy`] says.
//!
//! A [`Source`] for `kestrel_core::pipeline`: the same code runs inline and threaded.
//!
//! Books are kept for every instrument; with [`CaptureSource::with_publish_mask`] only the
//! instruments the consumer trades (the strategy's universe) are published, so the others
//! never cost a top-of-book copy or a ring slot.

use kestrel_core::book::{Applied, BookError, L3Books, Touched};
use kestrel_core::clock::{Clock, Pace, Pacer, Stamps, TscClock};
use kestrel_core::pipeline::{Emit, Source, SourceStatus};
use kestrel_core::{
    BookEventKind, BookTop, BookUpdate, InstrumentId, LevelView, MARKET_WIDE, Price, Side,
    TOP_LEVELS, Timestamp, TradePrint, TradingStatus,
};

use crate::handler::{EventSink, FeedEvent, FeedHandler, HandlerStats};
use crate::itch::OrderMessage;
use crate::kcap::Record;

mod packet_queue;

use packet_queue::{NONE, PacketQueue};

/// When the feed stage publishes a book update.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PublishPolicy {
    /// After every event the books accepted: the consumer sees every intermediate state of
    /// every book.
    EveryEvent,
    /// Per capture record (one MoldUDP64 packet: the messages the venue sent together), one
    /// update for each instrument whose book changed in it, after the record's last message;
    /// and, as they happen, one update per trade print and per status change (no print or
    /// halt is merged into another). A consumer that acts on what it sees then acts on the
    /// packet's final book, which is all a live reader can act on, and costs one decision per
    /// instrument and packet instead of one per message. The default (`kestrel replay`'s
    /// too).
    ///
    /// Every update but the last of its instrument in its packet carries
    /// [`BookUpdate::more_in_packet`]: the strategy takes it into its signals and decides on
    /// the last one only. (A print is therefore held until the packet's end; the updates,
    /// their content and their order are those of every print going out as it happens.)
    #[default]
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

/// Per feed instrument, everything the sink reads for one of its events, in one place (one
/// bounds check and one cache line per event): whether it is published at all (the publish
/// mask), the change not yet published (packet policy) and the cached visible levels.
#[derive(Clone, Copy, Debug)]
struct InstrumentOut {
    /// Its updates are published (inside the publish mask, or no mask).
    publish: bool,
    /// Packet policy: a change not yet published.
    dirty: bool,
    /// The pending change's exchange and receive times.
    exch_ts: Timestamp,
    recv_ts: Timestamp,
    /// The visible levels last read from its book.
    cache: TopCache,
    /// Packet policy: the ticket of its latest update held in the packet's queue (`NONE`).
    queued: u32,
}

impl InstrumentOut {
    /// An instrument published (or not) per `publish`, nothing pending, its levels unread.
    fn new(publish: bool) -> Self {
        Self {
            publish,
            dirty: false,
            exch_ts: Timestamp::ZERO,
            recv_ts: Timestamp::ZERO,
            cache: TopCache::default(),
            queued: NONE,
        }
    }
}

/// Per feed instrument: the visible levels as last read from the book, and whether an event
/// since then may have changed them. Publishing copies `top` and reads the book's levels again
/// only when `stale`: a trade print, a break, a status change, or an order event strictly
/// beyond the tenth visible level of its side leaves the published levels as they were.
#[derive(Clone, Copy, Debug)]
struct TopCache {
    top: BookTop,
    stale: bool,
}

impl Default for TopCache {
    fn default() -> Self {
        Self {
            top: BookTop::default(),
            stale: true,
        }
    }
}

impl TopCache {
    /// Marks the cache stale when `kind` (applied as `applied`) may have changed the visible
    /// levels. Only sure cases keep it fresh: events that leave the book as it was, and order
    /// events (add, execute, cancel, delete) at a price strictly worse than the tenth visible
    /// level of a side that shows all ten. A replace (its old price is not reported), a level
    /// or a clear always mark it.
    #[inline]
    fn note(&mut self, kind: &BookEventKind, applied: &Applied) {
        if self.stale {
            return;
        }
        let unchanged = match kind {
            BookEventKind::Trade { .. }
            | BookEventKind::Break { .. }
            | BookEventKind::Status(_)
            | BookEventKind::OperationalHalt { .. }
            | BookEventKind::MarketWideHalt { .. } => true,
            BookEventKind::Add { .. }
            | BookEventKind::Execute { .. }
            | BookEventKind::ExecuteAtPrice { .. }
            | BookEventKind::ExecuteNonPrintable { .. }
            | BookEventKind::Cancel { .. }
            | BookEventKind::Delete { .. } => match (applied.side, applied.price) {
                (Some(side), Some(price)) => beyond_visible(&self.top, side, price),
                _ => false,
            },
            _ => false,
        };
        self.stale = !unchanged;
    }
}

impl TopCache {
    /// [`note`](Self::note) for an order event applied through the books' direct entry points
    /// (add, the executions, cancel, delete, replace), from whether it is a replace and the
    /// side and price it touched (the `Applied` it stands for reports both): a replace always
    /// marks the cache, any other order event unless strictly behind the tenth visible level.
    #[inline]
    fn note_order(&mut self, replace: bool, side: Side, price: Price) {
        if self.stale {
            return;
        }
        let unchanged = !replace && beyond_visible(&self.top, side, price);
        self.stale = !unchanged;
    }
}

/// Whether `price` on `side` lies strictly behind the tenth visible level (a side showing
/// fewer than ten levels has nothing behind it: any change there is visible).
#[inline]
fn beyond_visible(top: &BookTop, side: Side, price: Price) -> bool {
    let levels = top.side(side);
    match levels.get(TOP_LEVELS - 1) {
        Some(last) => match side {
            Side::Buy => price < last.price,
            Side::Sell => price > last.price,
        },
        None => false,
    }
}

/// Reads `id`'s visible levels from `books` into `top`, which holds the levels last read (every
/// slot beyond a side's count at its default). `fill_top` writes the visible levels and the
/// counts; the slots the side showed before and no longer does are reset here, so the result
/// equals a fresh `BookTop` filled (without clearing all twenty slots first).
#[inline]
fn refill(top: &mut BookTop, books: &L3Books, id: InstrumentId) {
    let (bids_before, asks_before) = (top.bid_levels, top.ask_levels);
    books.fill_top(id, top);
    clear_beyond(&mut top.bids, top.bid_levels, bids_before);
    clear_beyond(&mut top.asks, top.ask_levels, asks_before);
}

/// Resets `levels[now..before]` (the slots a side no longer shows).
#[inline]
fn clear_beyond(levels: &mut [LevelView; TOP_LEVELS], now: u8, before: u8) {
    let (now, before) = (usize::from(now), usize::from(before).min(TOP_LEVELS));
    if let Some(gone) = levels.get_mut(now..before) {
        gone.fill(LevelView::default());
    }
}

/// Whether the instrument at `index` is published under `mask` (`None`: every instrument;
/// an instrument beyond the mask: no).
#[inline]
fn published(mask: Option<&[bool]>, index: usize) -> bool {
    mask.is_none_or(|m| m.get(index).copied().unwrap_or(false))
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
    /// Per feed instrument: publish flag, pending change and cached visible levels.
    outs: Vec<InstrumentOut>,
    /// Per feed instrument: publish its updates. `None` publishes every instrument. Read
    /// when an instrument enters `outs`.
    publish: Option<Vec<bool>>,
    /// Accepted events not published (instrument outside the mask).
    unpublished: u64,
    policy: PublishPolicy,
    /// Packet policy: instruments with a pending change, in order of their first change.
    dirty: Vec<InstrumentId>,
    /// Accepted events merged into a later update (packet policy).
    merged: u64,
    /// Packet policy: urgent updates held until the packet's end (their packet-last flag is
    /// known then).
    queue: PacketQueue,
    /// A paced record taken but not due yet: its receive time, intended send time and channel.
    /// The source reports idle until then (never blocking the hot loop); its payload is in
    /// `held`.
    not_due: Option<(Timestamp, Timestamp, u16)>,
    /// The pending record's payload (preallocated for the largest UDP payload).
    held: Vec<u8>,
}

/// Bytes kept for a record that is not due yet (the largest UDP payload fits).
const HELD_CAPACITY: usize = 65_536;

/// Urgent updates the packet policy holds at once before its queue grows (the prints and
/// status changes of one packet, every instrument together; the single-symbol benchmark day's
/// packets hold a few, a 1,500-byte datagram of executions about 43).
const QUEUE_CAPACITY: usize = 256;

/// Turns handler events into book updates on the way to the pipeline's output.
struct UpdateSink<'a, E> {
    out: &'a mut E,
    seq: &'a mut u64,
    clock: &'a TscClock,
    recv: Timestamp,
    outs: &'a mut Vec<InstrumentOut>,
    publish: Option<&'a [bool]>,
    unpublished: &'a mut u64,
    policy: PublishPolicy,
    dirty: &'a mut Vec<InstrumentId>,
    /// Events merged in this record (added to the source's count after the record: a field
    /// of the sink, not a reference, so counting one is one increment).
    merged: u64,
    /// Hold urgent updates until their packet-last flag is known (packet policy; tests turn
    /// it off to compare with every update going out as it happens).
    group: bool,
    queue: &'a mut PacketQueue,
}

impl<E: Emit<BookUpdate>> UpdateSink<'_, E> {
    /// Publishes the book of `id` (an index of `outs`) as it is now.
    #[inline]
    fn publish_now(
        &mut self,
        books: &L3Books,
        id: InstrumentId,
        exch_ts: Timestamp,
        recv_ts: Timestamp,
        trade: TradePrint,
        hold: bool,
    ) {
        let booked = self.clock.now();
        let Some(o) = self.outs.get_mut(id.index()) else {
            return;
        };
        let cache = &mut o.cache;
        if cache.stale {
            refill(&mut cache.top, books, id);
            cache.stale = false;
        }
        debug_assert!(
            {
                let mut fresh = BookTop::default();
                books.fill_top(id, &mut fresh);
                fresh == cache.top
            },
            "the cached top of {id:?} differs from its book"
        );
        *self.seq += 1;
        let (seq, recv, trading) = (
            *self.seq,
            self.recv,
            books.status(id) == TradingStatus::Trading,
        );
        // The update is written field by field where it goes: into the packet queue's slot
        // when held (no update built first and copied in: the top goes straight from the
        // cache into the slot), into a local to hand on otherwise.
        let top = &cache.top;
        let fill = |slot: &mut BookUpdate| {
            slot.instrument = id;
            slot.seq = seq;
            slot.exch_ts = exch_ts;
            slot.recv_ts = recv_ts;
            slot.top = *top;
            slot.trade = trade;
            slot.trading = trading;
            slot.more_in_packet = false;
            slot.stamps = Stamps {
                recv,
                // The handler decodes and books in one call: no separate decode stamp.
                decoded: Timestamp::ZERO,
                booked,
                published: Timestamp::ZERO,
            };
        };
        if hold {
            o.queued = self.queue.push_with(o.queued, fill);
        } else {
            let mut update = BookUpdate::default();
            fill(&mut update);
            self.out.emit(update);
        }
    }

    /// The record's (packet's) end: every held update goes out (those whose instrument has a
    /// pending change are followed by that change's update), then the pending changes.
    #[inline]
    fn end_record(&mut self, books: &L3Books) {
        if !self.queue.is_empty() {
            for &id in self.dirty.iter() {
                if let Some(o) = self.outs.get(id.index())
                    && o.dirty
                {
                    self.queue.mark_followed(o.queued);
                }
            }
            let (out, outs) = (&mut *self.out, &mut *self.outs);
            self.queue.end_packet(|u| {
                if let Some(o) = outs.get_mut(u.instrument.index()) {
                    o.queued = NONE;
                }
                out.emit_from(u);
            });
        }
        if !self.dirty.is_empty() {
            self.flush(books);
        }
    }

    /// Packet policy: publishes every instrument with a pending change, in order of first
    /// change (after the record's last message).
    fn flush(&mut self, books: &L3Books) {
        for k in 0..self.dirty.len() {
            let id = self.dirty[k];
            let Some(o) = self.outs.get_mut(id.index()) else {
                continue;
            };
            if !o.dirty {
                continue;
            }
            o.dirty = false;
            let (exch_ts, recv_ts) = (o.exch_ts, o.recv_ts);
            self.publish_now(books, id, exch_ts, recv_ts, TradePrint::default(), false);
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
        let kind = &fe.event.kind;
        self.deliver(
            fe.event.instrument,
            fe.event.exch_ts,
            fe.recv_ts,
            books,
            |cache| {
                cache.note(kind, &applied);
                // Prints, breaks and status changes go out as they happen, never merged.
                applied.trade.is_some()
                    || matches!(
                        kind,
                        BookEventKind::Status(_)
                            | BookEventKind::OperationalHalt { .. }
                            | BookEventKind::MarketWideHalt { .. }
                    )
            },
            || applied.trade.unwrap_or_default(),
        );
    }

    /// An order event as the book's `Touched`: exactly what `on_event` does with the
    /// `FeedEvent` the default would build (`outcome` = `into_applied`), reading only the side
    /// and price touched and the print, so no `Applied` is built (`tests`: both paths publish
    /// the same updates over random streams).
    #[inline]
    fn on_order_event(
        &mut self,
        recv_ts: Timestamp,
        _seq: u64,
        message: OrderMessage<'_>,
        result: Result<Touched, BookError>,
        books: &L3Books,
    ) {
        let Ok(touched) = result else {
            return;
        };
        let (id, exch_ts) = (message.instrument(), message.exch_ts());
        self.deliver(
            id,
            exch_ts,
            recv_ts,
            books,
            |cache| {
                cache.note_order(message.is_replace(), touched.side, touched.price);
                // An order event is urgent exactly when it prints (a printable execution).
                message.trade(&touched).is_some()
            },
            // The print is read again only for an update that goes out (not kept across the
            // policy's branch for every message).
            || message.trade(&touched).unwrap_or_default(),
        );
    }
}

impl<E: Emit<BookUpdate>> UpdateSink<'_, E> {
    /// One accepted event of instrument `id`: `note` marks the cached top and says whether the
    /// event is urgent (published now, never merged); `print` gives its trade print, read only
    /// when an update goes out; the rest follows the policy.
    #[inline(always)]
    fn deliver(
        &mut self,
        id: InstrumentId,
        exch_ts: Timestamp,
        recv_ts: Timestamp,
        books: &L3Books,
        note: impl FnOnce(&mut TopCache) -> bool,
        print: impl FnOnce() -> TradePrint,
    ) {
        // One bounds check for the publish flag, the pending change and the cached top; a
        // market-wide event (its id is beyond every instrument) or an instrument learned
        // mid-stream takes the cold path (no recursion: this call stays inlined into the
        // handler). (The cold path takes values, not the event: a reference would make the
        // handler build every message's `FeedEvent` in memory.)
        if id.index() >= self.outs.len() && self.beyond(id, exch_ts, recv_ts, books) {
            return;
        }
        let Some(o) = self.outs.get_mut(id.index()) else {
            return;
        };
        if !o.publish {
            *self.unpublished += 1;
            return;
        }
        let urgent = note(&mut o.cache);
        if urgent || self.policy == PublishPolicy::EveryEvent {
            let trade = print();
            if o.dirty {
                // This update shows the pending change too: it is merged into this one.
                o.dirty = false;
                self.merged += 1;
            }
            let hold = self.group && self.policy == PublishPolicy::Packet;
            self.publish_now(books, id, exch_ts, recv_ts, trade, hold);
            return;
        }
        if o.dirty {
            self.merged += 1;
        } else {
            o.dirty = true;
            self.dirty.push(id);
        }
        o.exch_ts = exch_ts;
        o.recv_ts = recv_ts;
    }
}

impl<E: Emit<BookUpdate>> UpdateSink<'_, E> {
    /// An event whose instrument is beyond `outs`: a market-wide event (one urgent update per
    /// instrument; returns true: delivered), or an instrument learned mid-stream (its entry is
    /// added, published per the publish mask; returns false: deliver it as any other).
    #[cold]
    #[inline(never)]
    fn beyond(
        &mut self,
        id: InstrumentId,
        exch_ts: Timestamp,
        recv_ts: Timestamp,
        books: &L3Books,
    ) -> bool {
        if id == MARKET_WIDE {
            for index in 0..books.instruments() {
                let each = InstrumentId(u32::try_from(index).unwrap_or(u32::MAX));
                self.route_urgent(each, exch_ts, recv_ts, books);
            }
            return true;
        }
        self.grow(id);
        false
    }

    /// Adds entries to `outs` up to `id` (instruments learned mid-stream), each published per
    /// the mask (instruments beyond it are not).
    fn grow(&mut self, id: InstrumentId) {
        while self.outs.len() <= id.index() {
            let publish = published(self.publish, self.outs.len());
            self.outs.push(InstrumentOut::new(publish));
        }
    }

    /// `id`'s update for a market-wide event at `exch_ts`, received at `recv_ts`: now (never
    /// merged), unless the publish mask leaves it out.
    fn route_urgent(
        &mut self,
        id: InstrumentId,
        exch_ts: Timestamp,
        recv_ts: Timestamp,
        books: &L3Books,
    ) {
        self.grow(id);
        let Some(o) = self.outs.get_mut(id.index()) else {
            return;
        };
        if !o.publish {
            *self.unpublished += 1;
            return;
        }
        if o.dirty {
            o.dirty = false;
            self.merged += 1;
        }
        let hold = self.group && self.policy == PublishPolicy::Packet;
        self.publish_now(books, id, exch_ts, recv_ts, TradePrint::default(), hold);
    }
}

impl<'a, I, Err> CaptureSource<I>
where
    I: Iterator<Item = Result<Record<'a>, Err>>,
{
    /// A source over `records` (e.g. `KcapReader::records()`), feeding `handler`, paced by
    /// `pace` on `clock`.
    pub fn new(handler: FeedHandler, records: I, pace: Pace, clock: TscClock) -> Self {
        let instruments = handler.books().instruments();
        Self {
            handler,
            records,
            pacer: Pacer::new(pace),
            clock,
            seq: 0,
            finished: false,
            outs: vec![InstrumentOut::new(true); instruments],
            publish: None,
            unpublished: 0,
            policy: PublishPolicy::EveryEvent,
            dirty: Vec::new(),
            merged: 0,
            queue: PacketQueue::with_capacity(0),
            not_due: None,
            held: Vec::with_capacity(HELD_CAPACITY),
        }
    }

    /// Publishes per `policy`. A source built with [`Self::new`] alone publishes every event
    /// ([`PublishPolicy::EveryEvent`]: a library caller sees every book state unless it asks
    /// for less); `kestrel replay` asks for [`PublishPolicy::Packet`] unless told otherwise.
    pub fn with_policy(mut self, policy: PublishPolicy) -> Self {
        self.policy = policy;
        let n = self.handler.books().instruments();
        self.dirty = Vec::with_capacity(n.max(16));
        if policy == PublishPolicy::Packet {
            self.queue = PacketQueue::with_capacity(QUEUE_CAPACITY);
        }
        self
    }

    /// Publishes only the updates of instruments whose entry in `mask` (indexed by feed
    /// instrument id) is true; instruments beyond the mask (learned later) are not published.
    /// The books still apply every event.
    pub fn with_publish_mask(mut self, mask: Vec<bool>) -> Self {
        for (index, o) in self.outs.iter_mut().enumerate() {
            o.publish = published(Some(&mask), index);
        }
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
                outs: &mut self.outs,
                publish: self.publish.as_deref(),
                unpublished: &mut self.unpublished,
                policy: self.policy,
                dirty: &mut self.dirty,
                merged: 0,
                group: true,
                queue: &mut self.queue,
            };
            self.handler
                .on_channel_datagram(channel, recv_ts, &self.held, &mut sink);
            sink.end_record(self.handler.books());
            self.merged += sink.merged;
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
                    outs: &mut self.outs,
                    publish: self.publish.as_deref(),
                    unpublished: &mut self.unpublished,
                    policy: self.policy,
                    dirty: &mut self.dirty,
                    merged: 0,
                    group: true,
                    queue: &mut self.queue,
                };
                self.handler.on_channel_datagram(
                    record.channel,
                    record.recv_ts,
                    record.payload,
                    &mut sink,
                );
                sink.end_record(self.handler.books());
                self.merged += sink.merged;
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
                    outs: &mut self.outs,
                    publish: self.publish.as_deref(),
                    unpublished: &mut self.unpublished,
                    policy: self.policy,
                    dirty: &mut self.dirty,
                    merged: 0,
                    group: true,
                    queue: &mut self.queue,
                };
                self.handler.finish(&mut sink);
                sink.end_record(self.handler.books());
                self.merged += sink.merged;
                SourceStatus::Busy
            }
            None => SourceStatus::Done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::{LevelView, OrderId, Qty, TradeKind};

    /// A top whose bids are 100, 99, ... and asks 101, 102, ...: `levels` per side.
    fn top(levels: u8) -> BookTop {
        let mut t = BookTop::default();
        for k in 0..usize::from(levels) {
            let step = i64::try_from(k).unwrap_or(0);
            t.bids[k] = LevelView {
                price: Price::from_units(100 - step).unwrap_or_default(),
                qty: Qty::ONE,
            };
            t.asks[k] = LevelView {
                price: Price::from_units(101 + step).unwrap_or_default(),
                qty: Qty::ONE,
            };
        }
        t.bid_levels = levels;
        t.ask_levels = levels;
        t
    }

    fn applied(side: Side, units: i64) -> Applied {
        Applied {
            instrument: InstrumentId(0),
            side: Some(side),
            price: Price::from_units(units),
            top_changed: false,
            trade: None,
            error: None,
        }
    }

    fn fresh(levels: u8) -> TopCache {
        TopCache {
            top: top(levels),
            stale: false,
        }
    }

    fn add(side: Side, units: i64) -> BookEventKind {
        BookEventKind::Add {
            order_id: OrderId(1),
            side,
            price: Price::from_units(units).unwrap_or_default(),
            qty: Qty::ONE,
        }
    }

    /// Refilling the cached top as a side grows to twelve levels and shrinks to none (slots it
    /// no longer shows reset) equals a fresh `BookTop` filled from the book every time.
    #[test]
    fn refill_equals_a_fresh_fill_as_sides_grow_and_shrink() {
        use kestrel_core::book::BookConfig;
        use kestrel_core::event::MarketEvent;
        let mut books = L3Books::new(BookConfig {
            instruments: 1,
            order_capacity: 64,
            levels_per_side: 4,
        });
        let id = InstrumentId(0);
        let mut cached = BookTop::default();
        let check = |cached: &mut BookTop, books: &L3Books| {
            refill(cached, books, id);
            let mut fresh = BookTop::default();
            books.fill_top(id, &mut fresh);
            assert_eq!(*cached, fresh);
        };
        let event = |kind| MarketEvent {
            instrument: id,
            exch_ts: Timestamp(1),
            kind,
        };
        for k in 0..12u64 {
            let step = i64::try_from(k).unwrap_or(0);
            books.apply(&event(add(Side::Buy, 100 - step))).unwrap();
            // Re-key the order: `add` always uses id 1.
            let _ = books.apply(&event(BookEventKind::Replace {
                old_order_id: OrderId(1),
                new_order_id: OrderId(100 + k),
                price: Price::from_units(100 - step).unwrap_or_default(),
                qty: Qty::ONE,
            }));
            if k % 2 == 0 {
                books.apply(&event(add(Side::Sell, 101 + step))).unwrap();
                let _ = books.apply(&event(BookEventKind::Replace {
                    old_order_id: OrderId(1),
                    new_order_id: OrderId(200 + k),
                    price: Price::from_units(101 + step).unwrap_or_default(),
                    qty: Qty::ONE,
                }));
            }
            check(&mut cached, &books);
        }
        assert_eq!((cached.bid_levels, cached.ask_levels), (10, 6));
        // Bids lose their best level each time (every level moves up a slot), asks their worst.
        for k in 0..12u64 {
            books
                .apply(&event(BookEventKind::Delete {
                    order_id: OrderId(100 + k),
                }))
                .unwrap();
            if k % 2 == 0 && k <= 10 {
                books
                    .apply(&event(BookEventKind::Delete {
                        order_id: OrderId(210 - k),
                    }))
                    .unwrap();
            }
            check(&mut cached, &books);
        }
        assert_eq!(cached, BookTop::default());
    }

    #[test]
    fn only_changes_behind_the_tenth_level_keep_the_cached_top() {
        // Ten levels a side: bids 100..=91, asks 101..=110.
        let behind = [(Side::Buy, 90), (Side::Sell, 111)];
        for (side, units) in behind {
            let mut c = fresh(10);
            c.note(&add(side, units), &applied(side, units));
            assert!(!c.stale, "{side:?} {units}");
            let delete = BookEventKind::Delete {
                order_id: OrderId(1),
            };
            c.note(&delete, &applied(side, units));
            assert!(!c.stale);
        }
        // At the tenth level, inside, or on a side with fewer than ten levels: visible.
        for (levels, side, units) in [
            (10, Side::Buy, 91),
            (10, Side::Sell, 110),
            (10, Side::Buy, 100),
            (9, Side::Buy, 50),
            (9, Side::Sell, 150),
        ] {
            let mut c = fresh(levels);
            c.note(&add(side, units), &applied(side, units));
            assert!(c.stale, "{levels} {side:?} {units}");
        }
        // No side or price reported: visible.
        let mut c = fresh(10);
        let mut a = applied(Side::Buy, 50);
        a.price = None;
        c.note(&add(Side::Buy, 50), &a);
        assert!(c.stale);
    }

    #[test]
    fn events_that_leave_the_book_keep_the_cached_top_and_replaces_never_do() {
        let print = BookEventKind::Trade {
            side: None,
            kind: TradeKind::NonDisplayed,
            price: Price::from_units(100).unwrap_or_default(),
            qty: Qty::ONE,
            match_number: 7,
        };
        let kept = [
            print,
            BookEventKind::Break { match_number: 7 },
            BookEventKind::Status(TradingStatus::Halted),
            BookEventKind::OperationalHalt { halted: true },
            BookEventKind::MarketWideHalt { level: 1 },
        ];
        for kind in kept {
            let mut c = fresh(3);
            c.note(&kind, &applied(Side::Buy, 100));
            assert!(!c.stale, "{kind:?}");
        }
        // A replace reports only its new price: even one far behind marks the cache.
        let replace = BookEventKind::Replace {
            old_order_id: OrderId(1),
            new_order_id: OrderId(2),
            price: Price::from_units(50).unwrap_or_default(),
            qty: Qty::ONE,
        };
        let mut c = fresh(10);
        c.note(&replace, &applied(Side::Buy, 50));
        assert!(c.stale);
        // Once stale, it stays stale until the next publish reads the book.
        c.note(
            &BookEventKind::Break { match_number: 1 },
            &applied(Side::Buy, 1),
        );
        assert!(c.stale);
        assert!(TopCache::default().stale);
    }

    /// `UpdateSink` through `on_event` only: the handler's order events reach it through the
    /// default `on_order_event`, as one `FeedEvent` each (the path every other sink takes).
    struct ViaFeedEvent<'a, S>(&'a mut S);

    impl<S: EventSink> EventSink for ViaFeedEvent<'_, S> {
        fn on_event(&mut self, event: &FeedEvent, books: &L3Books) {
            self.0.on_event(event, books);
        }
    }

    /// One generated message: (kind, instrument, order ref, new ref, sell?, shares, price step).
    type GenOp = (u8, u8, u64, u64, bool, u32, i64);

    /// The ITCH bytes of `op` for instrument `locate` (stock `S{locate}`): order messages mostly,
    /// prices on a grid of 16 ticks (so that sides hold more than ten levels and changes land
    /// both inside and behind the visible ones), some trades and status changes.
    fn itch(op: GenOp, ts: u64) -> Vec<u8> {
        use crate::itch::{encode_event, stock_field};
        use kestrel_core::{MarketEvent, OrderId, Qty, TradeKind};
        let (kind, instrument, order, new_order, sell, shares, step) = op;
        let side = if sell { Side::Sell } else { Side::Buy };
        // Bids at or below 100.00, asks at or above 100.01, a cent a tick.
        let cents = if sell { 10_001 + step } else { 10_000 - step };
        let price = Price::from_scaled(cents, 2).unwrap_or_default();
        let (order_id, qty) = (OrderId(order), Qty::from_units(i64::from(shares)).unwrap());
        let kind = match kind {
            0..=5 => BookEventKind::Add {
                order_id,
                side,
                price,
                qty,
            },
            6 => BookEventKind::Execute {
                order_id,
                qty,
                match_number: ts,
            },
            7 => BookEventKind::ExecuteAtPrice {
                order_id,
                qty,
                price,
                match_number: ts,
            },
            8 => BookEventKind::ExecuteNonPrintable {
                order_id,
                qty,
                price,
                match_number: ts,
            },
            9 => BookEventKind::Cancel { order_id, qty },
            10 | 11 => BookEventKind::Delete { order_id },
            12 | 13 => BookEventKind::Replace {
                old_order_id: order_id,
                new_order_id: OrderId(new_order),
                price,
                qty,
            },
            14 => BookEventKind::Trade {
                side: Some(side),
                kind: TradeKind::NonDisplayed,
                price,
                qty,
                match_number: ts,
            },
            _ => BookEventKind::Status(if sell {
                TradingStatus::Halted
            } else {
                TradingStatus::Trading
            }),
        };
        let event = MarketEvent {
            instrument: InstrumentId(0),
            exch_ts: Timestamp(ts),
            kind,
        };
        let locate = u16::from(instrument) + 1;
        let stock = stock_field(&format!("S{locate}")).unwrap();
        let mut buf = [0u8; 64];
        let len = encode_event(&event, stock, locate, 0, Timestamp(ts), &mut buf).unwrap();
        buf[..len].to_vec()
    }

    /// The stock directory messages for instruments 0 and 1 (locates 1 and 2).
    fn directory() -> Vec<Vec<u8>> {
        use crate::itch::{StockDirectoryMsg, stock_field};
        (1..=2u16)
            .map(|locate| {
                let msg = StockDirectoryMsg {
                    stock_locate: locate,
                    stock: stock_field(&format!("S{locate}")).unwrap(),
                    ..StockDirectoryMsg::default()
                };
                msg.to_bytes().unwrap().to_vec()
            })
            .collect()
    }

    /// What a sink published: the updates (without the clock's `booked` stamp) and the
    /// counters.
    #[derive(Debug, PartialEq)]
    struct Published {
        updates: Vec<BookUpdate>,
        seq: u64,
        unpublished: u64,
        merged: u64,
        dirty_left: usize,
        /// The number of updates published after each packet.
        ends: Vec<usize>,
    }

    /// Runs `packets` (each a list of messages) through a handler into `UpdateSink`, through
    /// `on_order_event` (`direct`) or through `on_event` only.
    fn publish(
        packets: &[Vec<Vec<u8>>],
        policy: PublishPolicy,
        mask: Option<&[bool]>,
        direct: bool,
    ) -> Published {
        publish_grouped(packets, policy, mask, direct, true)
    }

    /// [`publish`], with the packet policy's hold on urgent updates (`group`) or without it
    /// (every update out as it happens, no packet-last flags: the sequence before the flag).
    fn publish_grouped(
        packets: &[Vec<Vec<u8>>],
        policy: PublishPolicy,
        mask: Option<&[bool]>,
        direct: bool,
        group: bool,
    ) -> Published {
        use crate::handler::HandlerConfig;
        use kestrel_core::book::BookConfig;
        let mut handler = FeedHandler::new(HandlerConfig {
            books: BookConfig {
                instruments: 1,
                order_capacity: 8,
                levels_per_side: 4,
            },
            ..HandlerConfig::default()
        });
        let clock = TscClock::new();
        let (mut updates, mut seq, mut unpublished, mut merged) = (Vec::new(), 0, 0, 0);
        let (mut outs, mut dirty) = (Vec::new(), Vec::new());
        let mut queue = PacketQueue::with_capacity(1);
        let mut ends = Vec::new();
        let mut msg_seq = 0;
        for packet in packets {
            let mut sink = UpdateSink {
                out: &mut updates,
                seq: &mut seq,
                clock: &clock,
                recv: Timestamp(msg_seq),
                outs: &mut outs,
                publish: mask,
                unpublished: &mut unpublished,
                policy,
                dirty: &mut dirty,
                merged: 0,
                group,
                queue: &mut queue,
            };
            for m in packet {
                msg_seq += 1;
                let recv = Timestamp(1_000 + msg_seq);
                if direct {
                    handler.on_itch_message(recv, msg_seq, m, &mut sink);
                } else {
                    handler.on_itch_message(recv, msg_seq, m, &mut ViaFeedEvent(&mut sink));
                }
            }
            sink.end_record(handler.books());
            merged += sink.merged;
            ends.push(updates.len());
        }
        for u in &mut updates {
            u.stamps.booked = Timestamp::ZERO;
        }
        Published {
            updates,
            seq,
            unpublished,
            merged,
            dirty_left: dirty.len(),
            ends,
        }
    }

    /// Under `packet`, a held print goes out at its packet's end, not as soon as a later print
    /// of its instrument has made its flag final: nothing reaches the consumer mid-packet (an
    /// inline run then runs the consumer once per packet, after the packet's book work).
    #[test]
    fn held_prints_go_out_at_the_packets_end_not_before() {
        use crate::handler::HandlerConfig;
        let mut handler = FeedHandler::new(HandlerConfig::default());
        let clock = TscClock::new();
        let (mut updates, mut seq, mut unpublished) = (Vec::<BookUpdate>::new(), 0, 0);
        let (mut outs, mut dirty) = (Vec::new(), Vec::new());
        let mut queue = PacketQueue::with_capacity(4);
        // (kind, instrument, order, new order, sell, shares, price step): add order 1, then
        // two printing executions of it in one packet.
        let add = itch((0, 0, 1, 0, false, 100, 0), 2);
        let exec = |ts| itch((6, 0, 1, 0, false, 10, 0), ts);
        let packets = [directory(), vec![add], vec![exec(3), exec(4)]];
        let mut out_after_each = Vec::new();
        let mut msg_seq = 0;
        for (k, packet) in packets.iter().enumerate() {
            let mut sink = UpdateSink {
                out: &mut updates,
                seq: &mut seq,
                clock: &clock,
                recv: Timestamp(1),
                outs: &mut outs,
                publish: None,
                unpublished: &mut unpublished,
                policy: PublishPolicy::Packet,
                dirty: &mut dirty,
                merged: 0,
                group: true,
                queue: &mut queue,
            };
            for m in packet {
                msg_seq += 1;
                handler.on_itch_message(Timestamp(1_000 + msg_seq), msg_seq, m, &mut sink);
                if k == 2 {
                    out_after_each.push(sink.out.len());
                }
            }
            sink.end_record(handler.books());
        }
        // The add's update went out at its packet's end; both prints are held to theirs.
        assert_eq!(out_after_each, [1, 1]);
        let flags: Vec<_> = updates
            .iter()
            .map(|u| (u.trade.qty.is_positive(), u.more_in_packet))
            .collect();
        assert_eq!(flags, [(false, false), (true, true), (true, false)]);
    }

    fn gen_op() -> impl proptest::strategy::Strategy<Value = GenOp> {
        use proptest::prelude::*;
        (
            0u8..16,
            prop_oneof![4 => Just(0u8), 1 => Just(1u8)],
            1u64..80,
            1u64..80,
            any::<bool>(),
            prop_oneof![1 => Just(0u32), 8 => 1u32..300],
            0i64..16,
        )
    }

    /// Packets of 1 to 8 messages, after the stock directory.
    fn packets(ops: &[GenOp], cuts: &[usize]) -> Vec<Vec<Vec<u8>>> {
        let mut out = vec![directory()];
        let mut rest: &[GenOp] = ops;
        let mut ts = 1u64;
        for &n in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (now, later) = rest.split_at(n.min(rest.len()));
            out.push(
                now.iter()
                    .map(|&op| {
                        ts += 1;
                        itch(op, ts)
                    })
                    .collect(),
            );
            rest = later;
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 192,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// The feed stage's `on_order_event` (the handler's order events as `Touched`)
        /// publishes exactly what its `on_event` publishes from the `FeedEvent` the default
        /// builds: the same updates (tops, prints, times, order), merges and unpublished
        /// counts, under both policies, with and without a publish mask. (The cached top is
        /// checked against the book at every publish by `publish_now`'s debug assertion.)
        #[test]
        fn order_events_publish_as_their_feed_events_do(
            ops in proptest::collection::vec(gen_op(), 1..400),
            cuts in proptest::collection::vec(1usize..9, 1..8),
            packet in proptest::bool::ANY,
            masked in proptest::bool::weighted(0.25),
        ) {
            let policy = if packet { PublishPolicy::Packet } else { PublishPolicy::EveryEvent };
            let mask = [true, false];
            let mask = masked.then_some(&mask[..]);
            let p = packets(&ops, &cuts);
            let via_event = publish(&p, policy, mask, false);
            let direct = publish(&p, policy, mask, true);
            proptest::prop_assert_eq!(direct, via_event);
        }

        /// The packet-last flag: under `packet`, the updates published are exactly those of
        /// every update going out as it happens (content, order, sequence numbers, packet
        /// boundaries, merge and unpublished counts), with `more_in_packet` set exactly on the
        /// updates followed by a later update of their instrument in the same packet; under
        /// `every_event` it is never set. Streams hold prints, status changes (halts and
        /// resumptions), two instruments and a publish mask.
        #[test]
        fn packet_last_flags_mark_each_instruments_final_update_and_lose_nothing(
            ops in proptest::collection::vec(gen_op(), 1..400),
            cuts in proptest::collection::vec(1usize..9, 1..8),
            masked in proptest::bool::weighted(0.25),
        ) {
            let mask = [true, false];
            let mask = masked.then_some(&mask[..]);
            let p = packets(&ops, &cuts);
            let grouped = publish_grouped(&p, PublishPolicy::Packet, mask, true, true);
            let direct = publish_grouped(&p, PublishPolicy::Packet, mask, true, false);
            proptest::prop_assert!(direct.updates.iter().all(|u| !u.more_in_packet));
            // The reference flags: per packet, followed by a later update of its instrument.
            let mut expected = direct.updates.clone();
            let mut start = 0;
            for &end in &direct.ends {
                for k in start..end {
                    let id = expected[k].instrument;
                    expected[k].more_in_packet =
                        expected[k + 1..end].iter().any(|v| v.instrument == id);
                }
                start = end;
            }
            proptest::prop_assert_eq!(&grouped.updates, &expected);
            proptest::prop_assert_eq!(
                (grouped.seq, grouped.unpublished, grouped.merged, grouped.dirty_left, &grouped.ends),
                (direct.seq, direct.unpublished, direct.merged, direct.dirty_left, &direct.ends)
            );
            let every = publish(&p, PublishPolicy::EveryEvent, mask, true);
            proptest::prop_assert!(every.updates.iter().all(|u| !u.more_in_packet));
        }
    }

    /// The streams above reach what the property is about (so it cannot pass vacuously):
    /// prints from executions, merged changes, changes behind the tenth level that keep the
    /// cached top, and replaces.
    #[test]
    fn the_random_streams_reach_prints_merges_and_deep_levels() {
        use proptest::strategy::{Strategy, ValueTree};
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let (mut prints, mut merged, mut deep) = (0, 0, 0);
        let (mut followed, mut followed_halted, mut second_last) = (0, 0, 0);
        for _ in 0..20 {
            let ops = proptest::collection::vec(gen_op(), 400)
                .new_tree(&mut runner)
                .unwrap()
                .current();
            let p = packets(&ops, &[1, 3, 8, 2]);
            let every = publish(&p, PublishPolicy::EveryEvent, None, true);
            prints += every
                .updates
                .iter()
                .filter(|u| u.top.bid_levels > 0 && u.trade.qty > Qty::ZERO)
                .count();
            deep += every
                .updates
                .iter()
                .filter(|u| usize::from(u.top.bid_levels) == TOP_LEVELS)
                .count();
            let packet = publish(&p, PublishPolicy::Packet, None, true);
            merged += packet.merged;
            followed += packet.updates.iter().filter(|u| u.more_in_packet).count();
            followed_halted += packet
                .updates
                .iter()
                .filter(|u| u.more_in_packet && !u.trading)
                .count();
            second_last += packet
                .updates
                .iter()
                .filter(|u| !u.more_in_packet && u.instrument == InstrumentId(1))
                .count();
        }
        assert!(
            followed > 100,
            "updates followed in their packet {followed}"
        );
        assert!(
            followed_halted > 5,
            "of a halted instrument {followed_halted}"
        );
        assert!(
            second_last > 20,
            "last updates of the second instrument {second_last}"
        );
        assert!(prints > 20, "prints {prints}");
        assert!(merged > 100, "merged {merged}");
        assert!(deep > 100, "updates with ten bid levels {deep}");
    }
}
