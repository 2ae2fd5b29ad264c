//! The venue without its sockets: matching engine, OUCH order entry, ITCH publisher and the
//! latency model, driven by a sim clock (venue time: nanoseconds since midnight, as ITCH and
//! OUCH stamp them).
//!
//! Everything happens in time order: a participant's message reaches the engine after the
//! order-entry delay, the engine's answers reach the participant's stream after the response
//! delay, market data reaches the feed after the market-data delay; replayed market events
//! apply at their recorded times (ties: the recorded event first). The live exchange drives it
//! from the wall clock (paced) or as fast as it can; the backtest drives it from the capture.
//!
//! With a journal attached ([`SimVenue::attach_journal`]) every state-changing call is written
//! ahead of its effect; [`SimVenue::replay`] applies a journal's records to a fresh venue and
//! rebuilds the same state (see [`crate::journal`]).

use std::collections::VecDeque;

use kestrel_core::{BookTop, InstrumentId, InstrumentTable, MarketEvent, Timestamp};
use kestrel_feeds::moldudp64::MoldSession;
use kestrel_gateway::ouch::{ClientMessage, ServerMessage};

use crate::journal::{JournalWriter, Record};
use crate::latency::{LatencyConfig, LatencyModel, Stream};
use crate::market::BackgroundFeed;
use crate::matching::{
    CancelReason, EngineConfig, MatchEvent, MatchSink, MatchStats, MatchingEngine, SmpPolicy,
};
use crate::order_entry::{FillRecord, OrderEntry, OrderEntryStats};
use crate::publish::{DropPlan, ItchPublisher, MoldOut, MoldStats, NullPackets, PacketSink};

/// Venue settings.
#[derive(Clone, Debug, PartialEq)]
pub struct VenueConfig {
    /// Latency model.
    pub latency: LatencyConfig,
    /// Self-match prevention.
    pub smp: SmpPolicy,
    /// Cancel a participant's orders when its session disconnects.
    pub cancel_on_disconnect: bool,
    /// MoldUDP64 session name of the market data feed.
    pub mold_session: String,
    /// Packets of the feed to drop on purpose.
    pub drops: DropPlan,
    /// Orders the engine holds before growing.
    pub order_capacity: usize,
    /// Encode and publish the ITCH feed (a backtest that reads the book directly turns it off).
    pub publish_feed: bool,
}

impl Default for VenueConfig {
    fn default() -> Self {
        Self {
            latency: LatencyConfig::default(),
            smp: SmpPolicy::CancelNewest,
            cancel_on_disconnect: true,
            mold_session: "KSIM000001".to_owned(),
            drops: DropPlan::default(),
            order_capacity: 1 << 18,
            publish_feed: true,
        }
    }
}

/// Passes engine events to the ITCH publisher (and whoever else watches).
struct Feed<'a> {
    enabled: bool,
    publisher: &'a mut ItchPublisher,
    latency: &'a mut LatencyModel,
    watcher: &'a mut dyn FnMut(&MatchEvent),
}

impl MatchSink for Feed<'_> {
    fn on_event(&mut self, event: &MatchEvent) {
        if self.enabled {
            self.publisher.on_event(event, self.latency);
        }
        (self.watcher)(event);
    }
}

/// The venue. See the module docs.
#[derive(Debug)]
pub struct SimVenue {
    config: VenueConfig,
    engine: MatchingEngine,
    entry: OrderEntry,
    publisher: ItchPublisher,
    mold: MoldOut,
    latency: LatencyModel,
    inbound: VecDeque<(u64, u32, ClientMessage)>,
    responses: VecDeque<(u64, u32, ServerMessage)>,
    streams: Vec<Vec<ServerMessage>>,
    instruments: InstrumentTable,
    now: Timestamp,
    touched: Vec<InstrumentId>,
    journal: Option<JournalWriter>,
    /// The last clock step that did no work and is not journaled yet (it only moved `now`).
    idle_advance: Option<Timestamp>,
    started: bool,
    ended: bool,
}

/// What [`SimVenue::replay`] rebuilt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Records applied.
    pub records: u64,
    /// Participant messages among them.
    pub messages: u64,
    /// Replayed market events applied.
    pub background_events: u64,
    /// Whether the day had started.
    pub started: bool,
    /// Whether the day had ended.
    pub ended: bool,
}

