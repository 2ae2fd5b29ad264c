//! The gateway half of the trading loop: the gateway stage (pre-trade risk, OMS, journal,
//! SoupBinTCP session) with what a session adds around it: the P&L track sampled in event
//! time, the tick-to-trade breakdown, the operator's kill requests and the counters the ops
//! endpoint shows. Inline it is the strategy's sink on the same thread; threaded it runs on a
//! `gateway` thread of its own, fed by a ring ([`GatewaySide::run`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kestrel_core::clock::{Clock, TscClock};
use kestrel_core::pipeline::{Emit, Received, RingReceiver};
use kestrel_core::{GatewayInput, GatewayInputKind};
use kestrel_gateway::journal::JournalSender;
use kestrel_gateway::oms::money_f64;
use kestrel_gateway::stage::GatewayStage;
use kestrel_gateway::venue::{Venue, VenueStatus};

use super::breakdown::T2tParts;
use super::timed_venue::TimedVenue;
use crate::session::ops::{Counter, OpsShared};
use crate::session::trading::PnlTrack;

/// The gateway stage a session runs.
pub type SessionStage<V> = GatewayStage<TimedVenue<V>, JournalSender, TscClock>;

/// Requests for the gateway half, set by the feed half (which reads the operator's).
#[derive(Debug, Default)]
pub struct GatewayControl {
    /// Trip the kill switch (cancel everything, refuse new orders).
    pub kill: AtomicBool,
    /// Clear it.
    pub reset_kill: AtomicBool,
    /// Set by the gateway half once the venue ended the session.
    pub venue_ended: AtomicBool,
}

/// See the module docs.
pub struct GatewaySide<V: Venue> {
    stage: SessionStage<V>,
    clock: TscClock,
    parts: T2tParts,
    track: PnlTrack,
    ops: Arc<OpsShared>,
    control: Arc<GatewayControl>,
    last_ops: Instant,
    events: Vec<String>,
    inputs: u64,
}

impl<V: Venue> std::fmt::Debug for GatewaySide<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewaySide")
            .field("inputs", &self.inputs)
            .finish_non_exhaustive()
    }
}

/// How often the ops counters are refreshed.
const OPS_EVERY: Duration = Duration::from_millis(100);

impl<V: Venue> GatewaySide<V> {
    /// Around `stage`, sampling P&L every `pnl_interval_ns` of event time.
    pub fn new(
        stage: SessionStage<V>,
        clock: TscClock,
        pnl_interval_ns: u64,
        ops: Arc<OpsShared>,
        control: Arc<GatewayControl>,
    ) -> Self {
        Self {
            stage,
            clock,
            parts: T2tParts::default(),
            track: PnlTrack::new(pnl_interval_ns),
            ops,
            control,
            last_ops: Instant::now(),
            events: Vec::new(),
            inputs: 0,
        }
    }

    /// One input from the strategy (a book update, with an intent when there is one).
    #[inline]
    pub fn on_input(&mut self, input: &GatewayInput) {
        let taken_in = self.clock.now();
        self.inputs += 1;
        self.stage.on_input(input);
        if input.kind == GatewayInputKind::Intent
            && let Some(send) = self.stage.gateway_mut().venue_mut().take_last_order()
        {
            self.parts.record(&input.stamps, taken_in, send);
        }
        if self.track.due(input.event_time) {
            let g = self.stage.gateway();
            let (r, u, f) = g.oms().totals();
            let pos: i64 = g.oms().positions().map(|p| p.net).sum();
            self.track
                .sample(input.event_time, money_f64(r + u - f), pos);
        }
    }

    /// Polls the venue, applies the operator's requests, refreshes the ops counters.
    #[inline]
    pub fn poll(&mut self) -> usize {
        if self.control.kill.swap(false, Ordering::AcqRel) {
            self.stage.gateway_mut().kill();
            self.events
                .push(format!("kill_switch tripped after {} inputs", self.inputs));
        }
        if self.control.reset_kill.swap(false, Ordering::AcqRel) {
            self.stage.gateway_mut().reset_kill();
            self.events
                .push(format!("kill_switch reset after {} inputs", self.inputs));
        }
        let n = self.stage.poll();
        if self.stage.gateway().venue().status() == VenueStatus::Ended {
            self.control.venue_ended.store(true, Ordering::Release);
        }
        if self.last_ops.elapsed() >= OPS_EVERY {
            self.last_ops = Instant::now();
            self.publish_counters();
        }
        n
    }

    fn publish_counters(&self) {
        let g = self.stage.gateway();
        let st = g.stats();
        self.ops.set(Counter::Orders, st.orders_sent);
        self.ops
            .set(Counter::Fills, g.oms().fills().all().len() as u64);
        self.ops
            .set(Counter::RiskRejects, g.risk().stats().rejected_total());
        let (r, u, f) = g.oms().totals();
        self.ops
            .set_gauge(Counter::PnlMicros, (money_f64(r + u - f) * 1e6) as i64);
        self.ops
            .set_gauge(Counter::Position, g.oms().positions().map(|p| p.net).sum());
        self.ops.set(Counter::Killed, u64::from(g.risk().killed()));
        self.ops.set_tick_to_trade(g.tick_to_trade());
    }

    /// Keeps polling for `settle` (the venue's last messages: fills sent before End of
    /// Session).
    pub fn settle(&mut self, settle: Duration) {
        let until = Instant::now() + settle;
        while Instant::now() < until {
            if self.poll() == 0 {
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        self.publish_counters();
    }

    /// The gateway thread: inputs off `inputs`, the venue polled between them, until the ring
    /// closes (the feed half is done); then [`GatewaySide::settle`].
    pub fn run(mut self, mut inputs: RingReceiver<GatewayInput>, settle: Duration) -> Self {
        loop {
            match inputs.poll_batch(|input, _| self.on_input(input)) {
                Received::Batch(_) => {
                    // Every intent already polled the venue; market bursts poll every few.
                }
                Received::Empty => {
                    self.poll();
                }
                Received::Closed => break,
            }
        }
        self.settle(settle);
        self
    }

    /// Takes the half apart: the stage, the tick-to-trade parts, the P&L track and the
    /// operator events it applied.
    pub fn into_parts(self) -> (SessionStage<V>, T2tParts, PnlTrack, Vec<String>) {
        (self.stage, self.parts, self.track, self.events)
    }
}

impl<V: Venue> Emit<GatewayInput> for GatewaySide<V> {
    #[inline]
    fn emit(&mut self, input: GatewayInput) {
        self.on_input(&input);
    }
}
