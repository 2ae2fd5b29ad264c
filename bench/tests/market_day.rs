//! The synthetic market day, small enough for CI (the full 5,000-symbol, 50 M-message day is run
//! by hand: see docs/BENCHMARKS.md): the same seed gives the same bytes; every message applies
//! to the books without an anomaly; the dense and sparse days build the same books; and a
//! pipeline replay with a strategy universe publishes only the universe's updates, whose
//! intents equal those of a strategy that saw the same updates filtered after the fact.

use std::io::BufWriter;

use kestrel_bench::market_day::{
    DayReport, KcapSink, MarketDaySpec, RefStyle, TYPE_ORDER, VecSink, generate,
};
use kestrel_core::book::L3Books;
use kestrel_core::clock::{Pace, TscClock};
use kestrel_core::pipeline::{PipelineConfig, Source, SourceStatus, WaitStrategy, run_inline};
use kestrel_core::{BookUpdate, InstrumentId, OrderIntent, Side, Timestamp};
use kestrel_feeds::feed_stage::CaptureSource;
use kestrel_feeds::handler::{FeedEvent, FeedHandler, HandlerConfig, header_instruments};
use kestrel_feeds::kcap::KcapReader;
use kestrel_strategy::harmonizer::FillMode;
use kestrel_strategy::params::UniverseSpec;
use kestrel_strategy::stage::{IntentTally, IntentsOnly, StrategyStage, default_params};
use kestrel_strategy::universe::Universe;

fn spec(refs: RefStyle) -> MarketDaySpec {
    MarketDaySpec {
        seed: 42,
        symbols: 64,
        messages: 200_000,
        refs,
        live_orders: 20_000,
    }
}

fn count(r: &DayReport, t: u8) -> u64 {
    TYPE_ORDER
        .iter()
        .position(|&x| x == t)
        .map_or(0, |i| r.per_type[i])
}

fn kcap(dir: &std::path::Path, refs: RefStyle) -> (std::path::PathBuf, DayReport) {
    let path = dir.join(format!("{refs:?}.kcap"));
    let file = std::fs::File::create(&path).unwrap();
    let mut sink = KcapSink::new(BufWriter::new(file), Timestamp(1));
    let report = generate(&spec(refs), &mut sink).unwrap();
    (path, report)
}

#[test]
fn the_day_is_deterministic_and_every_message_applies() {
    let mut a = VecSink::default();
    let mut b = VecSink::default();
    let ra = generate(&spec(RefStyle::Dense), &mut a).unwrap();
    let rb = generate(&spec(RefStyle::Dense), &mut b).unwrap();
    assert_eq!(ra, rb);
    assert_eq!(a.bytes, b.bytes);
    assert_eq!(ra.messages, 200_000);
    // The mix is a NASDAQ day's: adds and deletes dominate, every book type is present.
    for t in *b"AFDUECXPI" {
        assert!(count(&ra, t) > 0, "no {} message", t as char);
    }
    assert!(count(&ra, b'A') > ra.messages / 3);
    assert!(ra.peak_live > 10_000 && ra.peak_live <= 20_000 + 64 * 8);

    let mut handler = FeedHandler::new(HandlerConfig::default());
    let mut applied = 0u64;
    let mut sink = |e: &FeedEvent, _: &L3Books| applied += u64::from(e.outcome.is_ok());
    handler.replay_itch_file(&a.bytes, &mut sink);
    let s = handler.stats();
    assert_eq!(s.itch_messages, ra.messages);
    assert_eq!(s.anomalies(), 0, "{s:?}");
    let book_messages: u64 = b"AFDUECXPH".iter().map(|&t| count(&ra, t)).sum();
    assert_eq!(s.events, book_messages);
    assert_eq!(applied, book_messages);
    assert_eq!(
        s.book.crossed_events, 0,
        "the generator never crosses a book"
    );
    assert_eq!(handler.books().live_orders() as u64, ra.final_live);
    assert_eq!(handler.instruments().len(), 64);
}

