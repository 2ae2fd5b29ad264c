//! A third-party client, written here from the SoupBinTCP 3.00 and OUCH 4.2 specifications
//! with plain sockets and hand-laid bytes (none of Kestrel's codecs), logs in to the simulated
//! exchange and trades: refused logins, a marketable order that executes against the replayed
//! book, a resting order and its cancel, a re-login from sequence 1 that receives the same
//! stream again, and cancel on disconnect. Bounded in time; loopback only.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kestrel_core::clock::Pace;
use kestrel_sim::exchange::{BoundAddrs, ExchangeConfig, ExchangeSetup, run_exchange};

use common::{Client, cancel_order, capture, credentials, enter_order, login, token_of};

#[test]
fn a_client_written_from_the_specs_logs_in_and_trades() {
    let dir = std::env::temp_dir().join(format!("ksim-3p-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let feed = UdpSocket::bind("127.0.0.1:0").unwrap();
    feed.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let setup = ExchangeSetup {
        capture: capture(),
        ouch: "127.0.0.1:0".parse().unwrap(),
        itch: feed.local_addr().unwrap(),
        credentials: credentials(&dir),
        pace: Pace::Factor(5.0),
        config: ExchangeConfig {
            retrans: Some("127.0.0.1:0".parse().unwrap()),
            start_after_logins: 1,
            linger_ms: 300,
            ..ExchangeConfig::default()
        },
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel::<BoundAddrs>();
    let exchange = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut on_bound = |a: BoundAddrs| tx.send(a).unwrap();
            run_exchange(&setup, &stop, &mut on_bound)
        })
    };
    let addrs = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("exchange up");
    let wait = Duration::from_secs(5);

    // Wrong password: Login Rejected 'A'; unknown session: Login Rejected 'S'.
    let mut c = Client::connect(addrs.ouch);
    c.send(&login("trader", "wrong", "", 1));
    assert_eq!(c.next(wait), Some((b'J', b"A".to_vec())));
    let mut c = Client::connect(addrs.ouch);
    c.send(&login("trader", "s3cret", "NOSUCHSESS", 1));
    assert_eq!(c.next(wait), Some((b'J', b"S".to_vec())));

    // Good login at sequence 1: Login Accepted with the session and sequence 1.
    let mut c = Client::connect(addrs.ouch);
    c.send(&login("trader", "s3cret", "", 1));
    let (kind, body) = c.next(wait).expect("login answer");
    assert_eq!(kind, b'A');
    assert_eq!(&body[..10], b"KSIM000001");
    assert_eq!(String::from_utf8_lossy(&body[10..30]).trim(), "1");

    // Wait for the replayed market to be live on the feed.
    let until = Instant::now() + wait;
    let mut packets = 0;
    while packets < 3 && Instant::now() < until {
        let mut b = [0u8; 2048];
        if feed.recv(&mut b).is_ok() {
            packets += 1;
        }
    }
    assert!(packets >= 3, "the feed is publishing");

    // A marketable IOC buy (far above the AAPL ask of ~585.5): executes against the replayed
    // asks; whatever does not fill is cancelled. Every share is accounted for.
    c.send(&enter_order("BUY1", b'B', 5_000, 6_000_000, 0));
    let mut done = 0u32;
    let msgs = c.until(wait, |m| {
        if token_of(m) == "BUY1" && m[0] == b'E' {
            done += u32::from_be_bytes(m[23..27].try_into().unwrap());
        }
        if token_of(m) == "BUY1" && m[0] == b'C' {
            done += u32::from_be_bytes(m[23..27].try_into().unwrap());
        }
        done == 5_000
    });
    let accepted = msgs.iter().find(|m| m[0] == b'A').expect("Accepted");
    assert_eq!(accepted.len(), 66);
    assert_eq!(token_of(accepted), "BUY1");
    let ref_no = u64::from_be_bytes(accepted[49..57].try_into().unwrap());
    assert!(ref_no > 0);
    let execs: Vec<&Vec<u8>> = msgs.iter().filter(|m| m[0] == b'E').collect();
    assert!(
        !execs.is_empty(),
        "executed against the replayed asks: {msgs:?}"
    );
    let mut filled = 0u32;
    for e in &execs {
        assert_eq!(e.len(), 40);
        assert_eq!(token_of(e), "BUY1");
        filled += u32::from_be_bytes(e[23..27].try_into().unwrap());
        let px = u32::from_be_bytes(e[27..31].try_into().unwrap());
        assert!(px <= 6_000_000 && px > 5_000_000, "price {px}");
        assert_eq!(e[31], b'R', "removed liquidity");
    }
    let cancel = msgs.last().unwrap();
    assert_eq!(
        cancel[0], b'C',
        "10 levels of AAPL asks hold less than 5,000 shares"
    );
    assert_eq!(cancel.len(), 28);
    let dec = u32::from_be_bytes(cancel[23..27].try_into().unwrap());
    assert_eq!(filled + dec, 5_000);
    assert_eq!(cancel[27], b'I', "IOC remainder");

    // A resting buy far below the market, then cancelled by the client.
    c.send(&enter_order("REST1", b'B', 100, 5_000_000, 99_999));
    c.until(wait, |m| m[0] == b'A' && token_of(m) == "REST1");
    c.send(&cancel_order("REST1", 0));
    let got = c.until(wait, |m| m[0] == b'C' && token_of(m) == "REST1");
    assert_eq!(got.last().unwrap()[27], b'U', "user requested");

    // A duplicate token is ignored (nothing comes back for it).
    c.send(&enter_order("REST1", b'B', 100, 5_000_000, 99_999));
    // Another resting order, then the connection drops: cancel on disconnect.
    c.send(&enter_order("REST2", b'B', 100, 5_000_000, 99_999));
    let got = c.until(wait, |m| m[0] == b'A' && token_of(m) == "REST2");
    assert!(
        got.iter().all(|m| token_of(m) != "REST1"),
        "duplicate token ignored"
    );
    drop(c);

    // Log in again from sequence 1: the whole stream again, byte for byte, then the cancel
    // that the disconnect caused.
    let mut c = Client::connect(addrs.ouch);
    c.send(&login("trader", "s3cret", "", 1));
    let (kind, _) = c.next(wait).unwrap();
    assert_eq!(kind, b'A');
    let replay = c.until(wait, |m| m[0] == b'C' && token_of(m) == "REST2");
    assert!(replay.len() >= msgs.len() + 3, "{}", replay.len());
    assert_eq!(
        &replay[..msgs.len()],
        &msgs[..],
        "same messages from sequence 1"
    );
    assert_eq!(
        replay.last().unwrap()[27],
        b'S',
        "cancelled by the venue on disconnect"
    );
    // And from a sequence in the middle: the rest only.
    let n = replay.len() as u64;
    let mut c2 = Client::connect(addrs.ouch);
    c2.send(&login("trader", "s3cret", "KSIM000001", n));
    let (kind, body) = c2.next(wait).unwrap();
    assert_eq!(kind, b'A');
    assert_eq!(String::from_utf8_lossy(&body[10..30]).trim(), n.to_string());
    let rest = c2.until(wait, |m| m[0] == b'C' && token_of(m) == "REST2");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0], *replay.last().unwrap());

    stop.store(true, Ordering::Relaxed);
    let report = exchange.join().unwrap().unwrap();
    assert!(report.server.rejected_not_authorized >= 1);
    assert!(report.server.rejected_session >= 1);
    assert!(!report.fills.is_empty());
    assert!(
        report.feed.messages >= 3,
        "the feed published what the client saw"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Starts an exchange on `ouch` (0: any port) and returns its stop flag, thread and addresses.
fn start(
    ouch: SocketAddr,
    creds: PathBuf,
) -> (
    Arc<AtomicBool>,
    std::thread::JoinHandle<
        Result<kestrel_sim::exchange::ExchangeReport, kestrel_sim::exchange::ExchangeError>,
    >,
    BoundAddrs,
) {
    let feed = UdpSocket::bind("127.0.0.1:0").unwrap();
    let setup = ExchangeSetup {
        capture: capture(),
        ouch,
        itch: feed.local_addr().unwrap(),
        credentials: creds,
        pace: Pace::Factor(1.0),
        config: ExchangeConfig {
            retrans: Some("127.0.0.1:0".parse().unwrap()),
            linger_ms: 100,
            ..ExchangeConfig::default()
        },
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel::<BoundAddrs>();
    let handle = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let _keep = feed;
            let mut on_bound = |a: BoundAddrs| tx.send(a).unwrap();
            run_exchange(&setup, &stop, &mut on_bound)
        })
    };
    let addrs = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    (stop, handle, addrs)
}

