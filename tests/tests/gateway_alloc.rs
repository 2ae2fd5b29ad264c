//! The gateway thread allocates nothing after warm-up: intents through pre-trade risk, the
//! OMS, the journal ring, the OUCH encoder and the SoupBinTCP session onto a loopback socket,
//! venue answers decoded back into the OMS and execution reports onto their ring, market
//! updates in between, all counted by a per-thread counting allocator (other threads, the
//! venue and the journal writer, are not ours to count).
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use kestrel_bench::order_venue::{Answer, BenchVenue};
use kestrel_core::clock::TscClock;
use kestrel_core::pipeline::Received;
use kestrel_core::{
    ExecReport, GatewayInput, GatewayInputKind, InstrumentId, IntentReason, MarketTop, OrderIntent,
    Price, Qty, Side, Timestamp, Urgency,
};
use kestrel_gateway::engine::{GatewayConfig, OrderGateway};
use kestrel_gateway::journal::{self, JournalConfig};
use kestrel_gateway::oms::OmsConfig;
use kestrel_gateway::ouch::Stock;
use kestrel_gateway::session::{Credentials, SessionConfig, SoupClient};
use kestrel_gateway::stage::{GatewayStage, exec_ring};
use kestrel_gateway::venue::{Venue, VenueStatus};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn px(cents: i64) -> Price {
    Price::from_raw(cents * 1_000_000)
}

fn input(i: u64) -> GatewayInput {
    let top = MarketTop {
        bid: px(9_999),
        bid_qty: Qty::from_raw(100 * 100_000_000),
        ask: px(10_001),
        ask_qty: Qty::from_raw(100 * 100_000_000),
        trade_price: px(10_000),
        trade_qty: Qty::from_raw(10 * 100_000_000),
    };
    let mut g = GatewayInput {
        instrument: InstrumentId(0),
        kind: GatewayInputKind::Market,
        trading: true,
        event_time: Timestamp(1_000 + i),
        top,
        ..GatewayInput::default()
    };
    g.stamps.recv = Timestamp(1 + i);
    if i.is_multiple_of(3) {
        g.kind = GatewayInputKind::Intent;
        let side = if i.is_multiple_of(2) {
            Side::Buy
        } else {
            Side::Sell
        };
        g.intent = OrderIntent {
            seq: i + 1,
            instrument: InstrumentId(0),
            side,
            urgency: Urgency::Passive,
            reason: IntentReason::Alpha,
            price: if side == Side::Buy {
                px(9_999)
            } else {
                px(10_001)
            },
            qty: Qty::from_raw(100 * 100_000_000),
            decided_at: Timestamp(1_000 + i),
        };
    }
    g
}

#[test]
fn the_gateway_thread_allocates_nothing_after_warm_up() {
    let venue = BenchVenue::start(Answer::Dead, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (tx, writer) = journal::spawn(&JournalConfig::new(dir.path().join("a.journal"))).unwrap();
    let cfg = GatewayConfig {
        oms: OmsConfig {
            symbols: vec![Stock::new("AAPL").unwrap()],
            ..OmsConfig::default()
        },
        limits: kestrel_gateway::risk::RiskLimits {
            orders_per_second: 1_000_000,
            burst: 1_000_000,
            ..Default::default()
        },
        ..GatewayConfig::default()
    };
    let client = SoupClient::new(SessionConfig::new(
        venue.addr,
        Credentials::new("T", "p").unwrap(),
    ));
    let g = OrderGateway::fresh(cfg, client, tx, TscClock::new()).unwrap();
    let (rtx, mut rrx) = exec_ring(1 << 12).unwrap();
    let mut stage = GatewayStage::new(g, Some(rtx)).poll_every(1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while stage.gateway().venue().status() != VenueStatus::Ready {
        stage.poll();
        assert!(Instant::now() < deadline, "login");
    }
    let mut reports = 0u64;
    let mut drain = |rx: &mut kestrel_core::pipeline::RingReceiver<ExecReport>| {
        while let Received::Batch(_) = rx.poll_batch(|_, _| reports += 1) {}
    };
    let mut run = |stage: &mut GatewayStage<_, _, _>, from: u64, to: u64| {
        for i in from..to {
            stage.on_input(&input(i));
            // Let the venue answer before the next order (bounded).
            let t = Instant::now();
            while stage.gateway().oms().open_count() > 0 && t.elapsed() < Duration::from_secs(5) {
                stage.poll();
            }
            drain(&mut rrx);
        }
    };
    run(&mut stage, 0, 3_000);
    let sent_before = stage.gateway().stats().orders_sent;
    let before = allocations();
    run(&mut stage, 3_000, 9_000);
    let allocated = allocations() - before;
    let sent = stage.gateway().stats().orders_sent - sent_before;
    assert!(
        sent >= 1_900,
        "orders sent in the measured part: {sent} ({:?})",
        stage.gateway().risk().stats()
    );
    assert_eq!(
        allocated, 0,
        "allocations on the gateway thread over {sent} orders"
    );
    assert!(stage.gateway().tick_to_trade().len() >= 2_900);
    let mut g = stage.into_gateway();
    struct Q;
    impl kestrel_gateway::venue::VenueHandler for Q {
        fn on_message(&mut self, _: u64, _: &kestrel_gateway::ouch::ServerMessage, _: Timestamp) {}
    }
    g.venue_mut().logout(Timestamp(0), &mut Q);
    let (_, _, tx) = g.into_parts();
    drop(tx);
    writer.join().unwrap();
    venue.join();
}
