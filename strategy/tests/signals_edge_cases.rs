//! Signals on unusual books: empty, one-sided, locked, crossed, halted; and random books.

use kestrel_core::{
    BookTop, BookUpdate, InstrumentId, LevelView, Price, Qty, TOP_LEVELS, Timestamp, TradeKind,
    TradePrint,
};
use kestrel_strategy::alpha::{AlphaConfig, AlphaSet};
use kestrel_strategy::edge::ModelEdge;
use kestrel_strategy::signals::{BookState, SignalConfig, SignalSet};
use proptest::prelude::*;

fn level(price_cents: i64, qty: i64) -> LevelView {
    LevelView {
        price: Price::from_scaled(price_cents, 2).unwrap_or_default(),
        qty: Qty::from_units(qty).unwrap_or_default(),
    }
}

fn book(bids: &[(i64, i64)], asks: &[(i64, i64)]) -> BookTop {
    let mut t = BookTop::default();
    for (slot, &(p, q)) in t.bids.iter_mut().zip(bids) {
        *slot = level(p, q);
    }
    for (slot, &(p, q)) in t.asks.iter_mut().zip(asks) {
        *slot = level(p, q);
    }
    t.bid_levels = bids.len().min(TOP_LEVELS) as u8;
    t.ask_levels = asks.len().min(TOP_LEVELS) as u8;
    t
}

fn update(seq: u64, top: BookTop, trading: bool) -> BookUpdate {
    BookUpdate {
        instrument: InstrumentId(0),
        seq,
        exch_ts: Timestamp(seq * 1_000_000),
        recv_ts: Timestamp(seq * 1_000_000),
        top,
        trade: TradePrint::default(),
        trading,
        more_in_packet: false,
        stamps: Default::default(),
    }
}

#[test]
fn abnormal_books_are_flagged_counted_and_emit_no_prices() {
    let mut set = SignalSet::new(1, &SignalConfig::default());
    let mut alphas = AlphaSet::new(1, &AlphaConfig::default());
    let normal = book(&[(10000, 5)], &[(10001, 5)]);
    let cases = [
        (book(&[], &[]), BookState::Empty),
        (book(&[(10000, 5)], &[]), BookState::OneSided),
        (book(&[], &[(10001, 5)]), BookState::OneSided),
        (book(&[(10000, 5)], &[(10000, 7)]), BookState::Locked),
        (book(&[(10002, 5)], &[(10001, 7)]), BookState::Crossed),
    ];
    let mut seq = 0;
    for (top, state) in cases {
        seq += 1;
        set.update(&update(seq, normal, true));
        seq += 1;
        let u = update(seq, top, true);
        let v = set.update(&u).expect("instrument");
        assert_eq!(v.book, state);
        assert!(!v.is_usable());
        for (name, x) in [
            ("mid", v.mid),
            ("microprice", v.microprice),
            ("spread_bps", v.spread_bps),
            ("top_imbalance", v.top_imbalance),
            ("depth_imbalance", v.depth_imbalance),
            ("liquidity", v.liquidity),
        ] {
            assert_eq!(x, 0.0, "{name} for {state:?}");
        }
        assert_eq!(alphas.evaluate(&u, &v), [ModelEdge::NONE; 6]);
    }
    let st = set.stats(InstrumentId(0)).expect("stats");
    assert_eq!(st.empty_books, 1);
    assert_eq!(st.one_sided_books, 2);
    assert_eq!(st.locked_books, 1);
    assert_eq!(st.crossed_books, 1);
    assert_eq!(st.nonfinite_clamped, 0);
}

#[test]
fn abnormal_book_breaks_the_return_chain() {
    // A crossed book between two normal books must not produce a return across it.
    let mut set = SignalSet::new(1, &SignalConfig::default());
    set.update(&update(1, book(&[(10000, 5)], &[(10002, 5)]), true));
    set.update(&update(2, book(&[(20000, 5)], &[(10002, 5)]), true));
    let v = set
        .update(&update(3, book(&[(10000, 5)], &[(10002, 5)]), true))
        .expect("instrument");
    assert_eq!(v.vol_event_bps, 0.0);
    assert_eq!(v.ofi_events, 0.0);
}

