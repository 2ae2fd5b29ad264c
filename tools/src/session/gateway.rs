//! The gateway in a replay (`kestrel replay F.kcap --gateway HOST:PORT --credentials FILE`):
//! the strategy's intents go out as OUCH 4.2 orders over SoupBinTCP 3.00 to any venue (an
//! exchange's test environment, or `kestrel sim-exchange`) while the capture drives the market
//! data; fills come back into the strategy's positions.
//!
//! The session directory gets the order journal (`gateway.journal`). If it already holds one
//! (the same `--session-dir` after a crash or `kill -9`), the gateway rebuilds its open orders,
//! positions and venue sequence number from it, cuts a torn tail, and logs back in where it
//! left off. Credentials come from a mode-0600 file and never reach the output, a log or the
//! session directory.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use kestrel_core::clock::{Clock, TscClock};
use kestrel_core::latency::{StageSummary, summarize};
use kestrel_core::pipeline::{Emit, RingReceiver, RingSender};
use kestrel_core::{ExecReport, GatewayInput, InstrumentTable, Price};
use kestrel_gateway::algo::AlgoKind;
use kestrel_gateway::engine::{GatewayConfig, IntentAlgo, OrderGateway};
use kestrel_gateway::journal::{self, FsyncPolicy, JournalConfig, JournalHandle, JournalSender};
use kestrel_gateway::oms::{Fees, OmsConfig, money_f64};
use kestrel_gateway::ouch::Stock;
use kestrel_gateway::risk::{RiskCheck, RiskLimits};
use kestrel_gateway::session::{Credentials, SessionConfig, SoupClient};
use kestrel_gateway::soupbin::SessionId;
use kestrel_gateway::stage::{GatewayStage, exec_ring};
use kestrel_gateway::token::TokenGen;
use kestrel_gateway::venue::Venue;
use serde::{Deserialize, Serialize};

use super::trading::{self, PnlTrack, TradingFields, TradingInputs, trading_fields};

/// The journal's file name in the session directory.
pub const JOURNAL_FILE: &str = "gateway.journal";

/// The gateway stage of a replay.
pub type ReplayGateway = GatewayStage<SoupClient, JournalSender, TscClock>;

/// `--gateway` and friends.
#[derive(Clone, Debug)]
pub struct GatewayArgs {
    /// The venue's SoupBinTCP address, `HOST:PORT`.
    pub addr: String,
    /// `username:password` file, mode 0600; `None`: the login comes from the environment
    /// (`KESTREL_OUCH_USERNAME`, `KESTREL_OUCH_PASSWORD`).
    pub credentials: Option<PathBuf>,
    /// Gateway settings (TOML; see examples/gateway.toml).
    pub config: Option<PathBuf>,
}

/// `examples/gateway.toml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayFile {
    /// Pre-trade limits.
    pub limits: LimitsFile,
    /// Order handling.
    pub orders: OrdersFile,
    /// Fees per share.
    pub fees: FeesFile,
    /// The journal.
    pub journal: JournalFile,
    /// The SoupBinTCP session.
    pub session: SessionFile,
}

/// `[limits]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsFile {
    /// Largest order, shares.
    pub max_order_shares: u32,
    /// Largest order notional, dollars (decimal string).
    pub max_order_notional: String,
    /// Largest absolute position per instrument after the worst-case fill of open orders.
    pub max_position: u64,
    /// Price band around the mid, basis points.
    pub price_band_bps: u32,
    /// Open orders at once.
    pub max_open_orders: u32,
    /// Open orders per instrument and side.
    pub max_open_per_side: u32,
    /// Sustained order rate per second.
    pub orders_per_second: u32,
    /// Burst.
    pub burst: u32,
    /// Refuse orders that would trade against our own.
    pub self_trade_prevention: bool,
}

impl Default for LimitsFile {
    fn default() -> Self {
        let l = RiskLimits::default();
        Self {
            max_order_shares: l.max_order_shares,
            max_order_notional: l.max_order_notional.to_string(),
            max_position: l.max_position,
            price_band_bps: l.price_band_bps,
            max_open_orders: l.max_open_orders,
            max_open_per_side: l.max_open_per_side,
            orders_per_second: l.orders_per_second,
            burst: l.burst,
            self_trade_prevention: l.self_trade_prevention,
        }
    }
}

