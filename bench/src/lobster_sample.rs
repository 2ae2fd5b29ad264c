//! The LOBSTER AAPL sample (`data/lobster`) as the strategy sees it in a replay: imported to
//! ITCH and read through the feed stage (`kestrel_feeds::lobster::lobster_updates`), one update
//! per MoldUDP64 packet ([`PublishPolicy::Packet`]: about one per LOBSTER event).

use kestrel_core::BookUpdate;
use kestrel_feeds::feed_stage::PublishPolicy;
use kestrel_feeds::lobster::lobster_updates;

/// The sample's message file.
pub const AAPL_MESSAGES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
));
/// Its 10-level order-book file.
pub const AAPL_BOOK: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
));

/// The sample's book updates (instrument 0, `AAPL`).
pub fn aapl_updates() -> Vec<BookUpdate> {
    let read = lobster_updates(AAPL_MESSAGES, AAPL_BOOK, "AAPL", PublishPolicy::Packet)
        .expect("the AAPL sample reads through the feed");
    assert!(
        read.report.message_errors.is_empty() && read.report.book_errors.is_empty(),
        "{:?}",
        read.report
    );
    read.updates
}
