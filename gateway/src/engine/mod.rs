//! The gateway engine: OMS, pre-trade risk, execution algorithms, TCA, journal and a venue,
//! driven by [`GatewayInput`]s (market and intents) and by polling the venue. The pipeline's
//! gateway stage wraps it; the simulated exchange's backtest calls it directly with its
//! in-process venue. Same code, injected clock.
//!
//! Per intent: journal it, cancel our opposite-side orders (if configured), then either start
//! a parent order or turn it into one limit order (shares rounded down, price rounded to the
//! 1/10,000 grid away from crossing: buys down, sells up; IOC for aggressive urgency), run the
//! pre-trade checks, journal the decision, create the order, journal the send, send it.
//! Tick-to-trade is recorded from the input's receive stamp to the return of the send.

mod config;

pub use config::{GatewayConfig, IntentAlgo};

use crate::algo::{AlgoAction, AlgoKind, Algos, Parent};
use crate::journal::{Entry, JournalSink, ParamName, SentMeta};
use crate::oms::{IdMap, NO_PARENT, NewOrder, Oms, OmsError, OrdStatus};
use crate::ouch::{ClientMessage, ServerMessage, tif};
use crate::risk::{PreTrade, RiskCheck, RiskLimits, RiskReject};
use crate::tca::Tca;
use crate::venue::{LinkEvent, Venue, VenueHandler, VenueStatus};
use kestrel_core::clock::Clock;
use kestrel_core::latency::{Histogram, new_histogram};
use kestrel_core::pipeline::Emit;
use kestrel_core::{
    ExecKind, ExecReport, GatewayInput, GatewayInputKind, InstrumentId, OrderIntent, Price, Qty,
    Side, Timestamp, Urgency,
};

/// Reports the OMS may emit for one venue message or send (more are delivered, just not
/// without a second pass).
const REPORT_BUFFER: usize = 64;

/// What an input did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputOutcome {
    /// A market update (marks, references, algorithm timers).
    Market,
    /// The intent went out as an order.
    Sent {
        /// OMS slot.
        slot: u32,
    },
    /// The intent started a parent order.
    Parent {
        /// Parent slot.
        parent: u32,
    },
    /// The pre-trade checks refused it.
    Rejected(RiskReject),
    /// Nothing to send (rounded to zero shares).
    Nothing,
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// Inputs handled.
    pub inputs: u64,
    /// Intents handled.
    pub intents: u64,
    /// Orders sent (enter orders).
    pub orders_sent: u64,
    /// Shares on the orders sent.
    pub shares_sent: u64,
    /// Cancels sent.
    pub cancels_sent: u64,
    /// Replaces sent.
    pub replaces_sent: u64,
    /// Sends the venue refused (not ready, backpressure).
    pub send_failures: u64,
    /// Orders resent after a reconnect.
    pub resent: u64,
    /// Orders cancelled for age.
    pub ttl_cancels: u64,
    /// Execution reports emitted.
    pub reports: u64,
    /// Link ups.
    pub link_ups: u64,
    /// Link downs.
    pub link_downs: u64,
}

/// The gateway engine.
pub struct OrderGateway<V, J, C> {
    oms: Oms,
    risk: PreTrade,
    algos: Algos,
    tca: Tca,
    venue: V,
    journal: J,
    clock: C,
    cfg: GatewayConfig,
    stats: GatewayStats,
    t2t: Histogram<u64>,
    buf: Vec<ExecReport>,
    link_up_pending: bool,
    kill_pending: bool,
    last_ttl_scan: u64,
    event_now: u64,
    /// Child order id -> parent slot, for routing the children's reports.
    children: IdMap,
}

impl<V, J, C> std::fmt::Debug for OrderGateway<V, J, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderGateway")
            .field("stats", &self.stats)
            .field("oms", &self.oms.stats())
            .finish_non_exhaustive()
    }
}

/// The venue handler of one poll: applies messages to the OMS and journals them.
struct Inbound<'a, J> {
    oms: &'a mut Oms,
    journal: &'a mut J,
    buf: &'a mut Vec<ExecReport>,
    link_up: &'a mut bool,
    stats: &'a mut GatewayStats,
}