/// `[orders]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrdersFile {
    /// Two characters of `[0-9A-Z]` starting every order token.
    pub token_prefix: String,
    /// Cancel our orders on the other side when an intent arrives.
    pub cancel_opposite: bool,
    /// Cancel resting orders older than this (capture time, ms; 0: never).
    pub order_ttl_ms: u64,
    /// `direct`, `twap`, `vwap` or `iceberg`.
    pub algo: String,
    /// TWAP/VWAP schedule length, ms of capture time.
    pub algo_duration_ms: u64,
    /// TWAP/VWAP slices.
    pub algo_slices: u32,
    /// Iceberg display size, shares.
    pub iceberg_display: u32,
    /// Seconds to wait at the end for open orders to finish before cancelling them.
    pub drain_s: f64,
}

impl Default for OrdersFile {
    fn default() -> Self {
        Self {
            token_prefix: "KS".to_owned(),
            cancel_opposite: true,
            order_ttl_ms: 0,
            algo: "direct".to_owned(),
            algo_duration_ms: 60_000,
            algo_slices: 10,
            iceberg_display: 100,
            drain_s: 2.0,
        }
    }
}

/// `[fees]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeesFile {
    /// Dollars per share when adding liquidity (negative: rebate).
    pub maker_per_share: String,
    /// Dollars per share when removing liquidity.
    pub taker_per_share: String,
}

impl Default for FeesFile {
    fn default() -> Self {
        Self {
            maker_per_share: "-0.0020".to_owned(),
            taker_per_share: "0.0030".to_owned(),
        }
    }
}

/// `[journal]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JournalFile {
    /// `never`, `batch`, `records:N` or `interval:MS`.
    pub fsync: String,
}

impl Default for JournalFile {
    fn default() -> Self {
        Self {
            fsync: "batch".to_owned(),
        }
    }
}

/// `[session]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionFile {
    /// SoupBinTCP session name to log into (empty: the current one).
    pub name: String,
    /// Heartbeat interval, ms.
    pub heartbeat_ms: u64,
    /// Silence timeout, ms.
    pub timeout_ms: u64,
    /// Seconds to wait for the first login before giving up.
    pub login_wait_s: f64,
}

impl Default for SessionFile {
    fn default() -> Self {
        Self {
            name: String::new(),
            heartbeat_ms: 1_000,
            timeout_ms: 15_000,
            login_wait_s: 10.0,
        }
    }
}

fn price(field: &str, text: &str) -> anyhow::Result<Price> {
    text.parse::<Price>()
        .map_err(|e| anyhow::anyhow!("gateway config {field} = {text:?}: {e}"))
}

