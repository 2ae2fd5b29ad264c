//! The venue restarts mid-session and loses nothing: it dies as a killed process would (no End
//! of Session, its sockets closed) with a participant's orders open and a message the client
//! has not read yet; started again on the same ports with the same journal, it rebuilds its
//! state. The client logs in at its next sequence number and receives exactly the message it
//! missed, its resting order is still there (a cancel finds it), a login from sequence 1 gets
//! the whole stream again byte for byte, and market data published before the restart is
//! still served to re-requests. A client written from the specs; loopback only; bounded.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kestrel_core::clock::Pace;
use kestrel_feeds::moldudp64::{MoldPacket, MoldRequest, MoldSession};
use kestrel_sim::exchange::{
    BoundAddrs, ExchangeConfig, ExchangeError, ExchangeReport, ExchangeSetup, run_exchange_with,
};

use common::{Client, cancel_order, capture, credentials, enter_order, login, token_of};

type Venue = (
    Arc<AtomicBool>,
    Arc<AtomicBool>,
    std::thread::JoinHandle<Result<ExchangeReport, ExchangeError>>,
    BoundAddrs,
);

/// Starts the venue with `journal` on `ouch` / `retrans` (port 0: any).
fn start(
    ouch: SocketAddr,
    retrans: SocketAddr,
    journal: PathBuf,
    creds: PathBuf,
    itch: SocketAddr,
) -> Venue {
    let setup = ExchangeSetup {
        capture: capture(),
        ouch,
        itch,
        credentials: creds,
        pace: Pace::Factor(2.0),
        config: ExchangeConfig {
            retrans: Some(retrans),
            linger_ms: 100,
            journal: Some(journal),
            ..ExchangeConfig::default()
        },
    };
    let stop = Arc::new(AtomicBool::new(false));
    let crash = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel::<BoundAddrs>();
    let handle = {
        let (stop, crash) = (stop.clone(), crash.clone());
        std::thread::spawn(move || {
            let mut on_bound = |a: BoundAddrs| tx.send(a).unwrap();
            run_exchange_with(&setup, &stop, &crash, &mut on_bound)
        })
    };
    let addrs = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    (stop, crash, handle, addrs)
}

/// Asks the retransmission server for `count` messages from `seq`; the first packet back.
fn re_request(retrans: SocketAddr, seq: u64, count: u16) -> (u64, u16) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let req = MoldRequest {
        session: MoldSession::from_name("KSIM000001").unwrap(),
        sequence: seq,
        count,
    };
    s.send_to(&req.encode(), retrans).unwrap();
    let mut b = [0u8; 2048];
    let n = s.recv(&mut b).expect("a retransmission");
    let p = MoldPacket::parse(&b[..n]).unwrap();
    (p.sequence(), p.message_count())
}