impl<J: JournalSink> VenueHandler for Inbound<'_, J> {
    fn on_message(&mut self, seq: u64, msg: &ServerMessage, now: Timestamp) {
        self.journal.record(&Entry::Received {
            at: now,
            seq,
            msg: *msg,
        });
        self.oms.on_message(seq, msg, now, self.buf);
    }

    fn on_link(&mut self, event: LinkEvent, now: Timestamp) {
        self.journal.record(&Entry::Link { at: now, event });
        match event {
            LinkEvent::Up { .. } => {
                self.stats.link_ups += 1;
                *self.link_up = true;
            }
            LinkEvent::Down { .. } => self.stats.link_downs += 1,
        }
    }
}

/// Whole shares in a quantity (rounded down; negative or huge clamps).
fn shares_of(q: Qty) -> u32 {
    u32::try_from((q.raw() / 100_000_000).max(0)).unwrap_or(u32::MAX)
}

fn qty_of(shares: u64) -> Qty {
    Qty::from_raw(
        i64::try_from(shares)
            .unwrap_or(i64::MAX)
            .saturating_mul(100_000_000),
    )
}

/// `price` on the 1/10,000 grid, rounded away from crossing (buys down, sells up).
pub fn grid_price(side: Side, price: Price) -> Price {
    const STEP: i64 = 10_000; // 1/10,000 of a dollar at 8 decimals
    let r = price.raw();
    let down = r.div_euclid(STEP) * STEP;
    match side {
        Side::Buy => Price::from_raw(down),
        Side::Sell if down == r => price,
        Side::Sell => Price::from_raw(down + STEP),
    }
}

impl<V: Venue, J: JournalSink, C: Clock> OrderGateway<V, J, C> {
    /// An engine around `oms` (fresh, or rebuilt from a journal) and `venue`.
    pub fn new(cfg: GatewayConfig, oms: Oms, venue: V, mut journal: J, clock: C) -> Self {
        let n = oms.instruments();
        let now = clock.now();
        journal.record(&Entry::SessionStart {
            at: now,
            first_order_number: oms.tokens().peek(),
            instruments: n as u32,
        });
        Self {
            risk: PreTrade::new(cfg.limits, n),
            algos: Algos::new(cfg.max_parents, n),
            tca: Tca::new(cfg.tca_horizon_ns, cfg.max_parents),
            oms,
            venue,
            journal,
            clock,
            stats: GatewayStats::default(),
            t2t: new_histogram(),
            buf: Vec::with_capacity(REPORT_BUFFER),
            link_up_pending: false,
            kill_pending: false,
            last_ttl_scan: 0,
            event_now: 0,
            children: IdMap::with_capacity(cfg.oms.max_orders),
            cfg,
        }
    }

    /// A fresh OMS for `cfg` (helper for callers without a journal to rebuild from).
    pub fn fresh(cfg: GatewayConfig, venue: V, journal: J, clock: C) -> Result<Self, OmsError> {
        let oms = Oms::new(cfg.oms.clone())?;
        Ok(Self::new(cfg, oms, venue, journal, clock))
    }

    // ---- accessors -----------------------------------------------------------------------

    /// The OMS.
    pub fn oms(&self) -> &Oms {
        &self.oms
    }
    /// The pre-trade checks.
    pub fn risk(&self) -> &PreTrade {
        &self.risk
    }
    /// The algorithms.
    pub fn algos(&self) -> &Algos {
        &self.algos
    }
    /// Loads a VWAP volume profile.
    pub fn algos_mut(&mut self) -> &mut Algos {
        &mut self.algos
    }
    /// TCA.
    pub fn tca(&self) -> &Tca {
        &self.tca
    }
    /// The venue.
    pub fn venue(&self) -> &V {
        &self.venue
    }
    /// The venue, mutably (tests, forced disconnects).
    pub fn venue_mut(&mut self) -> &mut V {
        &mut self.venue
    }
    /// The journal sink.
    pub fn journal(&self) -> &J {
        &self.journal
    }
    /// Counters.
    pub fn stats(&self) -> GatewayStats {
        self.stats
    }
    /// Tick-to-trade histogram (ns).
    pub fn tick_to_trade(&self) -> &Histogram<u64> {
        &self.t2t
    }
    /// The settings.
    pub fn config(&self) -> &GatewayConfig {
        &self.cfg
    }

