//! `kestrel backtest`: the strategy, the OMS and pre-trade risk against the simulated
//! exchange's matching engine and queue model, in process, on one thread, in the capture's time.
//!
//! The same code as live: the strategy engine (signals, alphas, harmonizer) decides on book
//! updates; the gateway engine (`OrderGateway`: OMS, risk, algos, TCA) turns intents into OUCH
//! orders through the `Venue` trait, here the in-process `BacktestVenue`; execution reports go
//! back to the harmonizer's positions. Time is an injected clock set to each event's time;
//! latencies (order entry, response, market data) come from the exchange config. Same inputs,
//! same output: the last line carries the fill count and a hash of every fill.

use std::cell::Cell;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use kestrel_core::clock::Clock;
use kestrel_core::latency::LatencyCollector;
use kestrel_core::pipeline::RunMode;
use kestrel_core::{
    BookTop, BookUpdate, ExecKind, ExecReport, GatewayInput, InstrumentTable, Qty, Timestamp,
    TradingStatus,
};
use kestrel_gateway::engine::{GatewayConfig, OrderGateway};
use kestrel_gateway::journal::NullJournal;
use kestrel_gateway::oms::OmsConfig;
use kestrel_gateway::ouch::Stock;
use kestrel_sim::backtest::BacktestVenue;
use kestrel_sim::exchange::ExchangeConfig;
use kestrel_sim::latency::{LatencyModel, Stream};
use kestrel_sim::market::{BackgroundFeed, open_capture};
use kestrel_sim::venue::{SimVenue, VenueConfig};
use kestrel_strategy::alpha::{AlphaConfig, AlphaSet, MODEL_COUNT};
use kestrel_strategy::engine::{SignalAlphaEdges, StrategyEngine};
use kestrel_strategy::harmonizer::{FillMode, Harmonizer};
use kestrel_strategy::params::{StrategyParams, parse_params};
use kestrel_strategy::signals::{SignalConfig, SignalSet};
use kestrel_strategy::stage::{DEFAULT_PARAMS_TOML, default_params};

use crate::session::id::fresh_session_dir;
use crate::session::summary::Summary;
use crate::session::trading::{
    PnlTrack, TcaSummary, TradingFields, TradingInputs, fills_csv, print_trading, trading_fields,
};
use crate::session::write::SessionDir;

/// `kestrel backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// The market: a .kcap, a LOBSTER message CSV (orderbook file beside it) or an ITCH file.
    pub path: PathBuf,
    /// Strategy parameters (TOML; default: the built-in examples/strategy.toml).
    #[arg(long)]
    pub strategy_params: Option<PathBuf>,
    /// Exchange configuration (latency model, self-match prevention; see
    /// examples/sim-exchange.toml).
    #[arg(long)]
    pub exchange_config: Option<PathBuf>,
    /// P&L sampling interval for Sharpe, Sortino and the equity curve, milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub pnl_interval_ms: u64,
    /// Session directory to write (default sessions/<utc-time>-backtest).
    #[arg(long)]
    pub session_dir: Option<PathBuf>,
}

/// The backtest's injected clock: event time, set by the loop.
#[derive(Clone, Debug, Default)]
pub struct EventClock(Rc<Cell<u64>>);

impl EventClock {
    fn set(&self, t: Timestamp) {
        self.0.set(t.nanos().max(self.0.get()));
    }
}

impl Clock for EventClock {
    #[inline]
    fn now(&self) -> Timestamp {
        Timestamp(self.0.get())
    }
}

/// What one backtest produced.
#[derive(Debug)]
pub struct BacktestResult {
    /// Background events replayed.
    pub events: u64,
    /// Book updates the strategy saw.
    pub updates: u64,
    /// Intents the strategy emitted.
    pub intents: u64,
    /// Wall time.
    pub elapsed_s: f64,
    /// The trading figures.
    pub trading: TradingFields,
    /// Fills as CSV.
    pub fills_csv: String,
    /// Equity curve as CSV.
    pub pnl_csv: String,
    /// Final book hash of the venue (every instrument).
    pub book_hash: u64,
}

fn load_params(path: Option<&Path>) -> anyhow::Result<(StrategyParams, String)> {
    match path {
        None => Ok((
            default_params().context("the built-in strategy parameters")?,
            DEFAULT_PARAMS_TOML.to_owned(),
        )),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading strategy parameters {}", p.display()))?;
            let params = parse_params(&text)
                .and_then(|x| x.expect_models(MODEL_COUNT).map(|()| x))
                .with_context(|| format!("strategy parameters {}", p.display()))?;
            Ok((params, text))
        }
    }
}

