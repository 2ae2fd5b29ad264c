//! Alpha models: hand-computed cases, a synthetic cointegrated pair, and momentum's moving
//! averages against a direct recomputation on the LOBSTER sample.

mod lobster_sample;

use kestrel_core::{BookTop, BookUpdate, InstrumentId, LevelView, Price, Qty, Timestamp};
use kestrel_strategy::alpha::{
    AlphaConfig, AlphaSet, BOOK_PRESSURE, EXTERNAL, Leg, MEAN_REVERSION, MODEL_COUNT, MODEL_NAMES,
    MOMENTUM, OFI, PAIRS, PairConfig, PairsModel,
};
use kestrel_strategy::edge::ModelEdge;
use kestrel_strategy::signals::{BookState, SignalConfig, SignalSet, SignalValues};

/// A one-level book around `mid_cents` with a one-cent spread on each side.
fn book(mid_cents: i64, bid_qty: i64, ask_qty: i64) -> BookTop {
    let mut t = BookTop::default();
    t.bids[0] = LevelView {
        price: Price::from_scaled(mid_cents - 1, 2).unwrap_or_default(),
        qty: Qty::from_units(bid_qty).unwrap_or_default(),
    };
    t.asks[0] = LevelView {
        price: Price::from_scaled(mid_cents + 1, 2).unwrap_or_default(),
        qty: Qty::from_units(ask_qty).unwrap_or_default(),
    };
    t.bid_levels = 1;
    t.ask_levels = 1;
    t
}

fn update(instrument: u32, seq: u64, top: BookTop) -> BookUpdate {
    BookUpdate {
        instrument: InstrumentId(instrument),
        seq,
        exch_ts: Timestamp(seq * 1_000),
        recv_ts: Timestamp(seq * 1_000),
        top,
        trade: Default::default(),
        trading: true,
        more_in_packet: false,
        stamps: Default::default(),
    }
}

fn usable(mid: f64) -> SignalValues {
    SignalValues {
        book: BookState::Normal,
        trading: true,
        mid,
        ..SignalValues::default()
    }
}

#[test]
fn model_names_are_stable_and_unique() {
    assert_eq!(MODEL_COUNT, 6);
    assert_eq!(
        [
            BOOK_PRESSURE,
            MOMENTUM,
            MEAN_REVERSION,
            OFI,
            PAIRS,
            EXTERNAL
        ],
        [0, 1, 2, 3, 4, 5]
    );
    assert_eq!(MODEL_NAMES[OFI], "ofi");
    let mut names = MODEL_NAMES.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), MODEL_COUNT);
}

#[test]
fn book_pressure_is_25_times_imbalance_and_ofi_is_clamped() {
    let mut alphas = AlphaSet::new(1, &AlphaConfig::default());
    let u = update(0, 1, book(10_000, 30, 10));
    let mut s = usable(100.0);
    s.depth_imbalance = 0.2;
    s.top_imbalance = 0.5;
    s.ofi_events_norm = 3.0;
    let e = alphas.evaluate(&u, &s);
    assert_eq!(e[BOOK_PRESSURE], ModelEdge::new(5.0, 0.5));
    assert_eq!(e[OFI], ModelEdge::new(6.0, 0.5));
    s.ofi_events_norm = -100.0;
    assert_eq!(alphas.evaluate(&u, &s)[OFI].edge_bps, -50.0);
}

#[test]
fn momentum_is_40_times_ma_gap_in_bps() {
    let cfg = AlphaConfig {
        momentum_short: 2,
        momentum_long: 4,
        ..AlphaConfig::default()
    };
    let mut alphas = AlphaSet::new(1, &cfg);
    let mids = [10_000, 10_000, 10_010, 10_020];
    let mut last = [ModelEdge::NONE; MODEL_COUNT];
    for (i, m) in mids.iter().enumerate() {
        let u = update(0, i as u64 + 1, book(*m, 1, 1));
        last = alphas.evaluate(&u, &usable(*m as f64 / 100.0));
        if i < 3 {
            assert_eq!(last[MOMENTUM], ModelEdge::NONE, "long window not full");
        }
    }
    // short = (100.10 + 100.20) / 2 = 100.15; long = 100.075.
    let expected = 40.0 * (100.15 - 100.075) / 100.075 * 1e4;
    assert!((last[MOMENTUM].edge_bps - expected).abs() < 1e-9);
    assert_eq!(last[MOMENTUM].confidence, 0.5);
}