#[test]
fn halted_instrument_keeps_state_but_gives_no_edges() {
    let mut set = SignalSet::new(1, &SignalConfig::default());
    let mut alphas = AlphaSet::new(1, &AlphaConfig::default());
    let top = book(&[(10000, 30)], &[(10001, 10)]);
    let u = update(1, top, false);
    let v = set.update(&u).expect("instrument");
    assert!(!v.trading);
    assert!(!v.is_usable());
    assert_eq!(v.book, BookState::Normal);
    assert_eq!(v.top_imbalance, 0.5);
    assert_eq!(alphas.evaluate(&u, &v), [ModelEdge::NONE; 6]);
    assert_eq!(
        set.stats(InstrumentId(0)).map(|s| s.halted_updates),
        Some(1)
    );
}

#[test]
fn constant_mid_gives_zero_volatility_not_nan() {
    let mut set = SignalSet::new(1, &SignalConfig::default());
    let top = book(&[(10000, 30)], &[(10001, 10)]);
    for seq in 1..200 {
        let v = set.update(&update(seq, top, true)).expect("instrument");
        assert_eq!(v.vol_event_bps, 0.0);
        assert_eq!(v.vol_time_bps, 0.0);
        assert_eq!(v.kyle_lambda, 0.0);
    }
}

#[test]
fn unknown_instrument_is_counted_not_panicking() {
    let mut set = SignalSet::new(1, &SignalConfig::default());
    let mut u = update(1, book(&[(1, 1)], &[(2, 1)]), true);
    u.instrument = InstrumentId(7);
    assert!(set.update(&u).is_none());
    assert_eq!(set.unknown_instrument(), 1);
}

fn arb_side() -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec((1i64..20_000, 0i64..1_000_000), 0..=TOP_LEVELS)
}

/// A print of `qty` shares at 100 with match number `seq`: non-displayed (aggressor unknown)
/// when `aggressor` is 0, else an execution.
fn print_at_100(seq: u64, qty: i64, aggressor: i8) -> TradePrint {
    TradePrint {
        price: Price::from_units(100).unwrap_or_default(),
        qty: Qty::from_units(qty).unwrap_or_default(),
        match_number: seq,
        aggressor,
        kind: if aggressor == 0 {
            TradeKind::NonDisplayed
        } else {
            TradeKind::Execution
        },
    }
}

proptest! {
    #[test]
    fn random_books_never_emit_non_finite_values(
        books in prop::collection::vec((arb_side(), arb_side(), any::<bool>(), 0i64..10_000, -1i8..=1), 1..60)
    ) {
        let mut set = SignalSet::new(1, &SignalConfig::default());
        let mut alphas = AlphaSet::new(1, &AlphaConfig::default());
        for (seq, (bids, asks, trading, tq, ag)) in books.into_iter().enumerate() {
            let mut u = update(seq as u64 + 1, book(&bids, &asks), trading);
            u.trade = print_at_100(seq as u64, tq, ag);
            let v = set.update(&u).expect("instrument");
            for f in v.features() {
                prop_assert!(f.is_finite());
            }
            prop_assert!((-1.0..=1.0).contains(&v.top_imbalance));
            prop_assert!((-1.0..=1.0).contains(&v.depth_imbalance));
            prop_assert!((0.0..=1.0).contains(&v.vpin));
            prop_assert!((-1.0..=1.0).contains(&v.trade_imbalance));
            for e in alphas.evaluate(&u, &v) {
                prop_assert!(e.edge_bps.is_finite());
                prop_assert!((0.0..=1.0).contains(&e.confidence));
            }
        }
    }
}