/// The strategy engine exactly as the strategy stage builds it, with fills from the gateway.
pub fn strategy_engine(
    table: &InstrumentTable,
    params: StrategyParams,
) -> anyhow::Result<StrategyEngine<SignalAlphaEdges>> {
    let lots: Vec<Qty> = table.iter().map(|i| i.lot_size).collect();
    let source = SignalAlphaEdges::new(
        SignalSet::for_table(table, &SignalConfig::default()),
        AlphaSet::new(table.len(), &AlphaConfig::default()),
    );
    let harmonizer =
        Harmonizer::new(params, &lots, FillMode::External).context("building the harmonizer")?;
    StrategyEngine::new(source, harmonizer).context("building the strategy engine")
}

/// Applies the gateway's execution reports to the strategy's positions.
pub fn apply_reports(engine: &mut StrategyEngine<SignalAlphaEdges>, reports: &mut Vec<ExecReport>) {
    let h = engine.harmonizer_mut();
    for r in reports.drain(..) {
        match r.kind {
            ExecKind::Fill => h.on_fill(r.instrument, r.side, r.qty, r.price),
            ExecKind::Done | ExecKind::Rejected | ExecKind::RiskRejected => {
                h.on_order_done(r.instrument, r.side, r.qty);
            }
            ExecKind::Broken => h.on_fill(r.instrument, r.side.opposite(), r.qty, r.price),
            ExecKind::Accepted | ExecKind::Replaced => {}
        }
    }
}

/// The OMS symbols of a table.
pub fn symbols(table: &InstrumentTable) -> Vec<Stock> {
    table
        .iter()
        .map(|i| Stock::new(&i.symbol).unwrap_or(Stock::BLANK))
        .collect()
}

/// Runs a backtest of `capture`.
pub fn run_backtest(
    capture: &Path,
    params: StrategyParams,
    exchange: &ExchangeConfig,
    pnl_interval_ns: u64,
) -> anyhow::Result<BacktestResult> {
    let cap = open_capture(capture)?;
    let mut table = cap.instruments.clone();
    if table.is_empty() {
        // No instrument table in the header: learn it from the R messages first.
        let mut scan = BackgroundFeed::new(&cap.reader, InstrumentTable::new());
        while scan.next_event().is_some() {}
        table = scan.instruments().clone();
    }
    if table.is_empty() {
        anyhow::bail!("{}: no instrument in the capture", capture.display());
    }
    let mut bg = BackgroundFeed::new(&cap.reader, table.clone());
    let venue = SimVenue::new(
        &table,
        1,
        VenueConfig {
            latency: exchange.latency,
            smp: exchange.smp.into(),
            publish_feed: false,
            ..VenueConfig::default()
        },
    );
    let clock = EventClock::default();
    let mut gw = OrderGateway::fresh(
        GatewayConfig {
            oms: OmsConfig {
                symbols: symbols(&table),
                ..OmsConfig::default()
            },
            ..GatewayConfig::default()
        },
        BacktestVenue::new(venue),
        NullJournal,
        clock.clone(),
    )
    .context("building the gateway")?;
    let mut engine = strategy_engine(&table, params)?;
    let mut md_latency = LatencyModel::new(exchange.latency);
    let mut md: VecDeque<(u64, BookUpdate)> = VecDeque::with_capacity(4096);
    let mut reports: Vec<ExecReport> = Vec::with_capacity(256);
    let mut track = PnlTrack::new(pnl_interval_ns);
    let mut top = BookTop::default();
    let (mut updates, mut intents, mut seq) = (0u64, 0u64, 0u64);
    let mut sink = kestrel_sim::publish::NullPackets;
    let started = Instant::now();
    if let Some(t0) = bg.peek_ts() {
        gw.venue_mut().venue_mut().start(t0);
    }
    loop {
        let t_bg = bg.peek_ts().map(|t| t.nanos());
        let t_md = md.front().map(|m| m.0);
        let t_venue = gw.venue().venue().next_due().map(|t| t.nanos());
        let Some(t) = [t_bg, t_md, t_venue].into_iter().flatten().min() else {
            break;
        };
        clock.set(Timestamp(t));
        if t_md == Some(t) {
            // The strategy sees a book update (after the market-data delay).
            let Some((_, update)) = md.pop_front() else {
                break;
            };
            updates += 1;
            let input = match engine.on_update(&update) {
                Some(intent) => {
                    intents += 1;
                    GatewayInput::intent(&update, Timestamp(t), intent)
                }
                None => GatewayInput::market(&update, Timestamp(t)),
            };
            gw.on_input(&input, &mut reports);
            gw.poll(&mut reports);
            apply_reports(&mut engine, &mut reports);
        } else {
            let bt = gw.venue_mut();
            bt.venue_mut()
                .advance(Timestamp(t), Some(&mut bg), &mut sink);
            let venue = bt.venue_mut();
            let touched: Vec<_> = venue.take_touched().collect();
            for id in touched {
                venue.fill_top(id, &mut top);
                seq += 1;
                let due = md_latency.due(Stream::MarketData, Timestamp(t)).nanos();
                md.push_back((
                    due,
                    BookUpdate {
                        instrument: id,
                        seq,
                        exch_ts: Timestamp(t),
                        recv_ts: Timestamp(due),
                        top,
                        trade: Default::default(),
                        trading: venue.engine().status(id) == Some(TradingStatus::Trading),
                        more_in_packet: false,
                        stamps: Default::default(),
                    },
                ));
            }
            if gw.venue().undelivered() > 0 {
                gw.poll(&mut reports);
                apply_reports(&mut engine, &mut reports);
            }
        }
        if track.due(Timestamp(t)) {
            let (r, u, f) = gw.oms().totals();
            let pos: i64 = gw.oms().positions().map(|p| p.net).sum();
            track.sample(
                Timestamp(t),
                kestrel_gateway::oms::money_f64(r + u - f),
                pos,
            );
        }
    }
    gw.poll(&mut reports);
    apply_reports(&mut engine, &mut reports);
    let elapsed_s = started.elapsed().as_secs_f64();
    let venue = gw.venue().venue();
    let queue_ahead: Vec<f64> = venue
        .fills()
        .iter()
        .filter(|f| f.maker)
        .map(|f| f.queue_ahead.raw() as f64 / Qty::ONE.raw() as f64)
        .collect();
    let tca = gw.tca().session();
    let risk = gw.risk().stats();
    let mut risk_events = Vec::new();
    if risk.rejected_total() > 0 {
        risk_events.push(format!("pre_trade_rejects={}", risk.rejected_total()));
    }
    let trading = trading_fields(&TradingInputs {
        fills: gw.oms().fills().all(),
        totals: gw.oms().totals(),
        orders: gw.stats().orders_sent,
        shares_entered: venue.order_entry_stats().shares_accepted,
        queue_ahead: &queue_ahead,
        track: &track,
        tick_to_trade: None,
        tca: Some(TcaSummary {
            slippage_bps: tca.slippage_bps,
            effective_spread_bps: tca.effective_spread_bps,
            realised_spread_bps: tca.realised_spread_bps,
        }),
        risk_events,
    });
    let mut book_hash = kestrel_core::book::StableHasher::new();
    for i in table.iter() {
        book_hash.write_u64(venue.engine().book_hash(i.id));
    }
    Ok(BacktestResult {
        events: bg.stats().events,
        updates,
        intents,
        elapsed_s,
        fills_csv: fills_csv(gw.oms().fills().all()),
        pnl_csv: track.csv(),
        trading,
        book_hash: book_hash.finish(),
    })
}