impl SimVenue {
    /// A venue for `instruments` with `participants` logins.
    pub fn new(instruments: &InstrumentTable, participants: usize, config: VenueConfig) -> Self {
        let session =
            MoldSession::from_name(&config.mold_session).unwrap_or(MoldSession([b' '; 10]));
        Self {
            engine: MatchingEngine::new(EngineConfig {
                instruments: instruments.len().max(1),
                order_capacity: config.order_capacity,
                levels_per_side: 512,
                smp: config.smp,
            }),
            entry: OrderEntry::new(instruments, participants),
            publisher: ItchPublisher::new(instruments),
            mold: MoldOut::new(session, config.drops.clone()),
            latency: LatencyModel::new(config.latency),
            inbound: VecDeque::with_capacity(1024),
            responses: VecDeque::with_capacity(1024),
            streams: (0..participants)
                .map(|_| Vec::with_capacity(4096))
                .collect(),
            instruments: instruments.clone(),
            now: Timestamp::ZERO,
            touched: Vec::with_capacity(64),
            journal: None,
            idle_advance: None,
            started: false,
            ended: false,
            config,
        }
    }

    /// Writes every state-changing call to `journal` from now on, ahead of its effect.
    pub fn attach_journal(&mut self, journal: JournalWriter) {
        self.journal = Some(journal);
    }

    /// The journal, if one is attached.
    pub fn journal(&self) -> Option<&JournalWriter> {
        self.journal.as_ref()
    }

    /// Whether the day started ([`SimVenue::start`]).
    pub fn started(&self) -> bool {
        self.started
    }

    /// Whether the day ended ([`SimVenue::end_of_day`]).
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Journals `record` (after the idle clock step before it, so a replay sees the same
    /// clock).
    fn write_ahead(&mut self, record: Record) {
        let Some(j) = self.journal.as_mut() else {
            return;
        };
        if let Some(now) = self.idle_advance.take() {
            j.append(&Record::Advance { now });
        }
        j.append(&record);
    }

    /// Applies journaled records to this venue (a fresh one, with the same instruments,
    /// participants and configuration as the venue that wrote them), with `background` the
    /// same capture from its start; market data goes nowhere (it is in the message store for
    /// re-requests). Attach the journal for appending afterwards.
    pub fn replay(&mut self, records: &[Record], background: &mut BackgroundFeed<'_>) -> Replayed {
        let journal = self.journal.take();
        let mut out = Replayed::default();
        let mut sink = NullPackets;
        for r in records {
            out.records += 1;
            match *r {
                Record::Start { ts } => self.start(ts),
                Record::Advance { now } => {
                    out.background_events += self.advance(now, Some(background), &mut sink);
                }
                Record::Release { now } => self.release(now, &mut sink),
                Record::Submit {
                    participant,
                    now,
                    msg,
                } => {
                    out.messages += 1;
                    self.submit(participant, &msg, now);
                }
                Record::Disconnect { participant, now } => {
                    self.disconnect(participant, now);
                }
                Record::EndOfDay { ts } => self.end_of_day(ts, &mut sink),
            }
        }
        self.journal = journal;
        out.started = self.started;
        out.ended = self.ended;
        out
    }

    /// Publishes the start of the day (system event, stock directory) at `ts`.
    pub fn start(&mut self, ts: Timestamp) {
        self.write_ahead(Record::Start { ts });
        self.started = true;
        self.now = ts;
        if self.config.publish_feed {
            self.publisher.start_of_day(ts);
        }
    }

    /// Publishes the end of the day at `ts` (after everything due by then).
    pub fn end_of_day<S: PacketSink + ?Sized>(&mut self, ts: Timestamp, sink: &mut S) {
        self.write_ahead(Record::EndOfDay { ts });
        self.ended = true;
        self.publisher.end_of_day(ts.max(self.now));
        let last = self.publisher_last_due().max(ts.nanos());
        self.release_due(Timestamp(last), sink);
        self.mold.end_session(last, sink);
    }

    fn publisher_last_due(&self) -> u64 {
        self.publisher.next_due().map_or(0, |t| t.nanos())
    }

    /// Venue time of the last thing done.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The configuration.
    pub fn config(&self) -> &VenueConfig {
        &self.config
    }

    /// The instruments.
    pub fn instruments(&self) -> &InstrumentTable {
        &self.instruments
    }

    /// The matching engine (books, counters).
    pub fn engine(&self) -> &MatchingEngine {
        &self.engine
    }

    /// Engine counters.
    pub fn match_stats(&self) -> MatchStats {
        self.engine.stats()
    }

    /// Order-entry counters.
    pub fn order_entry_stats(&self) -> OrderEntryStats {
        self.entry.stats()
    }

    /// Feed counters.
    pub fn feed_stats(&self) -> MoldStats {
        self.mold.stats()
    }

    /// The MoldUDP64 publisher (its message store serves re-requests).
    pub fn mold(&self) -> &MoldOut {
        &self.mold
    }

    /// Every participant fill so far.
    pub fn fills(&self) -> &[FillRecord] {
        self.entry.fills()
    }

    /// Participant `p`'s sequenced OUCH stream (message `n` at index `n - 1`).
    pub fn stream(&self, participant: u32) -> &[ServerMessage] {
        self.streams
            .get(participant as usize)
            .map_or(&[], |s| s.as_slice())
    }

    /// Instruments whose book changed since the last call (each once).
    pub fn take_touched(&mut self) -> impl Iterator<Item = InstrumentId> + '_ {
        self.touched.drain(..)
    }