#[test]
fn spread_ticks_use_each_instruments_tick_size() {
    let mut table = kestrel_core::InstrumentTable::new();
    let _ = table.add(
        "A",
        Price::from_scaled(1, 2).unwrap_or_default(),
        Qty::ONE,
        2,
    );
    let _ = table.add(
        "B",
        Price::from_scaled(5, 2).unwrap_or_default(),
        Qty::ONE,
        2,
    );
    let mut set = SignalSet::for_table(&table, &SignalConfig::default());
    assert_eq!(set.len(), 2);
    let top = book(&[(10000, 5)], &[(10010, 5)]);
    let mut u = update(1, top, true);
    assert_eq!(set.update(&u).map(|v| v.spread_ticks), Some(10.0));
    u.instrument = InstrumentId(1);
    assert_eq!(set.update(&u).map(|v| v.spread_ticks), Some(2.0));
}

/// Every field of `v` as bits (so `-0.0` and `0.0` differ), in a fixed order.
fn bits(v: &kestrel_strategy::signals::SignalValues) -> Vec<u64> {
    let mut out = vec![
        u64::from(v.instrument.0),
        v.seq,
        v.exch_ts.nanos(),
        v.book as u64,
        u64::from(v.trading),
        v.mid.to_bits(),
        v.microprice.to_bits(),
        v.weighted_mid.to_bits(),
        u64::from(v.levels),
        v.vol_regime as u64,
        v.trend_regime as u64,
    ];
    out.extend(v.features().iter().map(|f| f.to_bits()));
    out
}

/// The fields a decision update computes, as bits.
fn decision_bits(v: &kestrel_strategy::signals::SignalValues) -> Vec<u64> {
    vec![
        v.book as u64,
        u64::from(v.trading),
        v.mid.to_bits(),
        v.top_imbalance.to_bits(),
        v.depth_imbalance.to_bits(),
        v.ofi_events.to_bits(),
        v.ofi_events_norm.to_bits(),
        v.vol_event_bps.to_bits(),
        v.trend_bps.to_bits(),
        v.vol_regime as u64,
        v.trend_regime as u64,
    ]
}

proptest! {
    /// The decision update computes the decision's fields bit for bit as the full update does,
    /// whether or not the features were completed on earlier updates (the windows move either
    /// way), and completing the features gives every field bit for bit, with the same counters,
    /// over random books (normal, one-sided, empty, locked, crossed), prints with known and
    /// unknown aggressors, halts and exchange time that sometimes runs backwards.
    #[test]
    fn decision_values_and_completed_features_equal_the_full_update(
        steps in prop::collection::vec(
            (arb_side(), arb_side(), any::<bool>(), 0i64..10_000, -1i8..=1, -3i64..20, any::<bool>()),
            1..80,
        )
    ) {
        let mut full = SignalSet::new(1, &SignalConfig::default());
        let mut lazy = SignalSet::new(1, &SignalConfig::default());
        let mut always = SignalSet::new(1, &SignalConfig::default());
        let mut ts: i64 = 1_000_000_000;
        for (seq, (bids, asks, trading, tq, ag, dt_ms, complete)) in steps.into_iter().enumerate() {
            ts = (ts + dt_ms * 1_000_000).max(0);
            let mut u = update(seq as u64 + 1, book(&bids, &asks), trading);
            u.exch_ts = Timestamp(ts as u64);
            u.recv_ts = u.exch_ts;
            u.trade = print_at_100(seq as u64, tq, ag);
            let f = full.update(&u).expect("instrument");
            let d = *lazy.update_decision(&u).expect("instrument");
            prop_assert_eq!(decision_bits(&d), decision_bits(&f));
            prop_assert!(lazy.instrument(InstrumentId(0)).expect("state").features_pending());
            if complete {
                let c = *lazy.complete_features(&u).expect("instrument");
                prop_assert_eq!(bits(&c), bits(&f));
            }
            always.update_decision(&u).expect("instrument");
            let c = *always.complete_features(&u).expect("instrument");
            prop_assert_eq!(bits(&c), bits(&f));
            // A second call computes (and counts) nothing more.
            let again = *always.complete_features(&u).expect("instrument");
            prop_assert_eq!(bits(&again), bits(&f));
            prop_assert_eq!(always.stats(InstrumentId(0)), full.stats(InstrumentId(0)));
        }
        let (sf, sl) = (full.stats(InstrumentId(0)).unwrap(), lazy.stats(InstrumentId(0)).unwrap());
        prop_assert_eq!(
            (sf.updates, sf.empty_books, sf.one_sided_books, sf.locked_books, sf.crossed_books),
            (sl.updates, sl.empty_books, sl.one_sided_books, sl.locked_books, sl.crossed_books)
        );
        prop_assert_eq!(
            (sf.halted_updates, sf.unknown_aggressor_trades, sf.time_window_overflows, sf.time_regressions),
            (sl.halted_updates, sl.unknown_aggressor_trades, sl.time_window_overflows, sl.time_regressions)
        );
    }
}

