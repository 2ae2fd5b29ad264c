//! The risk harmonizer: blends model edges (shrunk by track record), sizes with fractional
//! Kelly under VaR/ES budgets and correlation with held positions, scales by drawdown-driven
//! risk mode, and enforces hard limits and the kill switch under everything.
//!
//! One [`Harmonizer::decide`] call per book update; per-instrument state lives in vectors
//! indexed by the dense instrument id; nothing allocates after construction; the same updates
//! give the same intents.
//!
//! Order of work in `decide`: mark the instrument at its mid (exact P&L, equity peak, drawdown,
//! daily loss), move the risk mode, update the EWMA covariance, score the instrument's pending
//! prediction if its horizon has passed, blend the edges with the cached shrinkage weights,
//! then either flatten (kill switch, daily loss, halt) or size (Kelly with the hedge term,
//! VaR/ES bounds, mode scale, position/notional caps), and finally turn the change of target
//! into an intent under the order-size limit, a last limit guard and the order-rate bucket.
//!
//! Track records are kept per model, pooled over instruments: each instrument samples one
//! prediction per horizon (the first update after its previous one was scored) and scores it
//! against the realised mid move at the first update at least one horizon later.
//!
//! Sizes: the covariance keeps two `n x n` matrices of `f64` (rates and mid snapshots) and does
//! O(n) work per update, so it suits the tens to low thousands of instruments a strategy trades,
//! not a whole-market feed (8,000 instruments would need about 1 GiB). `n` is the strategy's
//! universe (`crate::universe`), not the feed's instrument count: a full-market replay keeps
//! books for every symbol and sizes the strategy to the symbols it trades.

pub mod blend;
pub mod covariance;
pub mod decision;
pub mod kelly;
pub mod kill_switch;
pub mod limits;
pub mod positions;
pub mod risk_mode;
pub mod track_record;
pub mod var_es;

use kestrel_core::{BookUpdate, IntentReason, OrderIntent, Price, Qty, Side, Timestamp, Urgency};

use self::blend::{Blend, blend};
use self::covariance::EwmaCovariance;
use self::kelly::kelly_notional_inv;
use self::limits::{TokenBucket, position_binds_up_to, position_cap, round_to_lot};
use self::positions::Positions;
use self::risk_mode::{RiskMode, RiskModeState};
use self::track_record::TrackRecord;
use self::var_es::{BudgetRatio, RiskMultipliers};
use crate::edge::ModelEdge;
use crate::params::{ChangeSet, MAX_MODELS, StrategyParams};

pub use self::decision::{Binding, Decision, DecisionRecord};
pub use self::kill_switch::KillSwitch;

/// How positions learn about executions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FillMode {
    /// Intents become working quantity; fills and order completions come through
    /// [`Harmonizer::on_fill`] and [`Harmonizer::on_order_done`] (live, with a gateway).
    #[default]
    External,
    /// Replay only: every intent is assumed filled in full, immediately, at its limit price.
    SimulatedImmediateFill,
}

/// Counters of what the harmonizer saw and did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HarmonizerStats {
    /// Updates decided on.
    pub decisions: u64,
    /// Intents emitted.
    pub intents: u64,
    /// Of which flattening.
    pub flatten_intents: u64,
    /// Intents suppressed by the order-rate limit.
    pub rate_limited: u64,
    /// Non-finite values met and clamped (edges, estimates, sizes).
    pub non_finite: u64,
    /// Updates for instruments outside the harmonizer.
    pub unknown_instrument: u64,
    /// Updates without a two-sided book.
    pub no_book: u64,
    /// Intents the final limit guard refused (should stay 0).
    pub limit_guard: u64,
    /// Parameter sets applied.
    pub params_applied: u64,
    /// Parameter sets refused (shape mismatch).
    pub params_rejected: u64,
    /// Updates with a crossed or locked book (nothing marked, nothing sent).
    pub crossed_book: u64,
    /// Times event time went back by more than [`TIME_RESET_NS`] and the time-based state was
    /// reset.
    pub time_resets: u64,
}

