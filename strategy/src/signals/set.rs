//! All signals of all instruments, updated together once per book update.

use kestrel_core::{
    BookUpdate, InstrumentId, InstrumentTable, Price, Side, TOP_LEVELS, TickRule, Timestamp,
};

use super::book_scan::{Reciprocals, scan_side, weighted_qty};
use super::depth::{DEFAULT_DEPTH_WEIGHTS, DepthImbalance};
use super::imbalance::TopImbalance;
use super::kyle::KyleLambda;
use super::liquidity::LiquidityScore;
use super::microprice::Microprice;
use super::ofi::OrderFlowImbalance;
use super::quote::{BookState, Quote};
use super::regime::{RegimeClassifier, RegimeConfig, TrendRegime, VolRegime};
use super::spread::Spread;
use super::stats::SignalStats;
use super::trade_flow::TradeFlowImbalance;
use super::volatility::EwmaVolatility;
use super::vpin::{Vpin, VpinClassification};

/// Parameters of every signal (window sizes fix the ring capacities at construction).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SignalConfig {
    /// Tick size for the spread in ticks where the instrument table gives none; zero (the
    /// default) means the US equity rule (0.01 at or above $1, 0.0001 below).
    pub tick: Price,
    /// Depth imbalance weights, best level first.
    pub depth_weights: [f64; TOP_LEVELS],
    /// Levels per side in the weighted mid.
    pub weighted_mid_levels: usize,
    /// OFI event window (contributions).
    pub ofi_events: usize,
    /// OFI time window (ns of exchange time).
    pub ofi_window_ns: u64,
    /// Capacity of the OFI time window's ring.
    pub ofi_time_capacity: usize,
    /// Trade-flow imbalance window (trades).
    pub trade_window: usize,
    /// VPIN bucket volume (quantity units).
    pub vpin_bucket_volume: f64,
    /// VPIN buckets in the window.
    pub vpin_buckets: usize,
    /// VPIN trade classification.
    pub vpin_classification: VpinClassification,
    /// Volatility half-life in events.
    pub vol_halflife_events: f64,
    /// Volatility time constant (ns).
    pub vol_tau_ns: u64,
    /// Kyle's lambda regression window (updates).
    pub kyle_window: usize,
    /// Liquidity band around the mid (bps).
    pub liquidity_band_bps: f64,
    /// Depth giving half the liquidity depth term (quantity units).
    pub liquidity_depth_ref: f64,
    /// Spread halving the liquidity spread term (bps).
    pub liquidity_spread_ref_bps: f64,
    /// Regime thresholds.
    pub regime: RegimeConfig,
}

impl Default for SignalConfig {
    fn default() -> Self {
        Self {
            tick: TickRule::UsEquity.tick_size(),
            depth_weights: DEFAULT_DEPTH_WEIGHTS,
            weighted_mid_levels: 5,
            ofi_events: 100,
            ofi_window_ns: 100_000_000,
            ofi_time_capacity: 4096,
            trade_window: 50,
            vpin_bucket_volume: 1_000.0,
            vpin_buckets: 20,
            vpin_classification: VpinClassification::Aggressor,
            vol_halflife_events: 50.0,
            vol_tau_ns: 1_000_000_000,
            kyle_window: 200,
            liquidity_band_bps: 10.0,
            liquidity_depth_ref: 1_000.0,
            liquidity_spread_ref_bps: 1.0,
            regime: RegimeConfig::default(),
        }
    }
}

