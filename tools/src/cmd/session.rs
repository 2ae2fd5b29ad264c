//! `kestrel session`: the whole loop on one machine. The simulated exchange replays a bundled
//! real capture on loopback; the engine receives its ITCH / MoldUDP64 feed over UDP (gaps
//! re-requested), books it, runs the strategy, and trades through the gateway (OMS, pre-trade
//! risk, OUCH 4.2 over SoupBinTCP 3.00, journal). At the end it prints fills, P&L, TCA, risk
//! events and the latency table with tick-to-trade, and writes the session directory:
//! `config.toml`, `strategy.toml`, `summary.json`, `latency.hlog` and `latency-*.hgrm`,
//! `latency-tick_to_trade.hgrm`, the order journal `orders.journal`, the recorded feed
//! `feed.kcap`, `fills.csv`, `pnl.csv` and `exchange.txt`.
//!
//! The trading side runs on one busy-polled thread (feed, strategy and gateway called in
//! sequence: the pipeline's inline mode); the exchange and the ops endpoint (Prometheus
//! `/metrics`, kill switch and risk-mode controls) run on threads of their own.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use clap::Args;
use kestrel_core::book::L3Books;
use kestrel_core::clock::{Clock, Pace, TscClock};
use kestrel_core::latency::{
    DEFAULT_INTERVAL_SETS, LatencyRecorder, LatencyTag, TagSet, summarize,
};
use kestrel_core::pipeline::RunMode;
use kestrel_core::{BookTop, BookUpdate, ExecReport, GatewayInput, Qty, Timestamp, TradingStatus};
use kestrel_feeds::handler::{FeedEvent, FeedHandler, HandlerConfig};
use kestrel_feeds::live::{Delivery, GapPolicy, ListenAddr, LiveFeed, Recorder};
use kestrel_gateway::engine::{GatewayConfig, OrderGateway};
use kestrel_gateway::journal::{self, JournalConfig};
use kestrel_gateway::oms::OmsConfig;
use kestrel_gateway::session::{Credentials, SessionConfig, SoupClient};
use kestrel_gateway::venue::{Venue, VenueStatus};
use kestrel_sim::exchange::{BoundAddrs, ExchangeConfig, ExchangeSetup, run_exchange};
use kestrel_sim::market::open_capture;
use kestrel_strategy::harmonizer::risk_mode::RiskMode;
use serde::{Deserialize, Serialize};

use super::backtest::{apply_reports, strategy_engine, symbols};
use super::sim_exchange::print_exchange_report;
use crate::session::id::fresh_session_dir;
use crate::session::ops::{Counter, OpsServer, OpsShared};
use crate::session::sidecar::{self, SidecarArgs};
use crate::session::summary::Summary;
use crate::session::trading::{
    PnlTrack, TcaSummary, TradingInputs, fills_csv, print_trading, trading_fields,
};
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
    /// Strategy parameters (default: the built-in examples/strategy.toml).
    #[serde(default)]
    pub strategy_params: Option<PathBuf>,
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
    /// The simulated exchange's settings (latency model, drops, ...).
    #[serde(default)]
    pub exchange: ExchangeConfig,
}