/// Event time that goes back by more than this (a new capture day, the next file of a replay,
/// a capture whose timestamps loop) starts a new time base: the order-rate bucket counts from
/// the new time (keeping its tokens), pending predictions are dropped unscored (their horizon
/// was in the old time) and the covariance takes fresh snapshots. Smaller steps back are
/// jitter: they refill and score nothing, as before.
pub const TIME_RESET_NS: u64 = 1_000_000_000;

/// Why the harmonizer could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HarmonizerError {
    /// No instruments.
    #[error("the harmonizer needs at least one instrument")]
    NoInstruments,
    /// A lot size is not positive.
    #[error("instrument {0} has a non-positive lot size")]
    BadLot(usize),
    /// The parameters name no models or more than [`MAX_MODELS`].
    #[error("{0} models; the harmonizer blends 1 to {MAX_MODELS}")]
    ModelCount(usize),
}

/// A parameter set whose model count differs from the one in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("parameters for {got} models, the harmonizer blends {expected}")]
pub struct ShapeMismatch {
    /// Models in force.
    pub expected: usize,
    /// Models in the refused set.
    pub got: usize,
}

/// A prediction waiting for its horizon to be scored.
#[derive(Clone, Copy, Debug, Default)]
struct Pending {
    active: bool,
    at_ns: u64,
    mid: f64,
    edges: [f64; MAX_MODELS],
    opinion: [bool; MAX_MODELS],
}

/// Values derived from the parameters, recomputed when they change.
#[derive(Clone, Copy, Debug)]
struct Derived {
    horizon_s: f64,
    capital: f64,
    /// VaR budget over its multiplier.
    var_ratio: BudgetRatio,
    /// ES budget over its multiplier.
    es_ratio: BudgetRatio,
    /// Ask prices (raw) up to which the position limit is the tighter one
    /// ([`position_binds_up_to`]).
    position_binds_up_to: i64,
}

impl Derived {
    fn of(p: &StrategyParams) -> Self {
        let mult = RiskMultipliers::at(p.var.confidence);
        Self {
            horizon_s: p.track_record.horizon_ns as f64 * 1e-9,
            capital: p.kelly.capital.to_f64(),
            var_ratio: BudgetRatio::new(p.var.var_budget.to_f64(), mult.var_mult),
            es_ratio: BudgetRatio::new(p.var.es_budget.to_f64(), mult.es_mult),
            position_binds_up_to: position_binds_up_to(&p.limits),
        }
    }
}

/// The risk harmonizer for a fixed set of instruments and models.
#[derive(Clone, Debug)]
pub struct Harmonizer {
    params: StrategyParams,
    params_version: u64,
    derived: Derived,
    records: Vec<TrackRecord>,
    /// Shrinkage weight of each model, refreshed when a record or the prior changes.
    shrink: [f64; MAX_MODELS],
    pending: Vec<Pending>,
    cov: EwmaCovariance,
    positions: Positions,
    lots: Vec<i64>,
    /// The position limit rounded to each instrument's lot (recomputed with the parameters).
    position_lots: Vec<i64>,
    mode: RiskModeState,
    bucket: TokenBucket,
    kill: KillSwitch,
    daily_loss_latched: bool,
    fill_mode: FillMode,
    intent_seq: u64,
    /// The latest event time seen (`None` before the first decision).
    time_high: Option<u64>,
    stats: HarmonizerStats,
}

/// Outcome of the sizing step.
struct Sizing {
    target_raw: i64,
    binding: Binding,
}

