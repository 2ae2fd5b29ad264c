//! The engine end to end over a scripted venue: the order state machine driven by venue
//! messages, execution reports, positions and P&L, every pre-trade check, the kill switch,
//! replaces, broken trades, unknown tokens, duplicates, algorithms.

mod common;

use common::*;
use kestrel_core::{ExecKind, ExecReport, InstrumentId, Price, Qty, Side};
use kestrel_gateway::algo::{AlgoKind, Parent};
use kestrel_gateway::engine::{GatewayConfig, InputOutcome, IntentAlgo, OrderGateway};
use kestrel_gateway::journal::{Entry, NullJournal};
use kestrel_gateway::oms::{OmsConfig, OrdStatus};
use kestrel_gateway::ouch::{
    BrokenTrade, ClientMessage, Executed, Price4, Rejected, Replaced, ServerMessage, Token,
};
use kestrel_gateway::risk::{RiskCheck, RiskLimits};

type Gw = OrderGateway<ScriptVenue, Vec<Entry>, TestClock>;

fn config() -> GatewayConfig {
    GatewayConfig {
        oms: OmsConfig {
            symbols: symbols(),
            ..OmsConfig::default()
        },
        ..GatewayConfig::default()
    }
}

fn gateway(cfg: GatewayConfig) -> (Gw, TestClock) {
    let clock = TestClock::default();
    clock.set(1_000);
    let g = OrderGateway::fresh(cfg, ScriptVenue::default(), Vec::new(), clock.clone()).unwrap();
    (g, clock)
}

fn shares(q: Qty) -> i64 {
    q.raw() / 100_000_000
}

#[test]
fn order_lifecycle_from_intent_to_fills() {
    let (mut g, _) = gateway(config());
    let mut reports: Vec<ExecReport> = Vec::new();
    g.on_input(&market(0, "99.99", "100.01", 10), &mut reports);
    let out = g.on_input(&intent(1, 0, Side::Buy, 300, "100.00", 20), &mut reports);
    let InputOutcome::Sent { slot } = out else {
        panic!("{out:?}");
    };
    let ClientMessage::EnterOrder(e) = g.venue().sent[0] else {
        panic!("not an enter order");
    };
    assert_eq!(e.shares, 300);
    assert_eq!(e.price, Price4(1_000_000));
    assert_eq!(g.oms().order(slot).unwrap().status, OrdStatus::PendingNew);
    g.poll(&mut reports);
    assert_eq!(g.oms().order(slot).unwrap().status, OrdStatus::Live);
    assert_eq!(reports.last().unwrap().kind, ExecKind::Accepted);

    let token = g.venue().enter_token(0);
    g.venue_mut().fill(token, 100, "100.00", 1);
    g.poll(&mut reports);
    assert_eq!(
        g.oms().order(slot).unwrap().status,
        OrdStatus::PartiallyFilled
    );
    assert_eq!(g.oms().working(InstrumentId(0), Side::Buy), 200);
    g.venue_mut().fill(token, 200, "99.99", 2);
    g.poll(&mut reports);
    assert!(g.oms().order(slot).is_none(), "filled orders are swept");
    let fills: Vec<_> = reports
        .iter()
        .filter(|r| r.kind == ExecKind::Fill)
        .collect();
    assert_eq!(fills.len(), 2);
    assert_eq!(shares(fills[1].qty), 200);
    assert!(fills[1].leaves.is_zero());
    assert_eq!(fills[0].intent_seq, 1);
    let v = g.oms().position_view(InstrumentId(0));
    assert_eq!(v.net, 300);
    // Average cost (100 * 100 + 200 * 99.99) / 300 = 99.99333333.
    assert_eq!(v.avg_cost, Price::from_raw(9_999_333_333));
    assert_eq!(g.oms().working(InstrumentId(0), Side::Buy), 0);
    assert!(g.tick_to_trade().len() == 1);
}

#[test]
fn opposite_intent_cancels_resting_orders_and_releases_working() {
    let (mut g, _) = gateway(config());
    let mut reports = Vec::new();
    g.on_input(&intent(1, 0, Side::Buy, 100, "99.99", 10), &mut reports);
    g.poll(&mut reports);
    let out = g.on_input(&intent(2, 0, Side::Sell, 100, "100.01", 20), &mut reports);
    // The buy is pending cancel (not confirmed yet): self-trade prevention only refuses a
    // crossing price; 100.01 does not cross 99.99.
    assert!(matches!(out, InputOutcome::Sent { .. }), "{out:?}");
    assert_eq!(g.venue().cancels(), 1);
    g.poll(&mut reports);
    let done: Vec<_> = reports
        .iter()
        .filter(|r| r.kind == ExecKind::Done)
        .collect();
    assert_eq!(done.len(), 1);
    assert_eq!(shares(done[0].qty), 100);
    assert_eq!(done[0].side, Side::Buy);
    assert_eq!(g.oms().working(InstrumentId(0), Side::Buy), 0);
    assert_eq!(g.oms().open_count(), 1);
}

