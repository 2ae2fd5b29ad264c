//! After a `--pace max` replay ends, the venue's clock runs at the wall clock's rate while the
//! exchange lingers: a feed that sends nothing for a second sends a MoldUDP64 heartbeat, as a
//! venue's idle feed does, so a receiver listening during the linger sees its session alive.

mod common;

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use common::{capture, credentials};
use kestrel_core::clock::Pace;
use kestrel_sim::exchange::{ExchangeConfig, ExchangeSetup, run_exchange};

#[test]
fn the_linger_after_a_max_pace_replay_keeps_wall_clock_time() {
    let dir = std::env::temp_dir().join(format!("ksim-linger-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The feed goes to a socket nobody reads (datagrams to it are simply dropped).
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let linger_ms = 2_600;
    let setup = ExchangeSetup {
        capture: capture(),
        ouch: "127.0.0.1:0".parse().unwrap(),
        itch: sink.local_addr().unwrap(),
        credentials: credentials(&dir),
        pace: Pace::Max,
        config: ExchangeConfig {
            linger_ms,
            ..ExchangeConfig::default()
        },
    };
    let stop = Arc::new(AtomicBool::new(false));
    let report = run_exchange(&setup, &stop, &mut |_| {}).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(!report.stopped);
    assert!(report.background.messages > 0, "{:?}", report.background);
    // 2.6 s of linger at the wall clock's rate: idle for 1 s twice. (With the venue's clock
    // crawling 1 us per loop turn, as before, not one heartbeat was due.)
    assert!(
        report.feed.heartbeats >= 2,
        "heartbeats during a {linger_ms} ms linger: {} ({:?})",
        report.feed.heartbeats,
        report.elapsed
    );
    assert!(report.elapsed >= Duration::from_millis(linger_ms));
}