impl Harmonizer {
    /// A harmonizer over instruments with the given lot sizes (indexed by dense id), with
    /// parameters `params` (version 0) and its own kill switch.
    pub fn new(
        params: StrategyParams,
        lot_sizes: &[Qty],
        fill_mode: FillMode,
    ) -> Result<Self, HarmonizerError> {
        if lot_sizes.is_empty() {
            return Err(HarmonizerError::NoInstruments);
        }
        if let Some(i) = lot_sizes.iter().position(|l| l.raw() <= 0) {
            return Err(HarmonizerError::BadLot(i));
        }
        let models = params.blend.model_count;
        if models == 0 || models > MAX_MODELS {
            return Err(HarmonizerError::ModelCount(models));
        }
        let n = lot_sizes.len();
        let mut h = Self {
            params,
            params_version: 0,
            derived: Derived::of(&params),
            records: (0..params.blend.model_count)
                .map(|_| TrackRecord::new(params.track_record.window))
                .collect(),
            pending: vec![Pending::default(); n],
            cov: EwmaCovariance::new(n, params.volatility.ewma_lambda),
            positions: Positions::new(n, params.kelly.capital.raw16()),
            lots: lot_sizes.iter().map(|l| l.raw()).collect(),
            position_lots: lot_sizes
                .iter()
                .map(|l| round_to_lot(params.limits.max_position.raw(), l.raw()))
                .collect(),
            mode: RiskModeState::new(params.risk_modes.initial),
            bucket: TokenBucket::new(params.limits.orders_per_second, params.limits.order_burst),
            kill: KillSwitch::new(),
            daily_loss_latched: false,
            fill_mode,
            intent_seq: 0,
            time_high: None,
            stats: HarmonizerStats::default(),
            shrink: [0.0; MAX_MODELS],
        };
        h.refresh_shrink();
        Ok(h)
    }

    /// Recomputes the models' shrinkage weights from their records (after a score or a change
    /// of the prior), so that a decision only reads them.
    fn refresh_shrink(&mut self) {
        let tr = &self.params.track_record;
        for (m, r) in self.records.iter().enumerate().take(MAX_MODELS) {
            self.shrink[m] = r.stats().shrink_weight(tr.ic_weight, tr.prior_strength);
        }
    }

    /// Uses `kill` (shared with the ops thread) as this harmonizer's kill switch.
    pub fn with_kill_switch(mut self, kill: KillSwitch) -> Self {
        self.kill = kill;
        self
    }

    /// A handle on the kill switch.
    pub fn kill_switch(&self) -> KillSwitch {
        self.kill.clone()
    }

    /// Applies a new parameter set at an event boundary. The model count cannot change (it is
    /// the alpha set's). Capital changes do not rebase equity. No allocation.
    pub fn apply_params(
        &mut self,
        version: u64,
        params: &StrategyParams,
    ) -> Result<ChangeSet, ShapeMismatch> {
        if params.blend.model_count != self.params.blend.model_count {
            self.stats.params_rejected += 1;
            return Err(ShapeMismatch {
                expected: self.params.blend.model_count,
                got: params.blend.model_count,
            });
        }
        let changed = ChangeSet::between(&self.params, params);
        if params.track_record.window != self.params.track_record.window {
            for r in &mut self.records {
                r.set_window(params.track_record.window);
            }
        }
        self.cov.set_lambda(params.volatility.ewma_lambda);
        self.bucket
            .reconfigure(params.limits.orders_per_second, params.limits.order_burst);
        self.params = *params;
        self.params_version = version;
        self.derived = Derived::of(params);
        let position = params.limits.max_position.raw();
        for (capped, &lot) in self.position_lots.iter_mut().zip(&self.lots) {
            *capped = round_to_lot(position, lot);
        }
        self.refresh_shrink();
        self.stats.params_applied += 1;
        Ok(changed)
    }

    /// Decides on one book update given the models' `edges` (in model-index order) and the
    /// regime index from the signals.
    pub fn decide(&mut self, u: &BookUpdate, edges: &[ModelEdge], regime: usize) -> Decision {
        let mut record = DecisionRecord::default();
        let intent = self.decide_into(u, edges, regime, &mut record);
        Decision { intent, record }
    }

