//! LOBSTER type 6 (cross trade, negative pseudo order id) and type 7 (trading halt) rows, and
//! rows that cannot be read, through the importer and the real wire path: every row is checked,
//! the book is unchanged by a cross or a halt, the halt states reach the books as ITCH `H`, the
//! cross volume prints once (its executions are non-printable `C`s, the `Q` prints), and a row
//! that cannot be read re-anchors the book on the next readable one.

use kestrel_core::book::L3Books;
use kestrel_core::{BookEventKind, InstrumentId, TradeKind, TradingStatus};
use kestrel_feeds::feed_stage::PublishPolicy;
use kestrel_feeds::handler::{FeedEvent, FeedHandler, HandlerConfig};
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::lobster::{ImportOp, lobster_updates, verify_lobster};
use kestrel_feeds::moldudp64::MoldPacket;

/// Depth 1. Two resting orders; an intraday cross (pseudo id -3) of 60 shares at 100.50 that
/// executed 60 of each (type 4 rows with the cross's time, written before it); a regular
/// execution of 10; halt, quote-only and resume; a hidden execution of 7.
const MESSAGES: &str = "\
34200.0,1,1,100,1000000,1
34200.0,1,2,100,1010000,-1
34300.5,4,1,60,1000000,1
34300.5,4,2,60,1010000,-1
34300.5,6,-3,60,1005000,-1
34400.0,4,1,10,1000000,1
34500.0,7,0,0,-1,-1
34600.0,7,0,0,0,-1
34700.0,7,0,0,1,-1
34800.0,5,0,7,1005000,1
";
const BOOK: &str = "\
9999999999,0,1000000,100
1010000,100,1000000,100
1010000,100,1000000,40
1010000,40,1000000,40
1010000,40,1000000,40
1010000,40,1000000,30
1010000,40,1000000,30
1010000,40,1000000,30
1010000,40,1000000,30
1010000,40,1000000,30
";

/// Shares printed per the feed: `E`, printable `C`, `P` and `Q`; non-printable `C`s are not
/// prints.
fn printed(kind: &BookEventKind) -> i64 {
    match *kind {
        BookEventKind::Execute { qty, .. }
        | BookEventKind::ExecuteAtPrice { qty, .. }
        | BookEventKind::Trade { qty, .. } => qty.to_scaled(0).unwrap(),
        _ => 0,
    }
}

#[test]
fn cross_and_halt_rows_are_accepted_checked_and_print_once() {
    let (plan, bytes, report) = verify_lobster(MESSAGES, BOOK, "TEST").unwrap();
    let r = &plan.report;
    assert!(r.message_errors.is_empty(), "{:?}", r.message_errors);
    assert!(r.unapplied.is_empty(), "{:?}", r.unapplied);
    // Every transition is checked, in the model and through the wire.
    assert_eq!((r.checks, r.mismatched), (18, 0));
    assert_eq!(
        (report.checks, report.mismatched),
        (18, 0),
        "{:?}",
        report.mismatches
    );
    assert_eq!((r.crosses, r.cross_executions, r.halts), (1, 2, 3));
    let ops: Vec<ImportOp> = plan.ops.iter().map(|t| t.op).collect();
    assert!(ops.contains(&ImportOp::Cross {
        price: 1_005_000,
        shares: 60,
        cross_type: b'H'
    }));
    assert!(ops.contains(&ImportOp::ExecuteNonPrintable {
        order_ref: 1,
        shares: 60,
        price: 1_005_000
    }));

    // The Q on the wire carries LOBSTER's cross type.
    let reader = KcapReader::from_bytes(&bytes).unwrap();
    let mut cross_types = Vec::new();
    for record in reader.records() {
        let record = record.unwrap();
        let Ok(packet) = MoldPacket::parse(record.payload) else {
            continue;
        };
        for (_, msg) in packet.messages() {
            if msg.first() == Some(&b'Q') {
                cross_types.push(msg[39]);
            }
        }
    }
    assert_eq!(cross_types, vec![b'H']);

    // Replayed: the cross prints once, its executions do not; the halt states arrive in order.
    let mut handler = FeedHandler::for_capture(HandlerConfig::default(), reader.header()).unwrap();
    let mut volume = 0i64;
    let mut non_printable = 0i64;
    let mut statuses = Vec::new();
    let mut status_seen_by_book = Vec::new();
    handler.replay_kcap(&reader, &mut |e: &FeedEvent, books: &L3Books| {
        volume += printed(&e.event.kind);
        match e.event.kind {
            BookEventKind::ExecuteNonPrintable { qty, .. } => {
                non_printable += qty.to_scaled(0).unwrap();
            }
            BookEventKind::Status(s) => {
                statuses.push(s);
                status_seen_by_book.push(books.status(e.event.instrument));
            }
            _ => {}
        }
    });
    assert_eq!(volume, 60 + 10 + 7, "cross volume counted once");
    assert_eq!(non_printable, 120);
    let expected = vec![
        TradingStatus::Halted,
        TradingStatus::QuotationOnly,
        TradingStatus::Trading,
    ];
    assert_eq!(statuses, expected);
    assert_eq!(status_seen_by_book, expected);
    assert_eq!(handler.stats().book_errors, 0);
}

