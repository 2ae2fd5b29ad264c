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

#[test]
fn malformed_rows_are_reported_with_their_line_and_the_rest_flows() {
    let messages = read(MESSAGES);
    let orderbook = read(ORDERBOOK);
    // Line 500 of the message file gets a bad event type; line 700 of the book a bad size.
    let mut lines: Vec<String> = messages.lines().map(str::to_owned).collect();
    let fields: Vec<&str> = lines[499].split(',').collect();
    lines[499] = format!("{},9,{}", fields[0], fields[2..].join(","));
    let messages = lines.join("\n");
    let mut rows: Vec<String> = orderbook.lines().map(str::to_owned).collect();
    rows[699] = rows[699].replacen(',', ",x", 1);
    let orderbook = rows.join("\n");

    let (plan, _bytes, report) = verify_lobster(&messages, &orderbook, "AAPL").expect("runs");
    let r = &plan.report;
    assert_eq!(r.message_errors.len(), 1);
    assert_eq!(
        (r.message_errors[0].line, r.message_errors[0].column),
        (500, 2)
    );
    assert_eq!(r.book_errors.len(), 1);
    assert_eq!((r.book_errors[0].line, r.book_errors[0].column), (700, 2));
    // Every other row still flows: events after both bad lines are imported and checked.
    assert_eq!(plan.events.len(), 999);
    assert!(plan.events[998].checked);
    // Unchecked: event 500 (bad message: its readable book row re-anchors the book, so 501 is
    // checked again), 700 (bad row) and 701 (no row before it: it re-anchors): 3 transitions x
    // 2 sides fewer.
    assert_eq!(report.checks, 1996 - 6);
    assert_eq!((report.reanchored, report.mismatched), (2, 0));
    // The last message (34249.086375027) was imported.
    assert_eq!(plan.ops.last().map(|op| op.ts), Some(34_249_086_375_027));
}

#[test]
fn import_is_byte_for_byte_reproducible() {
    let (_, a, _) = verify_lobster(&read(MESSAGES), &read(ORDERBOOK), "AAPL").expect("runs");
    let (_, b, _) = verify_lobster(&read(MESSAGES), &read(ORDERBOOK), "AAPL").expect("runs");
    assert!(a == b, "two imports of the same files differ");
}