    /// The top of an instrument's book.
    pub fn fill_top(&self, instrument: InstrumentId, out: &mut BookTop) {
        self.engine.fill_top(instrument, out);
    }

    /// A participant's message, sent at `now`: it reaches the engine after the order-entry
    /// delay.
    pub fn submit(&mut self, participant: u32, msg: &ClientMessage, now: Timestamp) {
        self.write_ahead(Record::Submit {
            participant,
            now,
            msg: *msg,
        });
        let due = self.latency.due(Stream::OrderEntry, now).nanos();
        self.inbound.push_back((due, participant, *msg));
    }

    /// A participant's session went away at `now`: with cancel on disconnect its orders are
    /// cancelled at once (the Canceled messages wait on its stream).
    pub fn disconnect(&mut self, participant: u32, now: Timestamp) -> usize {
        if !self.config.cancel_on_disconnect {
            return 0;
        }
        self.write_ahead(Record::Disconnect { participant, now });
        let ts = now.max(self.now);
        self.now = ts;
        let mut watcher = |_: &MatchEvent| {};
        let n = self.entry.cancel_all(
            participant,
            CancelReason::Disconnect,
            ts,
            &mut self.engine,
            &mut Feed {
                enabled: self.config.publish_feed,
                publisher: &mut self.publisher,
                latency: &mut self.latency,
                watcher: &mut watcher,
            },
        );
        self.queue_responses(ts);
        n
    }

