//! The simulated exchange as a running service: a capture replayed as the background market,
//! SoupBinTCP/OUCH order entry, the ITCH/MoldUDP64 feed over UDP and the retransmission server,
//! all on one thread polling non-blocking sockets. `kestrel sim-exchange` runs it in the
//! foreground; `kestrel session` runs it on a thread of its own.
//!
//! With `journal` set, the venue writes its journal there ([`crate::journal`]); started again
//! with the same journal, capture and settings (after a crash, `kill -9`, or a clean stop) it
//! replays it first and carries on from where it was: the same book and open orders, every
//! participant's sequenced stream (a client logging in at its next sequence number gets what
//! it missed), the same market-data sequence and message store, and the capture replay
//! continuing from the same event.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kestrel_core::Timestamp;
use kestrel_core::clock::Pace;
use kestrel_gateway::soupbin::SessionId;

use crate::journal::{JournalError, JournalWriter, fingerprint, read_journal};
use crate::latency::LatencyConfig;
use crate::market::BackgroundFeed;
use crate::market::{BackgroundStats, open_capture};
use crate::matching::{MatchStats, SmpPolicy};
use crate::net::{Credentials, RetransServer, ServerStats, SoupServer, UdpFeed};
use crate::order_entry::FillRecord;
use crate::publish::{DropPlan, MoldStats, RetransStats};
use crate::venue::{SimVenue, VenueConfig};

/// Why the exchange could not start.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The configuration file.
    #[error("exchange config {path}: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The capture.
    #[error(transparent)]
    Capture(#[from] crate::market::CaptureError),
    /// The credentials.
    #[error(transparent)]
    Credentials(#[from] crate::net::CredentialsError),
    /// A socket.
    #[error("{what} {addr}: {source}")]
    Socket {
        /// Which socket.
        what: &'static str,
        /// Its address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The capture has no events.
    #[error("the capture has no market events")]
    EmptyCapture,
    /// The venue journal.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// Self-match prevention as the config names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmpSetting {
    /// Off.
    Off,
    /// Cancel the incoming order's rest.
    #[default]
    CancelNewest,
    /// Cancel the resting order.
    CancelOldest,
    /// Cancel both.
    CancelBoth,
}

impl From<SmpSetting> for SmpPolicy {
    fn from(s: SmpSetting) -> Self {
        match s {
            SmpSetting::Off => SmpPolicy::Off,
            SmpSetting::CancelNewest => SmpPolicy::CancelNewest,
            SmpSetting::CancelOldest => SmpPolicy::CancelOldest,
            SmpSetting::CancelBoth => SmpPolicy::CancelBoth,
        }
    }
}

/// The exchange's TOML configuration (`--config`); every key optional.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExchangeConfig {
    /// SoupBinTCP session name (at most 10 characters).
    pub session: String,
    /// MoldUDP64 session name of the feed (at most 10 characters).
    pub mold_session: String,
    /// Cancel a participant's orders when its connection goes away.
    pub cancel_on_disconnect: bool,
    /// Self-match prevention.
    pub smp: SmpSetting,
    /// Retransmission server address (default: the feed's port + 1 on 127.0.0.1).
    pub retrans: Option<SocketAddr>,
    /// Most messages resent per request.
    pub retrans_max: u16,
    /// Feed packets to drop on purpose (0-based packet indexes).
    pub drop_packets: Vec<u64>,
    /// Drop every n-th feed packet as well (0: none).
    pub drop_every: u64,
    /// Start the replay only once this many participants are logged in.
    pub start_after_logins: usize,
    /// Longest wait for those logins, milliseconds.
    pub login_wait_ms: u64,
    /// Keep serving (logins, re-requests, late orders) this long after the replay ends, ms;
    /// re-requests are also answered this long after the End of Session.
    pub linger_ms: u64,
    /// Latency model.
    pub latency: LatencyConfig,
    /// The interface a multicast feed goes out of, by address (`127.0.0.1`: loopback).
    pub multicast_interface: Option<std::net::Ipv4Addr>,
    /// The venue journal (absent: none). An existing journal is replayed at start.
    pub journal: Option<PathBuf>,
    /// `fdatasync` every journal record (power-loss safe; without it a killed process still
    /// loses nothing).
    pub journal_sync: bool,
}

impl Default for ExchangeConfig {
    fn default() -> Self {
        Self {
            session: "KSIM000001".to_owned(),
            mold_session: "KSIM000001".to_owned(),
            cancel_on_disconnect: true,
            smp: SmpSetting::CancelNewest,
            retrans: None,
            retrans_max: 2000,
            drop_packets: Vec::new(),
            drop_every: 0,
            start_after_logins: 0,
            login_wait_ms: 10_000,
            linger_ms: 1_000,
            latency: LatencyConfig::default(),
            multicast_interface: None,
            journal: None,
            journal_sync: false,
        }
    }
}

impl ExchangeConfig {
    /// Reads a config file.
    pub fn load(path: &Path) -> Result<Self, ExchangeError> {
        let err = |reason: String| ExchangeError::Config {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Self::parse(&text).map_err(err)
    }

    /// Parses a config's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let c: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        if SessionId::new(&c.session).is_none() || c.session.is_empty() {
            return Err(format!(
                "session {:?}: 1 to 10 printable characters",
                c.session
            ));
        }
        if c.mold_session.len() > 10 || !c.mold_session.is_ascii() {
            return Err(format!(
                "mold_session {:?}: at most 10 ASCII characters",
                c.mold_session
            ));
        }
        Ok(c)
    }
}