    /// [`Self::decide`] writing the record into `rec` (overwritten whole) instead of returning
    /// it, so that a caller keeping the last record does not copy it per update.
    pub(crate) fn decide_into(
        &mut self,
        u: &BookUpdate,
        edges: &[ModelEdge],
        regime: usize,
        rec: &mut DecisionRecord,
    ) -> Option<OrderIntent> {
        self.stats.decisions += 1;
        let now = event_time(u);
        self.observe_time(now);
        *rec = DecisionRecord {
            update_seq: u.seq,
            instrument: u.instrument,
            at: Timestamp(now),
            regime: u8::try_from(regime).unwrap_or(u8::MAX),
            mode: self.mode.mode(),
            params_version: self.params_version,
            ..DecisionRecord::default()
        };
        let i = u.instrument.index();
        if i >= self.positions.len() {
            self.stats.unknown_instrument += 1;
            rec.binding = Binding::UnknownInstrument;
            return None;
        }
        let (bid, ask) = match (u.top.best_bid(), u.top.best_ask()) {
            (Some(b), Some(a)) if b.price.raw() > 0 && a.price.raw() > 0 => (b.price, a.price),
            _ => {
                self.stats.no_book += 1;
                rec.binding = Binding::NoBook;
                rec.exposure_before = Qty::from_raw(self.positions.exposure(i));
                return None;
            }
        };
        if bid >= ask {
            // Crossed or locked (a cross in progress, a feed fault): its mid is no price.
            self.stats.crossed_book += 1;
            rec.binding = Binding::CrossedBook;
            rec.exposure_before = Qty::from_raw(self.positions.exposure(i));
            return None;
        }
        let mid_raw = ((i128::from(bid.raw()) + i128::from(ask.raw())) / 2) as i64;
        let mid = mid_raw as f64 / kestrel_core::FIXED_SCALE as f64;

        // Marks, P&L, drawdown and the risk mode.
        let equity16 = self.positions.mark_to(i, mid_raw);
        let drawdown = self.positions.drawdown_at(equity16);
        rec.drawdown = drawdown;
        if self.positions.day_loss16_at(equity16) >= self.params.limits.daily_loss.raw16() {
            self.daily_loss_latched = true;
        }
        let mode = self.mode.update(drawdown, &self.params.risk_modes);
        rec.mode = mode;

        // Volatility and covariance.
        self.stats.non_finite += u64::from(self.cov.on_mid(i, mid, now));

        // Score the pending prediction whose horizon has passed.
        self.score_pending(i, mid, now);

        // Blend.
        let model_count = self.params.blend.model_count.min(MAX_MODELS);
        rec.shrink = self.shrink;
        let used = &edges[..edges.len().min(model_count)];
        let (b, bad) = blend(
            used,
            self.params.blend.weights(regime),
            &rec.shrink,
            self.params.blend.min_confidence,
        );
        self.stats.non_finite += u64::from(bad);
        for (raw, e) in rec.raw_edges_bps.iter_mut().zip(used) {
            *raw = if e.edge_bps.is_finite() {
                e.edge_bps
            } else {
                0.0
            };
        }
        rec.shrunk_edges_bps = b.shrunk_bps;
        rec.blended_bps = b.edge_bps;
        rec.blended_confidence = b.confidence;
        self.open_pending(i, mid, now, used);

        let exposure = self.positions.exposure(i);
        rec.exposure_before = Qty::from_raw(exposure);
        if !u.trading {
            rec.binding = Binding::NotTrading;
            return None;
        }

        // Target: flatten, or size.
        let flatten = if self.kill.is_tripped() {
            Some(Binding::KillSwitch)
        } else if self.daily_loss_latched {
            Some(Binding::DailyLoss)
        } else if mode == RiskMode::Halt {
            Some(Binding::Halt)
        } else {
            None
        };
        let sizing = match flatten {
            Some(binding) => Sizing {
                target_raw: 0,
                binding,
            },
            None => self.size(i, mid, ask, &b, mode, rec),
        };
        rec.target = Qty::from_raw(sizing.target_raw);
        rec.binding = sizing.binding;
        self.make_intent(
            u,
            i,
            now,
            exposure,
            sizing,
            flatten.is_some(),
            bid,
            ask,
            rec,
        )
    }

    /// Starts a new time base when event time goes back by more than [`TIME_RESET_NS`].
    fn observe_time(&mut self, now: u64) {
        let high = match self.time_high {
            Some(high) if now.saturating_add(TIME_RESET_NS) < high => {
                self.stats.time_resets += 1;
                self.bucket.rebase(now);
                for p in &mut self.pending {
                    p.active = false;
                }
                self.cov.rebase_time();
                now
            }
            Some(high) => high.max(now),
            None => now,
        };
        self.time_high = Some(high);
    }

