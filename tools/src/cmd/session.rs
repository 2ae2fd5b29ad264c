//! `kestrel session`: the whole loop on one machine. The simulated exchange replays a bundled
//! real capture on loopback; the engine receives its ITCH / MoldUDP64 feed over UDP (gaps
//! re-requested), books it, runs the strategy, and trades through the gateway (OMS, pre-trade
//! risk, OUCH 4.2 over SoupBinTCP 3.00, journal). At the end it prints fills, P&L, TCA, risk
//! events and the latency table with tick-to-trade (and where its time goes), and writes the
//! session directory: `config.toml`, `strategy.toml`, `summary.json`, `latency.hlog` and
//! `latency-*.hgrm`, `latency-tick_to_trade.hgrm`, the order journal `orders.journal`, the
//! venue's journal `venue.journal`, the recorded feed `feed.kcap`, `fills.csv`, `pnl.csv` and
//! `exchange.txt`.
//!
//! `--mode inline` (the default) runs feed, strategy and gateway in sequence on one
//! busy-polled thread; `--mode threaded` puts the gateway on a thread of its own behind a ring
//! (see [`crate::session::live`]). The exchange and the ops endpoint (Prometheus `/metrics`,
//! kill switch and risk-mode controls) run on threads of their own.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use clap::Args;
use kestrel_core::clock::{Clock, Pace, TscClock};
use kestrel_core::latency::{
    DEFAULT_INTERVAL_SETS, LatencyRecorder, LatencyTag, TagSet, summarize,
};
use kestrel_core::pipeline::{RingSender, RunMode};
use kestrel_core::{GatewayInput, InstrumentTable, Qty};
use kestrel_feeds::handler::{FeedHandler, HandlerConfig};
use kestrel_feeds::live::{GapPolicy, ListenAddr, LiveFeed, Recorder};
use kestrel_gateway::engine::OrderGateway;
use kestrel_gateway::journal::{self, JournalConfig};
use kestrel_gateway::oms::Fill;
use kestrel_gateway::session::{Credentials, SessionConfig, SoupClient};
use kestrel_gateway::stage::{GatewayStage, exec_ring, input_ring};
use kestrel_gateway::token::TokenGen;
use kestrel_sim::exchange::{ExchangeConfig, ExchangeSetup};
use kestrel_sim::market::open_capture;
use kestrel_sim::order_entry::FillRecord;
use kestrel_strategy::harmonizer::FillMode;
use kestrel_strategy::params::StrategyParams;
use kestrel_strategy::stage::StrategyStage;
use serde::{Deserialize, Serialize};

use super::sim_exchange::print_exchange_report;
use crate::session::RunConfig;
use crate::session::gateway::{self as gw, GatewayFile, RecoveredSummary};
use crate::session::id::fresh_session_dir;
use crate::session::live::{
    FeedParts, FeedSide, GatewayControl, GatewaySide, RestartPlan, TimedVenue, VenueRun,
    VenueThread,
};
use crate::session::ops::{OpsServer, OpsShared};
use crate::session::sidecar::{self, SidecarArgs};
use crate::session::summary::{StrategySummary, Summary, ThreadSummary};
use crate::session::trading::{Reconciliation, print_trading};
use crate::session::write::SessionDir;

/// `kestrel session`.
#[derive(Debug, Args)]
pub struct SessionArgs {
    /// Session configuration (TOML; see examples/session.toml).
    #[arg(long)]
    pub config: PathBuf,
    /// Session directory to write (default sessions/<utc-time>-session).
    #[arg(long)]
    pub session_dir: Option<PathBuf>,
    /// `inline` (feed, strategy and gateway on one thread) or `threaded` (the gateway on a
    /// thread of its own); overrides the config's `mode`.
    #[arg(long)]
    pub mode: Option<RunMode>,
    /// The ML sidecar.
    #[command(flatten)]
    pub sidecar: SidecarArgs,
}

