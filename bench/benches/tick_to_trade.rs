//! Tick-to-trade inside the process: from the return of the receive call that brought a
//! market-data record (the capture read; in a paced replay, the time the record was meant to
//! arrive, so a late pipeline shows in the tail) to the return of the socket `write` that
//! carried the order, through feed decode, the book, the strategy, pre-trade risk, the OMS,
//! the journal ring, the OUCH encode and the SoupBinTCP session, inline and threaded. The
//! venue is a minimal loopback SoupBinTCP/OUCH server answering each order with a dead
//! Accepted (so positions and open orders stay bounded and the strategy keeps trading).
//!
//! `cargo bench -p kestrel-bench --bench tick_to_trade -- [capture.kcap|-] [pace] [rounds]`
//! (default: the bundled AAPL sample, pace `max`, 3 rounds; pace `100` replays 100x faster
//! than recorded with coordinated-omission-correct receive stamps).
//!
//! Every thread is pinned: inline, the pipeline runs on the feed core; threaded, the feed,
//! strategy and gateway threads each on theirs; the venue on its own. The default cores are
//! 0, 1, 2 and 3 (feed, strategy, gateway, venue), wrapped onto the cores there are: on a
//! 2-core host the gateway shares core 0 with the feed and the venue core 1 with the strategy,
//! which the header says. `KESTREL_T2T_CORES=f,s,g,v` sets them.

use std::time::Duration;

use kestrel_bench::latency_table::{print_header, print_row};
use kestrel_bench::order_venue::{Answer, BenchVenue};
use kestrel_core::Timestamp;
use kestrel_core::clock::{Pace, TscClock};
use kestrel_core::latency::{Histogram, new_histogram};
use kestrel_core::pipeline::{
    Ops, PipelineConfig, StageCores, WaitStrategy, run_inline, run_threaded,
};
use kestrel_feeds::feed_stage::CaptureSource;
use kestrel_feeds::handler::{FeedHandler, HandlerConfig, header_instruments};
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::lobster::{parse_messages, parse_orderbook, plan_import, write_lobster_capture};
use kestrel_gateway::engine::{GatewayConfig, OrderGateway};
use kestrel_gateway::journal::{self, JournalConfig, JournalSender};
use kestrel_gateway::oms::OmsConfig;
use kestrel_gateway::ouch::Stock;
use kestrel_gateway::risk::RiskLimits;
use kestrel_gateway::session::{Credentials, SessionConfig, SoupClient};
use kestrel_gateway::stage::{GatewayStage, exec_ring, spawn_gateway_thread};
use kestrel_gateway::venue::{Venue, VenueStatus};
use kestrel_strategy::harmonizer::FillMode;
use kestrel_strategy::stage::{StrategyStage, default_params};

const MESSAGES: &str =
    include_str!("../../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv");
const BOOK: &str =
    include_str!("../../data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv");

type Stage = GatewayStage<SoupClient, JournalSender, TscClock>;

fn args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-') || a == "-")
        .collect()
}

fn capture() -> KcapReader {
    match args().first().filter(|a| *a != "-") {
        Some(path) => KcapReader::open(path).expect("open the capture"),
        None => {
            let plan = plan_import(parse_messages(MESSAGES), parse_orderbook(BOOK));
            let bytes =
                write_lobster_capture(&plan, "AAPL", Timestamp::ZERO, Vec::new()).expect("capture");
            KcapReader::from_vec(bytes).expect("capture")
        }
    }
}

/// Where each thread runs.
#[derive(Clone, Copy, Debug)]
struct Cores {
    feed: usize,
    strategy: usize,
    gateway: usize,
    venue: usize,
}

fn cores() -> Cores {
    let given: Vec<usize> = std::env::var("KESTREL_T2T_CORES")
        .ok()
        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .unwrap_or_default();
    if let [feed, strategy, gateway, venue] = given[..] {
        return Cores {
            feed,
            strategy,
            gateway,
            venue,
        };
    }
    let allowed = kestrel_core::cpu::allowed_cores().unwrap_or_else(|| vec![0]);
    let at = |i: usize| allowed[i % allowed.len()];
    Cores {
        feed: at(0),
        strategy: at(1),
        gateway: at(2),
        venue: at(3),
    }
}

fn gateway(
    reader: &KcapReader,
    clock: &TscClock,
    dir: &std::path::Path,
    round: usize,
    venue_core: usize,
) -> (
    Stage,
    kestrel_core::pipeline::RingReceiver<kestrel_core::ExecReport>,
    BenchVenue,
    journal::JournalHandle,
) {
    let venue = BenchVenue::start(Answer::Dead, Some(venue_core)).expect("venue");
    let table = header_instruments(reader.header()).expect("instruments");
    let cfg = GatewayConfig {
        oms: OmsConfig {
            symbols: table
                .iter()
                .map(|i| Stock::new(&i.symbol).unwrap_or_default())
                .collect(),
            ..OmsConfig::default()
        },
        limits: RiskLimits::wide(),
        ..GatewayConfig::default()
    };
    let (tx, handle) = journal::spawn(&JournalConfig::new(
        dir.join(format!("t2t-{round}.journal")),
    ))
    .expect("journal");
    let client = SoupClient::new(SessionConfig::new(
        venue.addr,
        Credentials::new("BENCH", "pw").expect("creds"),
    ));
    let gw = OrderGateway::fresh(cfg, client, tx, clock.clone()).expect("gateway");
    let (rtx, rrx) = exec_ring(1 << 14).expect("ring");
    let mut stage = GatewayStage::new(gw, Some(rtx)).poll_every(4);
    while stage.gateway().venue().status() != VenueStatus::Ready {
        stage.poll();
        std::thread::sleep(Duration::from_micros(100));
    }
    (stage, rrx, venue, handle)
}