    fn score_pending(&mut self, i: usize, mid: f64, now: u64) {
        let horizon = self.params.track_record.horizon_ns;
        let Some(p) = self.pending.get_mut(i) else {
            return;
        };
        if !p.active || now < p.at_ns.saturating_add(horizon) {
            return;
        }
        p.active = false;
        let realised = (mid / p.mid - 1.0) * 1e4;
        if !realised.is_finite() {
            self.stats.non_finite += 1;
            return;
        }
        // Only the records scored here change: their shrinkage weights are refreshed as they
        // are scored (the others' weights stand, as `refresh_shrink` would recompute them).
        let tr = &self.params.track_record;
        for (m, r) in self.records.iter_mut().enumerate().take(MAX_MODELS) {
            if !p.opinion[m] {
                continue;
            }
            if r.score(p.edges[m], realised) {
                self.shrink[m] = r.stats().shrink_weight(tr.ic_weight, tr.prior_strength);
            } else {
                self.stats.non_finite += 1;
            }
        }
    }

    fn open_pending(&mut self, i: usize, mid: f64, now: u64, edges: &[ModelEdge]) {
        let Some(p) = self.pending.get_mut(i) else {
            return;
        };
        if p.active {
            return;
        }
        *p = Pending {
            active: true,
            at_ns: now,
            mid,
            ..Pending::default()
        };
        for (m, e) in edges.iter().enumerate().take(MAX_MODELS) {
            let ok = e.edge_bps.is_finite() && e.confidence.is_finite() && e.confidence > 0.0;
            p.opinion[m] = ok;
            p.edges[m] = if ok { e.edge_bps } else { 0.0 };
        }
    }

    /// Kelly, VaR/ES caps, mode scale and the position/notional limits: the target position.
    fn size(
        &mut self,
        i: usize,
        mid: f64,
        ask: Price,
        b: &Blend,
        mode: RiskMode,
        rec: &mut DecisionRecord,
    ) -> Sizing {
        let p = &self.params;
        let d = &self.derived;
        // bps^2 per second -> return fraction^2 over the horizon.
        let to_frac = d.horizon_s * 1e-8;
        let (rate, seen) = self.cov.variance_rate(i);
        let floor = p.volatility.variance_floor_bps2_per_s;
        let rate = if seen && rate.is_finite() {
            rate.max(floor)
        } else {
            floor
        };
        let variance = rate * to_frac;
        let mut hedge = 0.0;
        for (j, &c) in self.cov.row(i).iter().enumerate() {
            if j != i {
                hedge += c * to_frac * self.positions.exposure_notional(j);
            }
        }
        if !hedge.is_finite() {
            self.stats.non_finite += 1;
            hedge = 0.0;
        }
        rec.sigma_bps = variance.sqrt() * 1e4;
        rec.hedge = hedge;

        let edge = b.edge_bps * 1e-4;
        // One division for Kelly and both bounds (`kelly_notional` and `position_bounds` each
        // divide by the variance; same values to rounding).
        let inv_variance = 1.0 / variance;
        let kelly = kelly_notional_inv(
            edge,
            variance,
            inv_variance,
            hedge,
            p.kelly.fraction,
            d.capital,
        );
        let (vlo, vhi) = d.var_ratio.bounds(variance, inv_variance, hedge);
        let (elo, ehi) = d.es_ratio.bounds(variance, inv_variance, hedge);
        rec.var_cap_notional = if kelly >= 0.0 { vhi } else { vlo };
        rec.es_cap_notional = if kelly >= 0.0 { ehi } else { elo };
        let caps = |x: f64, binding: &mut Binding| {
            let mut x = x;
            if x > vhi {
                x = vhi;
                *binding = Binding::Var;
            } else if x < vlo {
                x = vlo;
                *binding = Binding::Var;
            }
            if x > ehi {
                x = ehi;
                *binding = Binding::Es;
            } else if x < elo {
                x = elo;
                *binding = Binding::Es;
            }
            x
        };
        let mut binding = Binding::Kelly;
        let scale = mode.scale(&p.risk_modes);
        let capped = caps(kelly, &mut binding);
        let scaled = caps(scale * capped, &mut binding);
        rec.kelly_notional = scale * kelly;
        let mut target = scaled / mid * kestrel_core::FIXED_SCALE as f64;
        if !target.is_finite() {
            self.stats.non_finite += 1;
            target = 0.0;
        }
        // `as` saturates; then round toward zero to the lot.
        let lot = self.lots[i];
        let mut target_raw = round_to_lot(target as i64, lot);
        // The position limit binds (the common case, known by one comparison and rounded
        // with the parameters), or `position_cap` decides.
        let (cap, cap_binding) = if ask.raw() > 0 && ask.raw() <= d.position_binds_up_to {
            (self.position_lots[i], Binding::Position)
        } else {
            let (cap, binding) = position_cap(&p.limits, ask);
            (round_to_lot(cap, lot), binding)
        };
        if target_raw > cap {
            target_raw = cap;
            binding = cap_binding;
        } else if target_raw < -cap {
            target_raw = -cap;
            binding = cap_binding;
        }
        Sizing {
            target_raw,
            binding,
        }
    }

