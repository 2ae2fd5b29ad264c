//! Risk modes and hard stops through the harmonizer: drawdown moves the mode with hysteresis,
//! halt and the daily loss limit flatten, and the position and order-rate limits really bind.

mod harmonizer_support;

use harmonizer_support::{params_with_models, update};
use kestrel_core::{InstrumentId, IntentReason, Price, Qty, Side};
use kestrel_strategy::edge::ModelEdge;
use kestrel_strategy::harmonizer::risk_mode::RiskMode;
use kestrel_strategy::harmonizer::{Binding, FillMode, Harmonizer};
use kestrel_strategy::params::{Money, StrategyParams};

const NO_EDGE: [ModelEdge; 1] = [ModelEdge::NONE];

/// Example parameters (capital 1,000,000; conservative 1% / 0.5%, defensive 2% / 1.5%, halt
/// 3%), with alpha intents suppressed by a huge minimum order and no daily loss stop.
fn quiet() -> StrategyParams {
    let mut p = params_with_models(1);
    p.order.min_order_qty = Qty::from_units(1_000_000).unwrap();
    p.limits.daily_loss = Money::from_raw(1_000_000_000 * 100_000_000);
    p
}

fn long_1000_at_100() -> Harmonizer {
    let mut h = Harmonizer::new(quiet(), &[Qty::ONE], FillMode::External).unwrap();
    h.decide(&update(0, 1, 1_000, 9_999, 10_001), &NO_EDGE, 0);
    h.on_fill(
        InstrumentId(0),
        Side::Buy,
        Qty::from_units(1_000).unwrap(),
        Price::from_units(100).unwrap(),
    );
    h
}

#[test]
fn drawdown_moves_modes_with_hysteresis() {
    let mut h = long_1000_at_100();
    // (mid in cents, expected mode): 1,000 shares, so each dollar is 0.1% of capital.
    let path = [
        (10_000, RiskMode::Normal),
        (9_100, RiskMode::Normal),       // 0.9%
        (9_000, RiskMode::Conservative), // 1.0%: enter
        (9_400, RiskMode::Conservative), // 0.6%: above the 0.5% exit
        (9_510, RiskMode::Normal),       // 0.49%: exit
        (9_100, RiskMode::Normal),       // 0.9%: below the 1% enter again
        (7_900, RiskMode::Defensive),    // 2.1%: two modes at once
        (8_400, RiskMode::Defensive),    // 1.6%
        (8_600, RiskMode::Conservative), // 1.4%: below the 1.5% defensive exit
        (6_900, RiskMode::Halt),         // 3.1%
        (10_000, RiskMode::Halt),        // latched (halt_exit = 0)
    ];
    let mut flattened = false;
    for (k, (mid, mode)) in path.iter().enumerate() {
        let seq = k as u64 + 2;
        let d = h.decide(
            &update(0, seq, seq * 1_000_000_000, mid - 1, mid + 1),
            &NO_EDGE,
            0,
        );
        assert_eq!(d.record.mode, *mode, "at mid {mid}");
        if *mode == RiskMode::Halt && !flattened {
            let i = d.intent.expect("halt flattens");
            assert_eq!((i.side, i.reason), (Side::Sell, IntentReason::Flatten));
            // Capped by the order-size limit (200 in the example), aggressive at the bid.
            assert_eq!(i.qty, Qty::from_units(200).unwrap());
            assert_eq!(i.price.raw(), Price::from_scaled(mid - 1, 2).unwrap().raw());
            assert_eq!(d.record.binding, Binding::OrderSize);
            flattened = true;
        } else if *mode != RiskMode::Halt {
            assert!(d.intent.is_none(), "alpha intents are suppressed here");
        }
    }
    assert!(flattened);
    h.force_mode(RiskMode::Normal);
    assert_eq!(h.mode(), RiskMode::Normal);
}

#[test]
fn mode_scales_the_size() {
    // The same decision in normal and conservative mode: half the target.
    let mut p = params_with_models(1);
    p.limits.max_position = Qty::from_units(1_000_000).unwrap();
    p.limits.max_notional = Money::from_raw(1_000_000_000 * 100_000_000);
    p.limits.max_order_qty = Qty::from_units(1_000_000).unwrap();
    p.var.var_budget = Money::from_raw(1_000 * 100_000_000);
    // Start in each mode with exits that never trigger at zero drawdown.
    p.risk_modes.down = [0.0; 4];
    let target = |mode: RiskMode| {
        let mut p = p;
        p.risk_modes.initial = mode;
        let mut h = Harmonizer::new(p, &[Qty::ONE], FillMode::External).unwrap();
        for k in 0..100 {
            let x = if k % 2 == 0 { 1.0 } else { -1.0 };
            h.seed_record(0, x, x);
        }
        h.decide(
            &update(0, 1, 1_000, 9_999, 10_001),
            &[ModelEdge::new(50.0, 1.0)],
            0,
        )
        .record
    };
    let normal = target(RiskMode::Normal);
    let conservative = target(RiskMode::Conservative);
    let defensive = target(RiskMode::Defensive);
    assert_eq!(conservative.mode, RiskMode::Conservative);
    assert_eq!(normal.binding, Binding::Var);
    assert!(normal.target.raw() > 1_000 * 100_000_000);
    let ratio = conservative.target.raw() as f64 / normal.target.raw() as f64;
    assert!((ratio - 0.5).abs() < 0.01, "{ratio}");
    let ratio = defensive.target.raw() as f64 / normal.target.raw() as f64;
    assert!((ratio - 0.25).abs() < 0.01, "{ratio}");
}