/// The current value of every signal of one instrument. A value that is not available (book not
/// normal, window not warm) is `0.0`; `book` and `trading` say why. Never NaN or infinite.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SignalValues {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Sequence of the update that produced these values.
    pub seq: u64,
    /// Exchange time of that update.
    pub exch_ts: Timestamp,
    /// Top-of-book classification; price-based values are zero unless `Normal`.
    pub book: BookState,
    /// Whether the instrument is trading.
    pub trading: bool,
    /// Mid price.
    pub mid: f64,
    /// Microprice.
    pub microprice: f64,
    /// `(microprice - mid) / mid` in bps.
    pub micro_offset_bps: f64,
    /// Volume-weighted mid over the first levels.
    pub weighted_mid: f64,
    /// Top-of-book imbalance in `[-1, 1]`.
    pub top_imbalance: f64,
    /// Weighted depth imbalance in `[-1, 1]`.
    pub depth_imbalance: f64,
    /// Spread in ticks.
    pub spread_ticks: f64,
    /// Spread in bps of the mid.
    pub spread_bps: f64,
    /// OFI over the event window (quantity units).
    pub ofi_events: f64,
    /// OFI over the event window divided by the mean top depth.
    pub ofi_events_norm: f64,
    /// OFI over the time window (quantity units).
    pub ofi_time: f64,
    /// OFI over the time window divided by the mean top depth.
    pub ofi_time_norm: f64,
    /// Trade-flow imbalance in `[-1, 1]`.
    pub trade_imbalance: f64,
    /// VPIN in `[0, 1]`.
    pub vpin: f64,
    /// EWMA volatility per event (bps).
    pub vol_event_bps: f64,
    /// EWMA volatility per square-root second (bps).
    pub vol_time_bps: f64,
    /// Kyle's lambda (price units per quantity unit).
    pub kyle_lambda: f64,
    /// Liquidity score in `[0, 1]`.
    pub liquidity: f64,
    /// Quantity within the liquidity band, both sides.
    pub depth_in_band: f64,
    /// Visible levels, both sides.
    pub levels: u32,
    /// Trend measure (fast vs slow mid EMA) in bps.
    pub trend_bps: f64,
    /// Volatility regime.
    pub vol_regime: VolRegime,
    /// Trend regime.
    pub trend_regime: TrendRegime,
}

impl SignalValues {
    /// The fields a decision update ([`SignalSet::update_decision`]) computes (besides `instrument`,
    /// `seq`, `exch_ts`): what the alpha models, the regime code and the harmonizer read.
    pub const DECISION_FIELDS: [&'static str; 10] = [
        "book",
        "trading",
        "mid",
        "top_imbalance",
        "depth_imbalance",
        "ofi_events",
        "ofi_events_norm",
        "vol_event_bps",
        "trend_bps",
        "vol_regime/trend_regime",
    ];

    /// Names of [`SignalValues::features`], in order.
    pub const FEATURE_NAMES: [&'static str; 19] = [
        "micro_offset_bps",
        "top_imbalance",
        "depth_imbalance",
        "spread_ticks",
        "spread_bps",
        "ofi_events",
        "ofi_events_norm",
        "ofi_time",
        "ofi_time_norm",
        "trade_imbalance",
        "vpin",
        "vol_event_bps",
        "vol_time_bps",
        "kyle_lambda",
        "liquidity",
        "depth_in_band",
        "levels",
        "trend_bps",
        "weighted_mid_offset_bps",
    ];

    /// The numeric signals as a feature vector (names in [`SignalValues::FEATURE_NAMES`]).
    pub fn features(&self) -> [f64; 19] {
        let wmid_offset = if self.mid > 0.0 && self.weighted_mid > 0.0 {
            (self.weighted_mid - self.mid) / self.mid * 1e4
        } else {
            0.0
        };
        [
            self.micro_offset_bps,
            self.top_imbalance,
            self.depth_imbalance,
            self.spread_ticks,
            self.spread_bps,
            self.ofi_events,
            self.ofi_events_norm,
            self.ofi_time,
            self.ofi_time_norm,
            self.trade_imbalance,
            self.vpin,
            self.vol_event_bps,
            self.vol_time_bps,
            self.kyle_lambda,
            self.liquidity,
            self.depth_in_band,
            f64::from(self.levels),
            self.trend_bps,
            wmid_offset,
        ]
    }

    /// Whether price-based signals are meaningful: a normal book on a trading instrument.
    #[inline]
    pub fn is_usable(&self) -> bool {
        self.book.is_normal() && self.trading
    }
}