#[test]
fn every_pre_trade_check_names_itself_and_its_values() {
    let limits = RiskLimits {
        max_order_shares: 1_000,
        max_order_notional: Price::from_units(50_000).unwrap(),
        max_position: 1_500,
        price_band_bps: 100,
        max_open_orders: 3,
        max_open_per_side: 2,
        orders_per_second: 1,
        burst: 100,
        self_trade_prevention: true,
    };
    let mut cfg = config();
    cfg.limits = limits;
    cfg.cancel_opposite = false;
    let (mut g, clock) = gateway(cfg);
    let mut r = Vec::new();
    let reject = |out: InputOutcome| match out {
        InputOutcome::Rejected(x) => x,
        other => panic!("expected a rejection, got {other:?}"),
    };

    // No book yet for instrument 1: the intent's own market is one-sided.
    let mut no_book = intent(1, 1, Side::Buy, 10, "100", 1);
    no_book.top.ask = Price::ZERO;
    assert_eq!(
        reject(g.on_input(&no_book, &mut r)).check,
        RiskCheck::NoReference
    );

    let x = reject(g.on_input(&intent(2, 0, Side::Buy, 2_000, "100", 1), &mut r));
    assert_eq!(
        (x.check, x.value, x.limit),
        (RiskCheck::MaxOrderQty, 2_000, 1_000)
    );
    assert!(
        x.to_string()
            .contains("2000 shares exceeds the limit of 1000")
    );

    let x = reject(g.on_input(&intent(3, 0, Side::Buy, 600, "100", 1), &mut r));
    assert_eq!(x.check, RiskCheck::MaxNotional);
    assert!(
        x.to_string()
            .contains("notional 60000 exceeds the limit of 50000"),
        "{x}"
    );

    let x = reject(g.on_input(&intent(4, 0, Side::Buy, 10, "102", 1), &mut r));
    assert_eq!(x.check, RiskCheck::PriceBand);
    assert!(x.to_string().contains("200 bps from the mid 100"), "{x}");

    // Two orders of 400 working, position 0: a third of 400 would make a worst case of 1200 <
    // 1500 but the per-side count (2) stops it; then position limit with a bigger one.
    assert!(matches!(
        g.on_input(&intent(5, 0, Side::Buy, 400, "99.99", 1), &mut r),
        InputOutcome::Sent { .. }
    ));
    assert!(matches!(
        g.on_input(&intent(6, 0, Side::Buy, 400, "99.98", 1), &mut r),
        InputOutcome::Sent { .. }
    ));
    let x = reject(g.on_input(&intent(7, 0, Side::Buy, 400, "99.97", 1), &mut r));
    assert_eq!(
        (x.check, x.value, x.limit),
        (RiskCheck::OpenOrdersSide, 2, 2)
    );
    g.on_input(&intent(8, 0, Side::Sell, 10, "100.01", 1), &mut r);
    let x = reject(g.on_input(&intent(9, 1, Side::Sell, 10, "100.02", 1), &mut r));
    assert_eq!((x.check, x.value, x.limit), (RiskCheck::OpenOrders, 3, 3));

    // Self-trade: a sell at or below our resting buy at 99.99.
    let mut cfg = config();
    cfg.cancel_opposite = false;
    let (mut g2, _) = gateway(cfg);
    g2.on_input(&intent(1, 0, Side::Buy, 10, "99.99", 1), &mut r);
    let x = reject(g2.on_input(&intent(2, 0, Side::Sell, 10, "99.99", 1), &mut r));
    assert_eq!(x.check, RiskCheck::SelfTrade);
    assert!(
        x.to_string().contains("against our resting order at 99.99"),
        "{x}"
    );

    // Position limit after the worst case: 1,000 working + 600 > 1,500.
    let mut cfg = config();
    cfg.limits = RiskLimits {
        max_position: 1_500,
        ..limits
    };
    cfg.limits.max_open_per_side = 10;
    cfg.limits.max_open_orders = 10;
    cfg.limits.max_order_notional = Price::from_units(1_000_000).unwrap();
    let (mut g3, _) = gateway(cfg);
    g3.on_input(&intent(1, 0, Side::Buy, 1_000, "99.99", 1), &mut r);
    let x = reject(g3.on_input(&intent(2, 0, Side::Buy, 600, "99.99", 1), &mut r));
    assert_eq!(
        (x.check, x.value, x.limit),
        (RiskCheck::PositionLimit, 1_600, 1_500)
    );

    // Rate: burst 2 at 1/s.
    let mut cfg = config();
    cfg.limits.burst = 2;
    cfg.limits.orders_per_second = 1;
    cfg.cancel_opposite = false;
    let (mut g4, c4) = gateway(cfg);
    assert!(matches!(
        g4.on_input(&intent(1, 0, Side::Buy, 1, "99.90", 1), &mut r),
        InputOutcome::Sent { .. }
    ));
    assert!(matches!(
        g4.on_input(&intent(2, 0, Side::Buy, 1, "99.90", 1), &mut r),
        InputOutcome::Sent { .. }
    ));
    assert_eq!(
        reject(g4.on_input(&intent(3, 0, Side::Buy, 1, "99.90", 1), &mut r)).check,
        RiskCheck::RateLimit
    );
    c4.set(1_000 + 1_000_000_000);
    assert!(matches!(
        g4.on_input(&intent(4, 0, Side::Buy, 1, "99.90", 1), &mut r),
        InputOutcome::Sent { .. }
    ));

    // Halted instrument.
    let mut halted = intent(9, 0, Side::Buy, 1, "99.90", 1);
    halted.trading = false;
    assert_eq!(reject(g.on_input(&halted, &mut r)).check, RiskCheck::Halted);

    // Venue down.
    g2.venue_mut().status = kestrel_gateway::venue::VenueStatus::Connecting;
    assert_eq!(
        reject(g2.on_input(&intent(3, 1, Side::Buy, 1, "99.90", 1), &mut r)).check,
        RiskCheck::VenueDown
    );

    // Every refusal went back to the strategy as a risk rejection with the intent's quantity.
    let rr: Vec<_> = r
        .iter()
        .filter(|x| x.kind == ExecKind::RiskRejected)
        .collect();
    assert!(rr.len() >= 10);
    assert!(rr.iter().all(|x| x.qty.is_positive()));
    assert_eq!(
        g.risk().stats().rejected[RiskCheck::MaxOrderQty as usize],
        1
    );
    let _ = clock;
}