    /// The earliest time something inside the venue is due (an inbound message, a response, a
    /// market data message).
    pub fn next_due(&self) -> Option<Timestamp> {
        [
            self.inbound.front().map(|x| x.0),
            self.responses.front().map(|x| x.0),
            self.publisher.next_due().map(|t| t.nanos()),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(Timestamp)
    }

    fn queue_responses(&mut self, ts: Timestamp) {
        for (p, msg) in self.entry.drain_outbox() {
            let due = self.latency.due(Stream::OrderResponse, ts).nanos();
            self.responses.push_back((due, p, msg));
        }
    }

    /// Applies one replayed market event now (its recorded time, or `now` if later).
    pub fn apply_background(&mut self, ev: &MarketEvent) {
        let ts = ev.exch_ts.max(self.now);
        self.now = ts;
        let ev = MarketEvent { exch_ts: ts, ..*ev };
        let touched = &mut self.touched;
        let mut watcher = |e: &MatchEvent| note_touched(touched, e);
        self.entry.on_background(
            &ev,
            &mut self.engine,
            &mut Feed {
                enabled: self.config.publish_feed,
                publisher: &mut self.publisher,
                latency: &mut self.latency,
                watcher: &mut watcher,
            },
        );
        self.queue_responses(ts);
    }

    fn apply_inbound(&mut self, due: u64, participant: u32, msg: &ClientMessage) {
        let ts = Timestamp(due).max(self.now);
        self.now = ts;
        let touched = &mut self.touched;
        let mut watcher = |e: &MatchEvent| note_touched(touched, e);
        self.entry.on_client(
            participant,
            msg,
            ts,
            &mut self.engine,
            &mut Feed {
                enabled: self.config.publish_feed,
                publisher: &mut self.publisher,
                latency: &mut self.latency,
                watcher: &mut watcher,
            },
        );
        self.queue_responses(ts);
    }

    /// Does everything due by `now`, in time order: replayed events from `background` and
    /// participants' messages reach the engine; responses due go on the participants' streams;
    /// market data due is published into `sink`. Returns the number of replayed events applied.
    pub fn advance<S: PacketSink + ?Sized>(
        &mut self,
        now: Timestamp,
        mut background: Option<&mut BackgroundFeed<'_>>,
        sink: &mut S,
    ) -> u64 {
        if self.journal.is_some() {
            let bg_due = background
                .as_mut()
                .and_then(|b| b.peek_ts())
                .is_some_and(|t| t <= now);
            if bg_due || self.next_due().is_some_and(|t| t <= now) {
                self.write_ahead(Record::Advance { now });
            } else {
                // Nothing to do but move the clock: journaled only before the next record.
                self.idle_advance = Some(now);
            }
        }
        let mut applied = 0;
        loop {
            let bg = background.as_mut().and_then(|b| b.peek_ts());
            let inb = self.inbound.front().map(|x| x.0);
            let take_bg = match (bg, inb) {
                (Some(b), Some(i)) => b.nanos() <= i,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if take_bg {
                if bg.is_none_or(|b| b > now) {
                    break;
                }
                if let Some(ev) = background.as_mut().and_then(|f| f.next_event()) {
                    self.apply_background(&ev);
                    applied += 1;
                }
                continue;
            }
            if inb.is_some_and(|i| i <= now.nanos()) {
                self.step_inbound();
                continue;
            }
            break;
        }
        self.now = self.now.max(now);
        self.release_due(now, sink);
        applied
    }

    fn step_inbound(&mut self) {
        if let Some((due, p, msg)) = self.inbound.pop_front() {
            self.apply_inbound(due, p, &msg);
        }
    }

    /// Moves responses due by `now` onto the streams and publishes market data due by `now`.
    pub fn release<S: PacketSink + ?Sized>(&mut self, now: Timestamp, sink: &mut S) {
        let due = [
            self.responses.front().map(|x| x.0),
            self.publisher.next_due().map(|t| t.nanos()),
        ]
        .into_iter()
        .flatten()
        .any(|t| t <= now.nanos());
        if due {
            self.write_ahead(Record::Release { now });
        }
        self.release_due(now, sink);
    }

    fn release_due<S: PacketSink + ?Sized>(&mut self, now: Timestamp, sink: &mut S) {
        while let Some(&(due, p, msg)) = self.responses.front() {
            if due > now.nanos() {
                break;
            }
            self.responses.pop_front();
            if let Some(s) = self.streams.get_mut(p as usize) {
                s.push(msg);
            } else {
                self.streams.resize_with(p as usize + 1, Vec::new);
                self.streams[p as usize].push(msg);
            }
        }
        self.publisher.release(now, &mut self.mold, sink);
        self.mold.heartbeat_if_idle(now.nanos(), sink);
    }

    /// Events that could not be encoded as ITCH.
    pub fn itch_encode_errors(&self) -> u64 {
        self.publisher.encode_errors()
    }
}

fn note_touched(touched: &mut Vec<InstrumentId>, e: &MatchEvent) {
    let id = match *e {
        MatchEvent::Booked { instrument, .. }
        | MatchEvent::Executed { instrument, .. }
        | MatchEvent::Reduced { instrument, .. }
        | MatchEvent::Replaced { instrument, .. }
        | MatchEvent::MarketTrade { instrument, .. }
        | MatchEvent::Status { instrument, .. } => instrument,
        _ => return,
    };
    if touched.last() != Some(&id) && !touched.contains(&id) {
        touched.push(id);
    }
}
