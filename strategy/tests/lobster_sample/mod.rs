//! The LOBSTER AAPL sample (`data/lobster`, 2012-06-21, the first 999 events after 09:30) as the
//! strategy sees it: read through the feed code, the way `kestrel replay` reads any capture
//! (LOBSTER -> ITCH import -> MoldUDP64 `.kcap` -> ITCH decode -> L3 book -> `BookUpdate`s).
//!
//! The feed publishes per MoldUDP64 packet ([`PublishPolicy::Packet`]): the importer writes each
//! LOBSTER event as its own packet, so the strategy sees one update per event (the book after
//! it, like LOBSTER's book row), plus the initial book before the first event, and a second
//! update where an execution's print went out before the levels it uncovered from beyond the
//! 10-level window were learned (prints are never merged into a later update).

use kestrel_core::BookUpdate;
use kestrel_feeds::feed_stage::PublishPolicy;
use kestrel_feeds::lobster::lobster_updates;

/// The sample's message file.
const MESSAGES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
));
/// Its 10-level order-book file.
const BOOK: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
));

/// The sample's updates (instrument 0, `AAPL`); the import and the replay must be clean.
pub fn aapl_updates() -> Vec<BookUpdate> {
    let read = lobster_updates(MESSAGES, BOOK, "AAPL", PublishPolicy::Packet)
        .expect("the AAPL sample reads through the feed");
    assert!(
        read.report.message_errors.is_empty() && read.report.book_errors.is_empty(),
        "{:?}",
        read.report
    );
    assert_eq!(read.stats.anomalies(), 0, "{:?}", read.stats);
    read.updates
}