#[test]
fn kill_switch_cancels_everything_and_blocks_new_orders() {
    let mut cfg = config();
    cfg.cancel_opposite = false;
    let (mut g, _) = gateway(cfg);
    let mut r = Vec::new();
    g.on_input(&intent(1, 0, Side::Buy, 10, "99.99", 1), &mut r);
    g.on_input(&intent(2, 1, Side::Sell, 10, "100.01", 1), &mut r);
    g.poll(&mut r);
    g.kill();
    assert_eq!(g.venue().cancels(), 2);
    g.poll(&mut r);
    assert_eq!(g.oms().open_count(), 0);
    let out = g.on_input(&intent(3, 0, Side::Buy, 10, "99.99", 1), &mut r);
    assert!(matches!(out, InputOutcome::Rejected(x) if x.check == RiskCheck::KillSwitch));
    assert!(g.journal().iter().any(
        |e| matches!(e, Entry::Param { name, value: 1, .. } if name.as_str() == "kill_switch")
    ));
    g.reset_kill();
    assert!(matches!(
        g.on_input(&intent(4, 0, Side::Buy, 10, "99.99", 1), &mut r),
        InputOutcome::Sent { .. }
    ));
}

#[test]
fn replace_confirmed_and_replace_rejected() {
    let (mut g, _) = gateway(config());
    let mut r = Vec::new();
    let InputOutcome::Sent { slot } = g.on_input(&intent(1, 0, Side::Buy, 100, "99.99", 1), &mut r)
    else {
        panic!()
    };
    g.poll(&mut r);
    g.replace(slot, px("99.98"), 60).unwrap();
    let ClientMessage::ReplaceOrder(rep) = *g.venue().sent.last().unwrap() else {
        panic!()
    };
    assert_eq!(
        g.oms().order(slot).unwrap().status,
        OrdStatus::PendingReplace
    );
    // The venue confirms: the replacement token takes over with 60 shares at 99.98.
    g.venue_mut().push(ServerMessage::Replaced(Replaced {
        timestamp: 3,
        token: rep.replacement_token,
        side: kestrel_gateway::ouch::BuySell::Buy,
        shares: 60,
        stock: symbols()[0],
        price: rep.price,
        time_in_force: 99_999,
        firm: Default::default(),
        display: b'Y',
        order_ref: 77,
        capacity: b'P',
        iso: kestrel_gateway::ouch::IsoEligibility::NotEligible,
        min_qty: 0,
        cross_type: b'N',
        order_state: kestrel_gateway::ouch::OrderState::Live,
        previous_token: rep.existing_token,
        bbo_weight: b' ',
    }));
    g.poll(&mut r);
    let o = *g.oms().order(slot).unwrap();
    assert_eq!(
        (o.status, o.leaves, o.price),
        (OrdStatus::Live, 60, px("99.98"))
    );
    assert_eq!(g.oms().working(InstrumentId(0), Side::Buy), 60);
    let rep_report = r.iter().find(|x| x.kind == ExecKind::Replaced).unwrap();
    assert_eq!(shares(rep_report.qty), 40, "40 shares released");
    // A fill on the new token lands on the same order.
    g.venue_mut().fill(rep.replacement_token, 10, "99.98", 9);
    g.poll(&mut r);
    assert_eq!(g.oms().order(slot).unwrap().leaves, 50);

    // A second replace, rejected by the venue: the order stays as it was.
    g.replace(slot, px("99.97"), 50).unwrap();
    let ClientMessage::ReplaceOrder(rep2) = *g.venue().sent.last().unwrap() else {
        panic!()
    };
    g.venue_mut().push(ServerMessage::Rejected(Rejected {
        timestamp: 4,
        token: rep2.replacement_token,
        reason: b'X',
    }));
    g.poll(&mut r);
    let o = *g.oms().order(slot).unwrap();
    assert_eq!(
        (o.status, o.leaves, o.price),
        (OrdStatus::PartiallyFilled, 50, px("99.98"))
    );
}