impl GatewayFile {
    /// Reads and checks a gateway TOML file (`None`: the defaults).
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading gateway config {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("gateway config {}", path.display()))
    }

    /// The engine settings for `table`'s instruments.
    pub fn engine_config(
        &self,
        table: &InstrumentTable,
        first_order_number: u64,
    ) -> anyhow::Result<GatewayConfig> {
        let symbols = table
            .iter()
            .map(|i| {
                Stock::new(&i.symbol).with_context(|| {
                    format!("symbol {:?} does not fit OUCH's 8 characters", i.symbol)
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let l = &self.limits;
        let o = &self.orders;
        let intent_algo = match o.algo.as_str() {
            "direct" => IntentAlgo::Direct,
            "twap" => IntentAlgo::Parent(AlgoKind::Twap {
                duration_ns: o.algo_duration_ms * 1_000_000,
                slices: o.algo_slices,
            }),
            "vwap" => IntentAlgo::Parent(AlgoKind::Vwap {
                duration_ns: o.algo_duration_ms * 1_000_000,
                slices: o.algo_slices,
            }),
            "iceberg" => IntentAlgo::Parent(AlgoKind::Iceberg {
                display: o.iceberg_display,
            }),
            other => anyhow::bail!(
                "gateway config orders.algo = {other:?}: expected direct, twap, vwap or iceberg"
            ),
        };
        TokenGen::new(&o.token_prefix, 1)
            .map_err(|e| anyhow::anyhow!("gateway config orders.token_prefix: {e}"))?;
        Ok(GatewayConfig {
            oms: OmsConfig {
                token_prefix: o.token_prefix.clone(),
                first_order_number,
                fees: Fees {
                    maker_per_share: price("fees.maker_per_share", &self.fees.maker_per_share)?,
                    taker_per_share: price("fees.taker_per_share", &self.fees.taker_per_share)?,
                },
                symbols,
                ..OmsConfig::default()
            },
            limits: RiskLimits {
                max_order_shares: l.max_order_shares,
                max_order_notional: price("limits.max_order_notional", &l.max_order_notional)?,
                max_position: l.max_position,
                price_band_bps: l.price_band_bps,
                max_open_orders: l.max_open_orders,
                max_open_per_side: l.max_open_per_side,
                orders_per_second: l.orders_per_second,
                burst: l.burst,
                self_trade_prevention: l.self_trade_prevention,
            },
            cancel_opposite: o.cancel_opposite,
            order_ttl_ns: o.order_ttl_ms * 1_000_000,
            intent_algo,
            ..GatewayConfig::default()
        })
    }

    /// The journal's sync policy.
    pub fn fsync(&self) -> anyhow::Result<FsyncPolicy> {
        FsyncPolicy::parse(&self.journal.fsync).with_context(|| {
            format!(
                "gateway config journal.fsync = {:?}: expected never, batch, records:N or interval:MS",
                self.journal.fsync
            )
        })
    }
}

/// What [`prepare`] built.
pub struct Prepared {
    /// The stage (inline sink, or the gateway thread's work).
    pub stage: ReplayGateway,
    /// The strategy's end of the report ring.
    pub reports: RingReceiver<ExecReport>,
    /// Everything else, for the end of the run.
    pub rest: Rest,
}

/// What the end of the run needs besides the stage.
pub struct Rest {
    /// The journal writer.
    pub journal: JournalHandle,
    /// What the journal rebuilt.
    pub recovered: RecoveredSummary,
    /// How long to drain at the end.
    pub drain: Duration,
    /// The venue address.
    pub addr: SocketAddr,
    /// Trades the VWAP volume profiles were built from (0 without VWAP).
    pub profile_trades: u64,
}

/// What a restart rebuilt from an existing journal.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecoveredSummary {
    /// Records replayed.
    pub records: usize,
    /// Bytes of torn tail cut.
    pub torn_tail_bytes: u64,
    /// Open orders rebuilt.
    pub open_orders: usize,
    /// Venue sequence number logged in at.
    pub next_seq: u64,
    /// Records that did not apply cleanly.
    pub anomalies: u64,
}

/// Builds the gateway for a replay: credentials, config, journal recovery, the session client,
/// the engine and the report ring. Logs in before returning (or fails after the wait).
pub fn prepare(
    args: &GatewayArgs,
    table: &InstrumentTable,
    dir: &Path,
    clock: &TscClock,
) -> anyhow::Result<Prepared> {
    let credentials = match &args.credentials {
        Some(file) => Credentials::from_file(file)?,
        None => Credentials::from_env().context("--gateway without --credentials")?,
    };
    let file = GatewayFile::load(args.config.as_deref())?;
    let addr = args
        .addr
        .to_socket_addrs()
        .with_context(|| format!("--gateway {}", args.addr))?
        .next()
        .with_context(|| format!("--gateway {}: no address", args.addr))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let journal_path = dir.join(JOURNAL_FILE);
    let cfg = file.engine_config(table, TokenGen::wall_clock_floor())?;
    let rec = journal::recover(&journal_path, cfg.oms.clone())
        .with_context(|| format!("rebuilding from {}", journal_path.display()))?;
    let recovered = RecoveredSummary {
        records: rec.records,
        torn_tail_bytes: rec.torn_tail_cut,
        open_orders: rec.oms.open_count(),
        next_seq: rec.oms.next_seq(),
        anomalies: rec.anomalies,
    };
    let mut session = SessionConfig::new(addr, credentials);
    session.next_seq = rec.oms.next_seq();
    session.session = match (&rec.session, file.session.name.as_str()) {
        (Some(s), _) => *s,
        (None, "") => SessionId::BLANK,
        (None, name) => {
            SessionId::new(name).with_context(|| format!("gateway config session.name {name:?}"))?
        }
    };
    session.heartbeat_interval_ns = file.session.heartbeat_ms * 1_000_000;
    session.silence_timeout_ns = file.session.timeout_ms * 1_000_000;
    let mut jcfg = JournalConfig::new(&journal_path);
    jcfg.fsync = file.fsync()?;
    let (tx, journal) = journal::spawn(&jcfg)?;
    let (rtx, reports) = exec_ring(1 << 16)?;
    let mut gateway = OrderGateway::new(cfg, rec.oms, SoupClient::new(session), tx, clock.clone());
    if rec.kill_switch {
        gateway.kill();
    }
    let mut stage = GatewayStage::new(gateway, Some(rtx));
    // Log in before the market starts.
    let deadline =
        std::time::Instant::now() + Duration::from_secs_f64(file.session.login_wait_s.max(0.1));
    while stage.gateway().venue().status() != kestrel_gateway::venue::VenueStatus::Ready {
        stage.poll();
        if stage.gateway().venue().status() == kestrel_gateway::venue::VenueStatus::Ended
            || std::time::Instant::now() > deadline
        {
            anyhow::bail!(
                "could not log in to {addr} ({:?}); the venue refused the login or is not listening",
                stage.gateway().venue().stats()
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(Prepared {
        stage,
        reports,
        rest: Rest {
            journal,
            recovered,
            drain: Duration::from_secs_f64(file.orders.drain_s.max(0.0)),
            addr,
            profile_trades: 0,
        },
    })
}

/// Bucket width of the VWAP volume profiles built from a capture: one minute.
pub const PROFILE_BUCKET_NS: u64 = 60_000_000_000;

/// Whether `--gateway-config` asks for VWAP (which needs volume profiles).
pub fn wants_vwap(args: &GatewayArgs) -> anyhow::Result<bool> {
    Ok(GatewayFile::load(args.config.as_deref())?.orders.algo == "vwap")
}

/// Builds every instrument's intraday volume profile from the trades of `capture` (a first
/// pass over the file, venue time of day, one-minute buckets) and loads them for VWAP.
/// Returns the trades counted.
pub fn load_profiles(
    stage: &mut ReplayGateway,
    capture: &kestrel_feeds::handler::CaptureFile,
    instruments: usize,
) -> anyhow::Result<u64> {
    let mut trades: Vec<Vec<(u64, u64)>> = vec![Vec::new(); instruments];
    let mut handler = capture.handler(kestrel_feeds::handler::HandlerConfig::default())?;
    let mut counted = 0u64;
    capture.replay(
        &mut handler,
        &mut |e: &kestrel_feeds::handler::FeedEvent, _: &kestrel_core::book::L3Books| {
            if let Ok(applied) = &e.outcome
                && let Some(t) = applied.trade
                && let Some(v) = trades.get_mut(applied.instrument.index())
            {
                let shares = u64::try_from(t.qty.raw() / 100_000_000).unwrap_or(0);
                let at = if e.event.exch_ts.nanos() != 0 {
                    e.event.exch_ts.nanos()
                } else {
                    e.recv_ts.nanos()
                };
                v.push((at, shares));
                counted += 1;
            }
        },
    );
    for (i, t) in trades.into_iter().enumerate() {
        let profile = kestrel_gateway::algo::VolumeProfile::from_trades(PROFILE_BUCKET_NS, t);
        stage
            .gateway_mut()
            .algos_mut()
            .set_profile(kestrel_core::InstrumentId(i as u32), profile);
    }
    Ok(counted)
}

/// The strategy stage's sink: nothing, the gateway in sequence, or the gateway thread's ring.
pub enum GatewaySink {
    /// A replay without a gateway.
    None,
    /// Inline: the gateway called in sequence.
    Inline(Box<ReplayGateway>),
    /// Threaded: the ring to the gateway thread.
    Ring(RingSender<GatewayInput>),
}

impl Emit<GatewayInput> for GatewaySink {
    #[inline]
    fn emit(&mut self, event: GatewayInput) {
        match self {
            GatewaySink::None => {}
            GatewaySink::Inline(g) => g.on_input(&event),
            GatewaySink::Ring(tx) => {
                tx.send(event);
            }
        }
    }

    /// No gateway: the strategy stage need not build its gateway inputs.
    #[inline]
    fn discards(&self) -> bool {
        matches!(self, GatewaySink::None)
    }
}

/// One instrument's position at the end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PositionSummary {
    /// Symbol.
    pub symbol: String,
    /// Net shares.
    pub net: i64,
    /// Average cost.
    pub avg_cost: f64,
    /// Realised P&L, dollars.
    pub realised: f64,
    /// Unrealised P&L at the last mid, dollars.
    pub unrealised: f64,
    /// Fees, dollars.
    pub fees: f64,
    /// Fills.
    pub fills: u64,
}

/// The gateway's part of `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GatewaySummary {
    /// Venue address.
    pub venue: String,
    /// SoupBinTCP session logged into.
    pub session: String,
    /// Journal file (relative to the session directory).
    pub journal: String,
    /// What a restart rebuilt (zeros for a fresh journal).
    pub recovered: RecoveredSummary,
    /// Orders sent.
    pub orders: u64,
    /// Cancels sent.
    pub cancels: u64,
    /// Fills.
    pub fills: u64,
    /// Venue rejects.
    pub rejects: u64,
    /// Pre-trade refusals by check.
    pub risk_rejects: std::collections::BTreeMap<String, u64>,
    /// Per-instrument positions with fills.
    pub positions: Vec<PositionSummary>,
    /// Realised + unrealised - fees, dollars.
    pub pnl: f64,
    /// Realised, dollars.
    pub realised: f64,
    /// Unrealised, dollars.
    pub unrealised: f64,
    /// Fees, dollars.
    pub fees: f64,
    /// Session TCA: slippage vs arrival, effective and realised spread, bps.
    pub tca: TcaSummary,
    /// The execution algorithm: what each intent became (absent in sessions written before it
    /// existed).
    #[serde(default)]
    pub algo: AlgoSummary,
    /// Tick-to-trade (receive return to send return), ns.
    pub tick_to_trade: StageSummary,
    /// Logins, disconnects, protocol errors, heartbeats.
    pub link: LinkSummary,
    /// Execution reports that found the ring full (kept in order, none dropped).
    pub report_backpressure: u64,
    /// Journal records written, bytes, syncs.
    pub journal_records: u64,
    /// Whether every order finished before the end (else they were cancelled).
    pub settled: bool,
    /// Fills for orders the OMS had no record of, reconciled from their tokens.
    pub reconciled_fills: u64,
}

/// Session TCA figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TcaSummary {
    /// Shares filled.
    pub shares: u64,
    /// Parent orders finished (TWAP, VWAP, iceberg); each one's figures are in `parents.csv`.
    #[serde(default)]
    pub parents: u64,
    /// Their target shares.
    #[serde(default)]
    pub parent_target_shares: u64,
    /// Shares filled by them.
    #[serde(default)]
    pub parent_filled_shares: u64,
    /// Implementation shortfall over the finished parents, bps of their target notional at
    /// the arrival mids (execution cost on what filled plus opportunity cost on what did not).
    #[serde(default)]
    pub implementation_shortfall_bps: f64,
    /// Slippage against the arrival mid, bps.
    pub slippage_bps: f64,
    /// Effective spread, bps.
    pub effective_spread_bps: f64,
    /// Realised spread, bps.
    pub realised_spread_bps: f64,
}

/// The execution algorithm: what each intent became.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AlgoSummary {
    /// `direct` (one order per intent), `twap`, `vwap` or `iceberg` (a parent per intent).
    pub kind: String,
    /// Parents started.
    pub started: u64,
    /// Parents finished.
    pub finished: u64,
    /// Child orders sent.
    pub children: u64,
    /// Parents refused (no free slot, no volume profile for VWAP).
    pub refused: u64,
    /// Trades the VWAP volume profiles were built from.
    pub profile_trades: u64,
}

/// Link counters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkSummary {
    /// Logins.
    pub logins: u64,
    /// Links lost.
    pub disconnects: u64,
    /// Malformed packets from the venue.
    pub protocol_errors: u64,
    /// Heartbeats sent.
    pub heartbeats_sent: u64,
    /// Heartbeats received.
    pub heartbeats_received: u64,
}

