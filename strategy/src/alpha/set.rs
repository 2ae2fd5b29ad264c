//! Every alpha model of every instrument, evaluated into a fixed array with stable indices.

use kestrel_core::{BookUpdate, InstrumentId, Timestamp};

use super::book_pressure::{BookPressure, ImbalanceSource};
use super::external::ExternalEdge;
use super::mean_reversion::MeanReversion;
use super::momentum::Momentum;
use super::ofi::OfiEdge;
use super::pairs::{Leg, PairConfig, PairsModel};
use crate::edge::ModelEdge;
use crate::signals::{Quote, SignalValues};

/// Index of the order-book pressure model.
pub const BOOK_PRESSURE: usize = 0;
/// Index of the moving-average momentum model.
pub const MOMENTUM: usize = 1;
/// Index of the mean-reversion model.
pub const MEAN_REVERSION: usize = 2;
/// Index of the OFI model.
pub const OFI: usize = 3;
/// Index of the pairs model.
pub const PAIRS: usize = 4;
/// Index of the external (ML sidecar) edge.
pub const EXTERNAL: usize = 5;
/// Number of model slots.
pub const MODEL_COUNT: usize = 6;
/// Stable model names, by index.
pub const MODEL_NAMES: [&str; MODEL_COUNT] = [
    "book_pressure",
    "momentum",
    "mean_reversion",
    "ofi",
    "pairs",
    "external",
];

/// Parameters of every alpha model.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AlphaConfig {
    /// Book pressure: bps per unit imbalance.
    pub book_pressure_gain: f64,
    /// Book pressure: imbalance used.
    pub book_pressure_source: ImbalanceSource,
    /// Book pressure: confidence.
    pub book_pressure_confidence: f64,
    /// Momentum: short window (books).
    pub momentum_short: usize,
    /// Momentum: long window (books).
    pub momentum_long: usize,
    /// Momentum: bps of edge per bp of MA gap.
    pub momentum_gain: f64,
    /// Momentum: confidence.
    pub momentum_confidence: f64,
    /// Mean reversion: half-life (books).
    pub reversion_halflife: f64,
    /// Mean reversion: horizon (books).
    pub reversion_horizon: f64,
    /// Mean reversion: |z| of full confidence.
    pub reversion_z_full: f64,
    /// Mean reversion: confidence at full |z|.
    pub reversion_confidence: f64,
    /// OFI: bps per unit of normalised OFI.
    pub ofi_gain: f64,
    /// OFI: largest absolute edge (bps).
    pub ofi_max_bps: f64,
    /// OFI: confidence.
    pub ofi_confidence: f64,
    /// Pairs (at most one pair per instrument; later pairs lose an instrument already taken).
    pub pairs: Vec<PairConfig>,
    /// External edge: maximum age (ns) before it is ignored.
    pub external_max_age_ns: u64,
}

impl Default for AlphaConfig {
    fn default() -> Self {
        Self {
            book_pressure_gain: 25.0,
            book_pressure_source: ImbalanceSource::Depth,
            book_pressure_confidence: 0.5,
            momentum_short: 10,
            momentum_long: 100,
            momentum_gain: 40.0,
            momentum_confidence: 0.5,
            reversion_halflife: 100.0,
            reversion_horizon: 10.0,
            reversion_z_full: 2.0,
            reversion_confidence: 0.5,
            ofi_gain: 2.0,
            ofi_max_bps: 50.0,
            ofi_confidence: 0.5,
            pairs: Vec::new(),
            external_max_age_ns: 50_000_000,
        }
    }
}

/// Per-instrument model state.
#[derive(Clone, Debug)]
struct InstrumentAlphas {
    momentum: Momentum,
    reversion: MeanReversion,
    pair: Option<(usize, Leg)>,
    external: ExternalEdge,
}

/// All alpha models, indexed by dense [`InstrumentId`].
#[derive(Clone, Debug)]
pub struct AlphaSet {
    pressure: BookPressure,
    ofi: OfiEdge,
    instruments: Vec<InstrumentAlphas>,
    pairs: Vec<PairsModel>,
    external_max_age_ns: u64,
    unknown_instrument: u64,
}

