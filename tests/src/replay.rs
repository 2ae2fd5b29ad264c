//! Real-data inputs the whole-flow tests share: the LOBSTER AAPL sample imported as a
//! MoldUDP64 / ITCH capture, its book updates, and a source that replays them many times.

use kestrel_core::clock::{Pace, TscClock};
use kestrel_core::pipeline::{Emit, Source, SourceStatus};
use kestrel_core::{BookUpdate, Timestamp};
use kestrel_feeds::feed_stage::{CaptureSource, PublishPolicy};
use kestrel_feeds::handler::{FeedHandler, HandlerConfig};
use kestrel_feeds::kcap::{KcapReader, Records};
use kestrel_feeds::lobster::{parse_messages, parse_orderbook, plan_import, write_lobster_capture};

/// The LOBSTER AAPL sample's message file (the first 998 events after 09:30, 2012-06-21).
pub const AAPL_MESSAGES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
));
/// Its 10-level order-book file.
pub const AAPL_BOOK: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
));

/// The AAPL sample imported through the LOBSTER importer into a `.kcap` (instrument `AAPL`).
pub fn aapl_capture() -> KcapReader {
    let plan = plan_import(parse_messages(AAPL_MESSAGES), parse_orderbook(AAPL_BOOK));
    let bytes = write_lobster_capture(&plan, "AAPL", Timestamp::ZERO, Vec::new())
        .expect("the AAPL sample imports");
    KcapReader::from_vec(bytes).expect("the imported capture reads back")
}

/// The feed stage over `reader` (default handler sizes), as fast as it goes.
pub fn capture_source<'a>(reader: &'a KcapReader, clock: &TscClock) -> CaptureSource<Records<'a>> {
    let handler = FeedHandler::for_capture(HandlerConfig::default(), reader.header())
        .expect("an ITCH capture");
    CaptureSource::new(handler, reader.records(), Pace::Max, clock.clone())
}

/// Every book update of the capture, in order (the feed stage run on its own, publishing every
/// event: `kestrel_feeds::updates::capture_updates`).
pub fn capture_updates(reader: &KcapReader) -> Vec<BookUpdate> {
    kestrel_feeds::updates::capture_updates(reader, PublishPolicy::EveryEvent)
        .expect("an ITCH capture")
        .updates
}

/// A source replaying `updates` `rounds` times, sequence numbers and times shifted so they keep
/// increasing (a long run from a short capture, with no allocation per update).
#[derive(Debug)]
pub struct Rounds {
    updates: Vec<BookUpdate>,
    span: u64,
    rounds: u64,
    round: u64,
    next: usize,
    seq: u64,
}

impl Rounds {
    /// `updates` replayed `rounds` times.
    pub fn new(updates: Vec<BookUpdate>, rounds: u64) -> Self {
        let first = updates.first().map_or(0, |u| u.exch_ts.nanos());
        let last = updates.last().map_or(0, |u| u.exch_ts.nanos());
        Self {
            updates,
            span: last - first + 1_000_000,
            rounds,
            round: 0,
            next: 0,
            seq: 0,
        }
    }
}

impl Source for Rounds {
    type Out = BookUpdate;

    fn poll<E: Emit<BookUpdate>>(&mut self, out: &mut E) -> SourceStatus {
        if self.next == self.updates.len() {
            self.next = 0;
            self.round += 1;
        }
        if self.round == self.rounds || self.updates.is_empty() {
            return SourceStatus::Done;
        }
        let mut u = self.updates[self.next];
        self.next += 1;
        self.seq += 1;
        let shift = self.round * self.span;
        u.seq = self.seq;
        u.exch_ts = Timestamp(u.exch_ts.nanos() + shift);
        u.recv_ts = Timestamp(u.recv_ts.nanos() + shift);
        out.emit(u);
        SourceStatus::Busy
    }
}
