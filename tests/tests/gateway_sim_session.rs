//! The gateway's "done when": a trading session on loopback against the simulated exchange.
//!
//! A child process runs the real pipeline (capture -> feed -> strategy -> gateway) and sends
//! the strategy's intents as OUCH orders over SoupBinTCP to `kestrel-sim`'s exchange, with a
//! journal. It is forced to disconnect after some fills (it logs back in at the next expected
//! sequence number) and later killed with SIGKILL mid-run. Then:
//!
//! - the journal verifies (a torn tail, what the kill may leave, is allowed and cut);
//! - a restarted gateway rebuilds its state from the journal, logs in at the next expected
//!   sequence number, takes what the venue sent after the kill (the cancels of its orders on
//!   disconnect among them) and ends with exactly the positions the venue has for it: the same
//!   as a fresh client that reads the whole session stream from sequence 1, and as the
//!   exchange's own record of our fills;
//! - no fill was lost or applied twice.
//!
//! Loopback only; every wait is bounded.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kestrel_core::clock::{Pace, TscClock};
use kestrel_core::{ExecReport, InstrumentId, Timestamp};
use kestrel_feeds::lobster::{parse_messages, parse_orderbook, plan_import, write_lobster_capture};
use kestrel_gateway::engine::{GatewayConfig, OrderGateway};
use kestrel_gateway::journal::{self, Entry, JournalConfig, JournalSink, NullJournal, scan_file};
use kestrel_gateway::oms::{Oms, OmsConfig};
use kestrel_gateway::ouch::{ServerMessage, Stock};
use kestrel_gateway::session::{Credentials, SessionConfig, SoupClient};
use kestrel_gateway::soupbin::SessionId;
use kestrel_gateway::venue::{DownReason, LinkEvent, Venue, VenueStatus};
use kestrel_sim::exchange::{ExchangeConfig, ExchangeReport, ExchangeSetup, run_exchange};

const CHILD: &str = env!("CARGO_BIN_EXE_gateway_child");
const MESSAGES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
);
const BOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
);
/// Both the exchange and the trading process replay the 49-second sample this many times
/// faster than recorded.
const PACE: f64 = 8.0;

