//! The real AAPL capture (LOBSTER sample imported as MoldUDP64/ITCH) through the pipeline:
//! inline and threaded runs give the same updates (count and output hash), every event is
//! accounted for, and the updates agree with the feed handler run on its own.

use std::time::Duration;

use kestrel_core::Timestamp;
use kestrel_core::book::L3Books;
use kestrel_core::clock::{Pace, TscClock};
use kestrel_core::latency::LatencyTag;
use kestrel_core::pipeline::{
    Discard, Emit, Ops, OutputHash, PipelineConfig, Source, SourceStatus, Stage, StageCores,
    UpdateHasher, WaitStrategy, run_inline, run_threaded,
};
use kestrel_core::{BookUpdate, InstrumentId, Qty};
use kestrel_feeds::feed_stage::{CaptureSource, PublishPolicy};
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
                more_in_packet: false,
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

/// What a consumer acting on the last update of each instrument in a packet sees.
fn last_per_instrument(updates: &[BookUpdate]) -> Vec<(InstrumentId, BookUpdate)> {
    let mut last: Vec<(InstrumentId, BookUpdate)> = Vec::new();
    for u in updates {
        let mut u = *u;
        u.seq = 0;
        u.stamps = Default::default();
        u.trade = Default::default();
        match last.iter_mut().find(|(id, _)| *id == u.instrument) {
            Some(slot) => slot.1 = u,
            None => last.push((u.instrument, u)),
        }
    }
    last.sort_by_key(|(id, _)| id.0);
    last
}

#[test]
fn packet_policy_publishes_each_packets_final_books_and_every_print() {
    let reader = aapl_capture();
    let clock = TscClock::new();
    let mut every = source(&reader, &clock, Pace::Max);
    let mut packet = source(&reader, &clock, Pace::Max).with_policy(PublishPolicy::Packet);
    assert_eq!(packet.policy(), PublishPolicy::Packet);
    let (mut all, mut merged) = (Vec::new(), Vec::new());
    let mut packets = 0u64;
    loop {
        all.clear();
        merged.clear();
        let status = every.poll(&mut all);
        assert_eq!(status, packet.poll(&mut merged));
        if status == SourceStatus::Done {
            break;
        }
        packets += 1;
        // Every trade print, in order, each in an update of its own.
        let prints = |v: &[BookUpdate]| {
            v.iter()
                .filter(|u| u.trade.qty != Qty::ZERO)
                .map(|u| (u.instrument, u.trade, u.top))
                .collect::<Vec<_>>()
        };
        assert_eq!(prints(&all), prints(&merged), "packet {packets}");
        // One decision per instrument and packet: flagged exactly when a later update of the
        // instrument follows in the packet; every event policy flags nothing.
        for (k, u) in merged.iter().enumerate() {
            let later = merged[k + 1..].iter().any(|v| v.instrument == u.instrument);
            assert_eq!(u.more_in_packet, later, "packet {packets}");
        }
        assert!(all.iter().all(|u| !u.more_in_packet));
        // The book each instrument is left in by the packet is the one last published for it.
        assert_eq!(
            last_per_instrument(&all),
            last_per_instrument(&merged),
            "packet {packets}"
        );
        assert!(merged.len() <= all.len());
    }
    // Every accepted event is accounted for: published, or merged into a later update.
    assert_eq!(every.updates(), packet.updates() + packet.merged());
    assert_eq!(packet.unpublished(), 0);
    // The capture's opening book arrives as one packet of many adds: merging did happen.
    assert!(packet.merged() > 0, "nothing merged");
    assert!(packet.updates() < every.updates());
    assert_eq!(every.handler().books_hash(), packet.handler().books_hash());
}

/// `msgs` as one MoldUDP64 packet (one capture record), through a source with `policy`.
fn one_packet(msgs: &[Vec<u8>], policy: PublishPolicy) -> (Vec<BookUpdate>, u64) {
    let (out, merged, _) = one_packet_masked(msgs, policy, None);
    (out, merged)
}

/// [`one_packet`] with a publish mask; also returns the events left unpublished.
fn one_packet_masked(
    msgs: &[Vec<u8>],
    policy: PublishPolicy,
    mask: Option<Vec<bool>>,
) -> (Vec<BookUpdate>, u64, u64) {
    use kestrel_feeds::kcap::Record;
    use kestrel_feeds::moldudp64::{MoldPacketBuilder, MoldSession};
    let mut builder = MoldPacketBuilder::new(MoldSession::from_name("PKT").unwrap(), 1);
    let mut packet = Vec::new();
    for m in msgs {
        assert!(!builder.push(m, &mut packet).unwrap(), "one packet");
    }
    assert!(builder.finish_into(&mut packet));
    let records = std::iter::once(Ok::<_, std::convert::Infallible>(Record {
        recv_ts: Timestamp(1_000),
        seq: 0,
        channel: 0,
        payload: &packet,
    }));
    let handler = FeedHandler::new(HandlerConfig::default());
    let mut source =
        CaptureSource::new(handler, records, Pace::Max, TscClock::new()).with_policy(policy);
    if let Some(mask) = mask {
        source = source.with_publish_mask(mask);
    }
    let mut out = Vec::new();
    while source.poll(&mut out) != SourceStatus::Done {}
    (out, source.merged(), source.unpublished())
}