/// The SoupBinTCP session client behind a venue (the client itself, or a wrapper around it).
pub trait SessionLink: Venue {
    /// The client.
    fn link(&self) -> &SoupClient;
    /// The client, mutably.
    fn link_mut(&mut self) -> &mut SoupClient;
}

impl SessionLink for SoupClient {
    fn link(&self) -> &SoupClient {
        self
    }
    fn link_mut(&mut self) -> &mut SoupClient {
        self
    }
}

/// What [`finish`] takes besides the stage: the P&L track and the queue position of each
/// resting fill, where the run kept them (a replay keeps neither).
#[derive(Debug, Default)]
pub struct Extras<'a> {
    /// The equity curve sampled in event time.
    pub track: Option<&'a PnlTrack>,
    /// Shares ahead of each of our resting orders' fills, at the venue.
    pub queue_ahead: &'a [f64],
}

/// Ends the gateway: logs out, closes the journal and returns its summary and the trading
/// figures (the top-level keys a backtest writes too: fills, pnl, tick_to_trade, tca, ...);
/// writes the tick-to-trade distribution and `fills.csv` into `dir`.
#[allow(clippy::too_many_arguments)]
pub fn finish<V: SessionLink>(
    stage: GatewayStage<V, JournalSender, TscClock>,
    journal: JournalHandle,
    settled: bool,
    recovered: RecoveredSummary,
    addr: SocketAddr,
    table: &InstrumentTable,
    dir: &Path,
    extras: Extras<'_>,
) -> anyhow::Result<(GatewaySummary, TradingFields)> {
    let sink_stats = stage.sink_stats();
    let mut gateway = stage.into_gateway();
    let clock_now = TscClock::new().now();
    struct NoLink;
    impl kestrel_gateway::venue::VenueHandler for NoLink {
        fn on_message(
            &mut self,
            _: u64,
            _: &kestrel_gateway::ouch::ServerMessage,
            _: kestrel_core::Timestamp,
        ) {
        }
    }
    gateway
        .venue_mut()
        .link_mut()
        .logout(clock_now, &mut NoLink);
    let t2t = gateway.tick_to_trade().clone();
    let mut f = std::fs::File::create(dir.join("latency-tick_to_trade.hgrm"))?;
    kestrel_core::latency::write_percentile_distribution(&mut f, &t2t, 5, 1000.0)?;
    let stats = gateway.stats();
    let oms_stats = gateway.oms().stats();
    let risk = gateway.risk().stats();
    let link = gateway.venue().link().stats();
    let session = gateway.venue().link().session().to_string();
    let tca = gateway.tca().session();
    let parents = gateway.tca().parent_totals();
    let algo_stats = gateway.algos().stats();
    let algo_kind = match gateway.config().intent_algo {
        IntentAlgo::Direct => "direct",
        IntentAlgo::Parent(AlgoKind::Twap { .. }) => "twap",
        IntentAlgo::Parent(AlgoKind::Vwap { .. }) => "vwap",
        IntentAlgo::Parent(AlgoKind::Iceberg { .. }) => "iceberg",
    };
    if parents.parents > 0 {
        std::fs::write(
            dir.join("parents.csv"),
            parents_csv(gateway.tca().finished_parents(), table),
        )?;
    }
    let positions: Vec<PositionSummary> = gateway
        .oms()
        .positions()
        .zip(table.iter())
        .filter(|(p, _)| p.fills > 0)
        .map(|(p, i)| PositionSummary {
            symbol: i.symbol.clone(),
            net: p.net,
            avg_cost: p.avg_cost.to_f64(),
            realised: money_f64(p.realised),
            unrealised: money_f64(p.unrealised),
            fees: money_f64(p.fees),
            fills: p.fills,
        })
        .collect();
    let (realised, unrealised, fees) = gateway.oms().totals();
    let mut risk_events: Vec<String> = RiskCheck::ALL
        .iter()
        .filter(|c| risk.rejected[**c as usize] > 0)
        .map(|c| format!("{}={}", c.name(), risk.rejected[*c as usize]))
        .collect();
    if gateway.risk().killed() {
        risk_events.push("kill_switch=tripped".to_owned());
    }
    std::fs::write(
        dir.join("fills.csv"),
        trading::fills_csv(gateway.oms().fills().all()),
    )?;
    let trading = trading_fields(&TradingInputs {
        fills: gateway.oms().fills().all(),
        totals: (realised, unrealised, fees),
        orders: stats.orders_sent,
        shares_entered: stats.shares_sent,
        queue_ahead: extras.queue_ahead,
        track: extras.track.unwrap_or(&PnlTrack::new(1_000_000_000)),
        tick_to_trade: Some(&t2t),
        tca: Some(trading::TcaSummary {
            slippage_bps: tca.slippage_bps,
            effective_spread_bps: tca.effective_spread_bps,
            realised_spread_bps: tca.realised_spread_bps,
        }),
        risk_events,
    });
    let (_, _, journal_tx) = gateway.into_parts();
    drop(journal_tx);
    let written = journal.join()?;
    Ok((
        GatewaySummary {
            venue: addr.to_string(),
            session,
            journal: JOURNAL_FILE.to_owned(),
            recovered,
            orders: stats.orders_sent,
            cancels: stats.cancels_sent,
            fills: oms_stats.fills,
            rejects: oms_stats.rejects,
            risk_rejects: RiskCheck::ALL
                .iter()
                .filter(|c| risk.rejected[**c as usize] > 0)
                .map(|c| (c.name().to_owned(), risk.rejected[*c as usize]))
                .collect(),
            positions,
            pnl: money_f64(realised + unrealised - fees),
            realised: money_f64(realised),
            unrealised: money_f64(unrealised),
            fees: money_f64(fees),
            tca: TcaSummary {
                shares: tca.shares,
                parents: parents.parents,
                parent_target_shares: parents.target_shares,
                parent_filled_shares: parents.filled_shares,
                implementation_shortfall_bps: parents.implementation_shortfall_bps,
                slippage_bps: tca.slippage_bps,
                effective_spread_bps: tca.effective_spread_bps,
                realised_spread_bps: tca.realised_spread_bps,
            },
            algo: AlgoSummary {
                kind: algo_kind.to_owned(),
                started: algo_stats.started,
                finished: algo_stats.finished,
                children: algo_stats.children,
                refused: algo_stats.refused,
                // Set by the caller that loaded the profiles.
                profile_trades: 0,
            },
            tick_to_trade: summarize("tick_to_trade", &t2t),
            link: LinkSummary {
                logins: link.logins,
                disconnects: link.disconnects,
                protocol_errors: link.protocol_errors,
                heartbeats_sent: link.heartbeats_sent,
                heartbeats_received: link.heartbeats_received,
            },
            report_backpressure: sink_stats.overflowed,
            journal_records: written.records,
            settled,
            reconciled_fills: oms_stats.reconciled_fills,
        },
        trading,
    ))
}