impl AlphaSet {
    /// State for instruments `0..instrument_count` (all windows allocated now).
    pub fn new(instrument_count: usize, c: &AlphaConfig) -> Self {
        let mut instruments: Vec<InstrumentAlphas> = (0..instrument_count)
            .map(|_| InstrumentAlphas {
                momentum: Momentum::new(
                    c.momentum_short,
                    c.momentum_long,
                    c.momentum_gain,
                    c.momentum_confidence,
                ),
                reversion: MeanReversion::new(
                    c.reversion_halflife,
                    c.reversion_horizon,
                    c.reversion_z_full,
                    c.reversion_confidence,
                ),
                pair: None,
                external: ExternalEdge::default(),
            })
            .collect();
        let mut pairs = Vec::with_capacity(c.pairs.len());
        for p in &c.pairs {
            let (ia, ib) = (p.leg_a.index(), p.leg_b.index());
            let free =
                |i: usize, v: &Vec<InstrumentAlphas>| v.get(i).is_some_and(|x| x.pair.is_none());
            if ia == ib || !free(ia, &instruments) || !free(ib, &instruments) {
                continue;
            }
            let idx = pairs.len();
            pairs.push(PairsModel::new(*p));
            if let Some(x) = instruments.get_mut(ia) {
                x.pair = Some((idx, Leg::A));
            }
            if let Some(x) = instruments.get_mut(ib) {
                x.pair = Some((idx, Leg::B));
            }
        }
        Self {
            pressure: BookPressure {
                gain: c.book_pressure_gain,
                confidence: c.book_pressure_confidence,
                source: c.book_pressure_source,
            },
            ofi: OfiEdge {
                gain: c.ofi_gain,
                max_bps: c.ofi_max_bps,
                confidence: c.ofi_confidence,
            },
            instruments,
            pairs,
            external_max_age_ns: c.external_max_age_ns,
            unknown_instrument: 0,
        }
    }

    /// Updates the models of `u.instrument` with `u` and its signals and returns every model's
    /// edge by index ([`MODEL_NAMES`]). All edges are [`ModelEdge::NONE`] when the book is not
    /// normal or the instrument is not trading (models still keep their state), or when the
    /// instrument id is out of range (counted). The external edge's age is measured at
    /// `u.recv_ts`.
    #[inline]
    pub fn evaluate(&mut self, u: &BookUpdate, s: &SignalValues) -> [ModelEdge; MODEL_COUNT] {
        self.evaluate_quoted(u, &Quote::of(&u.top), s)
    }

    /// [`Self::evaluate`] with the book's [`Quote`] already classified by the caller (the
    /// signal set's).
    #[inline]
    pub(crate) fn evaluate_quoted(
        &mut self,
        u: &BookUpdate,
        quote: &Quote,
        s: &SignalValues,
    ) -> [ModelEdge; MODEL_COUNT] {
        let mut out = [ModelEdge::NONE; MODEL_COUNT];
        let Some(inst) = self.instruments.get_mut(u.instrument.index()) else {
            self.unknown_instrument += 1;
            return out;
        };
        inst.momentum.update_with(u, quote);
        inst.reversion.update_with(u, quote);
        let pair = inst.pair.and_then(|(i, leg)| {
            let model = self.pairs.get_mut(i)?;
            if s.book.is_normal() {
                model.update(leg, s.mid);
            }
            Some(model.edge(leg))
        });
        if !s.is_usable() {
            return out;
        }
        out[BOOK_PRESSURE] = self.pressure.edge(s);
        out[MOMENTUM] = inst.momentum.edge();
        out[MEAN_REVERSION] = inst.reversion.edge();
        out[OFI] = self.ofi.edge(s);
        out[PAIRS] = pair.unwrap_or(ModelEdge::NONE);
        out[EXTERNAL] = inst.external.edge_at(u.recv_ts, self.external_max_age_ns);
        out
    }

