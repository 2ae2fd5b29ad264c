//! Tick-to-trade taken apart: where the time goes between the return of the receive call that
//! brought a market-data packet and the return of the send call that carried the order.
//!
//! ```text
//! recv ─ queue ─ turn ─ book ─ booked ─ strategy ─ decided ─ hop ─ gateway in ─ gateway ─ send start ─ send ─ send end
//! ```
//!
//! - `queue`: the message waited for its turn: sequencing, and the messages before it in the
//!   same packet (inline, including the orders they caused);
//! - `book`: ITCH decode, normalisation, the L3 book, the top of book;
//! - `strategy`: signals, alphas, harmonizer;
//! - `hop`: to the gateway (inline a call; threaded the ring and the gateway thread's wake-up);
//! - `gateway`: pre-trade risk, OMS, journal ring, cancels of our orders on the other side;
//! - `send`: OUCH encode, SoupBinTCP framing and the socket `write` system call.

use kestrel_core::Timestamp;
use kestrel_core::clock::Stamps;
use kestrel_core::latency::{Histogram, new_histogram};
use serde::{Deserialize, Serialize};

use crate::session::trading::TickToTrade;

/// One histogram per part, nanoseconds; recording never allocates.
#[derive(Debug)]
pub struct T2tParts {
    queue: Histogram<u64>,
    book: Histogram<u64>,
    strategy: Histogram<u64>,
    hop: Histogram<u64>,
    gateway: Histogram<u64>,
    send: Histogram<u64>,
    total: Histogram<u64>,
}

impl Default for T2tParts {
    fn default() -> Self {
        Self {
            queue: new_histogram(),
            book: new_histogram(),
            strategy: new_histogram(),
            hop: new_histogram(),
            gateway: new_histogram(),
            send: new_histogram(),
            total: new_histogram(),
        }
    }
}

fn rec(h: &mut Histogram<u64>, from: Timestamp, to: Timestamp) {
    h.saturating_record(to.saturating_since(from).max(1));
}

impl T2tParts {
    /// One order: `stamps` of its book update (`recv`; `decoded`: the message's turn;
    /// `booked`; `published`: the strategy's decision), when the gateway took it in, and its
    /// send call's start and end.
    #[inline]
    pub fn record(&mut self, stamps: &Stamps, gateway_in: Timestamp, send: (Timestamp, Timestamp)) {
        if stamps.recv.nanos() == 0 {
            return;
        }
        rec(&mut self.queue, stamps.recv, stamps.decoded);
        rec(&mut self.book, stamps.decoded, stamps.booked);
        rec(&mut self.strategy, stamps.booked, stamps.published);
        rec(&mut self.hop, stamps.published, gateway_in);
        rec(&mut self.gateway, gateway_in, send.0);
        rec(&mut self.send, send.0, send.1);
        rec(&mut self.total, stamps.recv, send.1);
    }

    /// Percentiles of every part.
    pub fn summary(&self) -> T2tBreakdown {
        T2tBreakdown {
            queue: TickToTrade::of(&self.queue),
            book: TickToTrade::of(&self.book),
            strategy: TickToTrade::of(&self.strategy),
            hop: TickToTrade::of(&self.hop),
            gateway: TickToTrade::of(&self.gateway),
            send: TickToTrade::of(&self.send),
            total: TickToTrade::of(&self.total),
        }
    }
}

/// `tick_to_trade_parts` in `summary.json`: percentiles of each part, nanoseconds (each
/// column is its own distribution: the p99 of the parts do not add up to the p99 of the whole).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct T2tBreakdown {
    /// Waiting for the message's turn.
    pub queue: TickToTrade,
    /// Decode and book.
    pub book: TickToTrade,
    /// Strategy decision.
    pub strategy: TickToTrade,
    /// To the gateway.
    pub hop: TickToTrade,
    /// Risk, OMS, journal, opposite-side cancels.
    pub gateway: TickToTrade,
    /// Encode and the socket write.
    pub send: TickToTrade,
    /// The whole, as the parts measured it.
    pub total: TickToTrade,
}

impl T2tBreakdown {
    /// The parts by name, in path order.
    pub fn parts(&self) -> [(&'static str, &TickToTrade); 7] {
        [
            ("queue", &self.queue),
            ("book", &self.book),
            ("strategy", &self.strategy),
            ("hop", &self.hop),
            ("gateway", &self.gateway),
            ("send", &self.send),
            ("total", &self.total),
        ]
    }

    /// The printed table.
    pub fn print(&self) {
        for (name, t) in self.parts() {
            if t.count == 0 {
                continue;
            }
            println!(
                "tick_to_trade_part {name:<9} n={} p50={:.3}us p90={:.3}us p99={:.3}us p99.9={:.3}us max={:.3}us",
                t.count,
                t.p50_ns as f64 / 1e3,
                t.p90_ns as f64 / 1e3,
                t.p99_ns as f64 / 1e3,
                t.p999_ns as f64 / 1e3,
                t.max_ns as f64 / 1e3
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_follow_the_stamps() {
        let mut p = T2tParts::default();
        let stamps = Stamps {
            recv: Timestamp(1_000),
            decoded: Timestamp(1_100),
            booked: Timestamp(1_400),
            published: Timestamp(2_000),
        };
        p.record(
            &stamps,
            Timestamp(2_050),
            (Timestamp(2_550), Timestamp(9_550)),
        );
        let s = p.summary();
        let p50 = |t: &TickToTrade| t.p50_ns;
        assert_eq!(p50(&s.queue), 100);
        assert_eq!(p50(&s.book), 300);
        assert_eq!(p50(&s.strategy), 600);
        assert_eq!(p50(&s.hop), 50);
        assert_eq!(p50(&s.gateway), 500);
        assert!((6_990..=7_010).contains(&p50(&s.send)));
        assert!((8_540..=8_560).contains(&p50(&s.total)));
        // A replayed update without a receive stamp is not an order off the wire.
        p.record(
            &Stamps::default(),
            Timestamp(1),
            (Timestamp(2), Timestamp(3)),
        );
        assert_eq!(p.summary().total.count, 1);
    }
}