/// Depth 2. Row 2's message cannot be read (a column is missing): it added bid 101 x 5, which
/// the book row shows. Without re-anchoring, every later row would differ from the book.
#[test]
fn an_unreadable_row_re_anchors_the_book_on_the_next_readable_row() {
    let messages = "\
1.0,1,1,10,1000000,1
2.0,1,2,5,1010000
3.0,1,3,4,990000,1
4.0,2,1,3,1000000,1
5.0,4,2,5,1010000,1
";
    let book = "\
9999999999,0,1000000,10,9999999999,0,-9999999999,0
9999999999,0,1010000,5,9999999999,0,1000000,10
9999999999,0,1010000,5,9999999999,0,1000000,10
9999999999,0,1010000,5,9999999999,0,1000000,7
9999999999,0,1000000,7,9999999999,0,990000,4
";
    let (plan, _, report) = verify_lobster(messages, book, "TEST").unwrap();
    let r = &plan.report;
    assert_eq!(r.message_errors.len(), 1);
    assert_eq!(r.reanchored, 1);
    assert_eq!(r.reanchor_levels, 1);
    // Rows 3, 4 and 5 are checked and match; row 2 re-anchored.
    assert_eq!((r.checks, r.mismatched), (6, 0), "{:?}", r.mismatches);
    assert_eq!(
        (report.checks, report.mismatched),
        (6, 0),
        "{:?}",
        report.mismatches
    );
    assert_eq!(report.reanchored, 1);
    // The lost order's execution came from the synthetic order the re-anchoring added.
    assert!(r.unapplied.is_empty(), "{:?}", r.unapplied);

    // Book row 2 unreadable too: row 3 re-anchors.
    let book_bad = book.replacen(
        "9999999999,0,1010000,5,9999999999,0,1000000,10\n",
        "bad\n",
        1,
    );
    let (plan, _, report) = verify_lobster(messages, &book_bad, "TEST").unwrap();
    let r = &plan.report;
    assert_eq!((r.message_errors.len(), r.book_errors.len()), (1, 1));
    assert_eq!(r.reanchored, 1);
    assert_eq!((r.checks, r.mismatched), (4, 0), "{:?}", r.mismatches);
    assert_eq!((report.checks, report.mismatched), (4, 0));
}

/// What the strategy gets from the same rows (`lobster::lobster_updates`, the one LOBSTER reader
/// of the research path): the cross prints once with no aggressor, its executions change the
/// book without a print, the halt states reach the updates, and the hidden execution's aggressor
/// is unknown. A reader that printed every execution and cross row would count 197 shares.
#[test]
fn the_updates_print_the_cross_once_and_carry_the_halt() {
    for policy in [PublishPolicy::EveryEvent, PublishPolicy::Packet] {
        let read = lobster_updates(MESSAGES, BOOK, "TEST", policy).unwrap();
        assert_eq!(read.stats.anomalies(), 0, "{:?}", read.stats);
        assert_eq!(read.report.crosses, 1);
        let ups = &read.updates;
        assert!(ups.iter().all(|u| u.instrument == InstrumentId(0)));
        let prints: Vec<_> = ups
            .iter()
            .filter(|u| !u.trade.qty.is_zero())
            .map(|u| {
                (
                    u.exch_ts.nanos(),
                    u.trade.kind,
                    u.trade.qty.to_scaled(0).unwrap(),
                    u.trade.aggressor,
                )
            })
            .collect();
        let ns = |s: u64, frac: u64| s * 1_000_000_000 + frac;
        assert_eq!(
            prints,
            vec![
                (ns(34_300, 500_000_000), TradeKind::Cross, 60, 0),
                // A resting buy executed: the aggressor sold.
                (ns(34_400, 0), TradeKind::Execution, 10, -1),
                (ns(34_800, 0), TradeKind::NonDisplayed, 7, 0),
            ],
            "{policy:?}"
        );
        // The cross's executions took 60 from each side, without a print.
        let after_cross = ups
            .iter()
            .rfind(|u| u.exch_ts.nanos() == ns(34_300, 500_000_000))
            .unwrap();
        let (bid, ask) = (after_cross.top.bids[0], after_cross.top.asks[0]);
        assert_eq!(
            (bid.qty.to_scaled(0), ask.qty.to_scaled(0)),
            (Some(40), Some(40))
        );
        // Halted, quote-only (not trading either), resumed.
        let trading_at = |t: u64| {
            ups.iter()
                .rfind(|u| u.exch_ts.nanos() == t)
                .unwrap()
                .trading
        };
        assert!(trading_at(ns(34_400, 0)));
        assert!(!trading_at(ns(34_500, 0)));
        assert!(!trading_at(ns(34_600, 0)));
        assert!(trading_at(ns(34_700, 0)));
        assert!(trading_at(ns(34_800, 0)));
    }
}