/// Every signal of one instrument.
#[derive(Clone, Debug)]
pub struct InstrumentSignals {
    /// Top-of-book imbalance.
    pub top_imbalance: TopImbalance,
    /// Depth imbalance.
    pub depth_imbalance: DepthImbalance,
    /// Microprice and weighted mid.
    pub microprice: Microprice,
    /// Spread.
    pub spread: Spread,
    /// Order-flow imbalance.
    pub ofi: OrderFlowImbalance,
    /// Trade-flow imbalance.
    pub trade_flow: TradeFlowImbalance,
    /// VPIN.
    pub vpin: Vpin,
    /// Realised volatility.
    pub volatility: EwmaVolatility,
    /// Kyle's lambda.
    pub kyle: KyleLambda,
    /// Liquidity score.
    pub liquidity: LiquidityScore,
    /// Regimes.
    pub regime: RegimeClassifier,
    /// Edge-case counters.
    pub stats: SignalStats,
    /// The latest values.
    pub values: SignalValues,
    /// Whether [`Self::values`]'s feature fields are still to be computed for the latest
    /// update (after a decision update).
    features_pending: bool,
}

impl InstrumentSignals {
    /// Fresh state for one instrument (allocates the windows).
    pub fn new(instrument: InstrumentId, c: &SignalConfig) -> Self {
        Self {
            top_imbalance: TopImbalance::new(),
            depth_imbalance: DepthImbalance::new(c.depth_weights),
            microprice: Microprice::new(c.weighted_mid_levels),
            spread: Spread::new(TickRule::from_tick_size(c.tick)),
            ofi: OrderFlowImbalance::new(c.ofi_events, c.ofi_window_ns, c.ofi_time_capacity),
            trade_flow: TradeFlowImbalance::new(c.trade_window),
            vpin: Vpin::new(c.vpin_bucket_volume, c.vpin_buckets, c.vpin_classification),
            volatility: EwmaVolatility::new(c.vol_halflife_events, c.vol_tau_ns),
            kyle: KyleLambda::new(c.kyle_window),
            liquidity: LiquidityScore::new(
                c.liquidity_band_bps,
                c.liquidity_depth_ref,
                c.liquidity_spread_ref_bps,
            ),
            regime: RegimeClassifier::new(c.regime),
            stats: SignalStats::default(),
            values: SignalValues {
                instrument,
                ..SignalValues::default()
            },
            features_pending: false,
        }
    }

    /// Updates every signal with `u` and returns the new values. No allocation.
    pub fn update(&mut self, u: &BookUpdate) -> SignalValues {
        self.update_quoted(u, &Quote::of(&u.top));
        self.values
    }

    /// [`Self::update`] with the book's [`Quote`] already classified by the caller, leaving the
    /// values in [`Self::values`] (no copy of them).
    #[inline]
    pub(crate) fn update_quoted(&mut self, u: &BookUpdate, q: &Quote) {
        let book = q.state;
        self.features_pending = false;
        self.count_update(u, book);
        let overflows_before = self.ofi.time_overflows();
        let regressions_before = self.ofi.time_regressions();

        self.update_book(u, q);
        self.update_windows(u, q);
        self.count_time_window(overflows_before, regressions_before);

        let st = &mut self.stats;
        let ev = self.ofi.event_window();
        let tw = self.ofi.time_window();
        self.values = SignalValues {
            instrument: u.instrument,
            seq: u.seq,
            exch_ts: u.exch_ts,
            book,
            trading: u.trading,
            mid: st.finite(self.microprice.mid().unwrap_or(0.0)),
            microprice: st.finite(self.microprice.microprice().unwrap_or(0.0)),
            micro_offset_bps: st.finite(self.microprice.micro_offset_bps().unwrap_or(0.0)),
            weighted_mid: st.finite(self.microprice.weighted_mid().unwrap_or(0.0)),
            top_imbalance: st.finite(self.top_imbalance.value().unwrap_or(0.0)),
            depth_imbalance: st.finite(self.depth_imbalance.value().unwrap_or(0.0)),
            spread_ticks: st.finite(self.spread.ticks().unwrap_or(0.0)),
            spread_bps: st.finite(self.spread.bps().unwrap_or(0.0)),
            ofi_events: st.finite(ev.ofi()),
            ofi_events_norm: st.finite(ev.normalized()),
            ofi_time: st.finite(tw.ofi()),
            ofi_time_norm: st.finite(tw.normalized()),
            trade_imbalance: st.finite(self.trade_flow.value().unwrap_or(0.0)),
            vpin: st.finite(self.vpin.value().unwrap_or(0.0)),
            vol_event_bps: st.finite(self.volatility.per_event_bps()),
            vol_time_bps: st.finite(self.volatility.per_sqrt_second_bps()),
            kyle_lambda: st.finite(self.kyle.value().unwrap_or(0.0)),
            liquidity: st.finite(self.liquidity.value().unwrap_or(0.0)),
            depth_in_band: st.finite(self.liquidity.depth_within_band()),
            levels: self.liquidity.level_count(),
            trend_bps: st.finite(self.regime.trend_bps()),
            vol_regime: self.regime.vol_regime(),
            trend_regime: self.regime.trend_regime(),
        };
    }

