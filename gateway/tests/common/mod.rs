//! A scripted venue for engine tests: records what is sent, delivers what the test queues, and
//! can answer like a venue (accept every order, confirm every cancel).
#![allow(dead_code)]

pub mod server;

use kestrel_core::clock::Clock;
use kestrel_core::{
    GatewayInput, GatewayInputKind, InstrumentId, IntentReason, MarketTop, OrderIntent, Price, Qty,
    Side, Timestamp, Urgency,
};
use kestrel_gateway::ouch::{
    Accepted, Canceled, ClientMessage, Executed, ServerMessage, Stock, Token,
};
use kestrel_gateway::soupbin::SessionId;
use kestrel_gateway::venue::{LinkEvent, Venue, VenueError, VenueHandler, VenueStatus};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A settable clock shared with the test.
#[derive(Clone, Debug, Default)]
pub struct TestClock(pub Arc<AtomicU64>);

impl TestClock {
    pub fn set(&self, ns: u64) {
        self.0.store(ns, Ordering::Relaxed);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::Relaxed))
    }
}

#[derive(Debug)]
pub struct ScriptVenue {
    pub status: VenueStatus,
    pub sent: Vec<ClientMessage>,
    pub inbox: VecDeque<ServerMessage>,
    pub next_seq: u64,
    pub links: VecDeque<LinkEvent>,
    /// Answer every Enter Order with Accepted and every cancel with Canceled.
    pub auto_ack: bool,
    pub order_ref: u64,
    pub leaves: Vec<(Token, u32)>,
    pub refuse_sends: bool,
}

impl Default for ScriptVenue {
    fn default() -> Self {
        Self {
            status: VenueStatus::Ready,
            sent: Vec::new(),
            inbox: VecDeque::new(),
            next_seq: 1,
            links: VecDeque::new(),
            auto_ack: true,
            order_ref: 1000,
            leaves: Vec::new(),
            refuse_sends: false,
        }
    }
}

impl ScriptVenue {
    pub fn push(&mut self, m: ServerMessage) {
        self.inbox.push_back(m);
    }

    /// The token of the `i`-th Enter Order sent.
    pub fn enter_token(&self, i: usize) -> Token {
        self.sent
            .iter()
            .filter_map(|m| match m {
                ClientMessage::EnterOrder(e) => Some(e.token),
                _ => None,
            })
            .nth(i)
            .expect("enter order")
    }

    pub fn enters(&self) -> usize {
        self.sent
            .iter()
            .filter(|m| matches!(m, ClientMessage::EnterOrder(_)))
            .count()
    }

    pub fn cancels(&self) -> usize {
        self.sent
            .iter()
            .filter(|m| matches!(m, ClientMessage::CancelOrder(_)))
            .count()
    }

    pub fn fill(&mut self, token: Token, shares: u32, price: &str, match_number: u64) {
        self.push(ServerMessage::Executed(Executed {
            timestamp: 1,
            token,
            executed_shares: shares,
            execution_price: kestrel_gateway::ouch::Price4::from_price(price.parse().unwrap())
                .unwrap(),
            liquidity_flag: b'A',
            match_number,
        }));
    }
}

impl Venue for ScriptVenue {
    fn send(&mut self, msg: &ClientMessage, _now: Timestamp) -> Result<(), VenueError> {
        if self.refuse_sends || self.status != VenueStatus::Ready {
            return Err(VenueError::NotReady(self.status));
        }
        self.sent.push(*msg);
        if self.auto_ack {
            match msg {
                ClientMessage::EnterOrder(e) => {
                    self.order_ref += 1;
                    self.leaves.push((e.token, e.shares));
                    self.inbox.push_back(ServerMessage::Accepted(Accepted::live(
                        e,
                        1,
                        self.order_ref,
                    )));
                }
                ClientMessage::CancelOrder(c) => {
                    if let Some(l) = self.leaves.iter_mut().find(|(t, _)| *t == c.token) {
                        let dec = l.1.saturating_sub(c.shares);
                        l.1 -= dec;
                        self.inbox.push_back(ServerMessage::Canceled(Canceled {
                            timestamp: 2,
                            token: c.token,
                            decrement_shares: dec,
                            reason: b'U',
                        }));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn poll<H: VenueHandler>(&mut self, now: Timestamp, handler: &mut H) -> usize {
        while let Some(l) = self.links.pop_front() {
            handler.on_link(l, now);
        }
        let mut n = 0;
        while let Some(m) = self.inbox.pop_front() {
            handler.on_message(self.next_seq, &m, now);
            self.next_seq += 1;
            n += 1;
        }
        n
    }

    fn status(&self) -> VenueStatus {
        self.status
    }
}

pub fn px(s: &str) -> Price {
    s.parse().unwrap()
}

pub fn top(bid: &str, ask: &str) -> MarketTop {
    MarketTop {
        bid: px(bid),
        bid_qty: Qty::from_units(100).unwrap(),
        ask: px(ask),
        ask_qty: Qty::from_units(100).unwrap(),
        ..MarketTop::default()
    }
}

pub fn market(instrument: u32, bid: &str, ask: &str, t: u64) -> GatewayInput {
    GatewayInput {
        instrument: InstrumentId(instrument),
        kind: GatewayInputKind::Market,
        trading: true,
        event_time: Timestamp(t),
        top: top(bid, ask),
        ..GatewayInput::default()
    }
}

pub fn intent(
    seq: u64,
    instrument: u32,
    side: Side,
    shares: i64,
    price: &str,
    t: u64,
) -> GatewayInput {
    let mut g = market(instrument, "99.99", "100.01", t);
    g.kind = GatewayInputKind::Intent;
    g.intent = OrderIntent {
        seq,
        instrument: InstrumentId(instrument),
        side,
        urgency: Urgency::Passive,
        reason: IntentReason::Alpha,
        price: px(price),
        qty: Qty::from_units(shares).unwrap(),
        decided_at: Timestamp(t),
    };
    g.stamps.recv = Timestamp(t.max(1));
    g
}

pub fn symbols() -> Vec<Stock> {
    vec![Stock::new("AAPL").unwrap(), Stock::new("MSFT").unwrap()]
}

pub fn session() -> SessionId {
    SessionId::new("S1").unwrap()
}
