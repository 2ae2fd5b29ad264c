//! Property tests of the harmonizer: size monotone in edge, no intent ever breaks a limit
//! (position, notional, order size, order rate), halt and the kill switch only flatten, a bad
//! track record shrinks a model's edge to zero, nothing non-finite comes out, and the same
//! updates give the same intents.

mod harmonizer_support;

use harmonizer_support::{ScriptedEdges, params_with_models, random_walk, update};
use kestrel_core::fixed::notional_raw;
use kestrel_core::{BookUpdate, IntentReason, OrderIntent, Qty};
use kestrel_strategy::edge::ModelEdge;
use kestrel_strategy::engine::StrategyEngine;
use kestrel_strategy::harmonizer::risk_mode::RiskMode;
use kestrel_strategy::harmonizer::{Decision, DecisionRecord, FillMode, Harmonizer};
use kestrel_strategy::params::{Money, StrategyParams};
use proptest::prelude::*;

/// One step of a generated session.
#[derive(Clone, Debug)]
struct Step {
    instrument: u32,
    ticks: i64,
    dt_us: u64,
    edge: f64,
    confidence: f64,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0_u32..3,
        -4_i64..=4,
        0_u64..300_000,
        prop_oneof![
            8 => -40.0_f64..40.0,
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
        ],
        0.0_f64..=1.0,
    )
        .prop_map(|(instrument, ticks, dt_us, edge, confidence)| Step {
            instrument,
            ticks,
            dt_us,
            edge,
            confidence,
        })
}

/// Generated parameters: the example's with varied budgets and limits.
fn params() -> impl Strategy<Value = StrategyParams> {
    (
        1_i64..5_000,
        1_i64..800,
        1_i64..300,
        1_i64..100_000,
        1_u32..20,
        0.5_f64..50.0,
    )
        .prop_map(
            |(var_budget, max_pos, max_order, max_notional, burst, rate)| {
                let mut p = params_with_models(2);
                p.var.var_budget = Money::from_raw(var_budget * 100_000_000);
                p.limits.max_position = Qty::from_units(max_pos).unwrap();
                p.limits.max_order_qty = Qty::from_units(max_order).unwrap();
                p.limits.max_notional = Money::from_raw(max_notional * 100_000_000);
                p.limits.order_burst = burst;
                p.limits.orders_per_second = rate;
                p.blend.min_confidence = 0.0;
                p
            },
        )
}

fn harmonizer(p: StrategyParams, mode: FillMode) -> Harmonizer {
    let mut h = Harmonizer::new(p, &[Qty::ONE; 3], mode).unwrap();
    for k in 0..200 {
        let x = f64::from(k % 9) - 4.0;
        h.seed_record(0, x, x * 0.8 + 0.1);
        h.seed_record(1, x, x * 0.3);
    }
    h
}

/// Runs steps, returning each update, its edges and the decision.
fn run(h: &mut Harmonizer, steps: &[Step]) -> Vec<(BookUpdate, [ModelEdge; 2], Decision)> {
    run_with(h, steps, |_, _| Ok(())).unwrap_or_default()
}

/// [`run`], calling `check` with the harmonizer and each decision right after it is made.
fn run_with(
    h: &mut Harmonizer,
    steps: &[Step],
    mut check: impl FnMut(&Harmonizer, &Decision) -> Result<(), TestCaseError>,
) -> Result<Vec<(BookUpdate, [ModelEdge; 2], Decision)>, TestCaseError> {
    let mut mids = [10_000_i64; 3];
    let mut t = 1_000_u64;
    let mut out = Vec::with_capacity(steps.len());
    for (k, s) in steps.iter().enumerate() {
        let i = s.instrument as usize;
        mids[i] = (mids[i] + s.ticks).clamp(5_000, 20_000);
        t += s.dt_us * 1_000;
        let u = update(s.instrument, k as u64 + 1, t, mids[i] - 1, mids[i] + 1);
        let edges = [
            ModelEdge {
                edge_bps: s.edge,
                confidence: s.confidence,
            },
            ModelEdge {
                edge_bps: -s.edge * 0.5,
                confidence: 1.0 - s.confidence,
            },
        ];
        let d = h.decide(&u, &edges, k % 3);
        check(h, &d)?;
        out.push((u, edges, d));
    }
    Ok(out)
}