    /// Takes the engine apart (end of a session).
    pub fn into_parts(self) -> (Oms, V, J) {
        (self.oms, self.venue, self.journal)
    }

    // ---- inputs --------------------------------------------------------------------------

    /// Handles one input from the strategy: the market, or an intent with its market.
    pub fn on_input<E: Emit<ExecReport>>(
        &mut self,
        input: &GatewayInput,
        out: &mut E,
    ) -> InputOutcome {
        self.stats.inputs += 1;
        let i = input.instrument;
        self.event_now = self.event_now.max(input.event_time.nanos());
        self.risk.on_market(i.index(), &input.top, input.trading);
        if let Some(mid) = input.top.mid() {
            self.oms.set_mark(i, mid);
            self.tca.on_market(i, mid, input.event_time.nanos());
        }
        match input.kind {
            GatewayInputKind::Market => InputOutcome::Market,
            GatewayInputKind::Intent => self.on_intent(input, out),
        }
    }

    fn on_intent<E: Emit<ExecReport>>(
        &mut self,
        input: &GatewayInput,
        out: &mut E,
    ) -> InputOutcome {
        let intent = input.intent;
        let now = self.clock.now();
        self.stats.intents += 1;
        self.journal.record(&Entry::Intent { at: now, intent });
        if self.cfg.cancel_opposite {
            self.cancel_side(intent.instrument, intent.side.opposite(), out);
        }
        let shares = shares_of(intent.qty);
        if shares == 0 {
            // Nothing whole to send: the strategy's working quantity is released at once.
            self.emit_risk_reject(
                &intent,
                RiskReject::new(RiskCheck::BadOrder, 0, 1),
                now,
                out,
            );
            return InputOutcome::Nothing;
        }
        let price = grid_price(intent.side, intent.price);
        let arrival_mid = input.top.mid().unwrap_or(Price::ZERO);
        if let IntentAlgo::Parent(kind) = self.cfg.intent_algo {
            let parent = Parent {
                intent_seq: intent.seq,
                instrument: intent.instrument,
                side: intent.side,
                limit: price,
                target: shares,
                filled: 0,
                kind,
                start_ns: input.event_time.nanos(),
                child: None,
                cancelling: false,
                stopping: false,
                arrival_mid,
            };
            return match self.algos.start(parent) {
                Ok(slot) => {
                    self.tca.start_parent(
                        slot,
                        intent.instrument,
                        intent.side,
                        u64::from(shares),
                        arrival_mid,
                    );
                    self.run_parent(slot, out);
                    InputOutcome::Parent { parent: slot }
                }
                Err(_) => {
                    let r = RiskReject::new(
                        RiskCheck::OpenOrders,
                        self.algos.active() as i64,
                        self.cfg.max_parents as i64,
                    );
                    self.emit_risk_reject(&intent, r, now, out);
                    InputOutcome::Rejected(r)
                }
            };
        }
        let tif = match intent.urgency {
            Urgency::Aggressive => tif::IOC,
            Urgency::Passive | Urgency::Normal => tif::SYSTEM_HOURS,
        };
        let req = NewOrder {
            instrument: intent.instrument,
            side: intent.side,
            price,
            shares,
            tif,
            intent_seq: intent.seq,
            parent: NO_PARENT,
            arrival_mid,
        };
        match self.send_new(&req, now, out) {
            Ok(slot) => {
                let recv = input.stamps.recv;
                if recv.nanos() != 0 {
                    let done = self.clock.now();
                    self.t2t
                        .saturating_record(done.saturating_since(recv).max(1));
                }
                InputOutcome::Sent { slot }
            }
            Err(r) => {
                self.emit_risk_reject(&intent, r, now, out);
                InputOutcome::Rejected(r)
            }
        }
    }