    /// The decision update: every window moves as in [`Self::update_quoted`],
    /// but only the decision's values are computed ([`SignalValues::DECISION_FIELDS`]); the
    /// others are zero until [`Self::complete_features_quoted`] (with the same update).
    #[inline]
    pub(crate) fn update_decision_quoted(&mut self, u: &BookUpdate, q: &Quote) {
        let book = q.state;
        self.count_update(u, book);
        let overflows_before = self.ofi.time_overflows();
        let regressions_before = self.ofi.time_regressions();

        let mid = self.update_book_decision(u, q);
        self.update_windows(u, q);
        self.count_time_window(overflows_before, regressions_before);

        let st = &mut self.stats;
        let ev = self.ofi.event_window();
        self.values = SignalValues {
            instrument: u.instrument,
            seq: u.seq,
            exch_ts: u.exch_ts,
            book,
            trading: u.trading,
            mid: st.finite(mid),
            top_imbalance: st.finite(self.top_imbalance.value().unwrap_or(0.0)),
            depth_imbalance: st.finite(self.depth_imbalance.value().unwrap_or(0.0)),
            ofi_events: st.finite(ev.ofi()),
            ofi_events_norm: st.finite(ev.normalized()),
            vol_event_bps: st.finite(self.volatility.per_event_bps()),
            trend_bps: st.finite(self.regime.trend_bps()),
            vol_regime: self.regime.vol_regime(),
            trend_regime: self.regime.trend_regime(),
            ..SignalValues::default()
        };
        self.features_pending = true;
    }

    /// The observing update, for an update the strategy does not decide on (one that more
    /// of its packet follows): every window moves and every counter counts as in
    /// [`Self::update_decision_quoted`], so the state the next update starts from is the
    /// same, but no value is computed (no level scan, no imbalance, no normalisation, no
    /// `SignalValues`): [`Self::values`] stay those of the last update that computed them.
    /// The values it skips are functions of the update's own book and of the windows, which
    /// the next computing update reads afresh. Values are not computed, so none is clamped
    /// or counted in `nonfinite_clamped`.
    #[inline]
    pub(crate) fn observe_quoted(&mut self, u: &BookUpdate, q: &Quote) {
        self.features_pending = false;
        self.count_update(u, q.state);
        let overflows_before = self.ofi.time_overflows();
        let regressions_before = self.ofi.time_regressions();
        self.update_windows(u, q);
        self.count_time_window(overflows_before, regressions_before);
    }

