//! The strategy engine: one call per book update composing the edge source (signals and alpha
//! models) with the risk harmonizer, and applying new parameters between two updates.
//!
//! One decision per instrument and packet: an update followed by a later one of its instrument
//! in the same packet ([`BookUpdate::more_in_packet`], set by the feed's `packet` policy) is
//! only observed: the signals' windows and the models' per-update state take it in
//! ([`EdgeSource::observe`]), and the alphas' edges and the harmonizer's decision wait for the
//! packet's last update of the instrument, whose book is the one a live reader can act on.
//! Every other update (all of them under `every_event`, and from producers that do not group
//! by packet) is a decision, as before.
//!
//! The engine is generic over [`EdgeSource`], the small trait for "the models' edges and the
//! regime for this update"; [`SignalAlphaEdges`] is the real one (the [`SignalSet`] feeding the
//! [`AlphaSet`]); a replayed journal of edges or a test double fit as well.

use kestrel_core::{BookUpdate, OrderIntent};

use crate::alpha::{AlphaSet, MODEL_COUNT};
use crate::edge::ModelEdge;
use crate::harmonizer::{
    Binding, Decision, DecisionRecord, Harmonizer, HarmonizerStats, event_time,
};
use crate::params::{MAX_MODELS, ParamsChange, ParamsReceiver};
use crate::sidecar::SidecarLink;
use crate::signals::{Quote, SignalSet, SignalValues, TrendRegime, VolRegime};

/// Produces the models' edges for one update.
pub trait EdgeSource {
    /// Number of models (fixed for the source's lifetime; at most [`MAX_MODELS`]).
    fn model_count(&self) -> usize;

    /// Updates internal state with `update` and writes one edge per model into
    /// `edges[..model_count()]`; returns the regime code (see [`regime_code`]).
    fn edges(&mut self, update: &BookUpdate, edges: &mut [ModelEdge]) -> usize;

    /// Updates internal state with `update`, an update that is not a decision (a later one of
    /// its instrument follows in its packet): the state must end as [`Self::edges`] would
    /// leave it. The default computes the edges and drops them.
    fn observe(&mut self, update: &BookUpdate) {
        let mut scratch = [ModelEdge::NONE; MAX_MODELS];
        let n = self.model_count().min(MAX_MODELS);
        self.edges(update, &mut scratch[..n]);
    }
}

/// The regime code of a signal snapshot: `3 * volatility + trend`, volatility low/normal/high =
/// 0/1/2, trend down/flat/up = 0/1/2. [`crate::params::RegimeKey`] maps it to a weight row.
#[inline]
pub fn regime_code(v: &SignalValues) -> usize {
    let vol = match v.vol_regime {
        VolRegime::Low => 0,
        VolRegime::Normal => 1,
        VolRegime::High => 2,
    };
    let trend = match v.trend_regime {
        TrendRegime::Down => 0,
        TrendRegime::Flat => 1,
        TrendRegime::Up => 2,
    };
    3 * vol + trend
}

/// Regime code of normal volatility and no trend (used when there are no signals).
pub const NEUTRAL_REGIME: usize = 4;

/// The production edge source: signals, then every alpha model on them (with the ML
/// sidecar's edge in the external slot when a [`SidecarLink`] is attached).
#[derive(Debug)]
pub struct SignalAlphaEdges {
    signals: SignalSet,
    alphas: AlphaSet,
    sidecar: Option<SidecarLink>,
}

impl SignalAlphaEdges {
    /// Composes a signal set and an alpha set built for the same instruments.
    pub fn new(signals: SignalSet, alphas: AlphaSet) -> Self {
        Self {
            signals,
            alphas,
            sidecar: None,
        }
    }

    /// Attaches the ML sidecar: each update's edge is read before the alpha models run and
    /// its features are published after.
    pub fn set_sidecar(&mut self, link: SidecarLink) {
        self.sidecar = Some(link);
    }

    /// The sidecar link, if attached.
    pub fn sidecar(&self) -> Option<&SidecarLink> {
        self.sidecar.as_ref()
    }

    /// The signal set.
    pub fn signals(&self) -> &SignalSet {
        &self.signals
    }