    fn emit_risk_reject<E: Emit<ExecReport>>(
        &mut self,
        intent: &OrderIntent,
        r: RiskReject,
        now: Timestamp,
        out: &mut E,
    ) {
        self.stats.reports += 1;
        out.emit(ExecReport {
            intent_seq: intent.seq,
            order: 0,
            instrument: intent.instrument,
            side: intent.side,
            kind: ExecKind::RiskRejected,
            reason: r.check as u8,
            qty: intent.qty,
            price: intent.price,
            leaves: Qty::ZERO,
            venue_time: Timestamp::ZERO,
            at: now,
        });
    }

    /// Pre-trade checks, OMS, journal, venue: one new order. The risk decision is journaled
    /// either way.
    fn send_new<E: Emit<ExecReport>>(
        &mut self,
        req: &NewOrder,
        now: Timestamp,
        out: &mut E,
    ) -> Result<u32, RiskReject> {
        let ready = self.venue.status() == VenueStatus::Ready;
        let decision = self.risk.check(req, &self.oms, ready, now);
        let (check, value, limit, reference) = match decision {
            Ok(()) => (0, i64::from(req.shares), 0, req.price.raw()),
            Err(r) => (r.check as u8, r.value, r.limit, r.reference),
        };
        self.journal.record(&Entry::Risk {
            at: now,
            intent_seq: req.intent_seq,
            check,
            value,
            limit,
            reference,
        });
        decision?;
        let (slot, enter) = self.oms.new_order(req, now).map_err(|e| {
            RiskReject::new(
                match e {
                    OmsError::Full(_) => RiskCheck::OpenOrders,
                    _ => RiskCheck::BadOrder,
                },
                i64::from(req.shares),
                0,
            )
        })?;
        let meta = SentMeta {
            order: self.oms.order(slot).map_or(0, |o| o.id),
            intent_seq: req.intent_seq,
            parent: req.parent,
            arrival_mid: req.arrival_mid,
        };
        let msg = ClientMessage::EnterOrder(enter);
        self.journal.record(&Entry::Sent { at: now, meta, msg });
        match self.venue.send(&msg, now) {
            Ok(()) => {
                self.stats.orders_sent += 1;
                self.stats.shares_sent += u64::from(req.shares);
                Ok(slot)
            }
            Err(_) => {
                self.stats.send_failures += 1;
                self.journal
                    .record(&Entry::SendFailed { at: now, meta, msg });
                self.oms.send_failed(slot);
                let _ = out;
                Err(RiskReject::new(RiskCheck::VenueDown, 0, 1))
            }
        }
    }

    /// Sends a cancel for an open order; `false` if it could not go out.
    fn send_cancel(&mut self, slot: u32, now: Timestamp) -> bool {
        let Some(o) = self.oms.order(slot).copied() else {
            return false;
        };
        let Ok(cancel) = self.oms.cancel(slot, 0) else {
            return false;
        };
        let meta = SentMeta {
            order: o.id,
            intent_seq: o.intent_seq,
            parent: o.parent,
            arrival_mid: o.arrival_mid,
        };
        let msg = ClientMessage::CancelOrder(cancel);
        self.journal.record(&Entry::Sent { at: now, meta, msg });
        if self.venue.send(&msg, now).is_ok() {
            self.stats.cancels_sent += 1;
            true
        } else {
            self.stats.send_failures += 1;
            self.journal
                .record(&Entry::SendFailed { at: now, meta, msg });
            self.oms.cancel_failed(slot);
            false
        }
    }

    /// Replaces an open order's price and size (OUCH Replace Order).
    pub fn replace(&mut self, slot: u32, price: Price, shares: u32) -> Result<(), OmsError> {
        let now = self.clock.now();
        let o = *self
            .oms
            .order(slot)
            .ok_or(OmsError::NotOpen(u64::from(slot)))?;
        let replace = self.oms.replace(slot, price, shares)?;
        let meta = SentMeta {
            order: o.id,
            intent_seq: o.intent_seq,
            parent: o.parent,
            arrival_mid: o.arrival_mid,
        };
        let msg = ClientMessage::ReplaceOrder(replace);
        self.journal.record(&Entry::Sent { at: now, meta, msg });
        if self.venue.send(&msg, now).is_ok() {
            self.stats.replaces_sent += 1;
        } else {
            self.stats.send_failures += 1;
            self.journal
                .record(&Entry::SendFailed { at: now, meta, msg });
            self.oms.replace_failed(slot);
        }
        Ok(())
    }