    /// Computes the feature fields a decision update left out, for that same
    /// update `u` (the book-shape features read its levels; the windows' values their state,
    /// which has not moved since): afterwards [`Self::values`] is bit for bit what
    /// [`Self::update_quoted`] gives, and the clamped non-finite values are counted as it
    /// counts them. Nothing to do after a full update or a second call.
    pub(crate) fn complete_features_quoted(&mut self, u: &BookUpdate, q: &Quote) {
        if !self.features_pending {
            return;
        }
        self.features_pending = false;
        debug_assert!(
            u.seq == self.values.seq && u.instrument == self.values.instrument,
            "features completed with another update than the last one"
        );
        self.update_book_features(u, q);
        let st = &mut self.stats;
        let tw = self.ofi.time_window();
        let v = &mut self.values;
        v.microprice = st.finite(self.microprice.microprice().unwrap_or(0.0));
        v.micro_offset_bps = st.finite(self.microprice.micro_offset_bps().unwrap_or(0.0));
        v.weighted_mid = st.finite(self.microprice.weighted_mid().unwrap_or(0.0));
        v.spread_ticks = st.finite(self.spread.ticks().unwrap_or(0.0));
        v.spread_bps = st.finite(self.spread.bps().unwrap_or(0.0));
        v.ofi_time = st.finite(tw.ofi());
        v.ofi_time_norm = st.finite(tw.normalized());
        v.trade_imbalance = st.finite(self.trade_flow.value().unwrap_or(0.0));
        v.vpin = st.finite(self.vpin.value().unwrap_or(0.0));
        v.vol_time_bps = st.finite(self.volatility.per_sqrt_second_bps());
        v.kyle_lambda = st.finite(self.kyle.value().unwrap_or(0.0));
        v.liquidity = st.finite(self.liquidity.value().unwrap_or(0.0));
        v.depth_in_band = st.finite(self.liquidity.depth_within_band());
        v.levels = self.liquidity.level_count();
    }

    /// Whether the latest update's feature values are still to be computed.
    #[inline]
    pub fn features_pending(&self) -> bool {
        self.features_pending
    }

    /// The per-update counters of the book's state, the trading flag and unknown aggressors.
    #[inline]
    fn count_update(&mut self, u: &BookUpdate, book: BookState) {
        let st = &mut self.stats;
        st.updates += 1;
        match book {
            BookState::Normal => {}
            BookState::Empty => st.empty_books += 1,
            BookState::OneSided => st.one_sided_books += 1,
            BookState::Locked => st.locked_books += 1,
            BookState::Crossed => st.crossed_books += 1,
        }
        if !u.trading {
            st.halted_updates += 1;
        }
        if u.trade.is_print() && u.trade.aggressor == 0 {
            st.unknown_aggressor_trades += 1;
        }
    }

    /// Moves every windowed signal (both modes).
    #[inline]
    fn update_windows(&mut self, u: &BookUpdate, q: &Quote) {
        self.ofi.update_with(u, q);
        self.trade_flow.update(u);
        self.vpin.update(u);
        self.volatility.update_with(u, q);
        self.kyle.update_with(u, q);
        self.regime.update_with(q, self.volatility.per_event_bps());
    }

    #[inline]
    fn count_time_window(&mut self, overflows_before: u64, regressions_before: u64) {
        let st = &mut self.stats;
        st.time_window_overflows += self.ofi.time_overflows() - overflows_before;
        st.time_regressions += self.ofi.time_regressions() - regressions_before;
    }
}

impl InstrumentSignals {
    /// The signals of the book's shape: top and depth imbalance, microprice and weighted mid,
    /// spread and liquidity, from one pass over each side's levels and the mid and top quantity
    /// inverted once (same values as their own `update_with` to rounding; those pass over the
    /// levels separately and divide each time): [`Self::update_book_features`], then the two
    /// imbalances from its scan and reciprocals.
    #[inline]
    fn update_book(&mut self, u: &BookUpdate, q: &Quote) {
        match self.update_book_features(u, q) {
            Some((bid, ask, r)) => {
                self.depth_imbalance.set_sums(bid, ask);
                self.top_imbalance.set_normal(q, &r);
            }
            None => {
                self.top_imbalance.update_with(u, q);
                self.depth_imbalance.update_with(u, q);
            }
        }
    }

