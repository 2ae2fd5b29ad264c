//! Hand-written matching cases: priority, partial fills, IOC, replace priority rules,
//! self-match prevention policies, and the queue model against recorded flow.

use kestrel_core::{InstrumentId, OrderId, Price, Qty, Side, Timestamp};
use kestrel_sim::matching::{
    CancelReason, EngineConfig, MatchEvent, MatchingEngine, NewOrder, Owner, SmpPolicy, TimeInForce,
};

const I: InstrumentId = InstrumentId(0);
const T: Timestamp = Timestamp(1);

fn px(c: i64) -> Price {
    Price::from_scaled(c, 2).unwrap()
}
fn q(n: i64) -> Qty {
    Qty::from_units(n).unwrap()
}
fn order(id: u32, firm: u32, side: Side, c: i64, n: i64, tif: TimeInForce) -> NewOrder {
    NewOrder {
        instrument: I,
        side,
        price: px(c),
        qty: q(n),
        tif,
        owner: Owner::Participant { id, firm },
        tag: u64::from(id),
    }
}
fn engine(smp: SmpPolicy) -> MatchingEngine {
    MatchingEngine::new(EngineConfig {
        smp,
        ..EngineConfig::default()
    })
}
/// (resting ref, qty in shares, price in cents) of every execution.
fn fills(evs: &[MatchEvent]) -> Vec<(u64, i64, i64)> {
    evs.iter()
        .filter_map(|e| match e {
            MatchEvent::Executed {
                resting,
                qty,
                price,
                ..
            } => Some((
                resting.order_ref,
                qty.raw() / 100_000_000,
                price.raw() / 1_000_000,
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn price_then_time_priority_and_partial_fills() {
    let mut e = engine(SmpPolicy::CancelNewest);
    let mut ev = Vec::new();
    e.bg_add(I, OrderId(1), Side::Sell, px(10_001), q(100), T, &mut ev);
    e.bg_add(I, OrderId(2), Side::Sell, px(10_000), q(50), T, &mut ev);
    e.bg_add(I, OrderId(3), Side::Sell, px(10_000), q(50), T, &mut ev);
    ev.clear();
    // Buy 120 at 100.01: 50 from order 2, 50 from order 3 (time), 20 from order 1 (price).
    let h = e.enter(
        &order(1, 1, Side::Buy, 10_001, 120, TimeInForce::Day),
        T,
        &mut ev,
    );
    assert!(h.is_none(), "fully filled: nothing rests");
    assert_eq!(
        fills(&ev),
        vec![(2, 50, 10_000), (3, 50, 10_000), (1, 20, 10_001)]
    );
    let took: i64 = ev
        .iter()
        .filter_map(|e| match e {
            MatchEvent::Took { qty, .. } => Some(qty.raw()),
            _ => None,
        })
        .sum();
    assert_eq!(took, q(120).raw());
    assert_eq!(e.best(I, Side::Sell).map(|l| l.qty), Some(q(80)));
}

#[test]
fn ioc_rest_is_cancelled_and_day_rest_rests() {
    let mut e = engine(SmpPolicy::CancelNewest);
    let mut ev = Vec::new();
    e.bg_add(I, OrderId(1), Side::Sell, px(10_000), q(30), T, &mut ev);
    ev.clear();
    e.enter(
        &order(1, 1, Side::Buy, 10_000, 50, TimeInForce::Ioc),
        T,
        &mut ev,
    );
    assert!(ev.iter().any(|e| matches!(e, MatchEvent::Reduced { reason: CancelReason::Ioc, cancelled, on_book: false, .. } if *cancelled == q(20))));
    assert_eq!(e.best(I, Side::Buy), None);
    ev.clear();
    let h = e
        .enter(
            &order(1, 1, Side::Buy, 9_990, 50, TimeInForce::Day),
            T,
            &mut ev,
        )
        .unwrap();
    assert!(matches!(ev.last(), Some(MatchEvent::Booked { qty, .. }) if *qty == q(50)));
    assert_eq!(e.order(h), Some((px(9_990), q(50))));
}

#[test]
fn replace_keeps_priority_only_for_same_price_and_no_size_increase() {
    let mut e = engine(SmpPolicy::CancelNewest);
    let mut ev = Vec::new();
    let a = e
        .enter(
            &order(1, 1, Side::Buy, 10_000, 100, TimeInForce::Day),
            T,
            &mut ev,
        )
        .unwrap();
    e.bg_add(I, OrderId(9), Side::Buy, px(10_000), q(100), T, &mut ev);
    let front = |e: &MatchingEngine| e.level_orders(I, Side::Buy, px(10_000))[0].0;
    let a_ref = front(&e);
    // Decrease: keeps priority and reference.
    ev.clear();
    let a = match e.replace(a, 2, px(10_000), q(60), T, &mut ev) {
        kestrel_sim::matching::ReplaceOutcome::Replaced(Some(h)) => h,
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        ev[0],
        MatchEvent::Replaced {
            kept_priority: true,
            ..
        }
    ));
    assert_eq!(front(&e), a_ref);
    // Increase: loses priority (new reference, back of the queue).
    ev.clear();
    let a = match e.replace(a, 3, px(10_000), q(80), T, &mut ev) {
        kestrel_sim::matching::ReplaceOutcome::Replaced(Some(h)) => h,
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        ev[0],
        MatchEvent::Replaced {
            kept_priority: false,
            booked_whole: true,
            ..
        }
    ));
    assert_eq!(front(&e), 9);
    // Price change: loses priority; crossing price trades first.
    e.bg_add(I, OrderId(10), Side::Sell, px(10_010), q(30), T, &mut ev);
    ev.clear();
    e.replace(a, 4, px(10_010), q(80), T, &mut ev);
    assert_eq!(fills(&ev), vec![(10, 30, 10_010)]);
    assert_eq!(
        e.best(I, Side::Buy).map(|l| (l.price, l.qty)),
        Some((px(10_010), q(50)))
    );
}

#[test]
fn self_match_prevention_policies() {
    for (policy, resting_left, incoming_rests) in [
        (SmpPolicy::CancelNewest, Some(q(10)), false),
        (SmpPolicy::CancelOldest, None, true),
        (SmpPolicy::CancelBoth, None, false),
        (SmpPolicy::Off, None, false),
    ] {
        let mut e = engine(policy);
        let mut ev = Vec::new();
        let resting = e
            .enter(
                &order(1, 7, Side::Sell, 10_000, 10, TimeInForce::Day),
                T,
                &mut ev,
            )
            .unwrap();
        ev.clear();
        // Another session of the same firm buys through it.
        let incoming = e.enter(
            &order(2, 7, Side::Buy, 10_000, 10, TimeInForce::Day),
            T,
            &mut ev,
        );
        assert_eq!(e.order(resting).map(|o| o.1), resting_left, "{policy:?}");
        assert_eq!(incoming.is_some(), incoming_rests, "{policy:?}");
        let prevented = ev
            .iter()
            .any(|e| matches!(e, MatchEvent::SelfMatchPrevented { .. }));
        assert_eq!(prevented, policy != SmpPolicy::Off, "{policy:?}");
        assert_eq!(
            fills(&ev).is_empty(),
            policy != SmpPolicy::Off,
            "{policy:?}"
        );
    }
    // Different firms trade.
    let mut e = engine(SmpPolicy::CancelNewest);
    let mut ev = Vec::new();
    e.enter(
        &order(1, 1, Side::Sell, 10_000, 10, TimeInForce::Day),
        T,
        &mut ev,
    );
    ev.clear();
    e.enter(
        &order(2, 2, Side::Buy, 10_000, 10, TimeInForce::Day),
        T,
        &mut ev,
    );
    assert_eq!(fills(&ev).len(), 1);
}

#[test]
fn queue_model_fills_only_after_the_volume_ahead_trades_or_cancels() {
    let mut e = engine(SmpPolicy::CancelNewest);
    let mut ev = Vec::new();
    // 300 shares of the recorded market ahead of us at 100.00.
    e.bg_add(I, OrderId(1), Side::Buy, px(10_000), q(100), T, &mut ev);
    e.bg_add(I, OrderId(2), Side::Buy, px(10_000), q(200), T, &mut ev);
    let ours = e
        .enter(
            &order(1, 1, Side::Buy, 10_000, 50, TimeInForce::Day),
            T,
            &mut ev,
        )
        .unwrap();
    assert!(
        ev.iter()
            .any(|e| matches!(e, MatchEvent::Booked { queue_ahead, .. } if *queue_ahead == q(300)))
    );
    e.bg_add(I, OrderId(3), Side::Buy, px(10_000), q(100), T, &mut ev);
    ev.clear();
    // Order 1 trades and order 2 cancels: we are at the front, nothing of ours traded.
    e.bg_execute(OrderId(1), q(100), None, T, &mut ev);
    e.bg_delete(OrderId(2), T, &mut ev);
    assert_eq!(fills(&ev), vec![(1, 100, 10_000)]);
    assert_eq!(e.order(ours).map(|o| o.1), Some(q(50)));
    // A recorded execution of 30 against order 3 (behind us) hits us first: 30 of our 50.
    ev.clear();
    e.bg_execute(OrderId(3), q(30), None, T, &mut ev);
    let ours_ref = e.level_orders(I, Side::Buy, px(10_000))[0].0;
    assert_eq!(fills(&ev), vec![(ours_ref, 30, 10_000), (3, 30, 10_000)]);
    assert_eq!(e.order(ours).map(|o| o.1), Some(q(20)));
    // A hidden trade at 99.99 on the buy side: we are priced better, the rest of ours fills.
    ev.clear();
    e.bg_trade(I, Some(Side::Buy), px(9_999), q(500), T, &mut ev);
    assert_eq!(fills(&ev), vec![(ours_ref, 20, 10_000)]);
    assert_eq!(e.order(ours), None);
    let s = e.stats();
    assert_eq!(s.queue_model_fills, 2);
}

#[test]
fn recorded_add_crossing_our_improved_quote_trades_with_us() {
    let mut e = engine(SmpPolicy::CancelNewest);
    let mut ev = Vec::new();
    e.bg_add(I, OrderId(1), Side::Sell, px(10_005), q(100), T, &mut ev);
    e.enter(
        &order(1, 1, Side::Sell, 10_002, 40, TimeInForce::Day),
        T,
        &mut ev,
    );
    ev.clear();
    // The recorded market adds a buy at 100.03 (below its own best ask): it crosses our 100.02.
    e.bg_add(I, OrderId(2), Side::Buy, px(10_003), q(100), T, &mut ev);
    assert_eq!(fills(&ev).len(), 1);
    assert_eq!(fills(&ev)[0].1, 40);
    assert_eq!(e.best(I, Side::Buy).map(|l| l.qty), Some(q(60)));
    // Later recorded events on the background order are clamped to what it has left.
    ev.clear();
    e.bg_execute(OrderId(2), q(100), None, T, &mut ev);
    assert_eq!(fills(&ev), vec![(2, 60, 10_003)]);
    assert!(e.stats().background_clamped >= 2);
}

#[test]
fn halted_instrument_refuses_orders_and_disconnect_cancels_all() {
    let mut e = engine(SmpPolicy::CancelNewest);
    let mut ev = Vec::new();
    e.enter(
        &order(1, 1, Side::Buy, 10_000, 10, TimeInForce::Day),
        T,
        &mut ev,
    );
    e.enter(
        &order(1, 1, Side::Buy, 9_999, 10, TimeInForce::Day),
        T,
        &mut ev,
    );
    e.bg_status(I, kestrel_core::TradingStatus::Halted, T, &mut ev);
    ev.clear();
    assert!(
        e.enter(
            &order(2, 2, Side::Sell, 10_000, 10, TimeInForce::Day),
            T,
            &mut ev
        )
        .is_none()
    );
    assert!(matches!(ev[0], MatchEvent::Rejected { .. }));
    assert_eq!(e.cancel_all(1, CancelReason::Disconnect, T, &mut ev), 2);
    assert_eq!(e.resting_orders(), 0);
}
