//! The strategy as a pipeline stage: book updates in, order intents out.
//!
//! [`StrategyStage`] wraps a [`StrategyEngine`] over [`SignalAlphaEdges`] and, on the way,
//! hashes every book update (the same [`OutputHash`] the placeholder consumer computed, so the
//! update hash stays comparable), counts and hashes every intent ([`IntentTally`]), counts
//! decisions by binding rule, records the strategy latency (the update's `published` stamp to
//! the decision) under [`LatencyTag::Strategy`] in the recorder of the thread it runs on (through
//! [`Emit::record`]), and keeps every parameter change the engine applied at an event boundary.
//! An update followed by a later one of its instrument in its packet
//! ([`BookUpdate::more_in_packet`]) is observed, not decided on: it is hashed and handed on as
//! market data, with no decision, strategy latency or binding count.
//!
//! With a gateway, the stage's output is a [`GatewayInput`] per update (the market, and the
//! intent when there is one) and it drains the gateway's [`ExecReport`] ring before each
//! update: the harmonizer's positions and working quantities come from fills and order
//! completions, not from intents ([`StrategyStage::with_exec_reports`], harmonizer
//! [`FillMode::External`]). Without one (a plain replay), [`IntentsOnly`] keeps just the
//! intents.
//!
//! Hot reload: a [`ParamsReloader`] is an [`OpsTask`]: it runs on the pipeline's ops thread in
//! both run modes (file checks, reads, parsing, validation and the log of what it found all
//! happen there) and publishes through the lock-free handoff; the engine takes the new set
//! before the next update. The stage itself never touches the file.

use kestrel_core::book::StableHasher;
use kestrel_core::clock::{Clock, Stamped, TscClock};
use kestrel_core::latency::{LatencyTag, TagSet};
use kestrel_core::pipeline::{Emit, OpsTask, OutputHash, Received, RingReceiver, Stage};
use kestrel_core::{
    BookUpdate, ExecKind, ExecReport, GatewayInput, InstrumentTable, OrderIntent, Qty, Side,
    Timestamp,
};

use crate::alpha::{AlphaConfig, AlphaSet, MODEL_COUNT};
use crate::engine::{EngineError, EngineStats, SignalAlphaEdges, StrategyEngine};
use crate::harmonizer::{Binding, FillMode, Harmonizer, HarmonizerError, event_time};
use crate::params::{
    ParamsChange, ParamsError, ParamsReceiver, ParamsWatcher, StrategyParams, WatchOutcome,
    parse_params,
};
use crate::signals::{SignalConfig, SignalSet};
use crate::universe::Universe;

/// The built-in parameter file (`examples/strategy.toml`), used when no file is given.
pub const DEFAULT_PARAMS_TOML: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/strategy.toml"
));

/// The built-in parameters ([`DEFAULT_PARAMS_TOML`] parsed and validated).
pub fn default_params() -> Result<StrategyParams, ParamsError> {
    parse_params(DEFAULT_PARAMS_TOML)
}

/// Parameter changes the stage keeps (preallocated; more are counted, not stored).
pub const CHANGE_LOG_CAPACITY: usize = 1024;

/// Every [`Binding`], in discriminant order (index = `binding as usize`).
pub const BINDINGS: [Binding; 17] = [
    Binding::Kelly,
    Binding::Var,
    Binding::Es,
    Binding::Position,
    Binding::Notional,
    Binding::OrderSize,
    Binding::OrderRate,
    Binding::DailyLoss,
    Binding::KillSwitch,
    Binding::Halt,
    Binding::MinOrder,
    Binding::NoBook,
    Binding::NotTrading,
    Binding::UnknownInstrument,
    Binding::AtTarget,
    Binding::LimitGuard,
    Binding::CrossedBook,
];

/// Count, side counts and a 64-bit FNV-1a hash over every intent's content, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntentTally {
    /// Intents seen.
    pub count: u64,
    /// Of which buys.
    pub buys: u64,
    /// Of which sells.
    pub sells: u64,
    /// FNV-1a over sequence, instrument, side, urgency, reason, price, quantity and decision
    /// time of each intent.
    pub hash: u64,
}

