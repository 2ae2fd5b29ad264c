//! The whole trading path on its threads, as `kestrel replay --gateway --mode threaded` runs
//! it: feed thread -> strategy thread -> gateway thread (its own ring of `GatewayInput`s, the
//! execution reports back to the strategy on a second ring), with 1 ms latency intervals on
//! and streamed to an hlog by the ops thread. A long run (100 rounds of the AAPL sample, orders
//! sent, acknowledged and filled) allocates exactly as much on every hot thread, the gateway's
//! included, as a short one: nothing per update, per order or per fill.
//!
//! The venue answers in process (every order accepted and filled at once), from a preallocated
//! queue, so what is counted on the `gateway` thread is the gateway's own work: OMS, risk,
//! algorithms, TCA, report ring.

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use kestrel_core::clock::{Clock, TscClock};
use kestrel_core::latency::{HlogWriter, LatencyTag};
use kestrel_core::pipeline::{
    CONSUMER, FEED, HlogStream, Ops, PipelineConfig, StageCores, WaitStrategy, run_threaded,
};
use kestrel_core::{InstrumentTable, Timestamp};
use kestrel_feeds::handler::header_instruments;
use kestrel_gateway::engine::{GatewayConfig, OrderGateway};
use kestrel_gateway::journal::NullJournal;
use kestrel_gateway::oms::OmsConfig;
use kestrel_gateway::ouch::{Accepted, ClientMessage, Executed, ServerMessage, Stock};
use kestrel_gateway::risk::RiskLimits;
use kestrel_gateway::stage::{GatewayStage, exec_ring, spawn_gateway_thread};
use kestrel_gateway::venue::{Venue, VenueError, VenueHandler, VenueStatus};
use kestrel_strategy::harmonizer::FillMode;
use kestrel_strategy::stage::{StrategyStage, default_params};
use kestrel_test_support::{AllocCounts, CALLER, CountingAllocator, count_allocations};
use kestrel_tests::replay::{Rounds, aapl_capture, capture_updates};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

/// The gateway thread's name (`spawn_gateway_thread` names it).
const GATEWAY: &str = "gateway";

/// A venue that accepts and fully fills every order at once, from a queue allocated up front.
#[derive(Debug)]
struct FillingVenue {
    inbox: VecDeque<ServerMessage>,
    next_seq: u64,
    order_ref: u64,
    match_number: u64,
}

impl FillingVenue {
    fn new() -> Self {
        Self {
            inbox: VecDeque::with_capacity(1 << 16),
            next_seq: 1,
            order_ref: 1,
            match_number: 1,
        }
    }
}

impl Venue for FillingVenue {
    fn send(&mut self, msg: &ClientMessage, _now: Timestamp) -> Result<(), VenueError> {
        if let ClientMessage::EnterOrder(e) = msg {
            self.order_ref += 1;
            self.match_number += 1;
            self.inbox.push_back(ServerMessage::Accepted(Accepted::live(
                e,
                1,
                self.order_ref,
            )));
            self.inbox.push_back(ServerMessage::Executed(Executed {
                timestamp: 2,
                token: e.token,
                executed_shares: e.shares,
                execution_price: e.price,
                liquidity_flag: b'R',
                match_number: self.match_number,
            }));
        }
        Ok(())
    }

    fn poll<H: VenueHandler>(&mut self, now: Timestamp, handler: &mut H) -> usize {
        let mut n = 0;
        while let Some(m) = self.inbox.pop_front() {
            handler.on_message(self.next_seq, &m, now);
            self.next_seq += 1;
            n += 1;
        }
        n
    }

    fn status(&self) -> VenueStatus {
        VenueStatus::Ready
    }
}

fn config() -> PipelineConfig {
    PipelineConfig {
        ring_size: 1024,
        consumer_wait: WaitStrategy::SpinYield { spins: 20 },
        producer_wait: WaitStrategy::SpinYield { spins: 20 },
        ops_wait: WaitStrategy::Sleep { micros: 100 },
        interval_ms: 1,
        snapshot_slots: 4,
    }
}

struct Counted {
    counts: AllocCounts,
    updates: u64,
    fills: u64,
    intervals: u64,
}

