//! The feed a replay ran, whatever the capture's payload kind: the ITCH handler (MoldUDP64 /
//! ITCH kcaps and pcaps) or a level-book venue handler (Binance JSON, Databento DBN kcaps),
//! chosen by the kcap header's payload kind.

use kestrel_core::book::L2Books;
use kestrel_core::book::StableHasher;
use kestrel_core::{InstrumentId, InstrumentTable, LevelView, Side};
use kestrel_feeds::binance::BinanceFeed;
use kestrel_feeds::dbn::DbnFeed;
use kestrel_feeds::feed_stage::CaptureSource;
use kestrel_feeds::handler::{CaptureFile, FeedHandler, HandlerStats, combined_book_hash};
use kestrel_feeds::kcap::{KcapReader, PayloadKind, Record};
use kestrel_feeds::venue_source::{RecordFeed, VenueSource};

/// A level-book venue feed built from a kcap header.
#[derive(Debug)]
pub enum VenueFeed {
    /// Binance JSON.
    Binance(Box<BinanceFeed>),
    /// Databento DBN.
    Dbn(Box<DbnFeed>),
}

impl VenueFeed {
    /// The instruments of the capture.
    pub fn instruments(&self) -> &InstrumentTable {
        match self {
            Self::Binance(f) => f.instruments(),
            Self::Dbn(f) => f.instruments(),
        }
    }
}

/// The venue feed a kcap's payload kind calls for (`None`: the ITCH handler's).
pub fn venue_feed(capture: &CaptureFile) -> anyhow::Result<Option<VenueFeed>> {
    match capture {
        CaptureFile::Kcap(reader) => kcap_venue_feed(reader),
        CaptureFile::Pcap(_) => Ok(None),
    }
}

/// The venue feed a kcap's payload kind calls for (`None`: MoldUDP64 / ITCH, the ITCH
/// handler's).
pub fn kcap_venue_feed(reader: &KcapReader) -> anyhow::Result<Option<VenueFeed>> {
    let header = reader.header();
    Ok(match header.payload_kind {
        PayloadKind::BinanceJson => Some(VenueFeed::Binance(Box::new(BinanceFeed::for_capture(
            header,
        )?))),
        PayloadKind::Dbn => Some(VenueFeed::Dbn(Box::new(DbnFeed::for_capture(header)?))),
        _ => None,
    })
}

/// The feed after a replay, with its final books and counters.
#[derive(Debug)]
pub enum ReplayedFeed {
    /// MoldUDP64 / ITCH.
    Itch(Box<FeedHandler>),
    /// Binance JSON.
    Binance(Box<BinanceFeed>),
    /// Databento DBN.
    Dbn(Box<DbnFeed>),
}

/// A pipeline source that gives its feed back after the run.
pub trait IntoReplayed {
    /// The feed.
    fn into_replayed(self) -> ReplayedFeed;
    /// Updates not published (instrument outside the strategy's universe).
    fn unpublished(&self) -> u64;
    /// Accepted events merged into a later update of their packet (`--publish packet`); only
    /// the ITCH feed stage merges.
    fn merged(&self) -> u64 {
        0
    }
}

impl<I> IntoReplayed for CaptureSource<I> {
    fn unpublished(&self) -> u64 {
        CaptureSource::unpublished(self)
    }

    fn merged(&self) -> u64 {
        CaptureSource::merged(self)
    }

    fn into_replayed(self) -> ReplayedFeed {
        ReplayedFeed::Itch(Box::new(self.into_handler()))
    }
}

impl<I> IntoReplayed for VenueSource<I, BinanceFeed> {
    fn unpublished(&self) -> u64 {
        VenueSource::unpublished(self)
    }

    fn into_replayed(self) -> ReplayedFeed {
        ReplayedFeed::Binance(Box::new(self.into_feed()))
    }
}

impl<I> IntoReplayed for VenueSource<I, DbnFeed> {
    fn unpublished(&self) -> u64 {
        VenueSource::unpublished(self)
    }

    fn into_replayed(self) -> ReplayedFeed {
        ReplayedFeed::Dbn(Box::new(self.into_feed()))
    }
}

/// A source that can leave the instruments outside the strategy's universe unpublished.
pub trait UniverseMask: Sized {
    /// Publishes only the instruments whose entry in `mask` (by feed id) is true.
    fn with_publish_mask(self, mask: Vec<bool>) -> Self;

    /// [`with_publish_mask`](Self::with_publish_mask) when there is a mask (a universe
    /// smaller than the capture); every instrument otherwise.
    fn with_mask(self, mask: Option<Vec<bool>>) -> Self {
        match mask {
            Some(m) => self.with_publish_mask(m),
            None => self,
        }
    }
}

impl<'a, I, Err> UniverseMask for CaptureSource<I>
where
    I: Iterator<Item = Result<Record<'a>, Err>>,
{
    fn with_publish_mask(self, mask: Vec<bool>) -> Self {
        CaptureSource::with_publish_mask(self, mask)
    }
}

impl<'a, I, Err, F> UniverseMask for VenueSource<I, F>
where
    I: Iterator<Item = Result<Record<'a>, Err>>,
    F: RecordFeed,
{
    fn with_publish_mask(self, mask: Vec<bool>) -> Self {
        VenueSource::with_publish_mask(self, mask)
    }
}

fn level(l: Option<LevelView>) -> String {
    l.map_or_else(|| "-".to_owned(), |l| format!("{} x {}", l.price, l.qty))
}