/// Where the exchange listens and what it replays.
#[derive(Clone, Debug)]
pub struct ExchangeSetup {
    /// The background market's capture.
    pub capture: PathBuf,
    /// SoupBinTCP listen address.
    pub ouch: SocketAddr,
    /// Feed destination (unicast or multicast group).
    pub itch: SocketAddr,
    /// Logins.
    pub credentials: PathBuf,
    /// Replay pace.
    pub pace: Pace,
    /// Settings.
    pub config: ExchangeConfig,
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct ExchangeReport {
    /// Background replay counters.
    pub background: BackgroundStats,
    /// Matching counters.
    pub matching: MatchStats,
    /// Feed counters.
    pub feed: MoldStats,
    /// Order-entry server counters.
    pub server: ServerStats,
    /// Retransmission counters.
    pub retrans: RetransStats,
    /// Participant fills.
    pub fills: Vec<FillRecord>,
    /// Order-entry counters (shares accepted, duplicate tokens, ...).
    pub order_entry: crate::order_entry::OrderEntryStats,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Whether the run was stopped before the capture ended.
    pub stopped: bool,
    /// Whether the run ended as a crash ([`run_exchange_with`]'s `crash`): no End of Session,
    /// no end of day, sockets dropped.
    pub crashed: bool,
    /// What the journal rebuilt at start (`None` without a journal).
    pub recovered: Option<Recovered>,
    /// Journal records written by this run.
    pub journal_records: u64,
    /// Journal writes that failed.
    pub journal_errors: u64,
    /// Each participant's sequenced stream length at the end.
    pub streams: Vec<u64>,
}

/// What a venue started on an existing journal rebuilt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Records replayed.
    pub records: u64,
    /// Participant messages among them.
    pub messages: u64,
    /// Bytes of a torn last record cut.
    pub torn_bytes: u64,
    /// Venue time it resumed at.
    pub resumed_at: Timestamp,
    /// Sequenced messages rebuilt across every participant's stream.
    pub stream_messages: u64,
    /// Market-data messages rebuilt (the MoldUDP64 store).
    pub feed_messages: u64,
}

/// The fingerprint a venue journal must carry: the capture, the participants and every setting
/// that decides what the venue does.
fn venue_fingerprint(
    source: &str,
    instruments: usize,
    participants: usize,
    cfg: &ExchangeConfig,
) -> u64 {
    let settings = format!(
        "{}|{}|{}|{:?}|{:?}",
        cfg.session, cfg.mold_session, cfg.cancel_on_disconnect, cfg.smp, cfg.latency
    );
    fingerprint(&[
        source.as_bytes(),
        &(instruments as u64).to_le_bytes(),
        &(participants as u64).to_le_bytes(),
        settings.as_bytes(),
    ])
}