fn counted_run(table: &InstrumentTable, ups: &[kestrel_core::BookUpdate], rounds: u64) -> Counted {
    let clock = TscClock::new();
    let cfg = config();
    let dir = tempfile::tempdir().unwrap();
    let hlog_file =
        std::io::BufWriter::new(std::fs::File::create(dir.path().join("latency.hlog")).unwrap());
    let mut hlog =
        HlogStream::new(HlogWriter::new(hlog_file, clock.now().nanos(), "test").unwrap());
    let gw_cfg = GatewayConfig {
        oms: OmsConfig {
            symbols: table
                .iter()
                .map(|i| Stock::new(&i.symbol).unwrap())
                .collect(),
            ..OmsConfig::default()
        },
        // Wide limits: the point is the gateway's work per order, not its refusals.
        limits: RiskLimits::wide(),
        ..GatewayConfig::default()
    };
    let (report_tx, report_rx) = exec_ring(1 << 14).unwrap();
    let gateway =
        OrderGateway::fresh(gw_cfg, FillingVenue::new(), NullJournal, clock.clone()).unwrap();
    let gateway = GatewayStage::new(gateway, Some(report_tx));
    let strategy = StrategyStage::new(
        table,
        default_params().unwrap(),
        FillMode::External,
        clock.clone(),
    )
    .unwrap()
    .with_exec_reports(report_rx);
    let src = Rounds::new(ups.to_vec(), rounds);
    let stop = AtomicBool::new(false);
    let ((out, gateway), counts) = count_allocations(|| {
        std::thread::scope(|s| {
            let (input_tx, g) = spawn_gateway_thread(
                s,
                gateway,
                cfg.ring_size,
                cfg.producer_wait,
                None,
                Duration::from_secs(5),
                &stop,
            )
            .unwrap();
            let ops = Ops::new().task(&mut hlog);
            let out = run_threaded(
                src,
                strategy,
                input_tx,
                &cfg,
                StageCores::default(),
                &clock,
                ops,
            )
            .unwrap();
            // The run hands its sink back: closing the input ring ends the gateway thread.
            let kestrel_core::pipeline::RunOutput {
                stage,
                report,
                latency,
                sink,
                ..
            } = out;
            drop(sink);
            let (gateway, _settled) = g.join().unwrap();
            let out = (stage, report, latency);
            (out, gateway)
        })
    });
    hlog.finish().unwrap();
    let (mut stage, report, latency) = out;
    assert!(report.balanced(), "{report:?}");
    // Every fill the venue sent came back to the strategy's positions.
    stage.drain_exec_reports();
    let fills = gateway.gateway().oms().stats().fills;
    assert_eq!(stage.exec_tally().fills, fills);
    Counted {
        counts,
        updates: stage.engine_stats().updates,
        fills,
        intervals: latency.intervals(LatencyTag::Strategy),
    }
}

#[test]
fn feed_strategy_and_gateway_threads_allocate_nothing_per_update_order_or_fill() {
    let reader = aapl_capture();
    let table = header_instruments(reader.header()).unwrap();
    let ups = capture_updates(&reader);
    let _ = counted_run(&table, &ups, 1); // warm-up (lazy statics, first clock use)
    let short = counted_run(&table, &ups, 2);
    let long = counted_run(&table, &ups, 60);
    assert!(long.updates > 50_000, "{} updates", long.updates);
    // The strategy's own position limits slow its trading as the rounds go on (every order
    // fills at once, so the position builds), and how far the short run gets before they bind
    // depends on the threads' timing (416 to 522 fills seen): the long run trades more, not 30
    // times as much, and any allocation per order or per fill would still show.
    assert!(
        long.fills > short.fills,
        "the long run must trade more: {} fills, short {}",
        long.fills,
        short.fills
    );
    assert!(long.intervals > 10, "{} intervals", long.intervals);
    for t in [GATEWAY, FEED, CONSUMER] {
        assert!(
            short.counts.of(t) > 0,
            "the counter sees the {t} thread: {:?}",
            short.counts
        );
    }
    for t in [GATEWAY, FEED, CONSUMER] {
        assert_eq!(
            long.counts.of(t),
            short.counts.of(t),
            "thread {t}: {} allocations over {} updates and {} fills, {} over {} and {}\n\
             long: {:?}\nshort: {:?}",
            long.counts.of(t),
            long.updates,
            long.fills,
            short.counts.of(t),
            short.updates,
            short.fills,
            long.counts,
            short.counts
        );
    }
    // The calling thread only spawns and joins the stages and waits for the gateway thread's
    // input sender (`spawn_gateway_thread`'s `std::sync::mpsc` hand-over). std allocates the
    // waiter context the first time a receive has to block, then caches it in a thread-local,
    // so which run pays that one allocation depends on timing (38 against 39 seen in CI).
    // Per-update or per-fill work there would add thousands over 60 rounds, not one.
    let (long_caller, short_caller) = (long.counts.of(CALLER), short.counts.of(CALLER));
    assert!(
        long_caller <= short_caller + 2 && short_caller <= long_caller + 2,
        "the calling thread: {long_caller} allocations over {} updates, {short_caller} over {}\n\
         long: {:?}\nshort: {:?}",
        long.updates,
        short.updates,
        long.counts,
        short.counts
    );
}