    /// Cancels every open order (and stops every parent) on one instrument side.
    fn cancel_side<E: Emit<ExecReport>>(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        out: &mut E,
    ) {
        let now = self.clock.now();
        let mut k = 0;
        while let Some(&slot) = self.oms.open_slots(instrument, side).get(k) {
            k += 1;
            let cancellable = self.oms.order(slot).is_some_and(|o| {
                matches!(
                    o.status,
                    OrdStatus::Live | OrdStatus::PartiallyFilled | OrdStatus::PendingNew
                ) && o.parent == NO_PARENT
            });
            if cancellable {
                self.send_cancel(slot, now);
            }
        }
        let mut stop = [0u32; 8];
        let mut n = 0;
        for p in self.algos.working_on(instrument, side) {
            if n < stop.len() {
                stop[n] = p;
                n += 1;
            }
        }
        for p in &stop[..n] {
            self.algos.stop(*p);
            self.run_parent(*p, out);
        }
    }

    // ---- polling -------------------------------------------------------------------------

    /// Polls the venue and runs what is due: applies venue messages (execution reports to
    /// `out`), resends pending orders after a reconnect, algorithm steps, age cancels and the
    /// kill switch. Returns the venue messages handled.
    pub fn poll<E: Emit<ExecReport>>(&mut self, out: &mut E) -> usize {
        let now = self.clock.now();
        self.buf.clear();
        let mut link_up = false;
        let n = {
            let mut h = Inbound {
                oms: &mut self.oms,
                journal: &mut self.journal,
                buf: &mut self.buf,
                link_up: &mut link_up,
                stats: &mut self.stats,
            };
            self.venue.poll(now, &mut h)
        };
        self.link_up_pending |= link_up;
        self.route_reports(out);
        if self.link_up_pending && self.venue.status() == VenueStatus::Ready {
            self.link_up_pending = false;
            if self.cfg.resend_pending_on_reconnect {
                self.resend_pending(now);
            }
        }
        if self.kill_pending {
            self.kill_pending = !self.cancel_everything(now);
        }
        if self.algos.active() > 0 {
            let mut slots = [0u32; 64];
            let mut m = 0;
            for s in self.algos.slots() {
                if m < slots.len() {
                    slots[m] = s;
                    m += 1;
                }
            }
            for s in &slots[..m] {
                self.run_parent(*s, out);
            }
        }
        if self.cfg.order_ttl_ns > 0
            && self.event_now >= self.last_ttl_scan.saturating_add(self.cfg.order_ttl_ns / 4)
        {
            self.last_ttl_scan = self.event_now;
            self.cancel_aged(now);
        }
        n
    }

    /// Execution reports the OMS produced: child reports go to their parent (fills also up to
    /// the strategy), TCA sees every fill. Done orders are swept afterwards.
    fn route_reports<E: Emit<ExecReport>>(&mut self, out: &mut E) {
        let mut i = 0;
        while i < self.buf.len() {
            let r = self.buf[i];
            i += 1;
            let order = self
                .oms
                .slot_of(r.order)
                .and_then(|s| self.oms.order(s))
                .copied();
            let parent = self.children.get(r.order);
            if r.kind == ExecKind::Fill {
                let top = self.risk.top(r.instrument.index());
                let arrival = order.map_or(Price::ZERO, |o| o.arrival_mid);
                self.tca.on_fill(
                    r.instrument,
                    r.side,
                    shares_of(r.qty),
                    r.price,
                    top.mid().unwrap_or(r.price),
                    arrival,
                    parent.unwrap_or(NO_PARENT),
                    self.event_now,
                );
            }
            match parent {
                Some(p) => {
                    if r.leaves.is_zero()
                        && r.kind != ExecKind::Accepted
                        && r.kind != ExecKind::Broken
                    {
                        self.children.remove(r.order);
                    }
                    self.on_child_report(p, &r, out);
                }
                None => {
                    self.stats.reports += 1;
                    out.emit(r);
                }
            }
        }
        self.buf.clear();
        self.oms.sweep();
    }