/// One line per finished parent order (the last [`kestrel_gateway::tca::FINISHED_KEPT`]):
/// its TCA figures.
pub fn parents_csv<'a>(
    parents: impl Iterator<Item = &'a kestrel_gateway::tca::ParentTca>,
    table: &InstrumentTable,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "parent,symbol,side,target,filled,arrival_mid,end_mid,avg_price,slippage_bps,effective_spread_bps,realised_spread_bps,implementation_shortfall_bps\n",
    );
    for p in parents {
        let symbol = table
            .get(p.instrument)
            .map_or_else(|| p.instrument.0.to_string(), |i| i.symbol.clone());
        let _ = writeln!(
            out,
            "{},{},{},{},{},{:.4},{:.4},{:.6},{:.3},{:.3},{:.3},{:.3}",
            p.parent,
            symbol,
            if p.side == kestrel_core::Side::Buy {
                "B"
            } else {
                "S"
            },
            p.target,
            p.costs.shares,
            p.arrival_mid,
            p.end_mid,
            p.costs.avg_price,
            p.costs.slippage_bps,
            p.costs.effective_spread_bps,
            p.costs.realised_spread_bps,
            p.implementation_shortfall_bps
        );
    }
    out
}

/// Prints the gateway's lines of a session report.
pub fn print(g: &GatewaySummary) {
    println!(
        "gateway venue={} session={} orders={} cancels={} fills={} rejects={} risk_rejects={} settled={} recovered_records={}",
        g.venue,
        g.session,
        g.orders,
        g.cancels,
        g.fills,
        g.rejects,
        g.risk_rejects.values().sum::<u64>(),
        g.settled,
        g.recovered.records
    );
    for (check, n) in &g.risk_rejects {
        println!("risk_reject {check}={n}");
    }
    for p in &g.positions {
        println!(
            "position {:<8} net={} avg_cost={:.4} realised={:.2} unrealised={:.2} fees={:.2} fills={}",
            p.symbol, p.net, p.avg_cost, p.realised, p.unrealised, p.fees, p.fills
        );
    }
    println!(
        "pnl={:.2} realised={:.2} unrealised={:.2} fees={:.2} tca_slippage_bps={:.2} effective_spread_bps={:.2} realised_spread_bps={:.2}",
        g.pnl,
        g.realised,
        g.unrealised,
        g.fees,
        g.tca.slippage_bps,
        g.tca.effective_spread_bps,
        g.tca.realised_spread_bps
    );
    if g.algo.kind != "direct" {
        println!(
            "algo {} parents_started={} finished={} children={} refused={} profile_trades={} implementation_shortfall_bps={:.2} parent_fill={}/{}",
            g.algo.kind,
            g.algo.started,
            g.algo.finished,
            g.algo.children,
            g.algo.refused,
            g.algo.profile_trades,
            g.tca.implementation_shortfall_bps,
            g.tca.parent_filled_shares,
            g.tca.parent_target_shares
        );
    }
    let t = &g.tick_to_trade;
    println!(
        "latency tick_to_trade n={} p50={:.3}us p99={:.3}us p99.9={:.3}us p99.99={:.3}us max={:.3}us",
        t.count,
        t.p50_ns as f64 / 1e3,
        t.p99_ns as f64 / 1e3,
        t.p999_ns as f64 / 1e3,
        t.p9999_ns as f64 / 1e3,
        t.max_ns as f64 / 1e3
    );
    println!(
        "link logins={} disconnects={} protocol_errors={} heartbeats_sent={} heartbeats_received={} journal={} journal_records={}",
        g.link.logins,
        g.link.disconnects,
        g.link.protocol_errors,
        g.link.heartbeats_sent,
        g.link.heartbeats_received,
        g.journal,
        g.journal_records
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_holds_the_defaults_and_loads() {
        let text = include_str!("../../../examples/gateway.toml");
        let f: GatewayFile = toml::from_str(text).unwrap();
        let d = GatewayFile::default();
        assert_eq!(f.limits.max_order_shares, d.limits.max_order_shares);
        assert_eq!(f.limits.price_band_bps, d.limits.price_band_bps);
        assert_eq!(f.orders.algo, d.orders.algo);
        assert_eq!(f.journal.fsync, d.journal.fsync);
        let mut table = InstrumentTable::new();
        table
            .add(
                "AAPL",
                Price::from_raw(1_000_000),
                kestrel_core::Qty::ONE,
                4,
            )
            .unwrap();
        let cfg = f.engine_config(&table, 1).unwrap();
        assert_eq!(cfg.limits, RiskLimits::default());
        assert_eq!(cfg.oms.fees.taker_per_share, "0.003".parse().unwrap());
        assert_eq!(f.fsync().unwrap(), FsyncPolicy::EveryBatch);
    }

    #[test]
    fn bad_values_are_refused_with_their_key() {
        let f: GatewayFile = toml::from_str("[orders]\nalgo = \"twapp\"").unwrap();
        let table = InstrumentTable::new();
        let e = f.engine_config(&table, 1).unwrap_err();
        assert!(e.to_string().contains("orders.algo"), "{e}");
        assert!(toml::from_str::<GatewayFile>("[limits]\nmax_ordr = 1").is_err());
        let f: GatewayFile = toml::from_str("[journal]\nfsync = \"sometimes\"").unwrap();
        assert!(f.fsync().unwrap_err().to_string().contains("journal.fsync"));
    }
}