#[test]
fn venue_restart_and_logins_beyond_the_stream() {
    let dir = std::env::temp_dir().join(format!("ksim-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let creds = credentials(&dir);
    let wait = Duration::from_secs(5);
    let (stop, handle, addrs) = start("127.0.0.1:0".parse().unwrap(), creds.clone());
    // Before any login: anything but a Login Request is refused as not authorized.
    let mut c = Client::connect(addrs.ouch);
    c.send(&enter_order("X", b'B', 1, 5_000_000, 99_999));
    assert_eq!(c.next(wait), Some((b'J', b"A".to_vec())));
    // A login asking for a sequence far beyond the stream gets the next one the venue will
    // generate (1 here), not a gap that never fills.
    let mut c = Client::connect(addrs.ouch);
    c.send(&login("trader", "s3cret", "", 500));
    let (kind, body) = c.next(wait).unwrap();
    assert_eq!(kind, b'A');
    assert_eq!(String::from_utf8_lossy(&body[10..30]).trim(), "1");
    c.send(&enter_order("R1", b'B', 100, 5_000_000, 99_999));
    c.until(wait, |m| m[0] == b'A' && token_of(m) == "R1");
    // The venue goes away mid-session: the connection ends.
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap().unwrap();
    assert!(c.until(Duration::from_millis(500), |_| false).len() <= 1);
    // A new venue process on the same port: a client logging in at its old sequence number is
    // told where the new stream starts and can trade again.
    let (stop, handle, addrs2) = start(addrs.ouch, creds);
    assert_eq!(addrs2.ouch, addrs.ouch);
    let mut c = Client::connect(addrs.ouch);
    c.send(&login("trader", "s3cret", "", 2));
    let (kind, body) = c.next(wait).unwrap();
    assert_eq!(kind, b'A');
    assert_eq!(String::from_utf8_lossy(&body[10..30]).trim(), "1");
    c.send(&enter_order("R2", b'B', 100, 5_000_000, 99_999));
    let got = c.until(wait, |m| m[0] == b'A' && token_of(m) == "R2");
    assert_eq!(got.last().map(|m| token_of(m)), Some("R2".to_owned()));
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap().unwrap();
    std::fs::remove_dir_all(&dir).ok();
}
