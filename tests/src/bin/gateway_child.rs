//! A trading process for the gateway's crash test (`tests/tests/gateway_sim_session.rs`): the
//! real pipeline (capture -> feed -> strategy -> gateway) inline, sending the strategy's intents
//! to a venue over SoupBinTCP with a journal, forcing one disconnect after some fills. The test
//! kills it with SIGKILL mid-run and rebuilds its state from the journal.
//!
//! `gateway_child KCAP HOST:PORT CREDENTIALS JOURNAL PACE DISCONNECT_AFTER_FILLS`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use kestrel_core::GatewayInput;
use kestrel_core::clock::{Clock, Pace, TscClock};
use kestrel_core::pipeline::{Emit, PipelineConfig, run_inline};
use kestrel_feeds::feed_stage::CaptureSource;
use kestrel_feeds::handler::{FeedHandler, HandlerConfig, header_instruments};
use kestrel_feeds::kcap::KcapReader;
use kestrel_gateway::engine::{GatewayConfig, OrderGateway};
use kestrel_gateway::journal::{self, JournalConfig, JournalSender};
use kestrel_gateway::oms::OmsConfig;
use kestrel_gateway::ouch::Stock;
use kestrel_gateway::session::{Credentials, SessionConfig, SoupClient};
use kestrel_gateway::stage::{GatewayStage, exec_ring};
use kestrel_gateway::venue::{Venue, VenueStatus};
use kestrel_strategy::harmonizer::FillMode;
use kestrel_strategy::stage::{StrategyStage, default_params};

type Stage = GatewayStage<SoupClient, JournalSender, TscClock>;

/// The strategy's sink: the gateway in sequence, with one forced disconnect.
struct Sink {
    stage: Stage,
    disconnect_after: u64,
    disconnected: bool,
    clock: TscClock,
}

impl Emit<GatewayInput> for Sink {
    fn emit(&mut self, input: GatewayInput) {
        self.stage.on_input(&input);
        if !self.disconnected && self.stage.gateway().oms().stats().fills >= self.disconnect_after {
            self.disconnected = true;
            let now = self.clock.now();
            self.stage.gateway_mut().venue_mut().force_disconnect(now);
            eprintln!("gateway_child: forced a disconnect");
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, kcap, addr, creds, journal_path, pace, after] = args.as_slice() else {
        return Err(
            "usage: gateway_child KCAP HOST:PORT CREDENTIALS JOURNAL PACE DISCONNECT_AFTER_FILLS"
                .into(),
        );
    };
    let reader = KcapReader::open(kcap)?;
    let table = header_instruments(reader.header())?;
    let clock = TscClock::new();
    let cfg = GatewayConfig {
        oms: OmsConfig {
            symbols: table
                .iter()
                .map(|i| Stock::new(&i.symbol).ok_or("symbol"))
                .collect::<Result<_, _>>()?,
            first_order_number: kestrel_gateway::token::TokenGen::wall_clock_floor(),
            ..OmsConfig::default()
        },
        ..GatewayConfig::default()
    };
    let journal_path = PathBuf::from(journal_path);
    let rec = journal::recover(&journal_path, cfg.oms.clone())?;
    let mut session = SessionConfig::new(addr.parse()?, Credentials::from_file(creds.as_ref())?);
    session.next_seq = rec.oms.next_seq();
    session.backoff_initial_ns = 20_000_000;
    let (tx, _journal) = journal::spawn(&JournalConfig::new(&journal_path))?;
    let (rtx, rrx) = exec_ring(1 << 14)?;
    let gateway = OrderGateway::new(cfg, rec.oms, SoupClient::new(session), tx, clock.clone());
    let mut stage = GatewayStage::new(gateway, Some(rtx));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while stage.gateway().venue().status() != VenueStatus::Ready {
        stage.poll();
        if std::time::Instant::now() > deadline {
            return Err("login timed out".into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let strategy =
        StrategyStage::new(&table, default_params()?, FillMode::External, clock.clone())?
            .with_exec_reports(rrx);
    let handler = FeedHandler::for_capture(HandlerConfig::default(), reader.header())?;
    let source = CaptureSource::new(
        handler,
        reader.records(),
        Pace::Factor(pace.parse()?),
        clock.clone(),
    );
    let sink = Sink {
        stage,
        disconnect_after: after.parse()?,
        disconnected: false,
        clock: clock.clone(),
    };
    let out = run_inline(
        source,
        strategy,
        sink,
        &PipelineConfig::default(),
        &clock,
        kestrel_core::pipeline::Ops::new(),
    )?;
    let mut sink = out.sink;
    sink.stage.drain(Duration::from_secs(5), true);
    let oms = sink.stage.gateway().oms();
    println!(
        "gateway_child: done fills={} position={} open={}",
        oms.stats().fills,
        oms.position(kestrel_core::InstrumentId(0)),
        oms.open_count()
    );
    // Stay up: the test kills this process.
    std::thread::sleep(Duration::from_secs(60));
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gateway_child: {e}");
            ExitCode::FAILURE
        }
    }
}