#[test]
fn unknown_tokens_duplicates_and_broken_trades() {
    let (mut g, _) = gateway(config());
    let mut r = Vec::new();
    // A fill for one of our tokens the OMS never saw (a previous run's order): applied from
    // what the token says.
    let ghost = g.oms().tokens().make(999_999, InstrumentId(1), Side::Sell);
    g.venue_mut().fill(ghost, 50, "200", 500);
    // A fill for a foreign token: counted, not applied.
    g.venue_mut()
        .fill(Token::new("SOMEONEELSE").unwrap(), 50, "200", 501);
    g.poll(&mut r);
    assert_eq!(g.oms().position(InstrumentId(1)), -50);
    assert_eq!(g.oms().stats().reconciled_fills, 1);
    assert_eq!(g.oms().stats().foreign_tokens, 1);
    assert!(r.iter().any(|x| x.kind == ExecKind::Fill
        && x.instrument == InstrumentId(1)
        && x.side == Side::Sell));
    assert!(
        g.oms().tokens().peek() > 999_999,
        "token numbers move past the ghost"
    );

    // The same execution again (same match number): skipped.
    g.venue_mut().fill(ghost, 50, "200", 500);
    g.poll(&mut r);
    assert_eq!(g.oms().position(InstrumentId(1)), -50);
    assert_eq!(g.oms().stats().duplicate_fills, 1);

    // The venue breaks it: the position is rebuilt without it.
    g.venue_mut().push(ServerMessage::BrokenTrade(BrokenTrade {
        timestamp: 5,
        token: ghost,
        match_number: 500,
        reason: b'E',
    }));
    g.poll(&mut r);
    assert_eq!(g.oms().position(InstrumentId(1)), 0);
    assert!(r.iter().any(|x| x.kind == ExecKind::Broken));
}

#[test]
fn duplicate_sequence_numbers_are_skipped() {
    let (mut g, _) = gateway(config());
    let mut r = Vec::new();
    g.on_input(&intent(1, 0, Side::Buy, 10, "99.99", 1), &mut r);
    g.poll(&mut r);
    let token = g.venue().enter_token(0);
    // Replay sequence 2 (already applied: the Accepted) as an execution: skipped.
    g.venue_mut().next_seq = 2;
    g.venue_mut().push(ServerMessage::Executed(Executed {
        timestamp: 1,
        token,
        executed_shares: 10,
        execution_price: Price4(999_900),
        liquidity_flag: b'A',
        match_number: 1,
    }));
    g.poll(&mut r);
    // Sequence 1 was the Accepted; the resent sequence 2 is new: applied. Now send it again.
    g.venue_mut().next_seq = 2;
    g.venue_mut().fill(token, 10, "99.99", 1);
    g.poll(&mut r);
    assert_eq!(g.oms().position(InstrumentId(0)), 10);
    assert_eq!(g.oms().stats().duplicate_messages, 1);
}