impl Default for IntentTally {
    fn default() -> Self {
        Self {
            count: 0,
            buys: 0,
            sells: 0,
            hash: StableHasher::OFFSET,
        }
    }
}

impl IntentTally {
    #[inline]
    fn bytes(&mut self, bytes: &[u8]) {
        let mut h = StableHasher::resume(self.hash);
        h.write(bytes);
        self.hash = h.finish();
    }

    /// Folds one intent in.
    #[inline]
    pub fn add(&mut self, i: &OrderIntent) {
        self.count += 1;
        match i.side {
            Side::Buy => self.buys += 1,
            Side::Sell => self.sells += 1,
        }
        self.bytes(&i.seq.to_le_bytes());
        self.bytes(&i.instrument.0.to_le_bytes());
        self.bytes(&[i.side as u8, i.urgency as u8, i.reason as u8]);
        self.bytes(&i.price.raw().to_le_bytes());
        self.bytes(&i.qty.raw().to_le_bytes());
        self.bytes(&i.decided_at.nanos().to_le_bytes());
    }
}

/// What the gateway reported back, as the strategy saw it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecTally {
    /// Reports taken off the ring.
    pub reports: u64,
    /// Fills applied to positions.
    pub fills: u64,
    /// Shares (units of `Qty`) filled, bought plus sold.
    pub filled: Qty,
    /// Orders finished with quantity left (cancelled, expired, accepted dead).
    pub done: u64,
    /// Venue rejects.
    pub rejected: u64,
    /// Gateway pre-trade rejects.
    pub risk_rejected: u64,
    /// Fills reversed by broken trades.
    pub broken: u64,
}

/// Keeps only the intents of a stage's [`GatewayInput`]s (a replay without a gateway).
#[derive(Clone, Debug, Default)]
pub struct IntentsOnly<K>(pub K);

impl<K: Emit<OrderIntent>> Emit<GatewayInput> for IntentsOnly<K> {
    #[inline]
    fn emit(&mut self, event: GatewayInput) {
        if event.kind == kestrel_core::GatewayInputKind::Intent {
            self.0.emit(event.intent);
        }
    }

    #[inline]
    fn discards(&self) -> bool {
        self.0.discards()
    }
}

