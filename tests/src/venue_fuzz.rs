//! Fuzz targets for the level-book venue decoders (Binance JSON, Databento DBN): one function
//! per target, taking arbitrary bytes, in the shape of `kestrel_tests::fuzz` (run under AFL++
//! from `fuzz/`, and over the committed corpus by `tests/tests/fuzz_corpus.rs`).
//!
//! Each fails by panicking: on a decoder panic or on a broken invariant asserted here. Beyond
//! "never panics", every target checks the feed's contract on any input: every message is
//! counted once, an error names the record that caused it, and a book update marked `shown` is
//! never crossed or locked.

use kestrel_core::book::{BookConfig, L2Books};
use kestrel_core::{BookTop, Timestamp};
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::venue::{TopOfBook, VenueEvent};

/// Largest input a target looks at (the rest is ignored), so one execution stays short.
pub const MAX_INPUT: usize = 1 << 16;

fn capped(data: &[u8]) -> &[u8] {
    &data[..data.len().min(MAX_INPUT)]
}

/// A shown book's top is never crossed nor locked (Binance and DBN targets).
fn assert_shown_uncrossed(event: &VenueEvent, books: &impl TopOfBook) {
    if let VenueEvent::Book {
        instrument,
        shown: true,
        ..
    } = *event
    {
        let mut top = BookTop::default();
        books.fill_top(instrument, &mut top);
        if let (Some(bid), Some(ask)) = (top.best_bid(), top.best_ask()) {
            assert!(
                bid.price < ask.price,
                "shown book crossed: {bid:?} / {ask:?}"
            );
        }
    }
}

/// A raw Binance capture (`<local ns> <json>` lines, as in `data/binance/`) through the capture
/// line parser, the sonic-rs decoder and the spot and USD-M feeds (snapshot-plus-diff sync,
/// books, tickers, trades). Every message is counted once, an error names its record, a shown
/// book is never crossed, and afterwards a well-formed snapshot is applied or refused only as
/// stale (the feed keeps working).
pub fn binance_json(data: &[u8]) {
    use kestrel_feeds::binance::capture::{capture_lines, is_snapshot};
    use kestrel_feeds::binance::{
        BinanceConfig, BinanceDecoder, BinanceFeed, Market, SNAPSHOT_CHANNEL_BASE, builtin_spec,
        spec_table,
    };
    // On both markets' grids (BTCUSDT spot tick 0.01, USD-M 0.10), with an id beyond any short
    // input's (but the input may carry larger ones: then it is refused as stale).
    const LATE_SNAPSHOT: &[u8] = br#"{"lastUpdateId":4000000000000000000,"bids":[["100.00000000","1.00000000"]],"asks":[["100.10000000","1.00000000"]]}"#;
    let data = capped(data);
    let _ = BinanceDecoder::new(64).decode(data);
    for market in [Market::Spot, Market::UsdM] {
        let spec = builtin_spec(market, "BTCUSDT").expect("built-in BTCUSDT");
        let mut config = BinanceConfig::new(market);
        // Small books and buffers, so that one execution allocates little.
        config.books.levels_per_side = 256;
        config.buffer_diffs = 64;
        config.buffer_levels = 4_096;
        let mut f = BinanceFeed::new(config, spec_table(&[spec]).expect("one instrument"));
        let mut sink = |e: &VenueEvent, b: &L2Books| assert_shown_uncrossed(e, b);
        for line in capture_lines(data) {
            let Ok(line) = line else {
                f.count_capture_error();
                continue;
            };
            let channel = if is_snapshot(line.json) {
                SNAPSHOT_CHANNEL_BASE
            } else {
                0
            };
            let before = f.stats().records;
            if let Err(e) = f.on_message(line.recv_ts, channel, line.json, &mut sink) {
                assert_eq!(e.record, before + 1, "error names another record: {e}");
            }
            assert_eq!(f.stats().records, before + 1, "message not counted once");
        }
        let s0 = f.stats();
        let _ = f.on_message(
            Timestamp(u64::MAX),
            SNAPSHOT_CHANNEL_BASE,
            LATE_SNAPSHOT,
            &mut sink,
        );
        let s1 = f.stats();
        assert!(
            s1.snapshots_applied > s0.snapshots_applied
                || s1.stale_snapshots + s1.snapshots_too_old
                    > s0.stale_snapshots + s0.snapshots_too_old,
            "a well-formed snapshot was neither applied nor refused as stale: {s1:?}"
        );
    }
}