    /// The alpha set.
    pub fn alphas(&self) -> &AlphaSet {
        &self.alphas
    }

    /// The alpha set, e.g. to hand it the ML sidecar's edge through `set_external`.
    pub fn alphas_mut(&mut self) -> &mut AlphaSet {
        &mut self.alphas
    }
}

impl EdgeSource for SignalAlphaEdges {
    fn model_count(&self) -> usize {
        MODEL_COUNT
    }

    #[inline]
    fn edges(&mut self, update: &BookUpdate, edges: &mut [ModelEdge]) -> usize {
        // One classification of the book for the signals and the models.
        let quote = Quote::of(&update.top);
        // The decision's values only; the sidecar, which publishes every feature, has the
        // rest computed for the same update (bit for bit the full update's values).
        let Some(mut values) = self.signals.update_decision_quoted(update, &quote) else {
            return NEUTRAL_REGIME;
        };
        if let Some(link) = &mut self.sidecar {
            values = match self.signals.complete_features_quoted(update, &quote) {
                Some(v) => v,
                None => return NEUTRAL_REGIME,
            };
            link.on_update(update, values, &mut self.alphas);
        }
        let out = self.alphas.evaluate_quoted(update, &quote, values);
        for (slot, e) in edges.iter_mut().zip(out.iter()) {
            *slot = *e;
        }
        regime_code(values)
    }

    /// The signals' windows, the sidecar's feature publish (per update: its model reads every
    /// update's features) and the alpha models' per-update state (momentum and reversion
    /// averages, the pair's spread: [`AlphaSet::observe`]) move exactly as in [`Self::edges`];
    /// no edge is computed.
    ///
    /// Without a sidecar nothing reads the update's values: the signals only move their
    /// windows ([`SignalSet::observe`]: no level scan, no value) and the alpha models take the
    /// book's quote ([`AlphaSet::observe_book`]), which leaves every state as above.
    #[inline]
    fn observe(&mut self, update: &BookUpdate) {
        let quote = Quote::of(&update.top);
        if self.sidecar.is_none() {
            if self.signals.observe_quoted(update, &quote) {
                self.alphas.observe_book_quoted(update, &quote);
            }
            return;
        }
        let Some(mut values) = self.signals.update_decision_quoted(update, &quote) else {
            return;
        };
        if let Some(link) = &mut self.sidecar {
            values = match self.signals.complete_features_quoted(update, &quote) {
                Some(v) => v,
                None => return,
            };
            link.on_update(update, values, &mut self.alphas);
        }
        // The models' state moves with every update; their edges are read at decisions only.
        self.alphas.observe_quoted(update, &quote, values);
    }
}

/// Why an engine could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The edge source and the blend parameters disagree on the number of models.
    #[error("the edge source has {source_models} models, the parameters blend {params_models}")]
    ModelCount {
        /// Models in the source.
        source_models: usize,
        /// Models in the parameters.
        params_models: usize,
    },
}

/// Engine counters (the harmonizer's are in [`HarmonizerStats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Updates processed (decisions and observed ones).
    pub updates: u64,
    /// Of which observed only: followed by a later update of their instrument in their packet
    /// (no decision).
    pub observed: u64,
    /// Intents emitted.
    pub intents: u64,
    /// Parameter sets applied.
    pub params_applied: u64,
    /// Parameter sets refused at apply time.
    pub params_rejected: u64,
}

/// Signals -> alphas -> harmonizer, per update.
#[derive(Debug)]
pub struct StrategyEngine<S> {
    source: S,
    harmonizer: Harmonizer,
    params_rx: Option<ParamsReceiver>,
    edges: [ModelEdge; MAX_MODELS],
    last: Option<DecisionRecord>,
    last_change: Option<ParamsChange>,
    stats: EngineStats,
}