/// `examples/session.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfigFile {
    /// The capture the exchange replays (relative paths are from the config file's folder's
    /// parent, i.e. the repository root for `examples/`; absolute paths as given).
    pub capture: PathBuf,
    /// Replay pace: `max`, `recorded` or a factor.
    #[serde(default = "default_pace")]
    pub pace: String,
    /// `inline` or `threaded`.
    #[serde(default = "default_mode")]
    pub mode: RunMode,
    /// Strategy parameters (default: the built-in examples/strategy.toml).
    #[serde(default)]
    pub strategy_params: Option<PathBuf>,
    /// Gateway settings: limits, fees, journal sync (default: examples/gateway.toml's
    /// defaults).
    #[serde(default)]
    pub gateway_config: Option<PathBuf>,
    /// Pipeline settings: rings, waits, `[cpu]` (the `feed` and `gateway` cores of a threaded
    /// session); default: examples/kestrel.toml's defaults.
    #[serde(default)]
    pub run_config: Option<PathBuf>,
    /// The login the engine uses at the exchange (a password is generated for the run and
    /// kept in a mode-0600 file outside the session directory).
    #[serde(default = "default_user")]
    pub username: String,
    /// Prometheus / control endpoint (`127.0.0.1:0`: any free port; absent: none).
    #[serde(default)]
    pub metrics: Option<SocketAddr>,
    /// P&L sampling interval, milliseconds of event time.
    #[serde(default = "default_interval")]
    pub pnl_interval_ms: u64,
    /// Latency intervals handed to the ops thread, milliseconds.
    #[serde(default = "default_latency_interval")]
    pub latency_interval_ms: u64,
    /// Longest run, seconds (the replay normally ends first).
    #[serde(default = "default_max_seconds")]
    pub max_seconds: u64,
    /// Fault injection: crash the venue mid-session and restart it from its journal.
    #[serde(default)]
    pub venue_restart: Option<RestartPlan>,
    /// The simulated exchange's settings (latency model, drops, ...).
    #[serde(default)]
    pub exchange: ExchangeConfig,
}

fn default_pace() -> String {
    "recorded".into()
}
fn default_mode() -> RunMode {
    RunMode::Inline
}
fn default_user() -> String {
    "kstrl".into()
}
fn default_interval() -> u64 {
    1000
}
fn default_latency_interval() -> u64 {
    250
}
fn default_max_seconds() -> u64 {
    600
}

impl SessionConfigFile {
    fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading session config {}", path.display()))?;
        let mut c: Self =
            toml::from_str(&text).with_context(|| format!("session config {}", path.display()))?;
        let base = path
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        c.capture = resolve_path(&base, &c.capture);
        for p in [
            &mut c.strategy_params,
            &mut c.gateway_config,
            &mut c.run_config,
        ] {
            *p = p.as_deref().map(|p| resolve_path(&base, p));
        }
        Ok(c)
    }
}

