//! Hand-computed end-to-end cases through the harmonizer: Kelly-bound and VaR-bound sizes, the
//! position limit, shrinkage by track record, and the correlation adjustment.

mod harmonizer_support;

use harmonizer_support::{params_with_models, update};
use kestrel_core::{InstrumentId, IntentReason, Price, Qty, Side};
use kestrel_strategy::edge::ModelEdge;
use kestrel_strategy::harmonizer::{Binding, FillMode, Harmonizer};
use kestrel_strategy::params::{Money, StrategyParams};

/// One model, capital 1,000,000, Kelly fraction 0.1, horizon 0.5 s, variance floor
/// 400 bps^2/s -> return variance over the horizon 400 * 0.5 * 1e-8 = 2e-6 (sigma 14.142 bps),
/// wide limits.
fn base() -> StrategyParams {
    let mut p = params_with_models(1);
    p.kelly.fraction = 0.1;
    p.kelly.capital = Money::from_raw(1_000_000 * 100_000_000);
    p.track_record.horizon_ns = 500_000_000;
    p.track_record.prior_strength = 50.0;
    p.track_record.ic_weight = 0.5;
    p.volatility.variance_floor_bps2_per_s = 400.0;
    p.var.confidence = 0.99;
    p.var.var_budget = Money::from_raw(1_000_000 * 100_000_000);
    p.var.es_budget = Money::from_raw(1_000_000 * 100_000_000);
    p.limits.max_position = Qty::from_units(1_000_000).unwrap();
    p.limits.max_notional = Money::from_raw(1_000_000_000 * 100_000_000);
    p.limits.max_order_qty = Qty::from_units(1_000_000).unwrap();
    p.blend.min_confidence = 0.0;
    p
}

fn lots(n: usize) -> Vec<Qty> {
    vec![Qty::ONE; n]
}

/// 100 perfect predictions: IC 1, hit rate 1 -> q = 1, n = 100, shrink 100 / (100 + 50) = 2/3.
fn seed_perfect(h: &mut Harmonizer, m: usize) {
    for k in 0..100 {
        let x = if k % 2 == 0 { 1.0 } else { -1.0 };
        h.seed_record(m, x, x);
    }
}

#[test]
fn kelly_bound_size() {
    let mut h = Harmonizer::new(base(), &lots(1), FillMode::External).unwrap();
    seed_perfect(&mut h, 0);
    // Raw edge 0.001515 bps, shrunk by 2/3 to 0.00101 bps = 1.01e-7.
    // Kelly notional = 0.1 * 1.01e-7 * 1e6 / 2e-6 = 5,050 -> 50.5 shares at mid 100.00 -> 50.
    let d = h.decide(
        &update(0, 1, 1_000, 9_999, 10_001),
        &[ModelEdge::new(0.001515, 1.0)],
        0,
    );
    let r = d.record;
    assert!((r.shrink[0] - 2.0 / 3.0).abs() < 1e-9, "{}", r.shrink[0]);
    assert!((r.blended_bps - 0.00101).abs() < 1e-9);
    assert!((r.sigma_bps - 2e-6_f64.sqrt() * 1e4).abs() < 1e-9);
    assert!(
        (r.kelly_notional - 5_050.0).abs() < 1e-3,
        "{}",
        r.kelly_notional
    );
    assert_eq!(r.binding, Binding::Kelly);
    let intent = d.intent.expect("an intent");
    assert_eq!(intent.side, Side::Buy);
    assert_eq!(intent.qty, Qty::from_units(50).unwrap());
    // Aggressive urgency (the example's) buys at the ask.
    assert_eq!(intent.price, Price::from_scaled(10_001, 2).unwrap());
    assert_eq!(intent.reason, IntentReason::Alpha);
    assert_eq!(h.working(InstrumentId(0)), Qty::from_units(50).unwrap());
    // Same edge on the next update: already at target (working counts), nothing sent.
    let d = h.decide(
        &update(0, 2, 2_000, 9_999, 10_001),
        &[ModelEdge::new(0.001515, 1.0)],
        0,
    );
    assert!(d.intent.is_none());
    assert_eq!(d.record.binding, Binding::AtTarget);
}

#[test]
fn var_bound_size() {
    let mut p = base();
    p.var.var_budget = Money::from_raw(25 * 100_000_000);
    let mut h = Harmonizer::new(p, &lots(1), FillMode::External).unwrap();
    seed_perfect(&mut h, 0);
    // A large edge: Kelly far above the budget. VaR bound = 25 / (z_0.99 * sigma)
    // = 25 / (2.326348 * 0.00141421) = 7,598.9 -> 75.99 shares -> 75.
    let d = h.decide(
        &update(0, 1, 1_000, 9_999, 10_001),
        &[ModelEdge::new(30.0, 1.0)],
        0,
    );
    assert_eq!(d.record.binding, Binding::Var);
    assert!(
        (d.record.var_cap_notional - 7_598.9).abs() < 0.1,
        "{}",
        d.record.var_cap_notional
    );
    assert_eq!(d.intent.unwrap().qty, Qty::from_units(75).unwrap());
    // Short side is symmetric with no other exposure.
    let mut h2 = Harmonizer::new(p, &lots(1), FillMode::External).unwrap();
    seed_perfect(&mut h2, 0);
    let d = h2.decide(
        &update(0, 1, 1_000, 9_999, 10_001),
        &[ModelEdge::new(-30.0, 1.0)],
        0,
    );
    let i = d.intent.unwrap();
    assert_eq!((i.side, i.qty), (Side::Sell, Qty::from_units(75).unwrap()));
    assert_eq!(i.price, Price::from_scaled(9_999, 2).unwrap());
}