/// One fingerprint of every level book, each instrument's `book_hash` in id order.
pub fn combined_l2_hash(books: &L2Books) -> u64 {
    let mut h = StableHasher::new();
    for index in 0..books.instruments() {
        let id = InstrumentId(u32::try_from(index).unwrap_or(u32::MAX));
        h.write_u64(index as u64);
        h.write_u64(books.book_hash(id));
    }
    h.finish()
}

impl ReplayedFeed {
    /// Capture records read.
    pub fn records(&self) -> u64 {
        match self {
            Self::Itch(h) => h.stats().records,
            Self::Binance(f) => f.stats().records,
            Self::Dbn(f) => f.stats().records,
        }
    }

    /// Every anomaly counted.
    pub fn anomalies(&self) -> u64 {
        match self {
            Self::Itch(h) => h.stats().anomalies(),
            Self::Binance(f) => f.stats().anomalies(),
            Self::Dbn(f) => f.stats().anomalies(),
        }
    }

    /// Market events (ITCH) or messages (venues) used.
    pub fn events(&self) -> u64 {
        match self {
            Self::Itch(h) => h.stats().events,
            Self::Binance(f) => f.stats().records,
            Self::Dbn(f) => f.stats().records,
        }
    }

    /// One fingerprint of every book.
    pub fn books_hash(&self) -> u64 {
        match self {
            Self::Itch(h) => combined_book_hash(h.books()),
            Self::Binance(f) => combined_l2_hash(f.books()),
            Self::Dbn(f) => {
                let mut h = StableHasher::new();
                for i in f.instruments().iter() {
                    h.write_u64(u64::from(i.id.0));
                    h.write_u64(f.books().book_hash(i.id));
                }
                h.finish()
            }
        }
    }

    /// Counts pcap frames skipped (ITCH handler only).
    pub fn count_skipped_records(&mut self, n: u64) {
        if let Self::Itch(h) = self {
            h.count_skipped_records(n);
        }
    }

    /// Prints the final top of book of every instrument and the feed counters.
    pub fn print_books(&self) {
        match self {
            Self::Itch(handler) => {
                let books = handler.books();
                for index in 0..books.instruments() {
                    let id = InstrumentId(u32::try_from(index).unwrap_or(u32::MAX));
                    let symbol = handler
                        .instruments()
                        .get(id)
                        .map_or_else(|| format!("#{index}"), |i| i.symbol.clone());
                    println!(
                        "{symbol:<8} bid {:<24} ask {:<24} status {:?}",
                        level(books.best_bid(id)),
                        level(books.best_ask(id)),
                        books.status(id)
                    );
                }
                let s: HandlerStats = handler.stats();
                println!(
                    "records={} skipped_records={} itch_messages={} decode_errors={} capture_errors={} malformed_packets={} duplicate_packets={} gaps_lost={} messages_lost={} unknown_orders={} book_errors={}",
                    s.records,
                    s.skipped_records,
                    s.itch_messages,
                    s.decode_errors,
                    s.capture_errors,
                    s.mold.malformed,
                    s.mold.duplicate_packets,
                    s.mold.gaps_lost,
                    s.mold.messages_lost,
                    s.book.unknown_orders,
                    s.book_errors
                );
            }
            Self::Binance(feed) => {
                let books = feed.books();
                for i in feed.instruments().iter() {
                    println!(
                        "{:<8} bid {:<24} ask {:<24} sync {:?}",
                        i.symbol,
                        level(books.levels(i.id, Side::Buy).next()),
                        level(books.levels(i.id, Side::Sell).next()),
                        feed.sync_state(i.id)
                    );
                }
                let s = feed.stats();
                println!(
                    "market={} records={} depth_diffs={} applied={} buffered={} stale={} gaps={} snapshots={} book_tickers={} trades={} book_updates={} json_errors={} missing_fields={} number_errors={} unknown={} crossed={} capture_errors={}",
                    feed.market(),
                    s.records,
                    s.depth_diffs,
                    s.diffs_applied,
                    s.diffs_buffered,
                    s.stale_diffs,
                    s.gaps,
                    s.snapshots_applied,
                    s.book_tickers,
                    s.trades,
                    s.book_updates,
                    s.json_errors,
                    s.missing_fields,
                    s.number_errors,
                    s.unknown_messages + s.unknown_symbols,
                    s.crossed_withheld,
                    s.capture_errors
                );
            }
            Self::Dbn(feed) => {
                let books = feed.books();
                for i in feed.instruments().iter() {
                    println!(
                        "{:<8} bid {:<24} ask {:<24} book {}",
                        i.symbol,
                        level(books.best_bid(i.id)),
                        level(books.best_ask(i.id)),
                        if books.is_l3(i.id) { "L3" } else { "L2" }
                    );
                }
                let s = feed.stats();
                println!(
                    "records={} mbo={} mbp1={} mbp10={} trades={} definitions={} other={} snapshot_records={} clears={} book_updates={} trade_prints={} decode_errors={} truncated={} unknown_record_types={} too_precise={} book_errors={} crossed={} capture_errors={} book_growths={}",
                    s.records,
                    s.mbo,
                    s.mbp1,
                    s.mbp10,
                    s.trades,
                    s.definitions,
                    s.other,
                    s.snapshot_records,
                    s.clears,
                    s.book_updates,
                    s.trade_prints,
                    s.decode_errors,
                    s.truncated,
                    s.unknown_record_types,
                    s.too_precise,
                    s.book_errors,
                    s.crossed,
                    s.capture_errors,
                    s.book_growths()
                );
            }
        }
    }
}
