//! LOBSTER import verified through the real wire path (kcap -> MoldUDP64 -> ITCH -> L3Books).

use kestrel_feeds::lobster::verify_lobster;

const MESSAGES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
);
const ORDERBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
);

fn read(path: &str) -> String {
    std::fs::read_to_string(path).expect("bundled LOBSTER sample")
}

#[test]
fn aapl_sample_verifies_through_the_wire_path() {
    let (plan, _bytes, report) =
        verify_lobster(&read(MESSAGES), &read(ORDERBOOK), "AAPL").expect("verify runs");
    eprintln!("{:?}\n{:?}", report.handler, report.mismatches.first());
    assert_eq!(plan.events.len(), 999);
    assert_eq!(report.checks, 1996);
    assert_eq!(report.mismatched, 0);
    assert_eq!(report.learned, 318);
    let h = report.handler;
    assert_eq!(h.anomalies(), 0, "{h:?}");
    // Every ITCH message written (S, R, then every op) was decoded.
    assert_eq!(h.itch_messages, plan.ops.len() as u64 + 2);
    assert_eq!(h.events, plan.ops.len() as u64);
}
