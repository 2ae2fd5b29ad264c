//! A full report ring: the gateway stage never drops an execution report. What does not fit
//! the ring waits in order in the overflow queue (counted as backpressure) and goes out as the
//! strategy drains; the input ring in threaded mode makes its producer wait (counted), and
//! every input reaches the gateway.

mod common;

use common::*;
use kestrel_core::pipeline::{Emit, Received, WaitStrategy};
use kestrel_core::{ExecKind, ExecReport, GatewayInput, Side};
use kestrel_gateway::engine::{GatewayConfig, OrderGateway};
use kestrel_gateway::journal::NullJournal;
use kestrel_gateway::oms::OmsConfig;
use kestrel_gateway::risk::RiskLimits;
use kestrel_gateway::stage::{GatewayStage, GatewayThreadError, exec_ring, spawn_gateway_thread};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

fn config() -> GatewayConfig {
    GatewayConfig {
        oms: OmsConfig {
            symbols: symbols(),
            ..OmsConfig::default()
        },
        limits: RiskLimits {
            max_open_orders: 10_000,
            max_open_per_side: 10_000,
            max_position: 10_000_000,
            orders_per_second: 1_000_000,
            burst: 1_000_000,
            ..RiskLimits::default()
        },
        cancel_opposite: false,
        ..GatewayConfig::default()
    }
}

#[test]
fn a_full_report_ring_overflows_in_order_and_drops_nothing() {
    let (tx, mut rx) = exec_ring(4).unwrap();
    let g = OrderGateway::fresh(
        config(),
        ScriptVenue::default(),
        NullJournal,
        TestClock::default(),
    )
    .unwrap();
    let mut stage = GatewayStage::new(g, Some(tx)).poll_every(1);
    // 200 orders, each accepted at once: 200 Accepted reports into a ring of 4 nobody drains.
    for i in 0..200u64 {
        stage.emit(intent(i + 1, 0, Side::Buy, 1, "99.90", i));
    }
    let s = stage.sink_stats();
    assert!(s.overflowed >= 190, "{s:?}");
    assert!(s.overflow_high_water >= 190);
    let mut got: Vec<ExecReport> = Vec::new();
    loop {
        match rx.poll_batch(|r, _| got.push(*r)) {
            Received::Batch(_) => {}
            _ => {
                stage.poll();
                if rx.poll_batch(|r, _| got.push(*r)) == Received::Empty
                    && stage.sink_stats().published >= 200
                {
                    break;
                }
            }
        }
    }
    assert_eq!(got.len(), 200, "every report arrives");
    assert!(got.iter().all(|r| r.kind == ExecKind::Accepted));
    let seqs: Vec<u64> = got.iter().map(|r| r.intent_seq).collect();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>(), "in order");
}

#[test]
fn a_full_input_ring_makes_the_strategy_wait_and_loses_nothing() {
    let (rtx, _rrx) = exec_ring(1 << 12).unwrap();
    let g = OrderGateway::fresh(
        config(),
        ScriptVenue::default(),
        NullJournal,
        TestClock::default(),
    )
    .unwrap();
    let stage = GatewayStage::new(g, Some(rtx));
    let stop = AtomicBool::new(false);
    let core = kestrel_core::cpu::allowed_cores().and_then(|c| c.first().copied());
    let (stage, settled) = std::thread::scope(|s| {
        // The threaded pipeline's way: the gateway thread pins itself and builds its own ring.
        let (mut tx, h) = spawn_gateway_thread(
            s,
            stage,
            64,
            WaitStrategy::SpinYield { spins: 10 },
            core,
            Duration::from_millis(100),
            &stop,
        )
        .unwrap();
        if let Some(c) = core {
            assert_eq!(
                gateway_thread_cpus().as_deref(),
                Some(c.to_string().as_str()),
                "the gateway thread runs pinned to core {c}"
            );
        }
        for i in 0..4_000u64 {
            let mut input: GatewayInput = market(0, "99.99", "100.01", i);
            if i.is_multiple_of(10) {
                input = intent(i + 1, 0, Side::Buy, 1, "99.90", i);
            }
            tx.emit(input);
        }
        assert_eq!(tx.published(), 4_000);
        assert!(tx.full_waits() > 0, "a ring of 64 fills up");
        drop(tx);
        h.join().unwrap()
    });
    let _ = settled;
    let st = stage.gateway().stats();
    assert_eq!(st.inputs, 4_000, "every input reached the gateway");
    assert_eq!(st.intents, 400);
    assert_eq!(st.orders_sent, 400);
}

/// The `Cpus_allowed_list` of this process's thread named `gateway` (Linux), while it runs.
fn gateway_thread_cpus() -> Option<String> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    for t in tasks.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if comm.trim() == "gateway" {
            let status = std::fs::read_to_string(t.path().join("status")).ok()?;
            return status
                .lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .map(|v| v.trim().to_owned());
        }
    }
    None
}

#[test]
fn the_gateway_thread_refuses_an_unusable_ring_and_says_why() {
    let g = OrderGateway::fresh(
        config(),
        ScriptVenue::default(),
        NullJournal,
        TestClock::default(),
    )
    .unwrap();
    let stage = GatewayStage::new(g, None);
    let stop = AtomicBool::new(false);
    let err = std::thread::scope(|s| {
        spawn_gateway_thread(
            s,
            stage,
            100, // not a power of two
            WaitStrategy::SpinYield { spins: 10 },
            None,
            Duration::from_millis(10),
            &stop,
        )
        .map(|_| ())
        .unwrap_err()
    });
    assert!(matches!(err, GatewayThreadError::Ring(_)), "{err}");
    assert!(err.to_string().contains("100"), "{err}");
}
