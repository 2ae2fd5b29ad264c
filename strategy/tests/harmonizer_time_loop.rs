//! Event time that runs backwards and books that cross: a capture whose timestamps loop (the
//! same day replayed, several files in one replay) trades in every loop, not only the first;
//! a crossed or locked book sends nothing and marks nothing.

mod harmonizer_support;
mod lobster_sample;

use harmonizer_support::{params_with_models, update};
use kestrel_core::{BookUpdate, InstrumentId, Price, Qty, Side};
use kestrel_strategy::alpha::{AlphaConfig, AlphaSet};
use kestrel_strategy::edge::ModelEdge;
use kestrel_strategy::engine::{SignalAlphaEdges, StrategyEngine};
use kestrel_strategy::harmonizer::{Binding, FillMode, Harmonizer};
use kestrel_strategy::params::Money;
use kestrel_strategy::signals::{SignalConfig, SignalSet};

/// The LOBSTER AAPL sample replayed `loops` times with its own timestamps: time jumps back to
/// 09:30 at the start of each loop.
fn looping_capture(loops: usize) -> Vec<BookUpdate> {
    let ups = lobster_sample::aapl_updates();
    let mut out = Vec::with_capacity(ups.len() * loops);
    for l in 0..loops {
        for u in &ups {
            let mut u = *u;
            u.seq += (l * ups.len()) as u64;
            out.push(u);
        }
    }
    out
}

#[test]
fn a_capture_whose_timestamps_loop_trades_in_every_loop() {
    const LOOPS: usize = 4;
    let updates = looping_capture(LOOPS);
    let per_loop = updates.len() / LOOPS;
    let mut p = harmonizer_support::example_params();
    p.track_record.horizon_ns = 20_000_000;
    p.track_record.prior_strength = 5.0;
    let source = SignalAlphaEdges::new(
        SignalSet::new(1, &SignalConfig::default()),
        AlphaSet::new(1, &AlphaConfig::default()),
    );
    let h = Harmonizer::new(p, &[Qty::ONE], FillMode::SimulatedImmediateFill).unwrap();
    let mut e = StrategyEngine::new(source, h).unwrap();
    let mut intents = [0u64; LOOPS];
    for (k, u) in updates.iter().enumerate() {
        intents[k / per_loop] += u64::from(e.on_update(u).is_some());
    }
    let stats = e.harmonizer_stats();
    assert_eq!(stats.time_resets, (LOOPS - 1) as u64);
    assert!(intents[0] > 0, "{intents:?}");
    // Later loops see the same market (and a warmer track record): they trade too, at a rate
    // comparable to the first loop's.
    for (l, &n) in intents.iter().enumerate().skip(1) {
        assert!(
            n * 2 >= intents[0],
            "loop {l} issued {n} intents, the first {}: {intents:?}",
            intents[0]
        );
    }
}

#[test]
fn small_steps_back_are_jitter_not_a_new_day() {
    let mut h = Harmonizer::new(params_with_models(1), &[Qty::ONE], FillMode::External).unwrap();
    let e = [ModelEdge::NONE];
    for (seq, ts) in [(1, 5_000_000_000), (2, 4_500_000_000), (3, 5_100_000_000)] {
        h.decide(&update(0, seq, ts, 9_999, 10_001), &e, 0);
    }
    assert_eq!(h.stats().time_resets, 0);
    h.decide(&update(0, 4, 1_000_000_000, 9_999, 10_001), &e, 0);
    assert_eq!(h.stats().time_resets, 1);
}

#[test]
fn a_crossed_or_locked_book_sends_nothing_and_marks_nothing() {
    let mut p = params_with_models(1);
    p.limits.daily_loss = Money::from_raw(1_000_000_000 * 100_000_000);
    let mut h = Harmonizer::new(p, &[Qty::ONE], FillMode::External).unwrap();
    let e = [ModelEdge::NONE];
    h.decide(&update(0, 1, 1_000_000_000, 9_999, 10_001), &e, 0);
    h.on_fill(
        InstrumentId(0),
        Side::Buy,
        Qty::from_units(100).unwrap(),
        Price::from_units(100).unwrap(),
    );
    let equity = h.equity();
    // The kill switch wants the position flat, but not at a crossed or locked book's prices.
    h.kill_switch().trip();
    for (seq, bid, ask) in [(2, 20_000, 10_000), (3, 10_000, 10_000)] {
        let d = h.decide(&update(0, seq, 2_000_000_000, bid, ask), &e, 0);
        assert_eq!(d.intent, None);
        assert_eq!(d.record.binding, Binding::CrossedBook);
        assert_eq!(h.equity(), equity, "marked at a crossed mid");
    }
    assert_eq!(h.stats().crossed_book, 2);
    // The book uncrosses: the flatten goes out.
    let d = h.decide(&update(0, 4, 3_000_000_000, 9_999, 10_001), &e, 0);
    let i = d.intent.expect("flatten once the book is sane");
    assert_eq!((i.side, i.qty), (Side::Sell, Qty::from_units(100).unwrap()));
}