    fn on_child_report<E: Emit<ExecReport>>(&mut self, parent: u32, r: &ExecReport, out: &mut E) {
        match r.kind {
            ExecKind::Fill => {
                self.algos.child_filled(parent, shares_of(r.qty));
                let mut up = *r;
                if let Some(p) = self.algos.parent(parent) {
                    up.intent_seq = p.intent_seq;
                }
                self.stats.reports += 1;
                out.emit(up);
                if r.leaves.is_zero() {
                    self.algos.child_done(parent);
                }
            }
            ExecKind::Done | ExecKind::Rejected | ExecKind::RiskRejected => {
                if r.leaves.is_zero() {
                    self.algos.child_done(parent);
                }
            }
            ExecKind::Accepted | ExecKind::Replaced | ExecKind::Broken => {
                if r.kind == ExecKind::Broken {
                    self.stats.reports += 1;
                    out.emit(*r);
                }
            }
        }
    }

    /// One step of a parent: send, cancel or finish.
    fn run_parent<E: Emit<ExecReport>>(&mut self, slot: u32, out: &mut E) {
        let now = self.clock.now();
        for _ in 0..4 {
            let Some(p) = self.algos.parent(slot).copied() else {
                return;
            };
            let top = self.risk.top(p.instrument.index());
            let Some(action) = self.algos.step(slot, self.event_now.max(p.start_ns), &top) else {
                return;
            };
            match action {
                AlgoAction::Send { shares, price, .. } => {
                    let req = NewOrder {
                        instrument: p.instrument,
                        side: p.side,
                        price: grid_price(p.side, price),
                        shares,
                        tif: tif::SYSTEM_HOURS,
                        intent_seq: p.intent_seq,
                        parent: slot,
                        arrival_mid: p.arrival_mid,
                    };
                    match self.send_new(&req, now, out) {
                        Ok(child) => {
                            self.algos
                                .child_sent(slot, child, self.event_now.max(p.start_ns));
                            self.remember_child(child, slot);
                            return;
                        }
                        Err(_) => {
                            // The checks refused the child (rate, band, ...): the parent stops
                            // and reports what did not fill.
                            self.algos.stop(slot);
                        }
                    }
                }
                AlgoAction::Cancel { child, .. } => {
                    if self.send_cancel(child, now) {
                        self.algos.cancel_sent(slot);
                    } else if self.oms.order(child).is_none_or(|o| !o.is_open()) {
                        self.algos.child_done(slot);
                        continue;
                    }
                    return;
                }
                AlgoAction::Finish { unfilled, .. } => {
                    let top = self.risk.top(p.instrument.index());
                    self.tca.end_parent(slot, top.mid().unwrap_or(Price::ZERO));
                    self.algos.finish(slot);
                    if unfilled > 0 {
                        self.stats.reports += 1;
                        out.emit(ExecReport {
                            intent_seq: p.intent_seq,
                            order: 0,
                            instrument: p.instrument,
                            side: p.side,
                            kind: ExecKind::Done,
                            reason: 0,
                            qty: qty_of(u64::from(unfilled)),
                            price: p.limit,
                            leaves: Qty::ZERO,
                            venue_time: Timestamp::ZERO,
                            at: now,
                        });
                    }
                    return;
                }
            }
        }
    }

    fn remember_child(&mut self, child_slot: u32, parent: u32) {
        if let Some(o) = self.oms.order(child_slot) {
            self.children.insert(o.id, parent);
        }
    }

    fn resend_pending(&mut self, now: Timestamp) {
        let mut pending = [0u32; 256];
        let (n, _) = self
            .oms
            .collect_open(|o| o.status == OrdStatus::PendingNew, &mut pending);
        for &slot in &pending[..n] {
            let Some(o) = self.oms.order(slot).copied() else {
                continue;
            };
            let Some(enter) = self.oms.enter_message(slot) else {
                continue;
            };
            let msg = ClientMessage::EnterOrder(enter);
            let meta = SentMeta {
                order: o.id,
                intent_seq: o.intent_seq,
                parent: o.parent,
                arrival_mid: o.arrival_mid,
            };
            self.journal.record(&Entry::Sent { at: now, meta, msg });
            if self.venue.send(&msg, now).is_ok() {
                self.stats.resent += 1;
            }
        }
    }