#[test]
fn mean_reversion_hand_computed() {
    // Half-life 1 event (decay 0.5), horizon 1: half the deviation is expected back.
    let cfg = AlphaConfig {
        reversion_halflife: 1.0,
        reversion_horizon: 1.0,
        reversion_z_full: 2.0,
        reversion_confidence: 0.5,
        ..AlphaConfig::default()
    };
    let mut alphas = AlphaSet::new(1, &cfg);
    let mut out = [ModelEdge::NONE; MODEL_COUNT];
    for (i, m) in [10_000, 10_200, 10_000].iter().enumerate() {
        out = alphas.evaluate(&update(0, i as u64 + 1, book(*m, 1, 1)), &usable(0.0));
    }
    // Means: 100 -> 101; variance 0 -> 0.5 * (0 + 0.5 * 4) = 1. Third mid 100: dev -1, z -1,
    // deviation -100 bps, expected move +50 bps, confidence 0.5 * |z| / 2.
    let mr = alphas.mean_reversion(InstrumentId(0)).expect("model");
    assert!((mr.z() + 1.0).abs() < 1e-12);
    assert!((out[MEAN_REVERSION].edge_bps - 50.0).abs() < 1e-9);
    assert!((out[MEAN_REVERSION].confidence - 0.25).abs() < 1e-12);
}

#[test]
fn external_edge_obeys_its_age_limit() {
    let cfg = AlphaConfig {
        external_max_age_ns: 5_000,
        ..AlphaConfig::default()
    };
    let mut alphas = AlphaSet::new(1, &cfg);
    assert!(alphas.set_external(InstrumentId(0), ModelEdge::new(4.0, 0.8), Timestamp(10_000)));
    assert!(!alphas.set_external(InstrumentId(9), ModelEdge::new(4.0, 0.8), Timestamp(0)));
    let fresh = alphas.evaluate(&update(0, 15, book(10_000, 1, 1)), &usable(100.0));
    assert_eq!(fresh[EXTERNAL], ModelEdge::new(4.0, 0.8));
    let stale = alphas.evaluate(&update(0, 16, book(10_000, 1, 1)), &usable(100.0));
    assert_eq!(stale[EXTERNAL], ModelEdge::NONE);
}

/// A small deterministic generator (xorshift) giving values in [-1, 1).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

#[test]
fn pairs_model_recovers_hedge_ratio_and_reversion() {
    let cfg = PairConfig {
        leg_a: InstrumentId(0),
        leg_b: InstrumentId(1),
        halflife: 2_000.0,
        horizon: 5.0,
        z_full: 2.0,
        confidence: 0.6,
        warmup: 200,
    };
    let mut pair = PairsModel::new(cfg);
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let (mut log_b, mut e) = (4.0f64, 0.0f64);
    for _ in 0..20_000 {
        log_b += 0.002 * noise.next();
        e = 0.9 * e + 0.0005 * noise.next();
        let log_a = 0.3 + 1.5 * log_b + e;
        pair.update(Leg::B, log_b.exp());
        pair.update(Leg::A, log_a.exp());
    }
    assert!((pair.beta() - 1.5).abs() < 0.15, "beta {}", pair.beta());
    let hl = pair.half_life().expect("the residual reverts");
    // AR(1) 0.9 per step: half-life ln 2 / -ln 0.9 = 6.58 steps.
    assert!((4.5..9.0).contains(&hl), "half-life {hl}");
    // Push A far above its fair value: A's edge goes down, B's up (beta > 0).
    pair.update(Leg::A, (0.3 + 1.5 * log_b + 0.01).exp());
    let (a, b) = (pair.edge(Leg::A), pair.edge(Leg::B));
    assert!(pair.z() > 2.0, "z {}", pair.z());
    assert!(a.edge_bps < 0.0 && b.edge_bps > 0.0, "{a:?} {b:?}");
    assert!((a.edge_bps + b.edge_bps).abs() < 1e-9);
    assert!((a.confidence - 0.6).abs() < 1e-12);
}