impl BacktestArgs {
    /// Runs the backtest, writes the session directory and prints the report.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let (params, params_text) = load_params(self.strategy_params.as_deref())?;
        let exchange = match &self.exchange_config {
            Some(p) => ExchangeConfig::load(p)?,
            None => ExchangeConfig::default(),
        };
        let started = std::time::SystemTime::now();
        let r = run_backtest(
            &self.path,
            params,
            &exchange,
            self.pnl_interval_ms.max(1) * 1_000_000,
        )
        .with_context(|| format!("backtest of {}", self.path.display()))?;
        let dir = self
            .session_dir
            .clone()
            .unwrap_or_else(|| fresh_session_dir(Path::new("sessions"), started, "backtest"));
        let session = SessionDir::create(&dir)?;
        session.write_text("strategy.toml", &params_text)?;
        session.write_text("fills.csv", &r.fills_csv)?;
        session.write_text("pnl.csv", &r.pnl_csv)?;
        session.write_latency(&LatencyCollector::new(), "kestrel backtest")?;
        let summary = Summary {
            session: dir
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            input: self.path.display().to_string(),
            mode: RunMode::Inline,
            pace: "max".into(),
            records: 0,
            events: r.events,
            elapsed_s: r.elapsed_s,
            throughput_eps: r.events as f64 / r.elapsed_s.max(1e-9),
            drops: 0,
            anomalies: 0,
            backpressure_waits: 0,
            backpressure_ns: 0,
            stages: Vec::new(),
            output_hash: String::new(),
            book_hash: format!("{:016x}", r.book_hash),
            threads: Vec::new(),
            warnings: Vec::new(),
            strategy: None,
            trading: r.trading.clone(),
            sidecar: None,
            gateway: None,
        };
        session.write_summary(&summary)?;
        println!(
            "backtest {} events={} updates={} intents={} elapsed={:.3}s events_per_s={:.0} session={}",
            self.path.display(),
            r.events,
            r.updates,
            r.intents,
            r.elapsed_s,
            r.events as f64 / r.elapsed_s.max(1e-9),
            dir.display()
        );
        print_trading(&r.trading);
        println!(
            "fills={} fill_hash={} orders={} pnl={:.2} book_hash={:016x}",
            r.trading.fills.unwrap_or(0),
            r.trading.fill_hash.as_deref().unwrap_or("-"),
            r.trading.orders.unwrap_or(0),
            r.trading.pnl.map_or(0.0, |p| p.net),
            r.book_hash
        );
        Ok(ExitCode::SUCCESS)
    }
}
