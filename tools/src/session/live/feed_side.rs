//! The feed half of the trading loop: MoldUDP64 datagrams off the socket (gaps re-requested),
//! the feed handler (ITCH decode, L3 books), the recorded feed, and the strategy stage, whose
//! inputs for the gateway go to whatever sink the mode gives it (the gateway half called in
//! sequence, or the ring to the gateway thread). It also reads the operator's requests (kill
//! switch, forced risk mode) and passes the gateway's share on.

use std::fs::File;
use std::io::BufWriter;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kestrel_core::book::L3Books;
use kestrel_core::clock::{Clock, Stamps, TscClock};
use kestrel_core::latency::{LatencyRecorder, LatencyTag};
use kestrel_core::pipeline::{Emit, Stage};
use kestrel_core::{BookTop, BookUpdate, GatewayInput, GatewayInputKind, TradingStatus};
use kestrel_feeds::handler::{EventSink, FeedEvent, FeedHandler};
use kestrel_feeds::kcap::KcapError;
use kestrel_feeds::live::{Delivery, LiveFeed, Recorder};
use kestrel_strategy::harmonizer::KillSwitch;
use kestrel_strategy::harmonizer::risk_mode::RiskMode;
use kestrel_strategy::stage::StrategyStage;

use super::gateway_side::GatewayControl;
use crate::session::ops::{Counter, OpsShared};

/// The recorded feed's writer.
pub type FeedRecorder = Recorder<BufWriter<File>>;

/// See the module docs.
pub struct FeedSide {
    feed: LiveFeed<TscClock>,
    handler: FeedHandler,
    recorder: FeedRecorder,
    record_error: Option<KcapError>,
    strategy: StrategyStage,
    kill_switch: KillSwitch,
    clock: TscClock,
    latency: LatencyRecorder,
    ops: Arc<OpsShared>,
    control: Arc<GatewayControl>,
    last_ops: Instant,
    seq: u64,
    updates: u64,
    intents: u64,
    events: Vec<String>,
}

impl std::fmt::Debug for FeedSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedSide")
            .field("updates", &self.updates)
            .field("intents", &self.intents)
            .finish_non_exhaustive()
    }
}

/// What the feed half hands over at the end.
#[derive(Debug)]
pub struct FeedDone {
    /// The live feed (counters).
    pub feed: LiveFeed<TscClock>,
    /// The handler (books, counters).
    pub handler: FeedHandler,
    /// The recorder, to finish.
    pub recorder: FeedRecorder,
    /// A write error of the recorded feed, if any.
    pub record_error: Option<KcapError>,
    /// The strategy stage.
    pub strategy: StrategyStage,
    /// Book updates.
    pub updates: u64,
    /// Intents.
    pub intents: u64,
    /// Operator events applied here.
    pub events: Vec<String>,
}

/// The parts [`FeedSide::new`] takes.
pub struct FeedParts {
    /// The feed socket.
    pub feed: LiveFeed<TscClock>,
    /// The handler.
    pub handler: FeedHandler,
    /// The recorded feed.
    pub recorder: FeedRecorder,
    /// The strategy.
    pub strategy: StrategyStage,
    /// The feed thread's latency recorder (made on the feed thread; its intervals go to the
    /// ops thread): `feed`, `strategy`, `e2e`.
    pub latency: LatencyRecorder,
}

/// Stamps what the strategy hands to the gateway with the time it decided, and counts intents.
struct Decided<'a, E> {
    out: &'a mut E,
    clock: &'a TscClock,
    intents: &'a mut u64,
    latency: &'a mut LatencyRecorder,
}

impl<E: Emit<GatewayInput>> Emit<GatewayInput> for Decided<'_, E> {
    #[inline]
    fn emit(&mut self, mut input: GatewayInput) {
        input.stamps.published = self.clock.now();
        if input.kind == GatewayInputKind::Intent {
            *self.intents += 1;
        }
        self.out.emit(input);
    }

    /// The strategy's own latency, into the feed thread's recorder.
    #[inline]
    fn record(&mut self, tag: LatencyTag, ns: u64) {
        self.latency.record(tag, ns);
    }
}

/// One book update per applied event, into the strategy.
struct Updates<'a, E> {
    strategy: &'a mut StrategyStage,
    out: Decided<'a, E>,
    clock: &'a TscClock,
    seq: &'a mut u64,
    updates: &'a mut u64,
    /// When the message's turn came (its decode starts).
    turn: kestrel_core::Timestamp,
    valid: bool,
}

impl<E: Emit<GatewayInput>> EventSink for Updates<'_, E> {
    #[inline]
    fn on_event(&mut self, fe: &FeedEvent, books: &L3Books) {
        let Ok(applied) = fe.outcome else { return };
        let id = fe.event.instrument;
        let mut top = BookTop::default();
        books.fill_top(id, &mut top);
        let booked = self.clock.now();
        *self.seq += 1;
        *self.updates += 1;
        let update = BookUpdate {
            instrument: id,
            seq: *self.seq,
            exch_ts: fe.event.exch_ts,
            recv_ts: fe.recv_ts,
            top,
            trade: applied.trade.unwrap_or_default(),
            // A book with a gap open (or one lost) is not traded.
            trading: self.valid && books.status(id) == TradingStatus::Trading,
            more_in_packet: false,
            stamps: Stamps {
                recv: fe.recv_ts,
                decoded: self.turn,
                booked,
                published: booked,
            },
        };
        self.out
            .latency
            .record(LatencyTag::Feed, booked.saturating_since(fe.recv_ts));
        self.strategy.on_event(&update, &mut self.out);
        let decided = self.clock.now();
        self.out
            .latency
            .record(LatencyTag::EndToEnd, decided.saturating_since(fe.recv_ts));
    }
}