    /// The book-shape signals the decision reads: top and depth imbalance (the weighted sums
    /// in the same order as [`scan_side`], so the same values). Returns the mid (zero unless
    /// the book is normal, as [`Microprice::mid`] gives it). The rest of the book's shape
    /// (microprice, weighted mid, spread, liquidity) waits for [`Self::update_book_features`].
    #[inline]
    fn update_book_decision(&mut self, u: &BookUpdate, q: &Quote) -> f64 {
        if !q.state.is_normal() {
            self.top_imbalance.update_with(u, q);
            self.depth_imbalance.update_with(u, q);
            return 0.0;
        }
        let weights = self.depth_imbalance.weights();
        let bid = weighted_qty(u.top.side(Side::Buy), weights);
        let ask = weighted_qty(u.top.side(Side::Sell), weights);
        self.depth_imbalance.set_sums(bid, ask);
        self.top_imbalance
            .set_normal(q, &Reciprocals::of_top_qty(q));
        q.mid()
    }

    /// The book-shape signals [`Self::update_book_decision`] leaves out (microprice, weighted
    /// mid, spread, liquidity), from one scan of each side. For a normal book, returns what the
    /// imbalances need from the same scan ([`Self::update_book`] sets them; the decision
    /// computed the same values already): the bid's and ask's weighted quantity and the
    /// reciprocals.
    fn update_book_features(
        &mut self,
        u: &BookUpdate,
        q: &Quote,
    ) -> Option<(f64, f64, Reciprocals)> {
        if !q.state.is_normal() {
            self.spread.update_with(u, q);
            self.microprice.update_with(u, q);
            self.liquidity.update_with(u, q);
            return None;
        }
        let (bid_min, ask_max) = self.liquidity.band_limits(q);
        let weights = self.depth_imbalance.weights();
        let vwap_levels = self.microprice.levels();
        let bids = scan_side(u.top.side(Side::Buy), weights, vwap_levels, |p| {
            p >= bid_min
        });
        let asks = scan_side(u.top.side(Side::Sell), weights, vwap_levels, |p| {
            p <= ask_max
        });
        let r = Reciprocals::of(q);
        let spread_bps = r.spread_bps(q);
        self.spread.set_normal(q, spread_bps);
        self.microprice.set_scanned(
            q,
            &r,
            (bids.vwap_pq, bids.vwap_q),
            (asks.vwap_pq, asks.vwap_q),
        );
        let depth_raw = bids.band_qty + asks.band_qty;
        self.liquidity.set_levels(u);
        self.liquidity.set_depth(depth_raw, spread_bps);
        Some((bids.weighted_qty, asks.weighted_qty, r))
    }
}

/// Signals of every instrument, indexed by dense [`InstrumentId`].
#[derive(Clone, Debug)]
pub struct SignalSet {
    instruments: Vec<InstrumentSignals>,
    unknown_instrument: u64,
}

impl SignalSet {
    /// State for instruments `0..instrument_count`, all windows allocated now.
    pub fn new(instrument_count: usize, config: &SignalConfig) -> Self {
        let instruments = (0..instrument_count)
            .map(|i| {
                InstrumentSignals::new(InstrumentId(u32::try_from(i).unwrap_or(u32::MAX)), config)
            })
            .collect();
        Self {
            instruments,
            unknown_instrument: 0,
        }
    }

    /// State for every instrument of `table`, each measuring its spread in its own tick rule
    /// (the venue's fixed tick, or the US equity rule where the table sets none).
    pub fn for_table(table: &InstrumentTable, config: &SignalConfig) -> Self {
        let instruments = (0..table.len())
            .map(|i| {
                let id = InstrumentId(u32::try_from(i).unwrap_or(u32::MAX));
                let tick = table
                    .get(id)
                    .map_or(config.tick, |x| x.tick_rule().tick_size());
                let c = SignalConfig {
                    tick,
                    ..config.clone()
                };
                InstrumentSignals::new(id, &c)
            })
            .collect();
        Self {
            instruments,
            unknown_instrument: 0,
        }
    }