proptest! {
    /// Observing an update (windows only, no values) leaves the signal state the decision
    /// update leaves: over random books, prints, halts and backward time, with each update
    /// observed or decided at random, every decided update's decision values and completed
    /// features equal, bit for bit, those of a set that decided on every update, and every
    /// counter but `nonfinite_clamped` (values not computed are not clamped) agrees after
    /// each update.
    #[test]
    fn observed_updates_leave_the_state_a_decision_leaves(
        steps in prop::collection::vec(
            (arb_side(), arb_side(), any::<bool>(), 0i64..10_000, -1i8..=1, -3i64..20, 0u8..4),
            1..80,
        )
    ) {
        let mut decided = SignalSet::new(1, &SignalConfig::default());
        let mut mixed = SignalSet::new(1, &SignalConfig::default());
        let mut ts: i64 = 1_000_000_000;
        for (seq, (bids, asks, trading, tq, ag, dt_ms, what)) in steps.into_iter().enumerate() {
            ts = (ts + dt_ms * 1_000_000).max(0);
            let mut u = update(seq as u64 + 1, book(&bids, &asks), trading);
            u.exch_ts = Timestamp(ts as u64);
            u.recv_ts = u.exch_ts;
            u.trade = print_at_100(seq as u64, tq, ag);
            let d = *decided.update_decision(&u).expect("instrument");
            if what == 0 {
                let m = *mixed.update_decision(&u).expect("instrument");
                prop_assert_eq!(decision_bits(&m), decision_bits(&d));
                let (cm, cd) = (
                    *mixed.complete_features(&u).expect("instrument"),
                    *decided.complete_features(&u).expect("instrument"),
                );
                prop_assert_eq!(bits(&cm), bits(&cd));
            } else {
                prop_assert!(mixed.observe(&u));
                prop_assert!(!mixed.instrument(InstrumentId(0)).expect("state").features_pending());
            }
            let (sd, sm) = (decided.stats(InstrumentId(0)).unwrap(), mixed.stats(InstrumentId(0)).unwrap());
            prop_assert_eq!(
                (sd.updates, sd.empty_books, sd.one_sided_books, sd.locked_books, sd.crossed_books),
                (sm.updates, sm.empty_books, sm.one_sided_books, sm.locked_books, sm.crossed_books)
            );
            prop_assert_eq!(
                (sd.halted_updates, sd.unknown_aggressor_trades, sd.time_window_overflows, sd.time_regressions),
                (sm.halted_updates, sm.unknown_aggressor_trades, sm.time_window_overflows, sm.time_regressions)
            );
        }
        let mut out_of_range = update(1, book(&[(100, 1)], &[(101, 1)]), true);
        out_of_range.instrument = InstrumentId(7);
        prop_assert!(!mixed.observe(&out_of_range));
        prop_assert_eq!(mixed.unknown_instrument(), 1);
    }
}