fn finish(stage: Stage, venue: BenchVenue, handle: journal::JournalHandle) -> Histogram<u64> {
    let mut g = stage.into_gateway();
    struct Q;
    impl kestrel_gateway::venue::VenueHandler for Q {
        fn on_message(&mut self, _: u64, _: &kestrel_gateway::ouch::ServerMessage, _: Timestamp) {}
    }
    g.venue_mut().logout(Timestamp(0), &mut Q);
    let h = g.tick_to_trade().clone();
    let (_, _, j) = g.into_parts();
    drop(j);
    let _ = handle.join();
    venue.join();
    h
}

fn machine() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let gov = std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
        .unwrap_or_else(|_| "n/a".into());
    format!(
        "cpus={cpus} loadavg={} governor={}",
        load.trim(),
        gov.trim()
    )
}

fn main() {
    let a = args();
    let pace: Pace = a
        .get(1)
        .map_or("max", String::as_str)
        .parse()
        .expect("pace");
    let rounds: usize = a.get(2).and_then(|r| r.parse().ok()).unwrap_or(3);
    let reader = capture();
    let dir = tempfile::tempdir().expect("tmp");
    let clock = TscClock::new();
    let params = default_params().expect("params");
    let table = header_instruments(reader.header()).expect("instruments");
    let pipeline = PipelineConfig {
        consumer_wait: WaitStrategy::SpinYield { spins: 1_000 },
        producer_wait: WaitStrategy::SpinYield { spins: 1_000 },
        ops_wait: WaitStrategy::Sleep { micros: 200 },
        ..PipelineConfig::default()
    };
    let cores = cores();
    println!(
        "tick-to-trade (record received -> order write returned), pace {pace:?}, {rounds} rounds, us; machine: {}; cores: {cores:?}",
        machine()
    );
    print_header("mode", "orders");
    let mut inline = new_histogram();
    let mut threaded = new_histogram();
    for round in 0..rounds {
        // Inline: feed, strategy and gateway in sequence on this thread, on the feed core.
        kestrel_core::cpu::pin_current_thread(cores.feed);
        let (stage, rrx, venue, handle) =
            gateway(&reader, &clock, dir.path(), round * 2, cores.venue);
        let strategy = StrategyStage::new(&table, params, FillMode::External, clock.clone())
            .expect("strategy")
            .with_exec_reports(rrx);
        let handler =
            FeedHandler::for_capture(HandlerConfig::default(), reader.header()).expect("handler");
        let source = CaptureSource::new(handler, reader.records(), pace, clock.clone());
        let out =
            run_inline(source, strategy, stage, &pipeline, &clock, Ops::new()).expect("inline run");
        let mut stage = out.sink;
        stage.drain(Duration::from_secs(2), true);
        let h = finish(stage, venue, handle);
        inline.add(&h).expect("merge");

        // Threaded: feed thread, strategy thread, gateway thread.
        let (stage, rrx, venue, handle) =
            gateway(&reader, &clock, dir.path(), round * 2 + 1, cores.venue);
        let strategy = StrategyStage::new(&table, params, FillMode::External, clock.clone())
            .expect("strategy")
            .with_exec_reports(rrx);
        let handler =
            FeedHandler::for_capture(HandlerConfig::default(), reader.header()).expect("handler");
        let source = CaptureSource::new(handler, reader.records(), pace, clock.clone());
        let stop = std::sync::atomic::AtomicBool::new(false);
        let h = std::thread::scope(|s| {
            let (tx, g) = spawn_gateway_thread(
                s,
                stage,
                1 << 14,
                WaitStrategy::SpinYield { spins: 1_000 },
                Some(cores.gateway),
                Duration::from_secs(2),
                &stop,
            )
            .expect("gateway thread");
            let out = run_threaded(
                source,
                strategy,
                tx,
                &pipeline,
                StageCores {
                    feed: Some(cores.feed),
                    consumer: Some(cores.strategy),
                    ops: None,
                },
                &clock,
                Ops::new(),
            )
            .expect("threaded run");
            drop(out.sink);
            let (stage, _) = g.join().expect("gateway thread");
            finish(stage, venue, handle)
        });
        threaded.add(&h).expect("merge");
    }
    print_row("inline", &inline);
    print_row("threaded", &threaded);
}