#[test]
fn daily_loss_latches_flatten_only_until_a_new_day() {
    let mut p = quiet();
    p.limits.daily_loss = Money::from_raw(5_000 * 100_000_000);
    let mut h = Harmonizer::new(p, &[Qty::ONE], FillMode::SimulatedImmediateFill).unwrap();
    h.decide(&update(0, 1, 1_000, 9_999, 10_001), &NO_EDGE, 0);
    h.on_fill(
        InstrumentId(0),
        Side::Buy,
        Qty::from_units(1_000).unwrap(),
        Price::from_units(100).unwrap(),
    );
    // -4,000: fine.
    let d = h.decide(&update(0, 2, 2_000_000_000, 9_599, 9_601), &NO_EDGE, 0);
    assert!(d.intent.is_none() && !h.daily_loss_latched());
    // -5,000: latched; flatten at 200 per order while tokens last.
    let mut seq = 3;
    let mut sold = 0;
    for _ in 0..20 {
        seq += 1;
        let d = h.decide(
            &update(0, seq, seq * 1_000_000_000, 9_499, 9_501),
            &NO_EDGE,
            0,
        );
        assert!(h.daily_loss_latched());
        if let Some(i) = d.intent {
            assert_eq!(i.reason, IntentReason::Flatten);
            assert!(matches!(
                d.record.binding,
                Binding::OrderSize | Binding::DailyLoss
            ));
            sold += i.qty.raw();
        }
    }
    assert_eq!(sold, Qty::from_units(1_000).unwrap().raw());
    assert_eq!(h.position(InstrumentId(0)), Qty::ZERO);
    h.start_day();
    assert!(!h.daily_loss_latched());
}

#[test]
fn position_and_rate_limits_bind() {
    let mut p = params_with_models(1);
    p.var.var_budget = Money::from_raw(1_000_000 * 100_000_000);
    p.var.es_budget = Money::from_raw(1_000_000 * 100_000_000);
    p.limits.order_burst = 3;
    p.limits.orders_per_second = 1.0;
    let mut h = Harmonizer::new(p, &[Qty::ONE], FillMode::SimulatedImmediateFill).unwrap();
    for k in 0..100 {
        let x = if k % 2 == 0 { 1.0 } else { -1.0 };
        h.seed_record(0, x, x);
    }
    let e = [ModelEdge::new(20.0, 1.0)];
    // Same timestamp: three orders of 200 (order-size limit) then the bucket is empty.
    let mut bindings = Vec::new();
    for seq in 1..=5 {
        let d = h.decide(&update(0, seq, 1_000, 9_999, 10_001), &e, 0);
        bindings.push((d.intent.map(|i| i.qty), d.record.binding));
    }
    let q200 = Some(Qty::from_units(200).unwrap());
    assert_eq!(bindings[0], (q200, Binding::OrderSize));
    assert_eq!(bindings[1], (q200, Binding::OrderSize));
    // The third order stops at the 500 position limit.
    assert_eq!(
        bindings[2],
        (Some(Qty::from_units(100).unwrap()), Binding::Position)
    );
    assert_eq!(bindings[3].1, Binding::AtTarget);
    assert_eq!(h.position(InstrumentId(0)), Qty::from_units(500).unwrap());
    // Flip the edge: the bucket is empty at the same instant, refills one per second.
    let short = [ModelEdge::new(-20.0, 1.0)];
    let d = h.decide(&update(0, 6, 1_000, 9_999, 10_001), &short, 0);
    assert_eq!((d.intent, d.record.binding), (None, Binding::OrderRate));
    let d = h.decide(&update(0, 7, 1_000_001_000, 9_999, 10_001), &short, 0);
    let i = d.intent.expect("a token after one second");
    assert_eq!((i.side, i.qty), (Side::Sell, Qty::from_units(200).unwrap()));
    assert_eq!(h.stats().rate_limited, 1);
}