    /// Turns a target into an intent: minimum and maximum order size, the final limit guard,
    /// the order-rate bucket; updates working quantity (or fills, in simulated mode).
    #[allow(clippy::too_many_arguments)]
    fn make_intent(
        &mut self,
        u: &BookUpdate,
        i: usize,
        now: u64,
        exposure: i64,
        sizing: Sizing,
        flatten: bool,
        bid: Price,
        ask: Price,
        rec: &mut DecisionRecord,
    ) -> Option<OrderIntent> {
        let p = &self.params;
        let lot = self.lots[i];
        let mut delta = i128::from(sizing.target_raw) - i128::from(exposure);
        if delta == 0 {
            rec.binding = Binding::AtTarget;
            return None;
        }
        if !flatten && delta.abs() < i128::from(p.order.min_order_qty.raw()) {
            rec.binding = Binding::MinOrder;
            return None;
        }
        let max_order = i128::from(round_to_lot(p.limits.max_order_qty.raw(), lot));
        if delta.abs() > max_order {
            delta = delta.signum() * max_order;
            rec.binding = Binding::OrderSize;
        }
        if delta == 0 {
            rec.binding = Binding::MinOrder;
            return None;
        }
        // |delta| <= max_order_qty, which is an i64.
        let Ok(delta) = i64::try_from(delta) else {
            rec.binding = Binding::LimitGuard;
            self.stats.limit_guard += 1;
            return None;
        };
        let side = if delta > 0 { Side::Buy } else { Side::Sell };
        let strong =
            p.order.cross_edge_bps > 0.0 && rec.blended_bps.abs() >= p.order.cross_edge_bps;
        let urgency = if flatten || strong {
            Urgency::Aggressive
        } else {
            p.order.urgency
        };
        let price =
            match (side, urgency) {
                (Side::Buy, Urgency::Aggressive)
                | (Side::Sell, Urgency::Passive | Urgency::Normal) => ask,
                (Side::Sell, Urgency::Aggressive)
                | (Side::Buy, Urgency::Passive | Urgency::Normal) => bid,
            };
        let after = exposure.saturating_add(delta);
        if !self.within_limits(exposure, after, price) {
            self.stats.limit_guard += 1;
            rec.binding = Binding::LimitGuard;
            return None;
        }
        if !self.bucket.try_take(now) {
            self.stats.rate_limited += 1;
            rec.binding = Binding::OrderRate;
            return None;
        }
        let reducing = after.unsigned_abs() < exposure.unsigned_abs()
            && (after == 0 || (after > 0) == (exposure > 0));
        let reason = if flatten {
            IntentReason::Flatten
        } else if reducing
            && matches!(
                sizing.binding,
                Binding::Var | Binding::Es | Binding::Position | Binding::Notional
            )
        {
            IntentReason::RiskReduce
        } else {
            IntentReason::Alpha
        };
        self.intent_seq += 1;
        let intent = OrderIntent {
            seq: self.intent_seq,
            instrument: u.instrument,
            side,
            urgency,
            reason,
            price,
            qty: Qty::from_raw(delta.unsigned_abs() as i64),
            decided_at: Timestamp(now),
        };
        rec.intent_seq = self.intent_seq;
        self.stats.intents += 1;
        if flatten {
            self.stats.flatten_intents += 1;
        }
        self.positions.add_working(i, delta);
        if self.fill_mode == FillMode::SimulatedImmediateFill {
            self.positions.on_fill(i, delta, price.raw());
        }
        Some(intent)
    }

