//! One decision per instrument and packet: an update followed by a later one of its instrument
//! in its packet (`BookUpdate::more_in_packet`) is observed, not decided on, and observing
//! leaves the engine exactly as deciding would have (the signals' windows and the alpha
//! models' per-update state see every update).

mod harmonizer_support;

use harmonizer_support::example_params;
use kestrel_core::{
    BookTop, BookUpdate, InstrumentId, InstrumentTable, LevelView, Price, Qty, Timestamp,
    TradeKind, TradePrint,
};
use kestrel_strategy::alpha::{AlphaConfig, AlphaSet, MODEL_COUNT, PAIRS, PairConfig};
use kestrel_strategy::edge::ModelEdge;
use kestrel_strategy::engine::{EdgeSource, SignalAlphaEdges, StrategyEngine};
use kestrel_strategy::harmonizer::{Decision, FillMode, Harmonizer};
use kestrel_strategy::signals::{SignalConfig, SignalSet};
use proptest::prelude::*;

const INSTRUMENTS: u32 = 2;

/// The two instruments, a cent tick.
fn table() -> InstrumentTable {
    let mut table = InstrumentTable::new();
    for name in ["AAA", "BBB"] {
        table
            .add(name, Price::from_scaled(1, 2).unwrap(), Qty::ONE, 4)
            .unwrap();
    }
    table
}

/// Eight random streams of 400 steps each, the same in every run.
fn streams() -> impl Iterator<Item = Vec<BookUpdate>> {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    (0..8).map(move |_| {
        let steps = proptest::collection::vec(step(), 400)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        updates(&steps)
    })
}

fn engine() -> StrategyEngine<SignalAlphaEdges> {
    let table = table();
    let lots = vec![Qty::ONE; table.len()];
    // The two instruments are a pair too, so the pair's per-update state is exercised.
    let alphas = AlphaConfig {
        pairs: vec![PairConfig {
            leg_a: InstrumentId(0),
            leg_b: InstrumentId(1),
            halflife: 50.0,
            horizon: 20.0,
            z_full: 2.0,
            confidence: 0.5,
            warmup: 30,
        }],
        ..AlphaConfig::default()
    };
    let source = SignalAlphaEdges::new(
        SignalSet::for_table(&table, &SignalConfig::default()),
        AlphaSet::new(table.len(), &alphas),
    );
    let harmonizer =
        Harmonizer::new(example_params(), &lots, FillMode::SimulatedImmediateFill).unwrap();
    StrategyEngine::new(source, harmonizer).unwrap()
}

/// One generated update: (instrument, mid step in cents, bid and ask quantity, print
/// aggressor -1/0/+1 or none, microseconds since the last, followed in its packet).
type Step = (u32, i64, i64, i64, Option<i8>, u64, bool);

fn step() -> impl Strategy<Value = Step> {
    (
        0..INSTRUMENTS,
        -3i64..=3,
        1i64..500,
        1i64..500,
        proptest::option::weighted(0.4, -1i8..=1),
        0u64..20_000,
        proptest::bool::weighted(0.6),
    )
}

/// The updates of `steps`: a two-level book around a random walk per instrument, prints.
fn updates(steps: &[Step]) -> Vec<BookUpdate> {
    let mut mids = [10_000i64; INSTRUMENTS as usize];
    let mut ts = 34_200_000_000_000u64;
    let cents = |c: i64| Price::from_scaled(c, 2).unwrap();
    let units = |q: i64| Qty::from_units(q).unwrap();
    steps
        .iter()
        .enumerate()
        .map(|(k, &(i, dm, bq, aq, print, dt_us, more))| {
            let m = &mut mids[i as usize];
            *m = (*m + dm).clamp(9_000, 11_000);
            ts += dt_us * 1_000;
            let mut top = BookTop::default();
            for l in 0..2 {
                top.bids[l] = LevelView {
                    price: cents(*m - 1 - l as i64),
                    qty: units(bq + l as i64),
                };
                top.asks[l] = LevelView {
                    price: cents(*m + 1 + l as i64),
                    qty: units(aq + l as i64),
                };
            }
            (top.bid_levels, top.ask_levels) = (2, 2);
            let trade = match print {
                Some(aggressor) => TradePrint {
                    price: cents(*m + 1),
                    qty: units(bq % 50 + 1),
                    match_number: k as u64 + 1,
                    aggressor,
                    kind: TradeKind::Execution,
                },
                None => TradePrint::default(),
            };
            BookUpdate {
                instrument: InstrumentId(i),
                seq: k as u64 + 1,
                exch_ts: Timestamp(ts),
                recv_ts: Timestamp(ts),
                top,
                trade,
                trading: true,
                more_in_packet: more,
                ..BookUpdate::default()
            }
        })
        .collect()
}