fn write_capture(dir: &Path) -> PathBuf {
    let plan = plan_import(
        parse_messages(&std::fs::read_to_string(MESSAGES).unwrap()),
        parse_orderbook(&std::fs::read_to_string(BOOK).unwrap()),
    );
    let bytes = write_lobster_capture(&plan, "AAPL", Timestamp::ZERO, Vec::new()).unwrap();
    let path = dir.join("aapl.kcap");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn credentials(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let f = dir.join("creds");
    std::fs::write(&f, "KSTR:s3cret\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    f
}

fn start_exchange(
    creds: PathBuf,
) -> (
    SocketAddr,
    Arc<AtomicBool>,
    std::thread::JoinHandle<ExchangeReport>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let setup = ExchangeSetup {
        capture: PathBuf::from(MESSAGES),
        ouch: "127.0.0.1:0".parse().unwrap(),
        itch: "127.0.0.1:0".parse().unwrap(),
        credentials: creds,
        pace: Pace::Factor(PACE),
        config: ExchangeConfig {
            start_after_logins: 1,
            linger_ms: 120_000,
            cancel_on_disconnect: true,
            ..ExchangeConfig::default()
        },
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let s = stop.clone();
    let h = std::thread::spawn(move || {
        run_exchange(&setup, &s, &mut |b| {
            let _ = tx.send(b.ouch);
        })
        .expect("the exchange runs")
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the exchange binds");
    (addr, stop, h)
}

/// What the journal shows so far: (fills received, forced disconnect seen, re-login after it).
fn progress(journal: &Path) -> (usize, bool, bool) {
    let Ok(scan) = scan_file(journal) else {
        return (0, false, false);
    };
    let mut fills = 0;
    let mut down = false;
    let mut up_after = false;
    for (_, e) in &scan.entries {
        match e {
            Entry::Received {
                msg: ServerMessage::Executed(_),
                ..
            } => fills += 1,
            Entry::Link {
                event:
                    LinkEvent::Down {
                        reason: DownReason::Disconnected,
                    },
                ..
            } => down = true,
            Entry::Link {
                event: LinkEvent::Up { next_seq, .. },
                ..
            } if down && *next_seq > 1 => up_after = true,
            _ => {}
        }
    }
    (fills, down, up_after)
}

fn oms_config() -> OmsConfig {
    OmsConfig {
        symbols: vec![Stock::new("AAPL").unwrap()],
        ..OmsConfig::default()
    }
}

/// Polls `g` until nothing has arrived from the venue for `quiet` (bounded by 20 s).
fn settle<J: JournalSink>(g: &mut OrderGateway<SoupClient, J, TscClock>, quiet: Duration) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut reports: Vec<ExecReport> = Vec::new();
    let mut last = Instant::now();
    loop {
        let n = g.poll(&mut reports);
        if n > 0 || g.venue().status() != VenueStatus::Ready {
            last = Instant::now();
        }
        if last.elapsed() >= quiet {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the venue never went quiet: {:?}",
            g.venue()
        );
        std::thread::sleep(Duration::from_micros(300));
    }
}

/// Net position and fill count per instrument, realised P&L and fees.
fn positions(oms: &Oms) -> Vec<(i64, u64, i128, i128)> {
    oms.positions()
        .map(|p| (p.net, p.fills, p.realised, p.fees))
        .collect()
}

#[test]
fn survives_a_forced_disconnect_and_kill_9_with_identical_positions() {
    let tmp = tempfile::tempdir().unwrap();
    let kcap = write_capture(tmp.path());
    let creds = credentials(tmp.path());
    let (addr, stop, exchange) = start_exchange(creds.clone());
    let journal_path = tmp.path().join("gateway.journal");

    // The trading process: disconnect after 5 fills, killed once it has logged back in and
    // traded on.
    let mut child = Command::new(CHILD)
        .args([
            kcap.to_str().unwrap(),
            &addr.to_string(),
            creds.to_str().unwrap(),
            journal_path.to_str().unwrap(),
            &PACE.to_string(),
            "5",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the trading process");
    let deadline = Instant::now() + Duration::from_secs(60);
    let fills_at_kill = loop {
        let (fills, down, up_after) = progress(&journal_path);
        if down && up_after && fills >= 10 {
            break fills;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "the trading process ended early: {status} (fills {fills}, down {down}, up {up_after})"
            );
        }
        assert!(
            Instant::now() < deadline,
            "no disconnect and re-login in the journal (fills {fills}, down {down}, up {up_after})"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().expect("SIGKILL");
    let _ = child.wait();

    // The journal verifies; a torn tail is allowed.
    let scan = scan_file(&journal_path).unwrap();
    assert!(scan.verifies(), "corrupt records: {:?}", scan.corrupt);
    assert!(fills_at_kill >= 10);

    // Restart: rebuild from the journal, log in at the next expected sequence number.
    let rec = journal::recover(&journal_path, oms_config()).unwrap();
    assert_eq!(rec.anomalies, 0);
    let rebuilt_fills = rec.oms.stats().fills;
    assert!(rebuilt_fills >= 10, "{:?}", rec.oms.stats());
    let next_seq = rec.oms.next_seq();
    let mut session = SessionConfig::new(addr, Credentials::from_file(&creds).unwrap());
    session.next_seq = next_seq;
    session.session = rec.session.unwrap_or(SessionId::BLANK);
    let (tx, writer) = journal::spawn(&JournalConfig::new(&journal_path)).unwrap();
    let cfg = GatewayConfig {
        oms: oms_config(),
        ..GatewayConfig::default()
    };
    let mut restarted = OrderGateway::new(
        cfg.clone(),
        rec.oms,
        SoupClient::new(session),
        tx,
        TscClock::new(),
    );
    settle(&mut restarted, Duration::from_millis(800));
    assert_eq!(restarted.venue().stats().logins, 1);
    assert_eq!(
        restarted.oms().stats().duplicate_messages,
        0,
        "nothing applied twice"
    );
    assert_eq!(restarted.oms().stats().duplicate_fills, 0);
    // The venue cancelled our orders when the killed process's connection dropped.
    assert_eq!(
        restarted.oms().open_count(),
        0,
        "open orders after cancel on disconnect"
    );
    let after_restart = positions(restarted.oms());
    let final_seq = restarted.oms().last_seq();
    let now = restarted.venue().stats();
    let mut quiet = Quiet;
    restarted.venue_mut().logout(Timestamp(1), &mut quiet);
    let (oms_after, _, tx) = restarted.into_parts();
    drop(tx);
    writer.join().unwrap();

    // The venue's truth: a fresh client reads the whole session from sequence 1.
    let mut truth_session = SessionConfig::new(addr, Credentials::from_file(&creds).unwrap());
    truth_session.next_seq = 1;
    let mut truth = OrderGateway::fresh(
        cfg,
        SoupClient::new(truth_session),
        NullJournal,
        TscClock::new(),
    )
    .unwrap();
    settle(&mut truth, Duration::from_millis(800));
    assert_eq!(
        truth.oms().last_seq(),
        final_seq,
        "both read the same stream"
    );
    assert_eq!(
        positions(truth.oms()),
        after_restart,
        "restarted positions equal the venue's"
    );
    assert!(after_restart[0].1 as usize >= fills_at_kill);

    // The exchange's own record of our fills agrees.
    stop.store(true, Ordering::Relaxed);
    let report = exchange.join().unwrap();
    assert_eq!(report.fills.len() as u64, after_restart[0].1, "fills");
    eprintln!(
        "kill after {fills_at_kill} fills in the journal; rebuilt {rebuilt_fills}; after the restart {} fills, net {} shares, sequence {final_seq}; restart session {now:?}",
        after_restart[0].1, after_restart[0].0
    );

    // The journal still verifies with the restart's records appended, and rebuilds to the
    // same state.
    let again = journal::recover(&journal_path, oms_config()).unwrap();
    assert_eq!(positions(&again.oms), positions(&oms_after));
    assert_eq!(
        again.oms.position(InstrumentId(0)),
        oms_after.position(InstrumentId(0))
    );
    assert!(scan_file(&journal_path).unwrap().verifies());
}

struct Quiet;

impl kestrel_gateway::venue::VenueHandler for Quiet {
    fn on_message(&mut self, _: u64, _: &ServerMessage, _: Timestamp) {}
}