/// A stock directory message naming `symbol` at `locate`.
fn directory(locate: u16, symbol: &str) -> Vec<u8> {
    kestrel_feeds::itch::StockDirectoryMsg {
        stock_locate: locate,
        stock: kestrel_feeds::itch::stock_field(symbol).unwrap(),
        ..Default::default()
    }
    .to_bytes()
    .unwrap()
    .to_vec()
}

/// An add order message of 100 shares.
fn add_order(locate: u16, order_ref: u64, side_code: u8, price: u32) -> Vec<u8> {
    kestrel_feeds::itch::AddOrderMsg {
        stock_locate: locate,
        order_ref,
        side_code,
        shares: 100,
        price,
        ..Default::default()
    }
    .to_bytes()
    .unwrap()
    .to_vec()
}

#[test]
fn packet_policy_sends_halts_as_they_happen_and_merges_the_rest() {
    use kestrel_feeds::itch::{MwcbStatusMsg, OperationalHaltMsg};
    let dir = directory;
    let add = |locate, order_ref, price| add_order(locate, order_ref, b'S', price);
    let halt = OperationalHaltMsg {
        stock_locate: 1,
        market_code: b'Q',
        operational_halt_action: b'H',
        ..Default::default()
    }
    .to_bytes()
    .unwrap()
    .to_vec();
    let breaker = MwcbStatusMsg {
        breached_level: b'1',
        ..Default::default()
    }
    .to_bytes()
    .unwrap()
    .to_vec();
    let msgs = [
        dir(1, "AAPL"),
        dir(2, "MSFT"),
        add(1, 1, 1_000_000),
        add(1, 2, 1_000_100),
        halt,
        add(1, 3, 1_000_200),
        breaker,
        add(2, 4, 2_000_000),
        add(2, 5, 2_000_100),
    ];
    let (every, none_merged) = one_packet(&msgs, PublishPolicy::EveryEvent);
    assert_eq!(none_merged, 0);
    let (packet, merged) = one_packet(&msgs, PublishPolicy::Packet);
    let flags: Vec<(u32, bool, u8, bool)> = packet
        .iter()
        .map(|u| {
            (
                u.instrument.0,
                u.trading,
                u.top.ask_levels,
                u.more_in_packet,
            )
        })
        .collect();
    // The last field: a later update of the instrument follows in the packet (the strategy
    // decides on AAPL's breaker update and MSFT's final book only).
    assert_eq!(
        flags,
        [
            (0, false, 2, true),  // the halt, as it happens, with the two adds before it
            (0, false, 3, false), // the circuit breaker, on every instrument at once
            (1, false, 0, true),
            (1, false, 2, false), // MSFT's adds after it, merged, after the packet's last message
        ]
    );
    assert!(every.iter().all(|u| !u.more_in_packet));
    assert_eq!(merged, 4);
    assert_eq!(every.len() as u64, packet.len() as u64 + merged);
    // The last update of each instrument shows the book the packet left.
    assert_eq!(last_per_instrument(&every), last_per_instrument(&packet));
}

/// Instruments the handler learns mid-stream (from stock directory messages) are published per
/// the publish mask's entry for their id, or not at all beyond the mask; a circuit breaker
/// reaches only the published ones; every accepted event is published, merged or counted as
/// unpublished, under both policies.
#[test]
fn the_publish_mask_covers_instruments_learned_mid_stream() {
    use kestrel_feeds::itch::MwcbStatusMsg;
    let dir = directory;
    let add = |locate, order_ref, price| add_order(locate, order_ref, b'B', price);
    let breaker = MwcbStatusMsg {
        breached_level: b'2',
        ..Default::default()
    }
    .to_bytes()
    .unwrap()
    .to_vec();
    let msgs = [
        dir(1, "AAPL"),
        add(1, 1, 1_000_000),
        dir(2, "MSFT"),
        add(2, 2, 2_000_000),
        dir(3, "IBM"),
        add(3, 3, 3_000_000),
        breaker,
        add(1, 4, 1_000_100),
        add(3, 5, 3_000_100),
    ];
    for policy in [PublishPolicy::EveryEvent, PublishPolicy::Packet] {
        let (all, all_merged, none) = one_packet_masked(&msgs, policy, None);
        assert_eq!(none, 0);
        // AAPL (0) out, MSFT (1) in, IBM (2) beyond the mask: out.
        let (masked, merged, unpublished) =
            one_packet_masked(&msgs, policy, Some(vec![false, true]));
        let ids: Vec<u32> = masked.iter().map(|u| u.instrument.0).collect();
        assert!(
            !ids.is_empty() && ids.iter().all(|&i| i == 1),
            "{policy:?} {ids:?}"
        );
        // MSFT: its add, and the breaker (urgent, carrying the add under the packet policy).
        let msft_all = all.iter().filter(|u| u.instrument.0 == 1).count() as u64;
        assert_eq!(masked.len() as u64, msft_all, "{policy:?}");
        assert_eq!(
            all.len() as u64 + all_merged,
            masked.len() as u64 + merged + unpublished,
            "{policy:?}"
        );
        // AAPL: two adds and the breaker; IBM: two adds and the breaker.
        assert_eq!(unpublished, 6, "{policy:?}");
        assert_eq!(last_per_instrument(&masked), {
            let mut msft = last_per_instrument(&all);
            msft.retain(|(id, _)| id.0 == 1);
            msft
        });
    }
}