fn default_pace() -> String {
    "recorded".into()
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
        c.strategy_params = c.strategy_params.as_deref().map(|p| resolve_path(&base, p));
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

fn mode_of(i: u8) -> Option<RiskMode> {
    [
        RiskMode::Aggressive,
        RiskMode::Normal,
        RiskMode::Conservative,
        RiskMode::Defensive,
        RiskMode::Halt,
    ]
    .get(usize::from(i.checked_sub(1)?))
    .copied()
}

impl SessionArgs {
    /// Runs the session.
    #[allow(clippy::too_many_lines)]
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let cfg = SessionConfigFile::load(&self.config)?;
        let pace: Pace = cfg.pace.parse()?;
        let started_wall = SystemTime::now();
        let dir = self
            .session_dir
            .clone()
            .unwrap_or_else(|| fresh_session_dir(Path::new("sessions"), started_wall, "session"));
        let session = SessionDir::create(&dir)?;
        let capture = open_capture(&cfg.capture)
            .with_context(|| format!("the session capture {}", cfg.capture.display()))?;
        let table = capture.instruments.clone();
        anyhow::ensure!(
            !table.is_empty(),
            "{}: no instruments",
            cfg.capture.display()
        );
        drop(capture);
        let (params, params_text) = match &cfg.strategy_params {
            None => (
                kestrel_strategy::stage::default_params()?,
                kestrel_strategy::stage::DEFAULT_PARAMS_TOML.to_owned(),
            ),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                (
                    kestrel_strategy::params::parse_params(&text)
                        .with_context(|| format!("strategy parameters {}", p.display()))?,
                    text,
                )
            }
        };
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

        // The exchange, on its own thread; the market starts once the engine has logged in.
        let setup = ExchangeSetup {
            capture: cfg.capture.clone(),
            ouch: "127.0.0.1:0".parse()?,
            itch: feed_addr,
            credentials: login.file.clone(),
            pace,
            config: ExchangeConfig {
                start_after_logins: 1,
                retrans: cfg.exchange.retrans.or_else(|| "127.0.0.1:0".parse().ok()),
                ..cfg.exchange.clone()
            },
        };
        let exchange_stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel::<BoundAddrs>();
        let exchange = {
            let stop = exchange_stop.clone();
            std::thread::Builder::new()
                .name("sim-exchange".into())
                .spawn(move || {
                    let mut on_bound = |a: BoundAddrs| {
                        let _ = tx.send(a);
                    };
                    run_exchange(&setup, &stop, &mut on_bound)
                })?
        };
        let Ok(addrs) = rx.recv_timeout(Duration::from_secs(60)) else {
            let e = exchange
                .join()
                .map_err(|_| anyhow::anyhow!("the exchange thread panicked"))?;
            e?;
            anyhow::bail!("the exchange did not start");
        };
        // Re-requests go to the exchange's retransmission server.
        feed.set_retrans(addrs.retrans)
            .context("opening the re-request socket")?;

        // The gateway: OMS, risk, journal, SoupBinTCP client.
        let journal_path = dir.join("orders.journal");
        let (journal_tx, journal_handle) = journal::spawn(&JournalConfig::new(&journal_path))
            .with_context(|| format!("opening {}", journal_path.display()))?;
        let creds = Credentials::new(&login.username, &login.password)?;
        let client = SoupClient::new(SessionConfig::new(addrs.ouch, creds));
        let mut gw = OrderGateway::fresh(
            GatewayConfig {
                oms: OmsConfig {
                    symbols: symbols(&table),
                    ..OmsConfig::default()
                },
                ..GatewayConfig::default()
            },
            client,
            journal_tx,
            clock.clone(),
        )?;
        let mut engine = strategy_engine(&table, params)?;
        let mut sidecar_warning = None;
        let sidecar = match self.sidecar.options()? {
            Some(o) => {
                let (s, link, warning) = sidecar::start(&o, table.len())?;
                engine.source_mut().set_sidecar(link);
                sidecar_warning = warning;
                Some(s)
            }
            None => None,
        };
        let mut handler = FeedHandler::with_instruments(HandlerConfig::default(), table.clone());
        let feed_path = dir.join("feed.kcap");
        let mut recorder = Recorder::new(
            std::io::BufWriter::new(
                std::fs::File::create(&feed_path)
                    .with_context(|| format!("creating {}", feed_path.display()))?,
            ),
            "kestrel session (sim exchange)",
            super::now_ns(),
        )?;
        let interval_ns = cfg.latency_interval_ms.max(1) * 1_000_000;
        // The trading thread's recorder, allocated on this (the trading) thread; its finished
        // intervals are swapped out to the ops thread, which streams them to latency.hlog.
        let (mut recorder_lat, intervals) = LatencyRecorder::new(
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
        println!(
            "session dir={} exchange_ouch={} feed_udp={} retrans={} metrics=http://{}/metrics",
            dir.display(),
            addrs.ouch,
            feed_addr,
            addrs.retrans,
            ops.addr()
        );
        let mut track = PnlTrack::new(cfg.pnl_interval_ms.max(1) * 1_000_000);
        let mut reports: Vec<ExecReport> = Vec::with_capacity(256);
        let mut top = BookTop::default();
        let (mut updates, mut intents, mut seq) = (0u64, 0u64, 0u64);
        let mut risk_events: Vec<String> = Vec::new();
        let mut record_error = None;
        let deadline = Instant::now() + Duration::from_secs(cfg.max_seconds);
        let mut last_ops = Instant::now();
        let mut venue_ended_at: Option<Instant> = None;
        loop {
            // Operator requests (between two polls, never inside one).
            if ops_shared.kill.swap(false, Ordering::AcqRel) {
                gw.kill();
                engine.harmonizer().kill_switch().trip();
                risk_events.push(format!("kill_switch tripped at update {updates}"));
                ops_shared.set(Counter::Killed, 1);
            }
            if ops_shared.reset_kill.swap(false, Ordering::AcqRel) {
                gw.reset_kill();
                engine.harmonizer().kill_switch().reset();
                risk_events.push(format!("kill_switch reset at update {updates}"));
                ops_shared.set(Counter::Killed, 0);
            }
            if let Some(mode) = mode_of(ops_shared.mode.swap(0, Ordering::AcqRel)) {
                engine.harmonizer_mut().force_mode(mode);
                risk_events.push(format!("risk_mode forced to {mode:?} at update {updates}"));
            }
            let mut on = |d: Delivery<'_>| {
                if record_error.is_none()
                    && let Err(e) = recorder.on_delivery(&d)
                {
                    record_error = Some(e);
                }
                let Delivery::Message {
                    recv_ts,
                    seq: msg_seq,
                    payload,
                    ..
                } = d
                else {
                    return;
                };
                let mut sink = |fe: &FeedEvent, books: &L3Books| {
                    let Ok(applied) = fe.outcome else { return };
                    let id = fe.event.instrument;
                    let booked = clock.now();
                    books.fill_top(id, &mut top);
                    seq += 1;
                    updates += 1;
                    let update = BookUpdate {
                        instrument: id,
                        seq,
                        exch_ts: fe.event.exch_ts,
                        recv_ts,
                        top,
                        trade: applied.trade.unwrap_or_default(),
                        trading: books.status(id) == TradingStatus::Trading,
                        stamps: kestrel_core::clock::Stamps {
                            recv: recv_ts,
                            decoded: Timestamp::ZERO,
                            booked,
                            published: booked,
                        },
                    };
                    let decision = engine.on_update(&update);
                    let decided = clock.now();
                    recorder_lat.record(LatencyTag::Feed, booked.saturating_since(recv_ts));
                    recorder_lat.record(LatencyTag::Strategy, decided.saturating_since(booked));
                    recorder_lat.record(LatencyTag::EndToEnd, decided.saturating_since(recv_ts));
                    let input = match decision {
                        Some(intent) => {
                            intents += 1;
                            GatewayInput::intent(&update, fe.event.exch_ts, intent)
                        }
                        None => GatewayInput::market(&update, fe.event.exch_ts),
                    };
                    gw.on_input(&input, &mut reports);
                    apply_reports(&mut engine, &mut reports);
                    if track.due(fe.event.exch_ts) {
                        let (r, u, f) = gw.oms().totals();
                        let pos: i64 = gw.oms().positions().map(|p| p.net).sum();
                        track.sample(
                            fe.event.exch_ts,
                            kestrel_gateway::oms::money_f64(r + u - f),
                            pos,
                        );
                    }
                };
                handler.on_itch_message(recv_ts, msg_seq, payload, &mut sink);
            };
            let got = feed.poll(&mut on);
            gw.poll(&mut reports);
            apply_reports(&mut engine, &mut reports);
            let now = clock.now().nanos();
            if recorder_lat.interval_due(now) {
                recorder_lat.hand_off(now);
            }
            if last_ops.elapsed() >= Duration::from_millis(100) {
                last_ops = Instant::now();
                let st = gw.stats();
                let fs = feed.stats();
                ops_shared.set(Counter::Updates, updates);
                ops_shared.set(Counter::Intents, intents);
                ops_shared.set(Counter::Orders, st.orders_sent);
                ops_shared.set(Counter::Fills, gw.oms().fills().all().len() as u64);
                ops_shared.set(Counter::RiskRejects, gw.risk().stats().rejected_total());
                ops_shared.set(Counter::Datagrams, fs.datagrams);
                ops_shared.set(Counter::GapsOpened, fs.gaps_opened);
                ops_shared.set(Counter::GapsFilled, fs.gaps_filled);
                ops_shared.set(Counter::GapsLost, fs.gaps_lost);
                let (r, u, f) = gw.oms().totals();
                ops_shared.set_gauge(
                    Counter::PnlMicros,
                    (kestrel_gateway::oms::money_f64(r + u - f) * 1e6) as i64,
                );
                ops_shared.set_gauge(Counter::Position, gw.oms().positions().map(|p| p.net).sum());
                ops_shared.set_tick_to_trade(gw.tick_to_trade());
            }
            let venue_done = gw.venue().status() == VenueStatus::Ended || exchange.is_finished();
            if venue_done && venue_ended_at.is_none() {
                venue_ended_at = Some(Instant::now());
            }
            let drained = venue_ended_at.is_some_and(|t| t.elapsed() > Duration::from_millis(500));
            if (feed.ended() && venue_done && drained)
                || stop.load(Ordering::Relaxed)
                || Instant::now() > deadline
                || (exchange.is_finished() && drained)
            {
                break;
            }
            if got == 0 {
                std::hint::spin_loop();
            }
        }
        let interrupted = stop.load(Ordering::Relaxed) || Instant::now() > deadline;
        exchange_stop.store(true, Ordering::Relaxed);
        let report = exchange
            .join()
            .map_err(|_| anyhow::anyhow!("the exchange thread panicked"))??;
        // Last venue messages (fills sent before End of Session).
        let settle = Instant::now();
        while settle.elapsed() < Duration::from_millis(200) {
            gw.poll(&mut reports);
            apply_reports(&mut engine, &mut reports);
        }
        feed.finish(&mut |d| {
            let _ = recorder.on_delivery(&d);
        });
        let now = clock.now().nanos();
        recorder_lat.finish(now, &std::sync::atomic::AtomicBool::new(false));
        let latency = ops.finish()?;
        if let Some(e) = record_error {
            return Err(e).context("recording the feed");
        }
        let (mut feed_file, rec) = recorder.finish().context("finishing feed.kcap")?;
        std::io::Write::flush(&mut feed_file)?;

        // Figures.
        let venue_stats = gw.stats();
        let t2t = gw.tick_to_trade().clone();
        let tca = gw.tca().session();
        let risk = gw.risk().stats();
        if risk.rejected_total() > 0 {
            risk_events.push(format!("pre_trade_rejects={}", risk.rejected_total()));
        }
        let queue_ahead: Vec<f64> = report
            .fills
            .iter()
            .filter(|f| f.participant == 0 && f.maker)
            .map(|f| f.queue_ahead.raw() as f64 / Qty::ONE.raw() as f64)
            .collect();
        let trading = trading_fields(&TradingInputs {
            fills: gw.oms().fills().all(),
            totals: gw.oms().totals(),
            orders: venue_stats.orders_sent,
            shares_entered: report.order_entry.shares_accepted,
            queue_ahead: &queue_ahead,
            track: &track,
            tick_to_trade: Some(&t2t),
            tca: Some(TcaSummary {
                slippage_bps: tca.slippage_bps,
                effective_spread_bps: tca.effective_spread_bps,
                realised_spread_bps: tca.realised_spread_bps,
            }),
            risk_events,
        });
        let fills_text = fills_csv(gw.oms().fills().all());
        let fs = feed.stats();
        let hs = handler.stats();
        let (_oms, _client, journal_tx) = gw.into_parts();
        drop(journal_tx);
        let journal_stats = journal_handle.join().context("closing the journal")?;

        // The session directory.
        let mut resolved = toml::Table::new();
        resolved.insert(
            "session".into(),
            toml::Value::try_from(&cfg).context("serialising the config")?,
        );
        session.write_config(&toml::to_string(&resolved)?)?;
        session.write_text("strategy.toml", &params_text)?;
        session.write_text("fills.csv", &fills_text)?;
        session.write_text("pnl.csv", &track.csv())?;
        session.write_percentiles(&latency)?;
        {
            let mut f = std::fs::File::create(dir.join("latency-tick_to_trade.hgrm"))?;
            kestrel_core::latency::write_percentile_distribution(&mut f, &t2t, 5, 1000.0)?;
        }
        let exchange_text = format!(
            "background_events={}\nexecutions={}\nparticipant_executions={}\nqueue_model_fills={}\nfeed_packets={}\nfeed_dropped_on_purpose={}\nretrans_requests={}\nlogins={}\nmessages_in={}\nmessages_out={}\n",
            report.background.events,
            report.matching.executions,
            report.matching.participant_executions,
            report.matching.queue_model_fills,
            report.feed.packets,
            report.feed.dropped,
            report.retrans.requests,
            report.server.logins,
            report.server.messages_in,
            report.server.messages_out
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
        let summary = Summary {
            session: dir
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            input: cfg.capture.display().to_string(),
            mode: RunMode::Inline,
            pace: cfg.pace.clone(),
            records: fs.datagrams + fs.retrans_datagrams,
            events: hs.events,
            elapsed_s: elapsed,
            throughput_eps: hs.events as f64 / elapsed.max(1e-9),
            drops: 0,
            anomalies: hs.anomalies() + fs.gaps_lost,
            backpressure_waits: 0,
            backpressure_ns: 0,
            stages: LatencyTag::ALL
                .into_iter()
                .map(|t| summarize(t.as_str(), latency.total(t)))
                .collect(),
            output_hash: String::new(),
            book_hash: format!("{:016x}", handler.books_hash()),
            threads: Vec::new(),
            warnings: warnings.clone(),
            strategy: None,
            trading: trading.clone(),
            sidecar: sidecar
                .as_ref()
                .map(|s| s.summary(engine.source().sidecar().map(|l| l.stats()))),
            gateway: None,
        };
        session.write_summary(&summary)?;

        // The report.
        print_exchange_report(&report);
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
            "gateway intents={} orders_sent={} cancels_sent={} send_failures={} journal_records={}",
            intents,
            venue_stats.orders_sent,
            venue_stats.cancels_sent,
            venue_stats.send_failures,
            journal_stats.records
        );
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
            "fills={} fill_hash={} orders={} pnl={:.2} updates={} session={}",
            trading.fills.unwrap_or(0),
            trading.fill_hash.as_deref().unwrap_or("-"),
            trading.orders.unwrap_or(0),
            trading.pnl.map_or(0.0, |p| p.net),
            updates,
            dir.display()
        );
        Ok(ExitCode::SUCCESS)
    }
}