/// How often the ops counters are refreshed.
const OPS_EVERY: Duration = Duration::from_millis(100);

impl FeedSide {
    /// The feed half.
    pub fn new(
        parts: FeedParts,
        clock: TscClock,
        ops: Arc<OpsShared>,
        control: Arc<GatewayControl>,
    ) -> Self {
        let kill_switch = parts.strategy.engine().harmonizer().kill_switch();
        Self {
            feed: parts.feed,
            handler: parts.handler,
            recorder: parts.recorder,
            record_error: None,
            strategy: parts.strategy,
            kill_switch,
            clock,
            latency: parts.latency,
            ops,
            control,
            last_ops: Instant::now(),
            seq: 0,
            updates: 0,
            intents: 0,
            events: Vec::new(),
        }
    }

    /// Reads what the socket has, hands every message in order through the books and the
    /// strategy into `out`, records the feed. Returns the datagrams read.
    #[inline]
    pub fn poll<E: Emit<GatewayInput>>(&mut self, out: &mut E) -> usize {
        let Self {
            feed,
            handler,
            recorder,
            record_error,
            strategy,
            clock,
            latency,
            seq,
            updates,
            intents,
            ..
        } = self;
        let valid = feed.is_valid();
        let read = feed.poll(&mut |d: Delivery<'_>| {
            if record_error.is_none()
                && let Err(e) = recorder.on_delivery(&d)
            {
                *record_error = Some(e);
            }
            let Delivery::Message {
                recv_ts,
                seq: msg_seq,
                payload,
                ..
            } = d
            else {
                return;
            };
            let mut sink = Updates {
                strategy: &mut *strategy,
                out: Decided {
                    out: &mut *out,
                    clock,
                    intents: &mut *intents,
                    latency: &mut *latency,
                },
                clock,
                seq: &mut *seq,
                updates: &mut *updates,
                turn: clock.now(),
                valid,
            };
            handler.on_itch_message(recv_ts, msg_seq, payload, &mut sink);
        });
        self.housekeeping();
        read
    }

    /// Latency hand-off, the operator's requests, ops counters.
    #[inline]
    fn housekeeping(&mut self) {
        let now = self.clock.now().nanos();
        if self.latency.interval_due(now) {
            self.latency.hand_off(now);
        }
        if self.last_ops.elapsed() < OPS_EVERY {
            return;
        }
        self.last_ops = Instant::now();
        let ops = &self.ops;
        if ops.kill.swap(false, Ordering::AcqRel) {
            self.kill_switch.trip();
            self.control.kill.store(true, Ordering::Release);
            self.events
                .push(format!("kill_switch tripped at update {}", self.updates));
        }
        if ops.reset_kill.swap(false, Ordering::AcqRel) {
            self.kill_switch.reset();
            self.control.reset_kill.store(true, Ordering::Release);
            self.events
                .push(format!("kill_switch reset at update {}", self.updates));
        }
        if let Some(mode) = mode_of(ops.mode.swap(0, Ordering::AcqRel)) {
            self.strategy.engine_mut().harmonizer_mut().force_mode(mode);
            self.events.push(format!(
                "risk_mode forced to {mode:?} at update {}",
                self.updates
            ));
        }
        let fs = self.feed.stats();
        ops.set(Counter::Updates, self.updates);
        ops.set(Counter::Intents, self.intents);
        ops.set(Counter::Datagrams, fs.datagrams);
        ops.set(Counter::GapsOpened, fs.gaps_opened);
        ops.set(Counter::GapsFilled, fs.gaps_filled);
        ops.set(Counter::GapsLost, fs.gaps_lost);
    }

    /// Whether the venue's feed ended (End of Session, nothing missing).
    pub fn ended(&self) -> bool {
        self.feed.ended()
    }

    /// Ends the feed (an open gap is declared lost; held messages are recorded) and hands the
    /// parts over.
    pub fn finish(mut self) -> FeedDone {
        let recorder = &mut self.recorder;
        let record_error = &mut self.record_error;
        self.feed.finish(&mut |d| {
            if let Err(e) = recorder.on_delivery(&d)
                && record_error.is_none()
            {
                *record_error = Some(e);
            }
        });
        self.strategy.drain_exec_reports();
        let now = self.clock.now().nanos();
        self.latency
            .finish(now, &std::sync::atomic::AtomicBool::new(false));
        FeedDone {
            feed: self.feed,
            handler: self.handler,
            recorder: self.recorder,
            record_error: self.record_error,
            strategy: self.strategy,
            updates: self.updates,
            intents: self.intents,
            events: self.events,
        }
    }
}

fn mode_of(i: u8) -> Option<RiskMode> {
    [
        RiskMode::Aggressive,
        RiskMode::Normal,
        RiskMode::Conservative,
        RiskMode::Defensive,
        RiskMode::Halt,
    ]
    .get(usize::from(i.checked_sub(1)?))
    .copied()
}