#[test]
fn pairs_model_is_silent_for_non_members_and_during_warmup() {
    let cfg = AlphaConfig {
        pairs: vec![PairConfig {
            leg_a: InstrumentId(0),
            leg_b: InstrumentId(1),
            halflife: 50.0,
            horizon: 5.0,
            z_full: 2.0,
            confidence: 0.5,
            warmup: 1_000,
        }],
        ..AlphaConfig::default()
    };
    let mut alphas = AlphaSet::new(3, &cfg);
    for seq in 1..100 {
        for inst in 0..3 {
            let m = 10_000 + (seq as i64 % 7) * (inst as i64 + 1);
            let e = alphas.evaluate(&update(inst, seq, book(m, 1, 1)), &usable(m as f64 / 100.0));
            assert_eq!(e[PAIRS], ModelEdge::NONE);
        }
    }
    assert_eq!(alphas.pairs().len(), 1);
    assert_eq!(alphas.pairs()[0].leg_of(InstrumentId(2)), None);
}

#[test]
fn momentum_averages_equal_direct_on_lobster() {
    let ups = lobster_sample::aapl_updates();
    let cfg = AlphaConfig::default();
    let mut signals = SignalSet::new(1, &SignalConfig::default());
    let mut alphas = AlphaSet::new(1, &cfg);
    let mut mids: Vec<f64> = Vec::new();
    let mut spoke = 0;
    for u in &ups {
        let s = signals.update(u).expect("instrument");
        let e = alphas.evaluate(u, &s);
        mids.push(s.mid);
        if mids.len() >= cfg.momentum_long {
            let mean = |k: usize| mids.iter().rev().take(k).sum::<f64>() / k as f64;
            let (short, long) = (mean(cfg.momentum_short), mean(cfg.momentum_long));
            let expected = 40.0 * (short - long) / long * 1e4;
            assert!(
                (e[MOMENTUM].edge_bps - expected).abs() < 1e-6,
                "{e:?} vs {expected}"
            );
            spoke += 1;
        }
        for m in e {
            assert!(m.edge_bps.is_finite());
        }
    }
    assert_eq!(spoke, ups.len() - cfg.momentum_long + 1);
}

/// A book around `mid_cents` of the given shape: 0 normal, 1 bid only, 2 empty, 3 locked,
/// 4 crossed.
fn shaped_book(mid_cents: i64, bid_qty: i64, ask_qty: i64, shape: u8) -> BookTop {
    let mut t = book(mid_cents, bid_qty, ask_qty);
    match shape {
        1 => t.ask_levels = 0,
        2 => {
            t.bid_levels = 0;
            t.ask_levels = 0;
        }
        3 => t.asks[0].price = t.bids[0].price,
        4 => t.asks[0].price = Price::from_scaled(mid_cents - 2, 2).unwrap_or_default(),
        _ => {}
    }
    t
}

proptest::proptest! {
    /// Observing from the book alone (`observe_book`, for updates whose signal values were not
    /// computed) leaves every model, the pair's fit included, as observing with the decision
    /// values does: both legs of a pair, random mids and quantities, normal, one-sided, empty,
    /// locked and crossed books, an instrument outside the set (the state compared through
    /// `Debug`, which prints every `f64` so that it reads back bit for bit).
    #[test]
    fn observing_from_the_book_equals_observing_with_the_values(
        steps in proptest::collection::vec(
            (0u32..3, 9_000i64..11_000, 1i64..5_000, 1i64..5_000, proptest::prop_oneof![4 => proptest::strategy::Just(0u8), 1 => 1u8..5]),
            1..120,
        )
    ) {
        let config = AlphaConfig {
            pairs: vec![PairConfig {
                leg_a: InstrumentId(0),
                leg_b: InstrumentId(1),
                halflife: 20.0,
                horizon: 5.0,
                z_full: 2.0,
                confidence: 0.6,
                warmup: 5,
            }],
            ..AlphaConfig::default()
        };
        let mut signals = SignalSet::new(3, &SignalConfig::default());
        let mut with_values = AlphaSet::new(2, &config);
        let mut from_book = AlphaSet::new(2, &config);
        for (seq, (instrument, mid, bq, aq, shape)) in steps.into_iter().enumerate() {
            let u = update(instrument, seq as u64 + 1, shaped_book(mid, bq, aq, shape));
            let values = *signals.update_decision(&u).expect("three instruments");
            with_values.observe(&u, &values);
            from_book.observe_book(&u);
            proptest::prop_assert_eq!(format!("{with_values:?}"), format!("{from_book:?}"));
        }
    }
}
