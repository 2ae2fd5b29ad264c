//! The strategy's ML sidecar link over a real segment, on the LOBSTER AAPL sample: feature
//! vectors go out at every usable decision point, edges come back and are blended as the
//! external model, stale edges and a dead sidecar mean no edge while trading goes on, a full
//! ring drops and counts, and nothing allocates per update.

mod harmonizer_support;
mod lobster_sample;

use std::time::Duration;

use kestrel_core::shm::{
    CoreSegment, EdgeRecord, FeatureRecord, SegmentSpec, SidecarSegment, monotonic_ns,
};
use kestrel_core::{BookTop, BookUpdate, InstrumentId, LevelView, Price, Qty, Timestamp};
use kestrel_strategy::alpha::{AlphaConfig, AlphaSet, EXTERNAL, MODEL_COUNT};
use kestrel_strategy::engine::{SignalAlphaEdges, StrategyEngine};
use kestrel_strategy::harmonizer::{FillMode, Harmonizer};
use kestrel_strategy::params::StrategyParams;
use kestrel_strategy::sidecar::features::{LAST_MID_MOVE, LEVELS_START, MID_CHANGE};
use kestrel_strategy::sidecar::{
    FEATURE_COUNT, FeatureBuilder, SidecarConfig, SidecarLink, feature_schema,
};
use kestrel_strategy::signals::{SignalConfig, SignalSet};
use kestrel_test_support::thread_allocations;

/// The workspace's one counting allocator (`kestrel-test-support`): `thread_allocations()` is
/// this thread's running total.
#[global_allocator]
static ALLOC: kestrel_test_support::CountingAllocator = kestrel_test_support::CountingAllocator;

/// The sample's updates, each a decision: the link's answers are checked per decision here,
/// and the link works per update whether or not the update is a decision (the engine's
/// observe path calls it as its decide path does; one decision per packet is tested in
/// `packet_decisions.rs`).
fn sample() -> Vec<BookUpdate> {
    let mut ups = lobster_sample::aapl_updates();
    for u in &mut ups {
        u.more_in_packet = false;
    }
    ups
}

fn params() -> StrategyParams {
    let mut p = harmonizer_support::example_params();
    p.track_record.horizon_ns = 20_000_000;
    p.track_record.prior_strength = 5.0;
    p
}

fn engine() -> StrategyEngine<SignalAlphaEdges> {
    let source = SignalAlphaEdges::new(
        SignalSet::new(1, &SignalConfig::default()),
        AlphaSet::new(1, &AlphaConfig::default()),
    );
    let h = Harmonizer::new(params(), &[Qty::ONE], FillMode::SimulatedImmediateFill).unwrap();
    StrategyEngine::new(source, h).unwrap()
}

struct Rig {
    _dir: tempfile::TempDir,
    name: String,
    core: CoreSegment,
}

fn rig(ring: usize) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().join("seg").display().to_string();
    let core = CoreSegment::create(
        &name,
        &SegmentSpec {
            ring_capacity: ring,
            instruments: 1,
            schema: feature_schema().unwrap(),
        },
    )
    .unwrap();
    Rig {
        _dir: dir,
        name,
        core,
    }
}

/// The edge a toy sidecar answers to a feature: +4 bps when the top imbalance leans to the
/// bid, -4 bps otherwise.
fn answer(r: &FeatureRecord) -> EdgeRecord {
    EdgeRecord {
        edge_bps: if r.features[1] > 0.0 { 4.0 } else { -4.0 },
        confidence: 0.9,
        horizon_events: 10,
        model_id: 1,
        model_version: 1,
        feature_seq: r.feature_seq,
        event_time_ns: r.event_time_ns,
        produced_ns: monotonic_ns(),
        feature_published_ns: r.published_ns,
    }
}