#[test]
fn rejected_and_dead_orders_release_working() {
    let (mut g, _) = gateway(config());
    g.venue_mut().auto_ack = false;
    let mut r = Vec::new();
    g.on_input(&intent(1, 0, Side::Buy, 10, "99.99", 1), &mut r);
    let token = g.venue().enter_token(0);
    g.venue_mut().push(ServerMessage::Rejected(Rejected {
        timestamp: 1,
        token,
        reason: b'H',
    }));
    g.poll(&mut r);
    let rej = r.iter().find(|x| x.kind == ExecKind::Rejected).unwrap();
    assert_eq!((shares(rej.qty), rej.reason), (10, b'H'));
    assert_eq!(g.oms().open_count(), 0);
    assert_eq!(g.oms().working(InstrumentId(0), Side::Buy), 0);
}

#[test]
fn twap_parent_works_children_and_reports_the_rest() {
    let mut cfg = config();
    cfg.intent_algo = IntentAlgo::Parent(AlgoKind::Twap {
        duration_ns: 4_000,
        slices: 4,
    });
    let (mut g, _) = gateway(cfg);
    let mut r = Vec::new();
    g.on_input(&market(0, "99.99", "100.01", 1_000), &mut r);
    let out = g.on_input(&intent(1, 0, Side::Buy, 100, "100.01", 1_000), &mut r);
    assert!(matches!(out, InputOutcome::Parent { .. }), "{out:?}");
    g.poll(&mut r);
    let ClientMessage::EnterOrder(c0) = g.venue().sent[0] else {
        panic!()
    };
    assert_eq!(
        (c0.shares, c0.price),
        (25, Price4(999_900)),
        "a quarter at the bid"
    );
    g.venue_mut().fill(c0.token, 25, "99.99", 11);
    g.poll(&mut r);
    // Second slice: 25 more.
    g.on_input(&market(0, "99.98", "100.00", 2_000), &mut r);
    g.poll(&mut r);
    assert_eq!(g.venue().enters(), 2);
    // End of the schedule with the second child unfilled: cancelled, parent finishes.
    g.on_input(&market(0, "99.98", "100.00", 5_000), &mut r);
    g.poll(&mut r);
    g.poll(&mut r);
    g.poll(&mut r);
    assert_eq!(g.algos().active(), 0);
    let fills: i64 = r
        .iter()
        .filter(|x| x.kind == ExecKind::Fill)
        .map(|x| shares(x.qty))
        .sum();
    let done: i64 = r
        .iter()
        .filter(|x| x.kind == ExecKind::Done)
        .map(|x| shares(x.qty))
        .sum();
    assert_eq!(
        (fills, done),
        (25, 75),
        "fills plus the unfilled rest make the intent"
    );
    assert!(
        r.iter()
            .all(|x| x.intent_seq == 1 || x.kind == ExecKind::Accepted)
    );
    let tca = g.tca().session();
    assert_eq!(tca.shares, 25);
    let _ = Parent::clone;
}

#[test]
fn iceberg_parent_refills_until_done() {
    let (mut g, _) = gateway(config());
    let mut r = Vec::new();
    g.on_input(&market(0, "99.99", "100.01", 1), &mut r);
    let parent = Parent {
        intent_seq: 7,
        instrument: InstrumentId(0),
        side: Side::Sell,
        limit: px("100.01"),
        target: 90,
        filled: 0,
        kind: AlgoKind::Iceberg { display: 30 },
        start_ns: 1,
        child: None,
        cancelling: false,
        stopping: false,
        arrival_mid: px("100"),
    };
    g.start_parent(parent, &mut r).unwrap();
    for i in 0..3 {
        g.poll(&mut r);
        let t = g.venue().enter_token(i);
        g.venue_mut().fill(t, 30, "100.01", 100 + i as u64);
        g.poll(&mut r);
    }
    g.poll(&mut r);
    assert_eq!(g.venue().enters(), 3);
    assert_eq!(g.algos().active(), 0);
    assert_eq!(g.oms().position(InstrumentId(0)), -90);
    assert!(
        !r.iter()
            .any(|x| x.kind == ExecKind::Done && x.intent_seq == 7 && x.order == 0)
    );
}

#[test]
fn null_journal_engine_builds() {
    let clock = TestClock::default();
    let g = OrderGateway::fresh(config(), ScriptVenue::default(), NullJournal, clock).unwrap();
    assert_eq!(g.oms().instruments(), 2);
}