fn finite_record(r: &DecisionRecord) -> bool {
    let scalars = [
        r.blended_bps,
        r.blended_confidence,
        r.sigma_bps,
        r.hedge,
        r.kelly_notional,
        r.var_cap_notional,
        r.es_cap_notional,
        r.drawdown,
    ];
    scalars.iter().all(|v| v.is_finite())
        && r.raw_edges_bps.iter().all(|v| v.is_finite())
        && r.shrunk_edges_bps.iter().all(|v| v.is_finite())
        && r.shrink.iter().all(|v| v.is_finite())
}

fn signed(i: &Option<OrderIntent>) -> i64 {
    i.map_or(0, |i| i.qty.raw() * i.side.sign())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// The shrinkage weights a decision uses (refreshed only for the records scored, as they
    /// are scored) equal the weights computed afresh from every model's record after it, over
    /// sessions that score often (short horizons), with non-finite edges among them.
    #[test]
    fn the_shrink_weights_equal_the_records_afresh(
        p in params(),
        horizon_us in 1_u64..400,
        steps in prop::collection::vec(step(), 1..400),
    ) {
        let mut p = p;
        p.track_record.horizon_ns = horizon_us * 1_000;
        let mut h = harmonizer(p, FillMode::SimulatedImmediateFill);
        let tr = p.track_record;
        let mut scores = 0;
        let mut last = (0, 0.0);
        run_with(&mut h, &steps, |h, d| {
            for m in 0..p.blend.model_count {
                let stats = h.record_stats(m).unwrap();
                let afresh = stats.shrink_weight(tr.ic_weight, tr.prior_strength);
                prop_assert_eq!(d.record.shrink[m].to_bits(), afresh.to_bits(), "model {}", m);
            }
            // A record that moved (its count, or its IC once the window is full) was scored.
            let r = h.record_stats(0).unwrap();
            if (r.n, r.ic) != last {
                scores += 1;
                last = (r.n, r.ic);
            }
            Ok(())
        })?;
        prop_assert!(steps.len() < 50 || scores > 1, "nothing scored");
    }

    #[test]
    fn no_intent_breaks_a_limit(p in params(), steps in prop::collection::vec(step(), 1..400)) {
        let mut h = harmonizer(p, FillMode::SimulatedImmediateFill);
        let l = p.limits;
        let mut pos = [0_i64; 3];
        // Reference token bucket over the intents' event times.
        let mut tokens = f64::from(l.order_burst);
        let mut last_t: Option<u64> = None;
        for (_, _, d) in run(&mut h, &steps) {
            prop_assert!(finite_record(&d.record), "{:?}", d.record);
            let Some(intent) = d.intent else { continue };
            let i = intent.instrument.index();
            prop_assert!(intent.qty.raw() > 0);
            prop_assert!(intent.qty <= l.max_order_qty);
            pos[i] += intent.qty.raw() * intent.side.sign();
            prop_assert!(pos[i].abs() <= l.max_position.raw(), "{} > {:?}", pos[i], l.max_position);
            let notional = notional_raw(intent.price, Qty::from_raw(pos[i].abs()));
            prop_assert!(notional <= l.max_notional.raw16());
            let t = intent.decided_at.nanos();
            if let Some(prev) = last_t {
                tokens = (tokens + (t - prev) as f64 * l.orders_per_second * 1e-9)
                    .min(f64::from(l.order_burst));
            }
            last_t = Some(t);
            prop_assert!(tokens >= 1.0 - 1e-9, "order rate broken at {}", t);
            tokens -= 1.0;
        }
        for (i, p) in pos.iter().enumerate() {
            prop_assert_eq!(*p, h.position(kestrel_core::InstrumentId(i as u32)).raw());
        }
    }

    #[test]
    fn size_is_monotone_in_edge(
        p in params(),
        steps in prop::collection::vec(step(), 0..150),
        e1 in -50.0_f64..50.0,
        e2 in -50.0_f64..50.0,
        conf in 0.01_f64..=1.0,
        ticks in -3_i64..=3,
    ) {
        let mut h = harmonizer(p, FillMode::SimulatedImmediateFill);
        let trail = run(&mut h, &steps);
        let (lo, hi) = if e1 <= e2 { (e1, e2) } else { (e2, e1) };
        let (seq, t) = trail.last().map_or((1, 1_000_000), |(u, _, _)| (u.seq + 1, u.exch_ts.nanos() + 1_000_000));
        let u = update(0, seq, t, 10_000 + ticks - 1, 10_000 + ticks + 1);
        let decide = |e: f64| {
            let mut h = h.clone();
            h.decide(&u, &[ModelEdge::new(e, conf), ModelEdge::NONE], 0)
        };
        let (a, b) = (decide(lo), decide(hi));
        prop_assert!(a.record.blended_bps <= b.record.blended_bps);
        prop_assert!(a.record.target <= b.record.target, "{:?} > {:?}", a.record.target, b.record.target);
        prop_assert!(signed(&a.intent) <= signed(&b.intent));
    }

    #[test]
    fn halt_and_kill_switch_only_flatten(
        p in params(),
        prefix in prop::collection::vec(step(), 1..200),
        tail in prop::collection::vec(step(), 1..300),
        use_kill in any::<bool>(),
    ) {
        let mut h = harmonizer(p, FillMode::SimulatedImmediateFill);
        run(&mut h, &prefix);
        if use_kill {
            h.kill_switch().trip();
        } else {
            h.force_mode(RiskMode::Halt);
        }
        let before: Vec<i64> = (0..3).map(|i| h.position(kestrel_core::InstrumentId(i)).raw()).collect();
        let mut pos = before.clone();
        for (_, _, d) in run(&mut h, &tail) {
            if !use_kill {
                prop_assert_eq!(d.record.mode, RiskMode::Halt);
            }
            let Some(intent) = d.intent else { continue };
            prop_assert_eq!(intent.reason, IntentReason::Flatten);
            let i = intent.instrument.index();
            let after = pos[i] + intent.qty.raw() * intent.side.sign();
            prop_assert!(after.abs() < pos[i].abs() && (after == 0 || (after > 0) == (pos[i] > 0)));
            pos[i] = after;
        }
    }

    #[test]
    fn a_bad_record_shrinks_the_edge_to_zero(
        slopes in prop::collection::vec(0.01_f64..10.0, 10..200),
        good_noise in prop::collection::vec(-1.0_f64..1.0, 10..200),
        e0 in -100.0_f64..100.0,
        e1 in -100.0_f64..100.0,
    ) {
        let p = params_with_models(2);
        let mut h = Harmonizer::new(p, &[Qty::ONE], FillMode::External).unwrap();
        for (k, a) in slopes.iter().enumerate() {
            let x = if k % 2 == 0 { 1.0 + k as f64 } else { -1.0 - k as f64 };
            h.seed_record(0, x, -a * x); // always the wrong sign
        }
        for (k, n) in good_noise.iter().enumerate() {
            let x = (k % 7) as f64 - 3.0;
            h.seed_record(1, x, x + n);
        }
        let d = h.decide(&update(0, 1, 1_000, 9_999, 10_001), &[ModelEdge::new(e0, 1.0), ModelEdge::new(e1, 1.0)], 0);
        prop_assert_eq!(d.record.shrink[0], 0.0);
        prop_assert_eq!(d.record.shrunk_edges_bps[0], 0.0);
        prop_assert!(d.record.shrink[1] > 0.0 && d.record.shrink[1] < 1.0);
        prop_assert!(d.record.shrunk_edges_bps[1].abs() <= e1.abs());
        // The blend is then model 1's shrunk edge alone (model 0 is weighted but shrunk to 0).
        prop_assert!((d.record.blended_bps - d.record.shrunk_edges_bps[1] / 2.0).abs() < 1e-9);
    }
}

#[test]
fn same_updates_same_intents() {
    let run_once = || {
        let h = harmonizer(params_with_models(2), FillMode::SimulatedImmediateFill);
        let script: Vec<[ModelEdge; 8]> = (0..97)
            .map(|k| {
                let mut row = [ModelEdge::NONE; 8];
                row[0] = ModelEdge::new(f64::from(k % 11) - 5.0, 0.8);
                row[1] = ModelEdge::new(f64::from(k % 5) - 2.0, 0.5);
                row
            })
            .collect();
        let mut engine = StrategyEngine::new(ScriptedEdges::new(2, script), h).unwrap();
        let mut intents = Vec::new();
        let mut records = Vec::new();
        for u in random_walk(3, 20_000, 11) {
            let d = engine
                .on_update_decision(&u)
                .expect("each update is its packet's last");
            intents.extend(d.intent);
            records.push(d.record);
        }
        (intents, records)
    };
    let (a, ra) = run_once();
    let (b, rb) = run_once();
    assert!(a.len() > 10, "the session should trade: {}", a.len());
    assert_eq!(a, b);
    assert_eq!(ra, rb);
}