#[test]
fn a_restarted_venue_replays_its_journal_and_misses_nothing() {
    let dir = std::env::temp_dir().join(format!("ksim-restart-j-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let creds = credentials(&dir);
    let journal = dir.join("venue.journal");
    let _ = std::fs::remove_file(&journal);
    let feed = UdpSocket::bind("127.0.0.1:0").unwrap();
    let itch = feed.local_addr().unwrap();
    let wait = Duration::from_secs(5);
    let (_stop, crash, handle, addrs) = start(
        "127.0.0.1:0".parse().unwrap(),
        "127.0.0.1:0".parse().unwrap(),
        journal.clone(),
        creds.clone(),
        itch,
    );
    assert!(addrs.recovered.is_none(), "a new day");

    let mut c = Client::connect(addrs.ouch);
    c.send(&login("trader", "s3cret", "", 1));
    assert_eq!(c.next(wait).map(|p| p.0), Some(b'A'));
    // A marketable IOC buy that executes against the replayed asks, and a resting buy.
    c.send(&enter_order("T1", b'B', 300, 6_000_000, 0));
    c.send(&enter_order("R1", b'B', 100, 5_000_000, 99_999));
    let before = c.until(wait, |m| m[0] == b'A' && token_of(m) == "R1");
    assert!(
        before.iter().any(|m| m[0] == b'E' && token_of(m) == "T1"),
        "T1 executed: {before:?}"
    );
    // Another resting order; its Accepted is on the venue's stream but never read: the venue
    // dies first.
    c.send(&enter_order("R2", b'B', 100, 5_000_100, 99_999));
    std::thread::sleep(Duration::from_millis(300));
    crash.store(true, Ordering::Relaxed);
    let crashed = handle.join().unwrap().unwrap();
    assert!(crashed.crashed);
    let k = before.len() as u64;
    assert_eq!(crashed.streams[0], k + 1, "R2's Accepted was on the stream");
    let fills_before = crashed.fills.len();
    assert!(fills_before > 0);
    let feed_before = crashed.feed.messages;
    drop(c);

    // The venue comes back on the same ports from its journal.
    let (stop, _crash, handle, again) =
        start(addrs.ouch, addrs.retrans, journal.clone(), creds, itch);
    assert_eq!(again.ouch, addrs.ouch);
    let rec = again.recovered.expect("rebuilt from the journal");
    assert!(rec.records > 0 && rec.messages >= 3, "{rec:?}");
    assert_eq!(rec.torn_bytes, 0);
    // Everything the venue had done before it died, rebuilt exactly.
    assert_eq!(rec.stream_messages, k + 1, "{rec:?}");
    assert_eq!(rec.feed_messages, feed_before, "{rec:?}");

    // Logging in at the next sequence number: exactly the message missed, then nothing else.
    let mut c = Client::connect(addrs.ouch);
    c.send(&login("trader", "s3cret", "KSIM000001", k + 1));
    let (kind, body) = c.next(wait).unwrap();
    assert_eq!(kind, b'A');
    assert_eq!(
        String::from_utf8_lossy(&body[10..30]).trim(),
        (k + 1).to_string()
    );
    let missed = c.until(wait, |m| m[0] == b'A' && token_of(m) == "R2");
    assert_eq!(missed.len(), 1, "{missed:?}");
    assert_eq!(token_of(&missed[0]), "R2");
    // R1, entered before the crash, is still resting: a cancel finds it.
    c.send(&cancel_order("R1", 0));
    let got = c.until(wait, |m| m[0] == b'C' && token_of(m) == "R1");
    assert_eq!(got.last().map(|m| (m[0], m[27])), Some((b'C', b'U')));
    // A token used before the crash is still used: a duplicate Enter Order is ignored.
    c.send(&enter_order("R2", b'B', 100, 5_000_100, 99_999));
    c.send(&enter_order("R3", b'B', 100, 5_000_200, 99_999));
    let got = c.until(wait, |m| m[0] == b'A' && token_of(m) == "R3");
    assert!(got.iter().all(|m| token_of(m) != "R2"), "{got:?}");
    // From sequence 1: what the client saw before the crash, byte for byte.
    let mut c2 = Client::connect(addrs.ouch);
    c2.send(&login("trader", "s3cret", "", 1));
    assert_eq!(c2.next(wait).map(|p| p.0), Some(b'A'));
    let all = c2.until(wait, |m| m[0] == b'A' && token_of(m) == "R3");
    assert_eq!(
        &all[..before.len()],
        &before[..],
        "the stream before the crash"
    );
    assert_eq!(token_of(&all[before.len()]), "R2");
    // Market data published before the restart is still there for re-requests.
    assert_eq!(re_request(addrs.retrans, 1, 3), (1, 3));

    stop.store(true, Ordering::Relaxed);
    let report = handle.join().unwrap().unwrap();
    assert!(report.fills.len() >= fills_before, "no fill lost");
    assert_eq!(
        &report.fills[..fills_before],
        &crashed.fills[..],
        "same fills"
    );
    assert_eq!(report.journal_errors, 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_journal_of_another_day_is_refused() {
    let dir = std::env::temp_dir().join(format!("ksim-restart-other-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("venue.journal");
    std::fs::write(&journal, b"KSIMJRNL garbage that is not this venue's").unwrap();
    let feed = UdpSocket::bind("127.0.0.1:0").unwrap();
    let setup = ExchangeSetup {
        capture: capture(),
        ouch: "127.0.0.1:0".parse().unwrap(),
        itch: feed.local_addr().unwrap(),
        credentials: credentials(&dir),
        pace: Pace::Max,
        config: ExchangeConfig {
            journal: Some(journal),
            ..ExchangeConfig::default()
        },
    };
    let r = run_exchange_with(
        &setup,
        &Arc::new(AtomicBool::new(false)),
        &AtomicBool::new(false),
        &mut |_| {},
    );
    let e = r.expect_err("refused");
    assert!(e.to_string().contains("venue journal"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}