#[test]
fn features_of_a_known_book() {
    let mut top = BookTop::default();
    let lv = |c: i64, q: i64| LevelView {
        price: Price::from_scaled(c, 2).unwrap(),
        qty: Qty::from_units(q).unwrap(),
    };
    top.bids[0] = lv(9_999, 300);
    top.bids[1] = lv(9_998, 100);
    top.asks[0] = lv(10_001, 100);
    top.bid_levels = 2;
    top.ask_levels = 1;
    let u = BookUpdate {
        instrument: InstrumentId(0),
        seq: 1,
        exch_ts: Timestamp(1),
        recv_ts: Timestamp(1),
        top,
        trading: true,
        ..BookUpdate::default()
    };
    let mut signals = SignalSet::new(1, &SignalConfig::default());
    let v = signals.update(&u).unwrap();
    let mut fb = FeatureBuilder::new(1);
    let mut out = [9.0f32; 64];
    assert!(fb.build(&u, &v, &mut out));
    // mid 100.00: ask +1 bp, bids -1 bp and -2 bp.
    let l = LEVELS_START;
    assert!((out[l] - 1.0).abs() < 1e-4, "{}", out[l]);
    assert_eq!(out[l + 1], 100.0);
    assert!((out[l + 2] + 1.0).abs() < 1e-4);
    assert_eq!(out[l + 3], 300.0);
    assert_eq!(out[l + 4], 0.0, "absent ask level 2");
    assert!((out[l + 6] + 2.0).abs() < 1e-4);
    assert_eq!(out[l + 7], 100.0);
    assert_eq!(out[1], 0.5, "top imbalance (300-100)/(300+100)");
    assert_eq!(out[MID_CHANGE], 0.0);
    assert!(out[FEATURE_COUNT..].iter().all(|&x| x == 0.0));
    // The mid moves up one cent: +1 bp, remembered as the last move.
    let mut u2 = u;
    u2.top.asks[0] = lv(10_003, 100);
    let v2 = signals.update(&u2).unwrap();
    assert!(fb.build(&u2, &v2, &mut out));
    assert!((out[MID_CHANGE] - 1.0).abs() < 1e-3, "{}", out[MID_CHANGE]);
    assert!((out[LAST_MID_MOVE] - 1.0).abs() < 1e-3);
    let v3 = signals.update(&u2).unwrap();
    assert!(fb.build(&u2, &v3, &mut out));
    assert_eq!(out[MID_CHANGE], 0.0);
    assert!((out[LAST_MID_MOVE] - 1.0).abs() < 1e-3, "held");
    // A halted instrument gives no features.
    let mut halted = u2;
    halted.trading = false;
    let vh = signals.update(&halted).unwrap();
    assert!(!fb.build(&halted, &vh, &mut out));
}

#[test]
fn edges_come_back_and_are_blended_as_the_external_model() {
    let ups = sample();
    let r = rig(1024);
    let side = SidecarSegment::attach(&r.name, &feature_schema().unwrap(), 1, 1).unwrap();
    let mut consumer = side.take_consumer().unwrap();
    let mut writer = side.take_edge_writer().unwrap();
    let mut e = engine();
    e.source_mut()
        .set_sidecar(SidecarLink::new(&r.core, 1, SidecarConfig::default()).unwrap());
    let mut got = Vec::new();
    let (mut used, mut intents, mut published) = (0, 0, 0u64);
    for u in &ups {
        side.heartbeat().beat();
        let d = e
            .on_update_decision(u)
            .expect("each update is its packet's last");
        intents += usize::from(d.intent.is_some());
        let ext = d.record.raw_edges_bps[EXTERNAL];
        if ext != 0.0 {
            used += 1;
            assert!(ext == 4.0 || ext == -4.0, "{ext}");
        }
        // The toy sidecar answers every feature at once.
        got.clear();
        consumer.pop_into(&mut got, 16).unwrap();
        for f in &got {
            published += 1;
            assert_eq!(f.feature_seq, published, "features in order, none lost");
            assert_eq!(f.count as usize, FEATURE_COUNT);
            assert_eq!(f.event_time_ns, u.recv_ts.nanos());
            writer.write(f.instrument as usize, &answer(f));
        }
    }
    let s = e.source().sidecar().unwrap().stats();
    eprintln!("{s:?} used={used} intents={intents}");
    assert_eq!(s.features_published, published);
    assert!(published > 900, "usable updates of the sample: {published}");
    assert_eq!(s.features_dropped, 0);
    assert_eq!(
        s.edges_received,
        published - 1,
        "every edge but the last one read"
    );
    // Each decision after the first holds the answer to the previous feature; it is stale
    // exactly when more than the age limit (50 ms) of event time separates the two updates.
    let limit = SidecarConfig::default().max_age_ns;
    let expect_stale = ups
        .windows(2)
        .filter(|w| w[1].recv_ts.nanos() - w[0].recv_ts.nanos() > limit)
        .count() as u64;
    assert_eq!(s.stale, expect_stale);
    assert_eq!(s.edges_used, ups.len() as u64 - 1 - expect_stale);
    assert_eq!(
        s.edges_used, used as u64,
        "every fresh edge reached the blend"
    );
    assert!(used > 500, "fresh edges are blended: {used}");
    assert_eq!(s.sidecar_down, 0);
    assert!(s.ic_samples > 50, "{}", s.ic_samples);
    assert!(s.live_ic.is_some());
    assert!(s.edge_delay_mean_ns.is_some());
    assert!(intents > 0);
}