/// Why a strategy stage could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The harmonizer refused the instruments or parameters.
    #[error("building the harmonizer: {0}")]
    Harmonizer(#[from] HarmonizerError),
    /// The engine refused the edge source.
    #[error("building the strategy engine: {0}")]
    Engine(#[from] EngineError),
    /// The parameters do not fit the alpha set.
    #[error("strategy parameters: {0}")]
    Params(#[from] ParamsError),
}

/// What one reload attempt found, with the pipeline clock time it was found at.
#[derive(Clone, Debug, PartialEq)]
pub struct ReloadNote {
    /// Pipeline clock, nanoseconds.
    pub at_ns: u64,
    /// Published or rejected.
    pub outcome: ReloadOutcome,
}

/// A reload attempt's result.
#[derive(Clone, Debug, PartialEq)]
pub enum ReloadOutcome {
    /// A new valid set went to the strategy thread.
    Published {
        /// Its version.
        version: u64,
        /// Sections that changed.
        sections: Vec<&'static str>,
    },
    /// The file was rejected; the parameters in force stay.
    Rejected {
        /// Field path, when the error names one.
        field: Option<String>,
        /// The error.
        reason: String,
    },
}

/// The ops side of hot reload: a [`ParamsWatcher`] polled at most every `every_ns`, and a log
/// of what it published or rejected.
#[derive(Debug)]
pub struct ParamsReloader {
    watcher: ParamsWatcher,
    every_ns: u64,
    next_ns: u64,
    notes: Vec<ReloadNote>,
}

impl ParamsReloader {
    /// Polls `watcher` at most once every `every_ns` nanoseconds.
    pub fn new(watcher: ParamsWatcher, every_ns: u64) -> Self {
        Self {
            watcher,
            every_ns,
            next_ns: 0,
            notes: Vec::new(),
        }
    }

    /// The watcher (e.g. for its SIGHUP trigger).
    pub fn watcher(&self) -> &ParamsWatcher {
        &self.watcher
    }

    /// Polls the watcher if `now_ns` is due; returns whether it published a new set.
    pub fn poll(&mut self, now_ns: u64) -> bool {
        if now_ns < self.next_ns {
            return false;
        }
        self.next_ns = now_ns.saturating_add(self.every_ns);
        self.poll_now(now_ns)
    }

    /// Polls the watcher regardless of the interval; returns whether it published a new set.
    pub fn poll_now(&mut self, now_ns: u64) -> bool {
        let outcome = match self.watcher.poll() {
            WatchOutcome::Unchanged => return false,
            WatchOutcome::Published { version, changed } => ReloadOutcome::Published {
                version,
                sections: changed.section_names(),
            },
            WatchOutcome::Rejected(e) => ReloadOutcome::Rejected {
                field: e.field_path().map(str::to_owned),
                reason: e.to_string(),
            },
        };
        let published = matches!(outcome, ReloadOutcome::Published { .. });
        self.notes.push(ReloadNote {
            at_ns: now_ns,
            outcome,
        });
        published
    }

    /// Everything published or rejected so far.
    pub fn notes(&self) -> &[ReloadNote] {
        &self.notes
    }

    /// The log, consuming the reloader.
    pub fn into_notes(self) -> Vec<ReloadNote> {
        self.notes
    }
}

/// The reloader runs on the pipeline's ops thread: every ops turn it checks whether its poll
/// interval is due (file stat, read, parse and validate only then).
impl OpsTask for ParamsReloader {
    fn poll(&mut self, now_ns: u64) -> bool {
        ParamsReloader::poll(self, now_ns)
    }
}

/// The strategy stage. `C` is the injected clock that times the strategy latency (the
/// pipeline's [`TscClock`] in a replay or a live session; a test or a backtest may inject its
/// own). Decisions never read it: they run on event time.
#[derive(Debug)]
pub struct StrategyStage<C = TscClock> {
    engine: StrategyEngine<SignalAlphaEdges>,
    clock: C,
    updates: OutputHash,
    intents: IntentTally,
    bindings: [u64; BINDINGS.len()],
    changes: Vec<ParamsChange>,
    changes_unlogged: u64,
    applied_seen: u64,
    exec: Option<RingReceiver<ExecReport>>,
    exec_tally: ExecTally,
    /// Feed id <-> slot mapping; `None` when slots are feed ids.
    universe: Option<Universe>,
    /// Updates for feed instruments outside the universe (ignored).
    outside: u64,
}

impl<C: Clock> StrategyStage<C> {
    /// A stage for the instruments of `table` (signals, alpha models and harmonizer sized from
    /// it; lot sizes from it), with `params` in force as version 0 and `fill_mode` for
    /// positions. The strategy latency is timed by `clock` (the pipeline's).
    pub fn new(
        table: &InstrumentTable,
        params: StrategyParams,
        fill_mode: FillMode,
        clock: C,
    ) -> Result<Self, StageError> {
        Self::for_universe(&Universe::all(table), params, fill_mode, clock)
    }

    /// A stage trading `universe` only: signals, alpha models and harmonizer are sized to
    /// the universe (instruments are its slots inside the engine), updates of other feed
    /// instruments are counted and ignored ([`Self::outside_updates`]), and intents carry
    /// feed instrument ids.
    pub fn for_universe(
        universe: &Universe,
        params: StrategyParams,
        fill_mode: FillMode,
        clock: C,
    ) -> Result<Self, StageError> {
        params.expect_models(MODEL_COUNT)?;
        let table = universe.table();
        let n = table.len();
        let lots: Vec<Qty> = table.iter().map(|i| i.lot_size).collect();
        let source = SignalAlphaEdges::new(
            SignalSet::for_table(table, &SignalConfig::default()),
            AlphaSet::new(n, &AlphaConfig::default()),
        );
        let harmonizer = Harmonizer::new(params, &lots, fill_mode)?;
        let engine = StrategyEngine::new(source, harmonizer)?;
        Ok(Self {
            engine,
            clock,
            updates: OutputHash::default(),
            intents: IntentTally::default(),
            bindings: [0; BINDINGS.len()],
            changes: Vec::with_capacity(CHANGE_LOG_CAPACITY),
            changes_unlogged: 0,
            applied_seen: 0,
            exec: None,
            exec_tally: ExecTally::default(),
            universe: (!universe.is_identity()).then(|| universe.clone()),
            outside: 0,
        })
    }

    /// Updates received for feed instruments outside the universe (the feed should not send
    /// them; they are ignored).
    pub fn outside_updates(&self) -> u64 {
        self.outside
    }

    /// Takes execution reports from the gateway's ring: drained before each update into the
    /// harmonizer (build the stage with [`FillMode::External`]).
    pub fn with_exec_reports(mut self, rx: RingReceiver<ExecReport>) -> Self {
        self.exec = Some(rx);
        self
    }

    /// What the gateway reported back so far.
    pub fn exec_tally(&self) -> ExecTally {
        self.exec_tally
    }

    /// Drains the execution-report ring now (end of a run: the last reports after the last
    /// update). Returns the reports applied.
    pub fn drain_exec_reports(&mut self) -> u64 {
        let before = self.exec_tally.reports;
        self.take_exec_reports();
        self.exec_tally.reports - before
    }

    /// Applies one report to the harmonizer's positions and working quantities.
    #[inline]
    fn apply_exec(harmonizer: &mut Harmonizer, tally: &mut ExecTally, r: &ExecReport) {
        tally.reports += 1;
        match r.kind {
            ExecKind::Accepted => {}
            ExecKind::Fill => {
                tally.fills += 1;
                tally.filled = Qty::from_raw(tally.filled.raw().saturating_add(r.qty.raw()));
                // Position and cash move; the working quantity shrinks by the fill.
                harmonizer.on_fill(r.instrument, r.side, r.qty, r.price);
            }
            ExecKind::Done => {
                tally.done += 1;
                harmonizer.on_order_done(r.instrument, r.side, r.qty);
            }
            ExecKind::Rejected => {
                tally.rejected += 1;
                harmonizer.on_order_done(r.instrument, r.side, r.qty);
            }
            ExecKind::RiskRejected => {
                tally.risk_rejected += 1;
                harmonizer.on_order_done(r.instrument, r.side, r.qty);
            }
            ExecKind::Replaced => {
                // `qty` is the working quantity the replace released (a replace that grows an
                // order comes from the gateway's own algorithms, not from an intent).
                if r.qty.is_positive() {
                    harmonizer.on_order_done(r.instrument, r.side, r.qty);
                }
            }
            ExecKind::Broken => {
                tally.broken += 1;
                harmonizer.on_fill_broken(r.instrument, r.side, r.qty, r.price);
            }
        }
    }

    /// Drains the execution-report ring when there is one. The check is inlined into the
    /// per-update path; the drain is not (a replay without a gateway has no ring, and its hot
    /// loop then carries one test, not the drain's code: docs/BENCHMARKS.md, "the hot loop's
    /// code").
    #[inline(always)]
    fn take_exec_reports(&mut self) {
        if self.exec.is_some() {
            self.drain_exec_ring();
        }
    }

    #[inline(never)]
    fn drain_exec_ring(&mut self) {
        let Some(rx) = self.exec.as_mut() else {
            return;
        };
        let harmonizer = self.engine.harmonizer_mut();
        let tally = &mut self.exec_tally;
        let universe = self.universe.as_ref();
        let outside = &mut self.outside;
        // Reports name feed instruments; the harmonizer works in universe slots.
        while let Received::Batch(_) = rx.poll_batch(|r, _| match universe {
            None => Self::apply_exec(harmonizer, tally, r),
            Some(u) => match u.slot(r.instrument) {
                Some(slot) => {
                    let mut local = *r;
                    local.instrument = slot;
                    Self::apply_exec(harmonizer, tally, &local);
                }
                None => *outside += 1,
            },
        }) {}
    }

    /// Takes new parameter sets from `rx` (published by a [`ParamsReloader`] or any
    /// [`crate::params::ParamsPublisher`]), applied before the next update.
    pub fn with_params(mut self, rx: ParamsReceiver) -> Self {
        self.engine = self.engine.with_params(rx);
        self
    }

    /// Attaches the ML sidecar link (features out, edges in) before the run.
    pub fn with_sidecar(mut self, link: crate::sidecar::SidecarLink) -> Self {
        self.engine.source_mut().set_sidecar(link);
        self
    }

    /// The sidecar link's counters, if one is attached.
    pub fn sidecar_stats(&self) -> Option<crate::sidecar::SidecarStats> {
        self.engine.source().sidecar().map(|l| l.stats())
    }

    /// Count and hash of every book update seen.
    pub fn update_hash(&self) -> OutputHash {
        self.updates
    }

    /// Count, sides and hash of every intent emitted.
    pub fn intents(&self) -> IntentTally {
        self.intents
    }

    /// Decisions per binding rule, indexed like [`BINDINGS`].
    pub fn bindings(&self) -> &[u64; BINDINGS.len()] {
        &self.bindings
    }

    /// Parameter changes applied, in order (at most [`CHANGE_LOG_CAPACITY`]).
    pub fn changes(&self) -> &[ParamsChange] {
        &self.changes
    }

    /// Changes applied beyond the log's capacity (counted only).
    pub fn changes_unlogged(&self) -> u64 {
        self.changes_unlogged
    }

    /// The engine's counters.
    pub fn engine_stats(&self) -> EngineStats {
        self.engine.stats()
    }

    /// The engine.
    pub fn engine(&self) -> &StrategyEngine<SignalAlphaEdges> {
        &self.engine
    }

    /// The engine, mutably (an operator forcing a risk mode between two updates).
    pub fn engine_mut(&mut self) -> &mut StrategyEngine<SignalAlphaEdges> {
        &mut self.engine
    }

    #[inline]
    fn note_params_change(&mut self) {
        let applied = self.engine.stats().params_applied;
        if applied == self.applied_seen {
            return;
        }
        self.applied_seen = applied;
        if let Some(c) = self.engine.last_params_change() {
            if self.changes.len() < self.changes.capacity() {
                self.changes.push(*c);
            } else {
                self.changes_unlogged += 1;
            }
        }
    }
}

impl<C: Clock> Stage for StrategyStage<C> {
    type In = BookUpdate;
    type Out = GatewayInput;

    #[inline]
    fn on_event<E: Emit<GatewayInput>>(&mut self, event: &BookUpdate, out: &mut E) {
        self.take_exec_reports();
        let decision = match &self.universe {
            None => self.engine.on_update_binding(event),
            Some(u) => {
                let Some(slot) = u.slot(event.instrument) else {
                    self.outside += 1;
                    return;
                };
                let mut local = *event;
                local.instrument = slot;
                self.engine
                    .on_update_binding(&local)
                    .map(|(intent, binding)| {
                        let intent = intent.map(|mut i| {
                            i.instrument = u.member(i.instrument).unwrap_or(i.instrument);
                            i
                        });
                        (intent, binding)
                    })
            }
        };
        let Some((intent, binding)) = decision else {
            // Observed only (a later update of the instrument follows in the packet): the
            // update is hashed and goes to the gateway as market data; no decision, so no
            // strategy latency and no binding.
            self.updates.add(event);
            self.note_params_change();
            if !out.discards() {
                out.emit(GatewayInput::market(event, Timestamp(event_time(event))));
            }
            return;
        };
        let decided = self.clock.now();
        out.record(
            LatencyTag::Strategy,
            decided.saturating_since(event.stamps().published),
        );
        // Book-keeping after the decision, so the strategy latency is the strategy's.
        self.updates.add(event);
        self.note_params_change();
        if let Some(slot) = self.bindings.get_mut(binding as usize) {
            *slot += 1;
        }
        if let Some(intent) = &intent {
            self.intents.add(intent);
        }
        // Without a gateway (a plain replay) the inputs go nowhere: not built.
        if out.discards() {
            return;
        }
        let t = Timestamp(event_time(event));
        match intent {
            Some(intent) => out.emit(GatewayInput::intent(event, t, intent)),
            None => out.emit(GatewayInput::market(event, t)),
        }
    }

    fn latency_tags(&self) -> TagSet {
        TagSet::of(&[LatencyTag::Strategy])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::{InstrumentId, Price, Timestamp, Urgency};

    fn intent(seq: u64, side: Side) -> OrderIntent {
        OrderIntent {
            seq,
            instrument: InstrumentId(0),
            side,
            urgency: Urgency::Normal,
            reason: kestrel_core::IntentReason::Alpha,
            price: Price::from_units(10).unwrap(),
            qty: Qty::ONE,
            decided_at: Timestamp(5),
        }
    }

    #[test]
    fn intent_tally_counts_sides_and_hashes_order() {
        let mut ab = IntentTally::default();
        ab.add(&intent(1, Side::Buy));
        ab.add(&intent(2, Side::Sell));
        let mut ba = IntentTally::default();
        ba.add(&intent(2, Side::Sell));
        ba.add(&intent(1, Side::Buy));
        assert_eq!((ab.count, ab.buys, ab.sells), (2, 1, 1));
        assert_ne!(ab.hash, ba.hash);
        assert_ne!(ab.hash, IntentTally::default().hash);
    }

    /// A clock the test sets.
    #[derive(Debug, Default)]
    struct SetClock(std::cell::Cell<u64>);

    impl Clock for SetClock {
        fn now(&self) -> Timestamp {
            Timestamp(self.0.get())
        }
    }

    /// Keeps what the stage emits and records.
    #[derive(Default)]
    struct Out {
        emitted: u64,
        recorded: Vec<(LatencyTag, u64)>,
    }

    impl Emit<GatewayInput> for Out {
        fn emit(&mut self, _: GatewayInput) {
            self.emitted += 1;
        }
        fn record(&mut self, tag: LatencyTag, ns: u64) {
            self.recorded.push((tag, ns));
        }
    }

    #[test]
    fn the_strategy_latency_runs_on_the_injected_clock() {
        let mut table = InstrumentTable::new();
        table
            .add("AAPL", Price::from_scaled(1, 2).unwrap(), Qty::ONE, 4)
            .unwrap();
        let clock = SetClock::default();
        let mut stage = StrategyStage::new(
            &table,
            default_params().unwrap(),
            FillMode::SimulatedImmediateFill,
            clock,
        )
        .unwrap();
        let mut update = BookUpdate::default();
        update.stamps.published = Timestamp(1_000_000);
        stage.clock.0.set(1_000_750);
        let mut out = Out::default();
        stage.on_event(&update, &mut out);
        assert_eq!(out.emitted, 1);
        assert_eq!(out.recorded, vec![(LatencyTag::Strategy, 750)]);
    }

    #[test]
    fn bindings_table_matches_discriminants() {
        for (i, b) in BINDINGS.iter().enumerate() {
            assert_eq!(*b as usize, i);
        }
    }

    #[test]
    fn default_params_fit_the_alpha_set() {
        let p = default_params().unwrap();
        p.expect_models(MODEL_COUNT).unwrap();
    }
}