impl<S: EdgeSource> StrategyEngine<S> {
    /// An engine over `source` and `harmonizer`, whose model counts must agree.
    pub fn new(source: S, harmonizer: Harmonizer) -> Result<Self, EngineError> {
        let source_models = source.model_count();
        let params_models = harmonizer.params().blend.model_count;
        if source_models != params_models || source_models > MAX_MODELS {
            return Err(EngineError::ModelCount {
                source_models,
                params_models,
            });
        }
        Ok(Self {
            source,
            harmonizer,
            params_rx: None,
            edges: [ModelEdge::NONE; MAX_MODELS],
            last: None,
            last_change: None,
            stats: EngineStats::default(),
        })
    }

    /// Receives new parameter sets from `rx` (the other end is a
    /// [`crate::params::ParamsWatcher`] or a [`crate::params::ParamsPublisher`]).
    pub fn with_params(mut self, rx: ParamsReceiver) -> Self {
        self.params_rx = Some(rx);
        self
    }

    /// Processes one update: applies a pending parameter set first (so the change falls exactly
    /// between the previous update and this one), then edges -> harmonizer; an update followed
    /// in its packet ([`BookUpdate::more_in_packet`]) is only observed (`None`).
    #[inline]
    pub fn on_update(&mut self, update: &BookUpdate) -> Option<OrderIntent> {
        self.step(update).and_then(|(intent, _)| intent)
    }

    /// Like [`Self::on_update`], returning the whole decision (`None`: observed only).
    pub fn on_update_decision(&mut self, update: &BookUpdate) -> Option<Decision> {
        let (intent, record) = self.step(update)?;
        Some(Decision {
            intent,
            record: *record,
        })
    }

    /// Like [`Self::on_update`], returning the intent and the rule that bound the decision
    /// (without copying the whole record); `None`: observed only.
    #[inline]
    pub fn on_update_binding(
        &mut self,
        update: &BookUpdate,
    ) -> Option<(Option<OrderIntent>, Binding)> {
        let (intent, record) = self.step(update)?;
        Some((intent, record.binding))
    }

    /// One update; the decision record is written in place as the last record (no copy of it
    /// unless the caller asks for the whole decision). `None` when the update is only observed.
    #[inline]
    fn step(&mut self, update: &BookUpdate) -> Option<(Option<OrderIntent>, &DecisionRecord)> {
        self.apply_pending_params(update);
        self.stats.updates += 1;
        if update.more_in_packet {
            self.stats.observed += 1;
            self.source.observe(update);
            return None;
        }
        let n = self.source.model_count().min(MAX_MODELS);
        self.edges = [ModelEdge::NONE; MAX_MODELS];
        let regime = self.source.edges(update, &mut self.edges[..n]);
        let record = self.last.get_or_insert_with(DecisionRecord::default);
        let intent = self
            .harmonizer
            .decide_into(update, &self.edges[..n], regime, record);
        if intent.is_some() {
            self.stats.intents += 1;
        }
        Some((intent, record))
    }

    fn apply_pending_params(&mut self, update: &BookUpdate) {
        let Some(rx) = &self.params_rx else {
            return;
        };
        let Some(new) = rx.try_take() else {
            return;
        };
        match self.harmonizer.apply_params(new.version, &new.params) {
            Ok(changed) => {
                self.stats.params_applied += 1;
                self.last_change = Some(ParamsChange {
                    version: new.version,
                    applied_at: kestrel_core::Timestamp(event_time(update)),
                    first_seq: update.seq,
                    changed,
                });
            }
            Err(_) => self.stats.params_rejected += 1,
        }
    }

    /// The record of the last decision.
    pub fn last_record(&self) -> Option<&DecisionRecord> {
        self.last.as_ref()
    }

    /// The last parameter change applied.
    pub fn last_params_change(&self) -> Option<&ParamsChange> {
        self.last_change.as_ref()
    }

    /// Engine counters.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Harmonizer counters.
    pub fn harmonizer_stats(&self) -> HarmonizerStats {
        self.harmonizer.stats()
    }

    /// The harmonizer (positions, mode, parameters).
    pub fn harmonizer(&self) -> &Harmonizer {
        &self.harmonizer
    }

    /// The harmonizer, for fills and operator actions.
    pub fn harmonizer_mut(&mut self) -> &mut Harmonizer {
        &mut self.harmonizer
    }

    /// The edge source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The edge source, e.g. to attach the ML sidecar before a run.
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.source
    }
}