#[test]
fn stale_edges_and_a_dead_sidecar_mean_no_edge_and_trading_goes_on() {
    let ups = sample();
    let r = rig(4096);
    let side = SidecarSegment::attach(&r.name, &feature_schema().unwrap(), 1, 1).unwrap();
    let mut consumer = side.take_consumer().unwrap();
    let mut writer = side.take_edge_writer().unwrap();
    let config = SidecarConfig {
        max_age_ns: 1_000_000,
        heartbeat_timeout_ns: 20_000_000,
        liveness_every: 1,
    };
    let mut e = engine();
    e.source_mut()
        .set_sidecar(SidecarLink::new(&r.core, 1, config).unwrap());
    let half = ups.len() / 2;
    let mut got = Vec::new();
    // First half: the sidecar answers each feature but stamps the answer 2 ms of event time
    // too early: every edge is stale.
    for u in &ups[..half] {
        side.heartbeat().beat();
        let d = e
            .on_update_decision(u)
            .expect("each update is its packet's last");
        assert_eq!(
            d.record.raw_edges_bps[EXTERNAL], 0.0,
            "a stale edge was used"
        );
        got.clear();
        consumer.pop_into(&mut got, 16).unwrap();
        for f in &got {
            let mut a = answer(f);
            a.event_time_ns = f.event_time_ns.saturating_sub(2_000_000);
            writer.write(0, &a);
        }
    }
    let s = e.source().sidecar().unwrap().stats();
    assert!(s.stale > 400, "{s:?}");
    assert_eq!(s.edges_used, 0);
    // Then fresh edges for a while.
    let fresh_until = half + 100;
    for u in &ups[half..fresh_until] {
        side.heartbeat().beat();
        e.on_update_decision(u)
            .expect("each update is its packet's last");
        got.clear();
        consumer.pop_into(&mut got, 16).unwrap();
        for f in &got {
            writer.write(0, &answer(f));
        }
    }
    let used_before = e.source().sidecar().unwrap().stats().edges_used;
    assert!(used_before > 50, "{used_before}");
    // The sidecar dies (no more heartbeats, no more answers): within the timeout its last edge
    // stops being used, and the engine keeps deciding and trading on the in-core alphas.
    std::thread::sleep(Duration::from_millis(40));
    let intents_before = e.stats().intents;
    for u in &ups[fresh_until..] {
        let d = e
            .on_update_decision(u)
            .expect("each update is its packet's last");
        assert_eq!(
            d.record.raw_edges_bps[EXTERNAL], 0.0,
            "an edge of a dead sidecar was used"
        );
    }
    let s = e.source().sidecar().unwrap().stats();
    assert_eq!(s.edges_used, used_before);
    assert!(s.sidecar_down > 100, "{s:?}");
    assert!(
        e.stats().intents > intents_before,
        "trading stopped with the sidecar"
    );
    assert_eq!(e.stats().updates, ups.len() as u64);
}

#[test]
fn a_full_ring_drops_and_counts_and_nothing_allocates() {
    let ups = sample();
    let r = rig(16);
    let mut e = engine();
    e.source_mut()
        .set_sidecar(SidecarLink::new(&r.core, 1, SidecarConfig::default()).unwrap());
    // No consumer at all: the ring fills after 16 features and the rest are dropped.
    let warm = 50;
    for u in &ups[..warm] {
        e.on_update(u);
    }
    let before = thread_allocations();
    for round in 0..3u64 {
        for u in &ups[warm..] {
            let mut u = *u;
            u.recv_ts = Timestamp(u.recv_ts.nanos() + round * 10_000_000_000);
            e.on_update(&u);
        }
    }
    let after = thread_allocations();
    assert_eq!(
        after - before,
        0,
        "allocations per update with the sidecar link"
    );
    let s = e.source().sidecar().unwrap().stats();
    assert_eq!(s.features_published, 16);
    assert!(s.features_dropped > 2_000, "{s:?}");
    assert_eq!(r.core.status().dropped, s.features_dropped);
    assert_eq!(e.stats().updates, (warm + 3 * (ups.len() - warm)) as u64);
    assert_eq!(MODEL_COUNT, 6);
}