#[test]
fn dense_and_sparse_days_build_the_same_books() {
    let dir = tempfile::tempdir().unwrap();
    let (dense, rd) = kcap(dir.path(), RefStyle::Dense);
    let (sparse, rs) = kcap(dir.path(), RefStyle::Sparse);
    assert_ne!(rd.hash, rs.hash, "only the references differ");
    assert_eq!(rd.per_type, rs.per_type);
    let replay = |path: &std::path::Path| {
        let reader = KcapReader::open(path).unwrap();
        let mut h = FeedHandler::for_capture(HandlerConfig::default(), reader.header()).unwrap();
        h.replay_kcap(&reader, &mut |_: &FeedEvent, _: &L3Books| {});
        assert_eq!(h.stats().anomalies(), 0);
        h
    };
    let (hd, hs) = (replay(&dense), replay(&sparse));
    assert_eq!(hd.stats().events, hs.stats().events);
    for i in 0..64 {
        let id = InstrumentId(i);
        for side in [Side::Buy, Side::Sell] {
            let a: Vec<_> = hd.books().levels(id, side).collect();
            let b: Vec<_> = hs.books().levels(id, side).collect();
            assert_eq!(a, b, "instrument {i} {side:?}");
        }
    }
}

fn pipeline_config() -> PipelineConfig {
    PipelineConfig {
        ring_size: 64,
        consumer_wait: WaitStrategy::SpinYield { spins: 20 },
        producer_wait: WaitStrategy::SpinYield { spins: 20 },
        ops_wait: WaitStrategy::Sleep { micros: 100 },
        interval_ms: 0,
        snapshot_slots: 4,
    }
}

#[test]
fn a_universe_replay_publishes_only_its_instruments() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = kcap(dir.path(), RefStyle::Dense);
    let reader = KcapReader::open(&path).unwrap();
    let table = header_instruments(reader.header()).unwrap();
    // Three busy symbols, named out of id order.
    let spec = UniverseSpec::Symbols(vec!["AAAC".into(), "AAAA".into(), "AAAH".into()]);
    let universe = Universe::resolve(&table, Some(&spec)).unwrap();
    let members = [InstrumentId(2), InstrumentId(0), InstrumentId(7)];
    assert_eq!(universe.members(), members);
    let clock = TscClock::new();
    let params = default_params().unwrap();

    // (a) The pipeline: the feed publishes the universe only, the stage is sized to it.
    let handler = FeedHandler::for_capture(HandlerConfig::default(), reader.header()).unwrap();
    let source = CaptureSource::new(handler, reader.records(), Pace::Max, clock.clone())
        .with_publish_mask(universe.mask());
    let stage = StrategyStage::for_universe(
        &universe,
        params,
        FillMode::SimulatedImmediateFill,
        clock.clone(),
    )
    .unwrap();
    assert_eq!(stage.engine().harmonizer().instruments(), 3);
    let run = run_inline(
        source,
        stage,
        IntentsOnly(Vec::<OrderIntent>::new()),
        &pipeline_config(),
        &clock,
        kestrel_core::pipeline::Ops::new(),
    )
    .unwrap();
    let intents = run.sink.0;
    assert!(!intents.is_empty(), "the strategy trades its universe");
    assert!(intents.iter().all(|i| members.contains(&i.instrument)));
    assert_eq!(run.stage.outside_updates(), 0);

    // (b) Every update of the unfiltered feed, filtered and renumbered after the fact.
    let handler = FeedHandler::for_capture(HandlerConfig::default(), reader.header()).unwrap();
    let mut all = CaptureSource::new(handler, reader.records(), Pace::Max, clock.clone());
    let mut updates: Vec<BookUpdate> = Vec::new();
    while all.poll(&mut updates) != SourceStatus::Done {}
    let ours: Vec<BookUpdate> = updates
        .iter()
        .filter_map(|u| {
            let slot = members.iter().position(|m| *m == u.instrument)?;
            Some(BookUpdate {
                instrument: InstrumentId(slot as u32),
                ..*u
            })
        })
        .collect();
    assert_eq!(run.source.updates(), ours.len() as u64);
    assert_eq!(
        run.source.unpublished(),
        updates.len() as u64 - ours.len() as u64
    );
    assert_eq!(run.stage.engine_stats().updates, ours.len() as u64);
    let mut alone = StrategyStage::new(
        universe.table(),
        params,
        FillMode::SimulatedImmediateFill,
        clock.clone(),
    )
    .unwrap();
    let mut only = IntentsOnly(Vec::<OrderIntent>::new());
    for u in &ours {
        kestrel_core::pipeline::Stage::on_event(&mut alone, u, &mut only);
    }
    let mut expected = only.0;
    for i in &mut expected {
        i.instrument = members[i.instrument.index()];
    }
    let tally = |v: &[OrderIntent]| {
        let mut t = IntentTally::default();
        v.iter().for_each(|i| t.add(i));
        t
    };
    assert_eq!(intents.len(), expected.len());
    assert_eq!(tally(&intents), tally(&expected));
    assert_eq!(intents, expected);
}