    /// Updates the signals of `u.instrument`; `None` (counted) when the id is out of range.
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) -> Option<SignalValues> {
        match self.instruments.get_mut(u.instrument.index()) {
            Some(s) => Some(s.update(u)),
            None => {
                self.unknown_instrument += 1;
                None
            }
        }
    }

    /// Updates the signals of `u.instrument` computing only the values the strategy's
    /// decision reads ([`SignalValues::DECISION_FIELDS`]); every window still moves, so the
    /// state is the same as after [`Self::update`]. The other fields are zero until
    /// [`Self::complete_features`] is called with the same update. `None` (counted) when the
    /// id is out of range. This is the strategy engine's path; research and the sidecar's
    /// features use [`Self::update`] or complete the features.
    #[inline]
    pub fn update_decision(&mut self, u: &BookUpdate) -> Option<&SignalValues> {
        self.update_decision_quoted(u, &Quote::of(&u.top))
    }

    /// [`Self::update_decision`] with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub(crate) fn update_decision_quoted(
        &mut self,
        u: &BookUpdate,
        q: &Quote,
    ) -> Option<&SignalValues> {
        match self.instruments.get_mut(u.instrument.index()) {
            Some(s) => {
                s.update_decision_quoted(u, q);
                Some(&s.values)
            }
            None => {
                self.unknown_instrument += 1;
                None
            }
        }
    }

    /// Moves every window of `u.instrument` with `u` without computing any value
    /// ([`InstrumentSignals`]'s observing update): the state afterwards is the one
    /// [`Self::update_decision`] leaves, [`Self::values`] stay those of the instrument's last
    /// computing update (do not complete features after it). For updates no decision reads
    /// (one decision per instrument and packet) when no sidecar wants every update's
    /// features. `false` (counted) when the id is out of range.
    #[inline]
    pub fn observe(&mut self, u: &BookUpdate) -> bool {
        self.observe_quoted(u, &Quote::of(&u.top))
    }

    /// [`Self::observe`] with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub(crate) fn observe_quoted(&mut self, u: &BookUpdate, q: &Quote) -> bool {
        match self.instruments.get_mut(u.instrument.index()) {
            Some(s) => {
                s.observe_quoted(u, q);
                true
            }
            None => {
                self.unknown_instrument += 1;
                false
            }
        }
    }

    /// Computes the feature values [`Self::update_decision`] left out for `u` (which must be
    /// the instrument's latest update): the values are then bit for bit those
    /// [`Self::update`] gives, and so are the edge-case counters. `None` when the id is out
    /// of range (not counted again).
    #[inline]
    pub fn complete_features(&mut self, u: &BookUpdate) -> Option<&SignalValues> {
        self.complete_features_quoted(u, &Quote::of(&u.top))
    }

    /// [`Self::complete_features`] with the book's [`Quote`] already classified.
    #[inline]
    pub(crate) fn complete_features_quoted(
        &mut self,
        u: &BookUpdate,
        q: &Quote,
    ) -> Option<&SignalValues> {
        let s = self.instruments.get_mut(u.instrument.index())?;
        s.complete_features_quoted(u, q);
        Some(&s.values)
    }

    /// The latest values of an instrument (after [`Self::update_decision`], the feature
    /// fields are zero until [`Self::complete_features`]).
    #[inline]
    pub fn values(&self, instrument: InstrumentId) -> Option<&SignalValues> {
        self.instruments.get(instrument.index()).map(|s| &s.values)
    }

    /// The signal state of an instrument (for inspection and tests).
    #[inline]
    pub fn instrument(&self, instrument: InstrumentId) -> Option<&InstrumentSignals> {
        self.instruments.get(instrument.index())
    }

    /// The edge-case counters of an instrument.
    #[inline]
    pub fn stats(&self, instrument: InstrumentId) -> Option<SignalStats> {
        self.instruments.get(instrument.index()).map(|s| s.stats)
    }

    /// Updates dropped because their instrument id was out of range.
    #[inline]
    pub fn unknown_instrument(&self) -> u64 {
        self.unknown_instrument
    }

    /// Number of instruments.
    #[inline]
    pub fn len(&self) -> usize {
        self.instruments.len()
    }

    /// Whether there are no instruments.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_small_and_copy() {
        fn is_copy<T: Copy>() {}
        is_copy::<SignalValues>();
        assert_eq!(core::mem::size_of::<SignalValues>(), 192);
        assert_eq!(
            SignalValues::FEATURE_NAMES.len(),
            SignalValues::default().features().len()
        );
    }
}