/// An un-compressed DBN stream (v1 to v3) through the importer (the `dbn` crate's metadata and
/// record decoding, instrument discovery, truncation detection) into a `.kcap`, then a replay of
/// that capture through `DbnFeed` (MBO into L3 books, MBP-1/10, TBBO, trades). A stop names an
/// offset inside the input, the importer's capture reads back whole, every record is counted
/// once, an error names its record, a shown book is never crossed.
pub fn dbn(data: &[u8]) {
    use kestrel_feeds::dbn::import::MAP_CHANNEL;
    use kestrel_feeds::dbn::{DbnBooks, DbnBytes, DbnFeed, write_dbn_bytes};
    let input = DbnBytes {
        bytes: capped(data).to_vec(),
        compression_error: None,
    };
    let Ok((kcap, report)) = write_dbn_bytes(&input, Timestamp(1), Vec::new()) else {
        return; // metadata that does not parse is refused whole, with an error
    };
    if let Some(e) = &report.stopped {
        assert!(
            e.offset <= input.bytes.len() as u64,
            "stop past the input: {e:?}"
        );
    }
    let reader = KcapReader::from_bytes(&kcap).expect("the importer's capture reads back");
    let mut feed = DbnFeed::for_capture(reader.header()).expect("a DBN capture");
    let mut sink = |e: &VenueEvent, b: &DbnBooks| assert_shown_uncrossed(e, b);
    let mut n = 0u64;
    for r in reader.records() {
        let r = r.expect("the importer's records read back");
        let before = feed.stats().records;
        let result = feed.on_record(&r, &mut sink);
        let counted = u64::from(r.channel != MAP_CHANNEL);
        assert_eq!(
            feed.stats().records,
            before + counted,
            "record not counted once"
        );
        if let (Err(e), 1) = (result, counted) {
            assert_eq!(e.record, before, "error names another record: {e}");
        }
        n += 1;
    }
    assert_eq!(
        n,
        report.records + 1,
        "instrument map + one record per DBN record"
    );
    assert_eq!(feed.stats().records, report.records);
}

/// DBN v3 records straight into `DbnFeed::on_dbn_record` (the path a replay takes per capture
/// record), without the importer's checks, with two instruments mapped so MBO and MBP records
/// reach the books. The input is cut into records at each `A5 5A` byte pair. Every record is
/// counted once, an error names its record, a shown book is never crossed.
pub fn dbn_records(data: &[u8]) {
    use kestrel_core::{InstrumentTable, Price, Qty};
    use kestrel_feeds::dbn::{DbnBooks, DbnFeed};
    let mut table = InstrumentTable::new();
    for symbol in ["ESZ4", "NQZ4"] {
        table
            .add(symbol, Price::from_raw(25_000_000), Qty::ONE, 2)
            .expect("instrument");
    }
    let books = BookConfig {
        instruments: 2,
        order_capacity: 1 << 10,
        levels_per_side: 64,
    };
    // DBN instrument ids 1 and 5482 (those of the bundled test files).
    let mut feed = DbnFeed::new(books, table, &[1, 5482]);
    let mut sink = |e: &VenueEvent, b: &DbnBooks| assert_shown_uncrossed(e, b);
    let mut rest = capped(data);
    let mut i = 0u64;
    while !rest.is_empty() {
        let (piece, next) = match rest.windows(2).position(|w| w == [0xA5, 0x5A]) {
            Some(at) => (&rest[..at], &rest[at + 2..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        let before = feed.stats().records;
        if let Err(e) = feed.on_dbn_record(Timestamp(1), piece, &mut sink) {
            assert_eq!(e.record, i, "error names another record: {e}");
        }
        assert_eq!(feed.stats().records, before + 1, "record not counted once");
        i += 1;
    }
}