#[test]
fn position_limit_binds_under_var() {
    let mut p = base();
    p.var.var_budget = Money::from_raw(25 * 100_000_000);
    p.limits.max_position = Qty::from_units(40).unwrap();
    let mut h = Harmonizer::new(p, &lots(1), FillMode::External).unwrap();
    seed_perfect(&mut h, 0);
    let d = h.decide(
        &update(0, 1, 1_000, 9_999, 10_001),
        &[ModelEdge::new(30.0, 1.0)],
        0,
    );
    assert_eq!(d.record.binding, Binding::Position);
    assert_eq!(d.intent.unwrap().qty, Qty::from_units(40).unwrap());
}

#[test]
fn no_record_means_no_edge() {
    // The zero-edge prior: a model without a track record contributes nothing.
    let mut h = Harmonizer::new(base(), &lots(1), FillMode::External).unwrap();
    let d = h.decide(
        &update(0, 1, 1_000, 9_999, 10_001),
        &[ModelEdge::new(30.0, 1.0)],
        0,
    );
    assert_eq!(d.record.shrink[0], 0.0);
    assert_eq!(d.record.blended_bps, 0.0);
    assert!(d.intent.is_none());
}

#[test]
fn predictions_are_scored_after_the_horizon() {
    let mut h = Harmonizer::new(base(), &lots(1), FillMode::External).unwrap();
    // Predict +5 bps at t = 0 (mid 100.00); 0.6 s later the mid is 100.05 (+5 bps).
    h.decide(
        &update(0, 1, 0, 9_999, 10_001),
        &[ModelEdge::new(5.0, 1.0)],
        0,
    );
    h.decide(
        &update(0, 2, 100_000_000, 10_000, 10_002),
        &[ModelEdge::new(5.0, 1.0)],
        0,
    );
    assert_eq!(h.record_stats(0).unwrap().n, 0, "horizon not reached yet");
    h.decide(
        &update(0, 3, 600_000_000, 10_004, 10_006),
        &[ModelEdge::new(-5.0, 1.0)],
        0,
    );
    let s = h.record_stats(0).unwrap();
    assert_eq!(s.n, 1);
    assert_eq!(s.hit_rate, 1.0);
}

#[test]
fn correlated_position_reduces_the_size() {
    // Two instruments that move together; holding a long in instrument 1 lowers the long
    // target of instrument 0 (positive hedge term), and raises the short one.
    let mut p = base();
    p.volatility.variance_floor_bps2_per_s = 1e-6;
    p.volatility.ewma_lambda = 0.5;
    let target = |hold: i64, edge: f64| {
        let mut h = Harmonizer::new(p, &lots(2), FillMode::SimulatedImmediateFill).unwrap();
        seed_perfect(&mut h, 0);
        let mut seq = 0;
        let mut mid = 10_000;
        for k in 0..20 {
            mid += if k % 2 == 0 { 3 } else { -2 };
            for i in 0..2 {
                seq += 1;
                h.decide(
                    &update(i, seq, seq * 1_000_000, mid - 1, mid + 1),
                    &[ModelEdge::NONE],
                    0,
                );
            }
        }
        if hold != 0 {
            h.on_fill(
                InstrumentId(1),
                Side::Buy,
                Qty::from_units(hold).unwrap(),
                Price::from_scaled(mid, 2).unwrap(),
            );
        }
        seq += 1;
        let d = h.decide(
            &update(0, seq, seq * 1_000_000, mid - 1, mid + 1),
            &[ModelEdge::new(edge, 1.0)],
            0,
        );
        d.record
    };
    let alone = target(0, 0.3);
    let hedged = target(1_000, 0.3);
    assert_eq!(alone.hedge, 0.0);
    assert!(hedged.hedge > 0.0, "{}", hedged.hedge);
    assert!(
        hedged.target < alone.target,
        "{:?} vs {:?}",
        hedged.target,
        alone.target
    );
    let alone_short = target(0, -0.3);
    let hedged_short = target(1_000, -0.3);
    assert!(hedged_short.target < alone_short.target);
}

#[test]
fn construction_rejects_bad_shapes() {
    use kestrel_strategy::harmonizer::HarmonizerError;
    assert_eq!(
        Harmonizer::new(base(), &[], FillMode::External).unwrap_err(),
        HarmonizerError::NoInstruments
    );
    assert_eq!(
        Harmonizer::new(base(), &[Qty::ONE, Qty::ZERO], FillMode::External).unwrap_err(),
        HarmonizerError::BadLot(1)
    );
    let mut p = base();
    p.blend.model_count = 9;
    assert_eq!(
        Harmonizer::new(p, &lots(1), FillMode::External).unwrap_err(),
        HarmonizerError::ModelCount(9)
    );
}

#[test]
fn unknown_instrument_and_one_sided_book_decide_nothing() {
    let mut h = Harmonizer::new(base(), &lots(1), FillMode::External).unwrap();
    seed_perfect(&mut h, 0);
    let e = [ModelEdge::new(30.0, 1.0)];
    let d = h.decide(&update(5, 1, 1_000, 9_999, 10_001), &e, 0);
    assert_eq!(
        (d.intent, d.record.binding),
        (None, Binding::UnknownInstrument)
    );
    let mut one_sided = update(0, 2, 2_000, 9_999, 10_001);
    one_sided.top.ask_levels = 0;
    let d = h.decide(&one_sided, &e, 0);
    assert_eq!((d.intent, d.record.binding), (None, Binding::NoBook));
    let mut halted = update(0, 3, 3_000, 9_999, 10_001);
    halted.trading = false;
    let d = h.decide(&halted, &e, 0);
    assert_eq!((d.intent, d.record.binding), (None, Binding::NotTrading));
    let s = h.stats();
    assert_eq!((s.unknown_instrument, s.no_book, s.intents), (1, 1, 0));
}