/// `p` as given when it exists or is absolute, else relative to `base`.
fn resolve_path(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() || p.exists() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// A generated login for this run, in a mode-0600 file outside the session directory.
struct RunLogin {
    dir: PathBuf,
    file: PathBuf,
    username: String,
    password: String,
}

impl RunLogin {
    fn create(username: &str) -> anyhow::Result<Self> {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32);
        let password: String = (0..10)
            .map(|i| {
                let x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(i * 6) % 36;
                char::from_digit(x as u32, 36).unwrap_or('x')
            })
            .collect();
        let dir = std::env::temp_dir().join(format!("kestrel-session-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        let file = dir.join("credentials");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&file)?;
        std::io::Write::write_all(&mut f, format!("{username}:{password}\n").as_bytes())?;
        Ok(Self {
            dir,
            file,
            username: username.to_owned(),
            password,
        })
    }
}

impl Drop for RunLogin {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The strategy's parameters and the text to keep in the session directory.
fn strategy_params(path: Option<&Path>) -> anyhow::Result<(StrategyParams, String)> {
    match path {
        None => Ok((
            kestrel_strategy::stage::default_params()?,
            kestrel_strategy::stage::DEFAULT_PARAMS_TOML.to_owned(),
        )),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let file = kestrel_strategy::params::parse_strategy_file(&text)
                .with_context(|| format!("strategy parameters {}", p.display()))?;
            Ok((file.params, text))
        }
    }
}

/// When the loop stops: the venue ended (and its last messages had time to arrive), the feed
/// ended, Ctrl-C, or the deadline.
struct Until<'a> {
    stop: &'a AtomicBool,
    deadline: Instant,
    venue: &'a VenueThread,
    control: &'a GatewayControl,
    venue_ended_at: Option<Instant>,
}

impl<'a> Until<'a> {
    fn new(
        stop: &'a AtomicBool,
        deadline: Instant,
        venue: &'a VenueThread,
        control: &'a GatewayControl,
    ) -> Self {
        Self {
            stop,
            deadline,
            venue,
            control,
            venue_ended_at: None,
        }
    }

    fn done(&mut self, feed_ended: bool) -> bool {
        let venue_done =
            self.control.venue_ended.load(Ordering::Acquire) || self.venue.is_finished();
        if venue_done && self.venue_ended_at.is_none() {
            self.venue_ended_at = Some(Instant::now());
        }
        let drained = self
            .venue_ended_at
            .is_some_and(|t| t.elapsed() > Duration::from_millis(500));
        (feed_ended && venue_done && drained)
            || self.stop.load(Ordering::Relaxed)
            || Instant::now() > self.deadline
            || (self.venue.is_finished() && drained)
    }
}

/// The venue's last messages (fills sent before End of Session) after the exchange stopped.
const SETTLE: Duration = Duration::from_millis(200);

/// Shared by both modes: the feed half and the stop rule.
fn feed_loop<E: kestrel_core::pipeline::Emit<GatewayInput>>(
    feed: &mut FeedSide,
    out: &mut E,
    until: &mut Until<'_>,
    mut between: impl FnMut(&mut E),
) {
    loop {
        let got = feed.poll(out);
        between(out);
        if until.done(feed.ended()) {
            break;
        }
        if got == 0 {
            std::hint::spin_loop();
        }
    }
}

/// Our fills against the venue's record of them.
fn reconcile(engine: &[Fill], venue: &[FillRecord], participant: u32) -> Reconciliation {
    let shares = |q: Qty| q.raw() / Qty::ONE.raw();
    let mut ours: Vec<(u64, i64, i64)> = engine
        .iter()
        .filter(|f| !f.broken)
        .map(|f| {
            (
                f.match_number,
                i64::from(f.shares) * f.side.sign(),
                f.price.raw(),
            )
        })
        .collect();
    let mut theirs: Vec<(u64, i64, i64)> = venue
        .iter()
        .filter(|f| f.participant == participant)
        .map(|f| (f.match_no, shares(f.qty) * f.side.sign(), f.price.raw()))
        .collect();
    ours.sort_unstable();
    theirs.sort_unstable();
    let missing = theirs
        .iter()
        .filter(|f| ours.binary_search(f).is_err())
        .count() as u64;
    let extra = ours
        .iter()
        .filter(|f| theirs.binary_search(f).is_err())
        .count() as u64;
    Reconciliation {
        venue_fills: theirs.len() as u64,
        engine_fills: ours.len() as u64,
        missing,
        extra,
        venue_net: theirs.iter().map(|f| f.1).sum(),
        engine_net: ours.iter().map(|f| f.1).sum(),
        matched: missing == 0 && extra == 0,
    }
}

impl SessionArgs {
    /// Runs the session.
    #[allow(clippy::too_many_lines)]
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let cfg = SessionConfigFile::load(&self.config)?;
        let mode = self.mode.unwrap_or(cfg.mode);
        let pace: Pace = cfg.pace.parse()?;
        let run_config = RunConfig::load(cfg.run_config.as_deref())?;
        let gateway_file = GatewayFile::load(cfg.gateway_config.as_deref())?;
        let started_wall = SystemTime::now();
        let dir = self
            .session_dir
            .clone()
            .unwrap_or_else(|| fresh_session_dir(Path::new("sessions"), started_wall, "session"));
        let session = SessionDir::create(&dir)?;
        let capture = open_capture(&cfg.capture)
            .with_context(|| format!("the session capture {}", cfg.capture.display()))?;
        let table: InstrumentTable = capture.instruments.clone();
        anyhow::ensure!(
            !table.is_empty(),
            "{}: no instruments",
            cfg.capture.display()
        );
        drop(capture);
        let (params, params_text) = strategy_params(cfg.strategy_params.as_deref())?;
        let login = RunLogin::create(&cfg.username)?;
        let stop = Arc::new(AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(sig, stop.clone()).context("registering Ctrl-C")?;
        }
        let ops_shared = Arc::new(OpsShared::default());
        signal_hook::flag::register(signal_hook::consts::SIGUSR1, ops_shared.kill.clone())
            .context("registering SIGUSR1 (kill switch)")?;

        // The engine's feed socket first, so the exchange knows where to send.
        let clock = TscClock::new();
        let listen: ListenAddr = "127.0.0.1:0".parse().map_err(anyhow::Error::msg)?;
        let mut feed = LiveFeed::bind(listen, GapPolicy::default(), clock.clone())
            .context("binding the feed socket")?;
        let feed_addr = feed.local_addr()?;

        // The exchange, journaled, on its own thread; the market starts once the engine has
        // logged in.
        let setup = ExchangeSetup {
            capture: cfg.capture.clone(),
            ouch: "127.0.0.1:0".parse()?,
            itch: feed_addr,
            credentials: login.file.clone(),
            pace,
            config: ExchangeConfig {
                start_after_logins: 1,
                retrans: cfg.exchange.retrans.or_else(|| "127.0.0.1:0".parse().ok()),
                journal: Some(dir.join("venue.journal")),
                ..cfg.exchange.clone()
            },
        };
        let (venue, addrs) = VenueThread::spawn(setup, cfg.venue_restart)?;
        // Re-requests go to the exchange's retransmission server.
        feed.set_retrans(addrs.retrans)
            .context("opening the re-request socket")?;

        // The gateway: OMS, risk, journal, SoupBinTCP client (its send calls timed).
        let journal_path = dir.join("orders.journal");
        let mut jcfg = JournalConfig::new(&journal_path);
        jcfg.fsync = gateway_file.fsync()?;
        let (journal_tx, journal_handle) =
            journal::spawn(&jcfg).with_context(|| format!("opening {}", journal_path.display()))?;
        let mut link = SessionConfig::new(
            addrs.ouch,
            Credentials::new(&login.username, &login.password)?,
        );
        link.heartbeat_interval_ns = gateway_file.session.heartbeat_ms * 1_000_000;
        link.silence_timeout_ns = gateway_file.session.timeout_ms * 1_000_000;
        let gw_cfg = gateway_file.engine_config(&table, TokenGen::wall_clock_floor())?;
        let gateway = OrderGateway::fresh(
            gw_cfg,
            TimedVenue::new(SoupClient::new(link), clock.clone()),
            journal_tx,
            clock.clone(),
        )?;
        let (reports_tx, reports_rx) = exec_ring(1 << 16)?;
        let control = Arc::new(GatewayControl::default());
        let mut gateway_side = GatewaySide::new(
            GatewayStage::new(gateway, Some(reports_tx)),
            clock.clone(),
            cfg.pnl_interval_ms.max(1) * 1_000_000,
            ops_shared.clone(),
            control.clone(),
        );
        let interval_ns = cfg.latency_interval_ms.max(1) * 1_000_000;
        let mut strategy = StrategyStage::new(&table, params, FillMode::External, clock.clone())
            .context("building the strategy stage")?
            .with_exec_reports(reports_rx);
        let mut sidecar_warning = None;
        let sidecar = match self.sidecar.options()? {
            Some(o) => {
                let (s, link, warning) = sidecar::start(&o, table.len())?;
                strategy = strategy.with_sidecar(link);
                sidecar_warning = warning;
                Some(s)
            }
            None => None,
        };
        let feed_path = dir.join("feed.kcap");
        let recorder = Recorder::new(
            std::io::BufWriter::new(
                std::fs::File::create(&feed_path)
                    .with_context(|| format!("creating {}", feed_path.display()))?,
            ),
            "kestrel session (sim exchange)",
            super::now_ns(),
        )?;
        // The feed thread's recorder (this thread runs the feed half in both modes); its
        // finished intervals are swapped out to the ops thread, which streams them to
        // latency.hlog.
        let (latency_rec, intervals) = LatencyRecorder::new(
            TagSet::of(&[LatencyTag::Feed, LatencyTag::Strategy, LatencyTag::EndToEnd]),
            clock.now().nanos(),
            interval_ns,
            DEFAULT_INTERVAL_SETS,
        );
        let hlog = session.open_hlog(clock.now().nanos(), "kestrel session")?;
        let metrics_addr = cfg
            .metrics
            .unwrap_or_else(|| "127.0.0.1:0".parse().unwrap_or(feed_addr));
        let ops = OpsServer::spawn(metrics_addr, ops_shared.clone(), intervals, hlog)?;
        let mut feed_side = FeedSide::new(
            FeedParts {
                feed,
                handler: FeedHandler::with_instruments(HandlerConfig::default(), table.clone()),
                recorder,
                strategy,
                latency: latency_rec,
            },
            clock.clone(),
            ops_shared.clone(),
            control.clone(),
        );
        println!(
            "session dir={} mode={} exchange_ouch={} feed_udp={} retrans={} metrics=http://{}/metrics",
            dir.display(),
            mode_label(mode),
            addrs.ouch,
            feed_addr,
            addrs.retrans,
            ops.addr()
        );

        // The loop.
        let deadline = Instant::now() + Duration::from_secs(cfg.max_seconds);
        let feed_core = run_config.cpu.core_for("feed");
        let gateway_core = run_config.cpu.core_for("gateway");
        let mut threads = Vec::new();
        let (mut backpressure_waits, mut backpressure_ns) = (0, 0);
        let venue_run: VenueRun;
        match mode {
            RunMode::Inline => {
                threads.push(pin("inline", feed_core));
                let mut until = Until::new(&stop, deadline, &venue, &control);
                feed_loop(&mut feed_side, &mut gateway_side, &mut until, |g| {
                    g.poll();
                });
                venue_run = venue.stop()?;
                gateway_side.settle(SETTLE);
            }
            RunMode::Threaded => {
                let (ring_size, ring_wait) = (
                    run_config.pipeline.ring_size,
                    run_config.pipeline.producer_wait,
                );
                let (ready, handed) = std::sync::mpsc::sync_channel(1);
                let (side, run, feed_thread) = std::thread::scope(|s| {
                    let gateway_thread = std::thread::Builder::new()
                        .name("gateway".to_owned())
                        .spawn_scoped(s, move || {
                            // Pinned first, then the ring: its pages are first touched on the
                            // core that reads them.
                            let placed = pin("gateway", gateway_core);
                            match input_ring(ring_size, ring_wait) {
                                Ok((tx, rx)) => {
                                    let _ = ready.send(Ok(tx));
                                    Some((gateway_side.run(rx, SETTLE), placed))
                                }
                                Err(e) => {
                                    let _ = ready.send(Err(e));
                                    None
                                }
                            }
                        })
                        .context("starting the gateway thread")?;
                    let Ok(tx) = handed.recv() else {
                        anyhow::bail!("the gateway thread ended before its input ring was ready");
                    };
                    let mut tx: RingSender<GatewayInput> =
                        tx.context("the gateway's input ring")?;
                    let placed = pin("feed", feed_core);
                    let mut until = Until::new(&stop, deadline, &venue, &control);
                    feed_loop(&mut feed_side, &mut tx, &mut until, |_| {});
                    backpressure_waits = tx.full_waits();
                    backpressure_ns = tx.full_wait_ns();
                    let run = venue.stop();
                    // Closing the ring ends the gateway thread after it settles.
                    drop(tx);
                    let (side, gplaced) = gateway_thread
                        .join()
                        .map_err(|_| anyhow::anyhow!("the gateway thread panicked"))?
                        .context("the gateway thread ended early")?;
                    threads.push(gplaced);
                    anyhow::Ok((side, run, placed))
                })?;
                threads.insert(0, feed_thread);
                gateway_side = side;
                venue_run = run?;
            }
        }
        let interrupted = stop.load(Ordering::Relaxed);
        let report = &venue_run.report;
        let done = feed_side.finish();
        let latency = ops.finish()?;
        let strategy = done.strategy;
        if let Some(e) = done.record_error {
            return Err(e).context("recording the feed");
        }
        let (mut feed_file, rec) = done.recorder.finish().context("finishing feed.kcap")?;
        std::io::Write::flush(&mut feed_file)?;

        // Figures.
        let (stage, parts, track, gateway_events) = gateway_side.into_parts();
        let settled = stage.gateway().oms().open_count() == 0;
        let reconciliation = reconcile(stage.gateway().oms().fills().all(), &report.fills, 0);
        let queue_ahead: Vec<f64> = report
            .fills
            .iter()
            .filter(|f| f.participant == 0 && f.maker)
            .map(|f| f.queue_ahead.raw() as f64 / Qty::ONE.raw() as f64)
            .collect();
        let gstats = stage.gateway().stats();
        let (gateway_summary, mut trading) = gw::finish(
            stage,
            journal_handle,
            settled,
            RecoveredSummary::default(),
            addrs.ouch,
            &table,
            &dir,
            gw::Extras {
                track: Some(&track),
                queue_ahead: &queue_ahead,
            },
        )?;
        trading.risk_events.extend(done.events);
        trading.risk_events.extend(gateway_events);
        trading.tick_to_trade_parts = Some(parts.summary());
        trading.reconciliation = Some(reconciliation);
        let fs = done.feed.stats();
        let hs = done.handler.stats();

        // The session directory.
        let resolved = toml::Table::try_from(&cfg).context("serialising the config")?;
        session.write_config(&run_config.resolved_toml(&[("session", resolved)])?)?;
        session.write_text("strategy.toml", &params_text)?;
        session.write_text("pnl.csv", &track.csv())?;
        session.write_percentiles(&latency)?;
        let exchange_text = format!(
            "background_events={}\nexecutions={}\nparticipant_executions={}\nqueue_model_fills={}\nfeed_packets={}\nfeed_dropped_on_purpose={}\nretrans_requests={}\nlogins={}\nmessages_in={}\nmessages_out={}\nstream_holds={}\nrestarts={}\njournal_records={}\n",
            report.background.events,
            report.matching.executions,
            report.matching.participant_executions,
            report.matching.queue_model_fills,
            report.feed.packets,
            report.feed.dropped,
            report.retrans.requests,
            report.server.logins,
            report.server.messages_in,
            report.server.messages_out,
            report.server.stream_holds,
            venue_run.restarts,
            report.journal_records
        );
        session.write_text("exchange.txt", &exchange_text)?;
        let elapsed = (SystemTime::now()
            .duration_since(started_wall)
            .unwrap_or_default())
        .as_secs_f64();
        let mut warnings: Vec<String> = sidecar_warning.into_iter().collect();
        if interrupted {
            warnings.push("stopped before the replay ended".to_owned());
        }
        if !reconciliation.matched {
            warnings.push(format!(
                "our fills do not reconcile with the venue's: {} missing, {} extra",
                reconciliation.missing, reconciliation.extra
            ));
        }
        let tally = strategy.intents();
        let hash = strategy.update_hash();
        let summary = Summary {
            session: dir
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            input: cfg.capture.display().to_string(),
            mode,
            pace: cfg.pace.clone(),
            records: fs.datagrams + fs.retrans_datagrams,
            events: hs.events,
            elapsed_s: elapsed,
            throughput_eps: hs.events as f64 / elapsed.max(1e-9),
            drops: 0,
            anomalies: hs.anomalies() + fs.gaps_lost,
            backpressure_waits,
            backpressure_ns,
            stages: LatencyTag::ALL
                .into_iter()
                .map(|t| summarize(t.as_str(), latency.total(t)))
                .collect(),
            output_hash: format!("{:016x}", hash.hash),
            book_hash: format!("{:016x}", done.handler.books_hash()),
            threads,
            warnings: warnings.clone(),
            strategy: Some(StrategySummary {
                fill_mode: crate::session::run::GATEWAY_FILL_MODE_LABEL.to_owned(),
                params_file: cfg
                    .strategy_params
                    .as_ref()
                    .map(|p| p.display().to_string()),
                instruments: table.len(),
                universe: table.iter().map(|i| i.symbol.clone()).collect(),
                feed_instruments: table.len(),
                unpublished_updates: 0,
                publish: kestrel_feeds::feed_stage::PublishPolicy::EveryEvent
                    .name()
                    .to_owned(),
                merged_updates: 0,
                updates: strategy.engine_stats().updates,
                decisions: strategy.engine_stats().updates - strategy.engine_stats().observed,
                update_hash: format!("{:016x}", hash.hash),
                intents: tally.count,
                intent_hash: format!("{:016x}", tally.hash),
                buys: tally.buys,
                sells: tally.sells,
                bindings: std::collections::BTreeMap::new(),
                params_changes: 0,
                params_rejected: 0,
                params_refused_at_apply: 0,
                latency: summarize(
                    LatencyTag::Strategy.as_str(),
                    latency.total(LatencyTag::Strategy),
                ),
            }),
            trading: trading.clone(),
            sidecar: sidecar
                .as_ref()
                .map(|s| s.summary(strategy.sidecar_stats())),
            gateway: Some(gateway_summary.clone()),
        };
        session.write_summary(&summary)?;

        // The report.
        print_exchange_report(report);
        println!(
            "venue restarts={} fills_at_crash={:?} journal_records={} streams={:?}{}",
            venue_run.restarts,
            venue_run.fills_at_crash,
            report.journal_records,
            report.streams,
            venue_run
                .recovered
                .iter()
                .map(|r| format!(
                    " recovered(records={} messages={} stream_messages={} feed_messages={})",
                    r.records, r.messages, r.stream_messages, r.feed_messages
                ))
                .collect::<String>()
        );
        println!(
            "feed datagrams={} retransmitted={} gaps_opened={} gaps_filled={} gaps_lost={} recorded_messages={} anomalies={}",
            fs.datagrams,
            fs.retrans_datagrams,
            fs.gaps_opened,
            fs.gaps_filled,
            fs.gaps_lost,
            rec.messages,
            hs.anomalies()
        );
        println!(
            "gateway mode={} intents={} orders_sent={} cancels_sent={} send_failures={} backpressure_waits={} journal_records={}",
            mode_label(mode),
            done.intents,
            gstats.orders_sent,
            gstats.cancels_sent,
            gstats.send_failures,
            backpressure_waits,
            gateway_summary.journal_records
        );
        gw::print(&gateway_summary);
        for s in &summary.stages {
            if s.count > 0 {
                println!(
                    "latency {:<14} p50={:.3}us p99={:.3}us p99.9={:.3}us p99.99={:.3}us max={:.3}us",
                    s.stage,
                    s.p50_ns as f64 / 1e3,
                    s.p99_ns as f64 / 1e3,
                    s.p999_ns as f64 / 1e3,
                    s.p9999_ns as f64 / 1e3,
                    s.max_ns as f64 / 1e3
                );
            }
        }
        print_trading(&trading);
        if let Some(sc) = &summary.sidecar {
            sidecar::print_sidecar(sc);
        }
        for w in &warnings {
            eprintln!("kestrel: warning: {w}");
        }
        println!(
            "fills={} fill_hash={} orders={} pnl={:.2} updates={} reconciled={} session={}",
            trading.fills.unwrap_or(0),
            trading.fill_hash.as_deref().unwrap_or("-"),
            trading.orders.unwrap_or(0),
            trading.pnl.map_or(0.0, |p| p.net),
            done.updates,
            reconciliation.matched,
            dir.display()
        );
        Ok(ExitCode::SUCCESS)
    }
}

fn mode_label(mode: RunMode) -> &'static str {
    match mode {
        RunMode::Inline => "inline",
        RunMode::Threaded => "threaded",
    }
}

/// Pins the calling thread to `core` (when given) and says where it ran.
fn pin(stage: &str, core: Option<usize>) -> ThreadSummary {
    let pinned = core.is_some_and(kestrel_core::cpu::pin_current_thread);
    ThreadSummary {
        stage: stage.to_owned(),
        core,
        pinned,
    }
}
