//! The whole strategy step (signals -> alpha models -> harmonizer) on the real LOBSTER AAPL
//! sample: no allocation per update (counting global allocator), a parameter reload in the
//! middle included; the same updates give the same intents; nothing non-finite comes out.

mod harmonizer_support;
mod lobster_sample;

use kestrel_core::{BookUpdate, InstrumentId, OrderIntent, Qty, Timestamp};
use kestrel_strategy::alpha::{AlphaConfig, AlphaSet, MODEL_COUNT, PairConfig};
use kestrel_strategy::engine::{SignalAlphaEdges, StrategyEngine};
use kestrel_strategy::harmonizer::{FillMode, Harmonizer};
use kestrel_strategy::params::{StrategyParams, params_handoff};
use kestrel_strategy::signals::{SignalConfig, SignalSet};
use kestrel_test_support::thread_allocations;

/// The workspace's one counting allocator (`kestrel-test-support`): `thread_allocations()` is
/// this thread's running total.
#[global_allocator]
static ALLOC: kestrel_test_support::CountingAllocator = kestrel_test_support::CountingAllocator;

/// The LOBSTER sample for instruments 0 and 1 (the same book, so the pairs model runs),
/// replayed `rounds` times with event times shifted so they keep increasing.
fn session(rounds: u64) -> Vec<BookUpdate> {
    let ups = lobster_sample::aapl_updates();
    let first = ups.first().unwrap().exch_ts.nanos();
    let span = ups.last().unwrap().exch_ts.nanos() - first + 1_000_000;
    let mut out = Vec::new();
    let mut seq = 0;
    for r in 0..rounds {
        for u in &ups {
            for inst in [0_u32, 1] {
                seq += 1;
                let mut u = *u;
                u.instrument = InstrumentId(inst);
                u.seq = seq;
                u.exch_ts = Timestamp(u.exch_ts.nanos() + r * span);
                u.recv_ts = u.exch_ts;
                out.push(u);
            }
        }
    }
    out
}

fn params() -> StrategyParams {
    let mut p = harmonizer_support::example_params();
    // The sample is a few seconds of AAPL: a short horizon and a light prior let the models
    // earn weight within it.
    p.track_record.horizon_ns = 20_000_000;
    p.track_record.prior_strength = 5.0;
    p
}

fn engine(mode: FillMode) -> StrategyEngine<SignalAlphaEdges> {
    let alpha_cfg = AlphaConfig {
        pairs: vec![PairConfig {
            leg_a: InstrumentId(0),
            leg_b: InstrumentId(1),
            halflife: 50.0,
            horizon: 10.0,
            z_full: 2.0,
            confidence: 0.5,
            warmup: 20,
        }],
        ..AlphaConfig::default()
    };
    let source = SignalAlphaEdges::new(
        SignalSet::new(2, &SignalConfig::default()),
        AlphaSet::new(2, &alpha_cfg),
    );
    let h = Harmonizer::new(params(), &[Qty::ONE; 2], mode).unwrap();
    StrategyEngine::new(source, h).unwrap()
}

#[test]
fn whole_step_allocates_nothing_per_update() {
    let updates = session(20);
    // The counter sees this thread's allocations.
    let probe = thread_allocations();
    let v: Vec<u8> = Vec::with_capacity(8);
    assert_eq!(thread_allocations(), probe + 1);
    drop(v);
    for mode in [FillMode::External, FillMode::SimulatedImmediateFill] {
        let (mut publisher, receiver) = params_handoff(0);
        let mut e = engine(mode).with_params(receiver);
        let mut reloaded = params();
        reloaded.kelly.fraction = 0.05;
        let half = updates.len() / 2;
        let mut intents = 0_u64;
        let before = thread_allocations();
        for u in &updates[..half] {
            intents += u64::from(e.on_update(u).is_some());
        }
        let mid = thread_allocations();
        publisher.publish(reloaded); // the ops side's call, not counted
        let resumed = thread_allocations();
        for u in &updates[half..] {
            intents += u64::from(e.on_update(u).is_some());
        }
        let after = thread_allocations();
        assert_eq!(mid - before + after - resumed, 0, "allocations in {mode:?}");
        assert_eq!(e.stats().params_applied, 1);
        assert_eq!(e.stats().updates, updates.len() as u64);
        assert!(intents > 0, "{mode:?}: the session should trade");
    }
}

#[test]
fn same_session_same_intents_and_all_finite() {
    let updates = session(5);
    let run = || {
        let mut e = engine(FillMode::SimulatedImmediateFill);
        let mut intents: Vec<OrderIntent> = Vec::new();
        for u in &updates {
            // The feed publishes per packet: an update followed in its packet is observed.
            let Some(d) = e.on_update_decision(u) else {
                assert!(u.more_in_packet);
                continue;
            };
            let r = d.record;
            assert!(r.blended_bps.is_finite() && r.kelly_notional.is_finite());
            assert!(r.raw_edges_bps[..MODEL_COUNT].iter().all(|x| x.is_finite()));
            intents.extend(d.intent);
        }
        (intents, e.harmonizer_stats())
    };
    let (a, sa) = run();
    let (b, sb) = run();
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    assert_eq!(sa.limit_guard, 0);
}
