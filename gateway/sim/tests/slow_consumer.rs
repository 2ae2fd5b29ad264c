//! A slow consumer gets backpressure, not loss: a participant that stops reading while the
//! venue keeps generating its sequenced messages is never cut off and never loses one. The
//! server stops copying the stream into the connection's queue at the high-water mark (256
//! KiB), the messages wait on the venue's stream, and once the client reads again it receives
//! every sequenced message, in order, from sequence 1 to the last. Loopback only, bounded.

mod common;

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kestrel_core::clock::Pace;
use kestrel_sim::exchange::{BoundAddrs, ExchangeConfig, ExchangeSetup, run_exchange};
use kestrel_sim::net::TX_HIGH_WATER;

use common::{Client, capture, credentials, enter_order, login, token_of};

/// Orders the client enters without reading: each comes back as a 66-byte Accepted message
/// (69 bytes framed), about 2 MB of stream in all, far beyond what the kernel's socket
/// buffers hold, so the server's own queue reaches its high-water mark.
const ORDERS: u32 = 30_000;

#[test]
fn a_slow_reader_gets_every_message_in_order_once_it_reads() {
    let dir = std::env::temp_dir().join(format!("ksim-slow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let feed = UdpSocket::bind("127.0.0.1:0").unwrap();
    let setup = ExchangeSetup {
        capture: capture(),
        ouch: "127.0.0.1:0".parse().unwrap(),
        itch: feed.local_addr().unwrap(),
        credentials: credentials(&dir),
        pace: Pace::Factor(1.0),
        config: ExchangeConfig {
            retrans: Some("127.0.0.1:0".parse().unwrap()),
            linger_ms: 100,
            ..ExchangeConfig::default()
        },
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel::<BoundAddrs>();
    let exchange = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let _keep = feed;
            let mut on_bound = |a: BoundAddrs| tx.send(a).unwrap();
            run_exchange(&setup, &stop, &mut on_bound)
        })
    };
    let addrs = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    let wait = Duration::from_secs(10);
    let mut c = Client::connect(addrs.ouch);
    c.send(&login("trader", "s3cret", "", 1));
    let (kind, _) = c.next(wait).expect("login answer");
    assert_eq!(kind, b'A');

    // Resting buys far below the market (they never fill), sent in one go; the client reads
    // nothing meanwhile.
    let mut bytes = Vec::with_capacity(ORDERS as usize * 52);
    for i in 0..ORDERS {
        bytes.extend(enter_order(&format!("S{i}"), b'B', 1, 10_000, 99_999));
    }
    c.send(&bytes);
    // Let the venue accept them all while nobody reads.
    std::thread::sleep(Duration::from_millis(1500));

    // Now read: every Accepted, in order, one per order, nothing missing or doubled.
    let mut next = 0u32;
    let got = c.until(Duration::from_secs(60), |m| {
        assert_eq!(m[0], b'A', "only Accepted messages are on this stream");
        assert_eq!(
            token_of(m),
            format!("S{next}"),
            "message {} in order",
            next + 1
        );
        next += 1;
        next == ORDERS
    });
    assert_eq!(
        got.len(),
        ORDERS as usize,
        "every sequenced message arrived"
    );

    stop.store(true, Ordering::Relaxed);
    let report = exchange.join().unwrap().unwrap();
    assert_eq!(report.streams[0], u64::from(ORDERS), "the venue's stream");
    assert!(
        report.server.stream_holds > 0,
        "the server held the stream back at its high-water mark: {:?}",
        report.server
    );
    assert!(
        report.server.max_queued_bytes <= (TX_HIGH_WATER + 128) as u64,
        "the connection's queue stayed bounded: {:?}",
        report.server
    );
    assert_eq!(
        report.server.disconnects, 0,
        "the slow reader was not cut off"
    );
    assert_eq!(report.server.timeouts, 0);
    std::fs::remove_dir_all(&dir).ok();
}