    fn cancel_aged(&mut self, now: Timestamp) {
        let ttl = self.cfg.order_ttl_ns;
        let mut aged = [0u32; 64];
        let (n, _) = self.oms.collect_open(
            |o| {
                o.sent_at.nanos().saturating_add(ttl) <= now.nanos()
                    && o.parent == NO_PARENT
                    && matches!(o.status, OrdStatus::Live | OrdStatus::PartiallyFilled)
            },
            &mut aged,
        );
        for s in &aged[..n] {
            if self.send_cancel(*s, now) {
                self.stats.ttl_cancels += 1;
            }
        }
    }

    /// Cancels every open order; `true` when every cancel went out.
    fn cancel_everything(&mut self, now: Timestamp) -> bool {
        let mut open = [0u32; 512];
        let (n, mut all) = self.oms.collect_open(
            |o| {
                matches!(
                    o.status,
                    OrdStatus::Live | OrdStatus::PartiallyFilled | OrdStatus::PendingNew
                )
            },
            &mut open,
        );
        for s in &open[..n] {
            all &= self.send_cancel(*s, now);
        }
        all
    }

    // ---- controls ------------------------------------------------------------------------

    /// Trips the kill switch: every open order is cancelled (retrying until every cancel has
    /// gone out) and new orders are refused until [`OrderGateway::reset_kill`].
    pub fn kill(&mut self) {
        let now = self.clock.now();
        self.risk.set_killed(true);
        self.journal.record(&Entry::Param {
            at: now,
            name: ParamName::new("kill_switch"),
            value: 1,
        });
        let mut stop = [0u32; 64];
        let mut n = 0;
        for s in self.algos.slots() {
            if n < stop.len() {
                stop[n] = s;
                n += 1;
            }
        }
        for s in &stop[..n] {
            self.algos.stop(*s);
        }
        self.kill_pending = !self.cancel_everything(now);
    }

    /// Clears the kill switch (operator action).
    pub fn reset_kill(&mut self) {
        let now = self.clock.now();
        self.risk.set_killed(false);
        self.journal.record(&Entry::Param {
            at: now,
            name: ParamName::new("kill_switch"),
            value: 0,
        });
    }

    /// Replaces the risk limits (journaled as parameter changes).
    pub fn set_limits(&mut self, limits: RiskLimits) {
        let now = self.clock.now();
        let l = limits;
        for (name, value) in [
            ("max_order_shares", i64::from(l.max_order_shares)),
            ("max_order_notional", l.max_order_notional.raw()),
            (
                "max_position",
                i64::try_from(l.max_position).unwrap_or(i64::MAX),
            ),
            ("price_band_bps", i64::from(l.price_band_bps)),
            ("max_open_orders", i64::from(l.max_open_orders)),
            ("max_open_per_side", i64::from(l.max_open_per_side)),
            ("orders_per_second", i64::from(l.orders_per_second)),
            ("burst", i64::from(l.burst)),
            ("self_trade_prevention", i64::from(l.self_trade_prevention)),
        ] {
            self.journal.record(&Entry::Param {
                at: now,
                name: ParamName::new(name),
                value,
            });
        }
        self.risk.set_limits(limits);
    }

    /// Starts a parent order directly (not from an intent).
    pub fn start_parent<E: Emit<ExecReport>>(
        &mut self,
        parent: Parent,
        out: &mut E,
    ) -> Result<u32, crate::algo::AlgoError> {
        let slot = self.algos.start(parent)?;
        self.tca.start_parent(
            slot,
            parent.instrument,
            parent.side,
            u64::from(parent.target),
            parent.arrival_mid,
        );
        self.run_parent(slot, out);
        Ok(slot)
    }

    /// Whether a parent kind needs a profile loaded (VWAP).
    pub fn needs_profile(kind: AlgoKind) -> bool {
        matches!(kind, AlgoKind::Vwap { .. })
    }
}