    /// Stores an external (sidecar) edge for `instrument`, produced at `produced_at`; `false` when
    /// the id is out of range.
    #[inline]
    pub fn set_external(
        &mut self,
        instrument: InstrumentId,
        edge: ModelEdge,
        produced_at: Timestamp,
    ) -> bool {
        match self.instruments.get_mut(instrument.index()) {
            Some(x) => {
                x.external = ExternalEdge {
                    edge,
                    produced_at,
                    present: true,
                };
                true
            }
            None => false,
        }
    }

    /// Forgets the external edge of `instrument` (the sidecar's edge went stale or the sidecar
    /// is down); `false` when the id is out of range.
    #[inline]
    pub fn clear_external(&mut self, instrument: InstrumentId) -> bool {
        match self.instruments.get_mut(instrument.index()) {
            Some(x) => {
                x.external = ExternalEdge::default();
                true
            }
            None => false,
        }
    }

    /// The pairs models, in configuration order (pairs skipped for conflicts are absent).
    pub fn pairs(&self) -> &[PairsModel] {
        &self.pairs
    }

    /// The momentum model of an instrument.
    pub fn momentum(&self, instrument: InstrumentId) -> Option<&Momentum> {
        self.instruments
            .get(instrument.index())
            .map(|x| &x.momentum)
    }

    /// The mean-reversion model of an instrument.
    pub fn mean_reversion(&self, instrument: InstrumentId) -> Option<&MeanReversion> {
        self.instruments
            .get(instrument.index())
            .map(|x| &x.reversion)
    }

    /// Updates dropped because their instrument id was out of range.
    pub fn unknown_instrument(&self) -> u64 {
        self.unknown_instrument
    }

    /// The per-update state of [`Self::evaluate`] without the edges: for an update that is not
    /// a decision (a later update of its instrument follows in its packet). The models end
    /// exactly as `evaluate` leaves them (momentum and reversion windows, the pair's spread,
    /// the unknown-instrument count); the edges are read at the next decision.
    #[inline]
    pub fn observe(&mut self, u: &BookUpdate, s: &SignalValues) {
        self.observe_quoted(u, &Quote::of(&u.top), s);
    }

    /// [`Self::observe`] with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub(crate) fn observe_quoted(&mut self, u: &BookUpdate, quote: &Quote, s: &SignalValues) {
        self.observe_models(u, quote, s.book.is_normal(), || s.mid);
    }

    /// [`Self::observe`] from the book alone, for an update whose signal values were not
    /// computed ([`crate::signals::SignalSet::observe`]): the pair reads the quote's state and
    /// mid, which are the decision values' `book` and `mid` bit for bit (`mid` is
    /// [`Quote::mid`], always finite for a normal book of `i64` prices).
    #[inline]
    pub fn observe_book(&mut self, u: &BookUpdate) {
        self.observe_book_quoted(u, &Quote::of(&u.top));
    }

    /// [`Self::observe_book`] with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub(crate) fn observe_book_quoted(&mut self, u: &BookUpdate, quote: &Quote) {
        self.observe_models(u, quote, quote.state.is_normal(), || quote.mid());
    }

    /// The observe step shared by both sources of the pair's inputs (the signal values, or the
    /// quote they are computed from): momentum and reversion from the quote, the pair's leg
    /// from `mid()` when the book is `normal` (read only then).
    #[inline(always)]
    fn observe_models(
        &mut self,
        u: &BookUpdate,
        quote: &Quote,
        normal: bool,
        mid: impl FnOnce() -> f64,
    ) {
        let Some(inst) = self.instruments.get_mut(u.instrument.index()) else {
            self.unknown_instrument += 1;
            return;
        };
        inst.momentum.update_with(u, quote);
        inst.reversion.update_with(u, quote);
        if let Some((i, leg)) = inst.pair
            && normal
            && let Some(model) = self.pairs.get_mut(i)
        {
            model.update(leg, mid());
        }
    }
}