/// The reference: the edge source takes a followed update through the full `edges` path (the
/// edges dropped), and every other update is decided on as before.
fn reference(updates: &[BookUpdate]) -> Vec<Option<Decision>> {
    let mut e = engine();
    let mut scratch = [ModelEdge::NONE; MODEL_COUNT];
    updates
        .iter()
        .map(|u| {
            if u.more_in_packet {
                e.source_mut().edges(u, &mut scratch);
                None
            } else {
                e.on_update_decision(u)
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Followed updates give no decision, every other update the decision the reference takes
    /// (same intent, same record: edges, blend, sizing, binding), bit for bit.
    #[test]
    fn followed_updates_are_observed_and_the_decisions_match_the_reference(
        steps in proptest::collection::vec(step(), 1..400),
    ) {
        let updates = updates(&steps);
        let mut e = engine();
        let got: Vec<Option<Decision>> = updates.iter().map(|u| e.on_update_decision(u)).collect();
        for (u, d) in updates.iter().zip(&got) {
            prop_assert_eq!(d.is_none(), u.more_in_packet);
        }
        prop_assert_eq!(&got, &reference(&updates));
        let stats = e.stats();
        prop_assert_eq!(stats.updates, updates.len() as u64);
        prop_assert_eq!(
            stats.observed,
            updates.iter().filter(|u| u.more_in_packet).count() as u64
        );
        prop_assert_eq!(e.harmonizer_stats().decisions, stats.updates - stats.observed);
    }
}

/// The property above can fail: an engine that never sees the followed updates decides
/// differently (the signals and the models need every update), and one that decides on every
/// update sends more intents.
#[test]
fn skipping_followed_updates_changes_the_decisions() {
    let (mut differ, mut intents_every, mut intents_packet) = (0, 0u64, 0u64);
    let mut pair_edges = 0;
    for updates in streams() {
        let expected = reference(&updates);
        let mut skip = engine();
        let skipped: Vec<Option<Decision>> = updates
            .iter()
            .map(|u| {
                if u.more_in_packet {
                    None
                } else {
                    skip.on_update_decision(u)
                }
            })
            .collect();
        differ += usize::from(skipped != expected);
        let mut every = engine();
        for u in &updates {
            let mut all = *u;
            all.more_in_packet = false;
            intents_every += u64::from(every.on_update(&all).is_some());
        }
        intents_packet += expected
            .iter()
            .flatten()
            .filter(|d| d.intent.is_some())
            .count() as u64;
        pair_edges += expected
            .iter()
            .flatten()
            .filter(|d| d.record.raw_edges_bps[PAIRS] != 0.0)
            .count();
    }
    assert!(differ >= 4, "skipping changed {differ} of 8 streams");
    assert!(
        pair_edges > 100,
        "decisions with a pairs edge: {pair_edges}"
    );
    assert!(intents_packet > 0, "the streams decide something");
    assert!(
        intents_every > intents_packet,
        "every {intents_every} packet {intents_packet}"
    );
}

/// Keeps every gateway input the stage emits.
#[derive(Default)]
struct Inputs(Vec<kestrel_core::GatewayInput>);

impl kestrel_core::pipeline::Emit<kestrel_core::GatewayInput> for Inputs {
    fn emit(&mut self, event: kestrel_core::GatewayInput) {
        self.0.push(event);
    }
}

/// A strategy stage whose output discards (a replay without a gateway) builds no gateway
/// input, and keeps exactly the counts and hashes of one whose output keeps every input: the
/// update hash, the intents (count, sides, hash), the decisions per binding and the engine's
/// counters. The keeping stage emits one input per update, an intent exactly where the
/// tally counted one. (Fails when the discarding path skips the hash, the intent tally or a
/// binding count.)
#[test]
fn a_discarding_output_changes_no_count_or_hash() {
    use kestrel_core::pipeline::{Discard, Stage};
    use kestrel_core::{GatewayInputKind, clock::TscClock};
    use kestrel_strategy::stage::StrategyStage;
    let table = table();
    let stage = || {
        StrategyStage::new(
            &table,
            example_params(),
            FillMode::SimulatedImmediateFill,
            TscClock::new(),
        )
        .unwrap()
    };
    let mut intents = 0;
    for updates in streams() {
        let (mut kept, mut discarded) = (stage(), stage());
        let mut inputs = Inputs::default();
        for u in &updates {
            kept.on_event(u, &mut inputs);
            discarded.on_event(u, &mut Discard);
        }
        assert_eq!(inputs.0.len(), updates.len());
        let emitted = inputs
            .0
            .iter()
            .filter(|i| i.kind == GatewayInputKind::Intent)
            .count() as u64;
        assert_eq!(emitted, kept.intents().count);
        assert_eq!(kept.update_hash(), discarded.update_hash());
        assert_eq!(kept.intents(), discarded.intents());
        assert_eq!(kept.bindings(), discarded.bindings());
        assert_eq!(kept.engine_stats(), discarded.engine_stats());
        intents += kept.intents().count;
    }
    assert!(
        intents > 0,
        "the streams must give intents for the test to mean anything"
    );
}
