//! The real AAPL capture (LOBSTER sample imported as MoldUDP64/ITCH) through the pipeline:
//! inline and threaded runs give the same updates (count and output hash), every event is
//! accounted for, and the updates agree with the feed handler run on its own.

use std::time::Duration;

use kestrel_core::Timestamp;
use kestrel_core::book::L3Books;
use kestrel_core::clock::{Pace, TscClock};
use kestrel_core::latency::LatencyTag;
use kestrel_core::pipeline::{
    Discard, Emit, Ops, OutputHash, PipelineConfig, Stage, StageCores, UpdateHasher, WaitStrategy,
    run_inline, run_threaded,
};
use kestrel_feeds::feed_stage::CaptureSource;
use kestrel_feeds::handler::{FeedEvent, FeedHandler, HandlerConfig};
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::lobster::{parse_messages, parse_orderbook, plan_import, write_lobster_capture};

const MESSAGES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
));
const BOOK: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
));

fn aapl_capture() -> KcapReader {
    let plan = plan_import(parse_messages(MESSAGES), parse_orderbook(BOOK));
    let bytes = write_lobster_capture(&plan, "AAPL", Timestamp::ZERO, Vec::new()).unwrap();
    KcapReader::from_vec(bytes).unwrap()
}

fn config() -> PipelineConfig {
    PipelineConfig {
        ring_size: 64,
        consumer_wait: WaitStrategy::SpinYield { spins: 20 },
        producer_wait: WaitStrategy::SpinYield { spins: 20 },
        ops_wait: WaitStrategy::Sleep { micros: 100 },
        interval_ms: 0,
        snapshot_slots: 4,
    }
}

fn source<'a>(
    reader: &'a KcapReader,
    clock: &TscClock,
    pace: Pace,
) -> CaptureSource<kestrel_feeds::kcap::Records<'a>> {
    let handler = FeedHandler::for_capture(HandlerConfig::default(), reader.header()).unwrap();
    CaptureSource::new(handler, reader.records(), pace, clock.clone())
}

#[test]
fn inline_and_threaded_replays_of_the_real_capture_agree() {
    let reader = aapl_capture();
    let clock = TscClock::new();
    let inline = run_inline(
        source(&reader, &clock, Pace::Max),
        UpdateHasher::default(),
        Discard,
        &config(),
        &clock,
        Ops::new(),
    )
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let clock2 = clock.clone();
    std::thread::spawn(move || {
        let reader = aapl_capture();
        let out = run_threaded(
            source(&reader, &clock2, Pace::Max),
            UpdateHasher::default(),
            Discard,
            &config(),
            StageCores::default(),
            &clock2,
            Ops::new(),
        )
        .unwrap();
        let _ = tx.send((
            out.stage.output(),
            out.report.clone(),
            out.source.stats().anomalies(),
            out.source.handler().books_hash(),
        ));
    });
    let (threaded_out, threaded_report, threaded_anomalies, threaded_books) = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("threaded replay did not finish");
    let inline_out = inline.stage.output();
    // The AAPL excerpt has 998 events after 09:30, plus the imported preamble.
    assert!(inline_out.events >= 998, "{inline_out:?}");
    assert_eq!(inline_out, threaded_out);
    assert!(inline.report.balanced() && threaded_report.balanced());
    assert_eq!(inline.source.stats().anomalies(), 0);
    assert_eq!(threaded_anomalies, 0);
    assert_eq!(inline.source.handler().books_hash(), threaded_books);

    // The same updates, built from the handler alone (no pipeline): one per accepted event.
    let mut handler = FeedHandler::for_capture(HandlerConfig::default(), reader.header()).unwrap();
    let mut direct = OutputHash::default();
    let mut seq = 0u64;
    let mut sink = |fe: &FeedEvent, books: &L3Books| {
        if let Ok(applied) = fe.outcome {
            seq += 1;
            let mut top = kestrel_core::BookTop::default();
            books.fill_top(fe.event.instrument, &mut top);
            direct.add(&kestrel_core::BookUpdate {
                instrument: fe.event.instrument,
                seq,
                exch_ts: fe.event.exch_ts,
                recv_ts: fe.recv_ts,
                top,
                trade: applied.trade.unwrap_or_default(),
                trading: books.status(fe.event.instrument) == kestrel_core::TradingStatus::Trading,
                stamps: Default::default(),
            });
        }
    };
    handler.replay_kcap(&reader, &mut sink);
    assert_eq!(direct, inline_out);
}

/// A consumer that takes `delay` per update (slower than the paced schedule).
struct Slow {
    delay: Duration,
    inner: UpdateHasher,
}

impl Stage for Slow {
    type In = kestrel_core::BookUpdate;
    type Out = ();

    fn on_event<E: Emit<()>>(&mut self, event: &kestrel_core::BookUpdate, out: &mut E) {
        let start = std::time::Instant::now();
        while start.elapsed() < self.delay {
            std::hint::spin_loop();
        }
        self.inner.on_event(event, out);
    }
}

#[test]
fn paced_replay_counts_from_the_intended_send_time() {
    let reader = aapl_capture();
    let clock = TscClock::new();
    let times: Vec<u64> = reader
        .records()
        .filter_map(Result::ok)
        .map(|r| r.recv_ts.nanos())
        .collect();
    let span = times.last().unwrap() - times.first().unwrap();
    assert!(span > 0);
    // Schedule the whole capture into 20 ms while each update takes 100 us to consume
    // (about 100 ms in all): the pipeline falls behind and queueing delay builds up.
    let factor = span as f64 / 20e6;
    let slow = |d| Slow {
        delay: Duration::from_micros(d),
        inner: UpdateHasher::default(),
    };
    let paced = run_inline(
        source(&reader, &clock, Pace::Factor(factor)),
        slow(100),
        Discard,
        &config(),
        &clock,
        Ops::new(),
    )
    .unwrap();
    let unpaced = run_inline(
        source(&reader, &clock, Pace::Max),
        slow(100),
        Discard,
        &config(),
        &clock,
        Ops::new(),
    )
    .unwrap();
    assert_eq!(paced.stage.inner.output(), unpaced.stage.inner.output());
    assert!(paced.report.balanced());
    let e2e_paced = paced.latency.total(LatencyTag::EndToEnd);
    let e2e_unpaced = unpaced.latency.total(LatencyTag::EndToEnd);
    assert_eq!(e2e_paced.len(), paced.stage.inner.output().events);
    // Unpaced, each update's latency is about its own service time; paced, the delay behind
    // the intended schedule is counted too (coordinated-omission correction).
    assert!(e2e_unpaced.value_at_percentile(50.0) < 5_000_000);
    assert!(
        e2e_paced.max() > 30_000_000,
        "paced max e2e {} ns",
        e2e_paced.max()
    );
}