    /// The last line of defence: the position after the order is inside the position and
    /// notional limits, or strictly closer to flat than before without crossing zero.
    fn within_limits(&self, before: i64, after: i64, price: Price) -> bool {
        let reducing = after.unsigned_abs() <= before.unsigned_abs()
            && (after == 0 || (after > 0) == (before > 0));
        if reducing {
            return true;
        }
        let l = &self.params.limits;
        let notional = i128::from(after).abs() * i128::from(price.raw());
        after.unsigned_abs() <= l.max_position.raw().unsigned_abs()
            && notional <= l.max_notional.raw16()
    }

    /// A fill from the gateway: `qty` bought or sold at `price`.
    pub fn on_fill(
        &mut self,
        instrument: kestrel_core::InstrumentId,
        side: Side,
        qty: Qty,
        price: Price,
    ) {
        let signed = qty.raw().saturating_mul(side.sign());
        self.positions
            .on_fill(instrument.index(), signed, price.raw());
    }

    /// The venue broke an earlier fill of `qty` bought or sold at `price`: the position goes
    /// back as if it had not happened.
    pub fn on_fill_broken(
        &mut self,
        instrument: kestrel_core::InstrumentId,
        side: Side,
        qty: Qty,
        price: Price,
    ) {
        let signed = qty.raw().saturating_mul(side.sign());
        self.positions
            .reverse_fill(instrument.index(), signed, price.raw());
    }

    /// An order is done (cancelled, rejected, expired) with `unfilled` left: it no longer
    /// counts as working.
    pub fn on_order_done(
        &mut self,
        instrument: kestrel_core::InstrumentId,
        side: Side,
        unfilled: Qty,
    ) {
        let signed = unfilled.raw().saturating_mul(side.sign());
        self.positions.release_working(instrument.index(), signed);
    }

    /// Starts a new trading day: the daily loss counts from the current equity and its latch
    /// clears.
    pub fn start_day(&mut self) {
        self.positions.start_day();
        self.daily_loss_latched = false;
    }

    /// Operator action: leaves halt (or any mode) for `mode`.
    pub fn force_mode(&mut self, mode: RiskMode) {
        self.mode.force(mode);
    }

    /// Instruments the harmonizer is sized for (its state is `n x n` in this).
    pub fn instruments(&self) -> usize {
        self.positions.len()
    }

    /// Position of one instrument.
    pub fn position(&self, instrument: kestrel_core::InstrumentId) -> Qty {
        Qty::from_raw(self.positions.position(instrument.index()))
    }

    /// Working quantity (signed) of an instrument.
    pub fn working(&self, instrument: kestrel_core::InstrumentId) -> Qty {
        Qty::from_raw(self.positions.working(instrument.index()))
    }

    /// Equity in money (lossy; the books are exact).
    pub fn equity(&self) -> f64 {
        self.positions.equity()
    }

    /// The current risk mode.
    pub fn mode(&self) -> RiskMode {
        self.mode.mode()
    }

    /// Whether the daily loss limit has latched.
    pub fn daily_loss_latched(&self) -> bool {
        self.daily_loss_latched
    }

    /// The parameters in force.
    pub fn params(&self) -> &StrategyParams {
        &self.params
    }

    /// Version of the parameters in force (0 for the initial set).
    pub fn params_version(&self) -> u64 {
        self.params_version
    }

    /// Counters.
    pub fn stats(&self) -> HarmonizerStats {
        self.stats
    }

    /// Track-record statistics of model `m`.
    pub fn record_stats(&self, m: usize) -> Option<track_record::RecordStats> {
        self.records.get(m).map(TrackRecord::stats)
    }

    /// Scores a prediction directly into model `m`'s record (for warm starts from a previous
    /// session's journal, and tests).
    pub fn seed_record(&mut self, m: usize, predicted_bps: f64, realised_bps: f64) {
        if let Some(r) = self.records.get_mut(m) {
            r.score(predicted_bps, realised_bps);
        }
        self.refresh_shrink();
    }
}

/// The update's event time: the venue timestamp, or the receive time when the venue gave none.
#[inline]
pub fn event_time(u: &BookUpdate) -> u64 {
    if u.exch_ts.nanos() != 0 {
        u.exch_ts.nanos()
    } else {
        u.recv_ts.nanos()
    }
}