/// Addresses the exchange actually bound (ports resolved), reported once it is up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoundAddrs {
    /// SoupBinTCP.
    pub ouch: SocketAddr,
    /// Retransmission server.
    pub retrans: SocketAddr,
    /// What the journal rebuilt (a restarted venue).
    pub recovered: Option<Recovered>,
}

/// Runs the exchange until the capture is replayed (plus the linger time) or `stop` is set.
/// `on_bound` is called once the sockets are bound.
pub fn run_exchange(
    setup: &ExchangeSetup,
    stop: &Arc<AtomicBool>,
    on_bound: &mut dyn FnMut(BoundAddrs),
) -> Result<ExchangeReport, ExchangeError> {
    run_exchange_with(setup, stop, &AtomicBool::new(false), on_bound)
}

/// [`run_exchange`], and when `crash` is set the venue dies on the spot as a killed process
/// would: no End of Session, no end of day, its sockets simply closed (fault injection; with a
/// journal, a venue started again carries on).
pub fn run_exchange_with(
    setup: &ExchangeSetup,
    stop: &Arc<AtomicBool>,
    crash: &AtomicBool,
    on_bound: &mut dyn FnMut(BoundAddrs),
) -> Result<ExchangeReport, ExchangeError> {
    let cfg = &setup.config;
    let credentials = Credentials::load(&setup.credentials)?;
    let capture = open_capture(&setup.capture)?;
    let mut bg = BackgroundFeed::new(&capture.reader, capture.instruments.clone());
    let Some(first) = bg.peek_ts() else {
        return Err(ExchangeError::EmptyCapture);
    };
    let session = SessionId::new(&cfg.session).unwrap_or(SessionId::BLANK);
    let mut venue = SimVenue::new(
        &capture.instruments,
        credentials.len(),
        VenueConfig {
            latency: cfg.latency,
            smp: cfg.smp.into(),
            cancel_on_disconnect: cfg.cancel_on_disconnect,
            mold_session: cfg.mold_session.clone(),
            drops: DropPlan {
                packets: cfg.drop_packets.clone(),
                every: cfg.drop_every,
            },
            ..VenueConfig::default()
        },
    );
    let recovered = match &cfg.journal {
        None => None,
        Some(path) => {
            let fp = venue_fingerprint(
                &capture.source,
                capture.instruments.len(),
                credentials.len(),
                cfg,
            );
            let read = read_journal(path, fp)?;
            let replayed = venue.replay(&read.records, &mut bg);
            venue.attach_journal(JournalWriter::open(
                path,
                fp,
                read.valid_len,
                cfg.journal_sync,
            )?);
            (replayed.records > 0 || read.torn_bytes > 0).then(|| Recovered {
                records: replayed.records,
                messages: replayed.messages,
                torn_bytes: read.torn_bytes,
                resumed_at: venue.now(),
                stream_messages: (0..credentials.len() as u32)
                    .map(|p| venue.stream(p).len() as u64)
                    .sum(),
                feed_messages: venue.mold().store().len(),
            })
        }
    };
    let participants = credentials.len() as u32;
    let socket = |what, addr| move |source| ExchangeError::Socket { what, addr, source };
    let mut server = SoupServer::bind(setup.ouch, session, credentials)
        .map_err(socket("order entry", setup.ouch))?;
    let mut feed =
        UdpFeed::new(setup.itch, cfg.multicast_interface).map_err(socket("feed", setup.itch))?;
    let retrans_addr = cfg.retrans.unwrap_or_else(|| {
        SocketAddr::new(
            "127.0.0.1".parse().unwrap_or(setup.itch.ip()),
            setup.itch.port().wrapping_add(1),
        )
    });
    let mut retrans = RetransServer::bind(retrans_addr, cfg.retrans_max)
        .map_err(socket("retransmission", retrans_addr))?;
    on_bound(BoundAddrs {
        ouch: server.local_addr().unwrap_or(setup.ouch),
        retrans: retrans.local_addr().unwrap_or(retrans_addr),
        recovered,
    });
    let started = Instant::now();
    // A venue rebuilt from its journal carries on where it was, without waiting for logins.
    let first = if venue.started() {
        venue.now()
    } else {
        venue.start(first);
        // Wait for the participants the config asks for (the market does not start without
        // them).
        let deadline = started + Duration::from_millis(cfg.login_wait_ms);
        while server.logged_in() < cfg.start_after_logins
            && Instant::now() < deadline
            && !stop.load(Ordering::Relaxed)
            && !crash.load(Ordering::Relaxed)
        {
            server.poll(&mut venue, first);
            retrans.poll(venue.mold());
            venue.release(first, &mut feed);
            std::thread::sleep(Duration::from_micros(200));
        }
        first
    };
    let wall0 = Instant::now();
    let mut linger_until: Option<Instant> = None;
    // `--pace max`: when the capture ran out (wall clock) and the venue time then.
    let mut replay_ended: Option<(Instant, Timestamp)> = None;
    let mut last_sim = first;
    let mut stopped = false;
    let report = |venue: &SimVenue,
                  bg: &BackgroundFeed<'_>,
                  server: &SoupServer,
                  retrans: &RetransServer,
                  stopped: bool,
                  crashed: bool| ExchangeReport {
        background: bg.stats(),
        matching: venue.match_stats(),
        feed: venue.feed_stats(),
        server: server.stats(),
        retrans: retrans.stats(),
        fills: venue.fills().to_vec(),
        order_entry: venue.order_entry_stats(),
        elapsed: started.elapsed(),
        stopped,
        crashed,
        recovered,
        journal_records: venue.journal().map_or(0, JournalWriter::records),
        journal_errors: venue.journal().map_or(0, JournalWriter::errors),
        streams: (0..participants)
            .map(|p| venue.stream(p).len() as u64)
            .collect(),
    };
    loop {
        if crash.load(Ordering::Relaxed) {
            // Dropping the sockets closes them as the kernel would for a killed process.
            return Ok(report(&venue, &bg, &server, &retrans, true, true));
        }
        if stop.load(Ordering::Relaxed) {
            stopped = true;
            break;
        }
        let wall = wall0.elapsed();
        let next_bg = bg.peek_ts();
        let sim_now = match (setup.pace, next_bg) {
            (Pace::Factor(f), _) => Timestamp(first.nanos() + (wall.as_nanos() as f64 * f) as u64),
            (Pace::Max, Some(ts)) => ts.max(last_sim),
            (Pace::Max, None) => {
                // The replay is over: time goes on at the wall clock's rate from the moment
                // it ended (heartbeats, late orders and their latency model keep real time).
                let (at, sim) = *replay_ended.get_or_insert((Instant::now(), last_sim));
                Timestamp(sim.nanos().saturating_add(at.elapsed().as_nanos() as u64))
            }
        };
        last_sim = sim_now.max(last_sim);
        let mut busy = server.poll(&mut venue, last_sim);
        busy |= retrans.poll(venue.mold()) > 0;
        busy |= venue.advance(last_sim, Some(&mut bg), &mut feed) > 0;
        if bg.peek_ts().is_none() && venue.next_due().is_none_or(|d| d <= last_sim) {
            let until = *linger_until
                .get_or_insert_with(|| Instant::now() + Duration::from_millis(cfg.linger_ms));
            if Instant::now() >= until {
                break;
            }
        }
        if !busy {
            if setup.pace == Pace::Max && next_bg.is_some() {
                continue;
            }
            std::thread::sleep(Duration::from_micros(50));
        }
    }
    if !venue.ended() {
        let end = Timestamp(last_sim.nanos() + 1);
        venue.advance(end, Some(&mut bg), &mut feed);
        venue.end_of_day(end, &mut feed);
    }
    server.end_session(&mut venue);
    // The re-request server outlives the End of Session, as a venue's does: a receiver that
    // learns of a gap only from the End of Session packet (the day's closing packet lost) can
    // still recover it.
    let until = Instant::now() + Duration::from_millis(cfg.linger_ms);
    while !stopped && !stop.load(Ordering::Relaxed) && Instant::now() < until {
        if retrans.poll(venue.mold()) == 0 {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    Ok(report(&venue, &bg, &server, &retrans, stopped, false))
}
