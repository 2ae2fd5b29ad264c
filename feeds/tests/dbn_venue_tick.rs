//! Ticks from the venue for Databento: an instrument definition's `min_price_increment` reaches
//! the capture's instrument table (what the strategy's tick-based signals read), the level
//! book its MBP records build and the order book its MBO records build; an instrument without
//! a definition follows the US equity rule.
//!
//! The market here is a Euro FX future (tick 0.00005 at about 1.085): above $1, where the US
//! equity rule's tick is 0.01, so a book that fell back on that rule would see every level but
//! the first as off its grid and keep it aside among its outliers, which the small books below
//! (four levels per side) cannot hold without growing.

use std::ffi::c_char;

use dbn::encode::{DbnEncoder, EncodeRecord};
use dbn::record::str_to_c_chars;
use dbn::{
    BidAskPair, FlagSet, InstrumentDefMsg, MboMsg, Mbp10Msg, Metadata, RecordHeader, SType, rtype,
};
use kestrel_core::book::BookConfig;
use kestrel_core::{InstrumentId, InstrumentTable, Price, Side, TickRule, Timestamp};
use kestrel_feeds::dbn::{
    DbnBooks, DbnBytes, DbnFeed, DbnImportReport, write_dbn_bytes, write_dbn_capture,
};
use kestrel_feeds::handler::header_instruments;
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::venue::VenueEvent;

const INSTR: u32 = 77;
/// 0.00005 in DBN's 1e-9 units.
const TICK: i64 = 50_000;
/// 1.08500.
const MID: i64 = 1_085_000_000;
const F_LAST: u8 = 1 << 7;

/// A DBN stream: the instrument's definition with its tick, then the records `body` encodes.
fn euro_fx_with(body: impl FnOnce(&mut DbnEncoder<&mut Vec<u8>>)) -> Vec<u8> {
    let metadata = Metadata::builder()
        .dataset("GLBX.MDP3")
        .schema(None)
        .start(0)
        .stype_in(Some(SType::RawSymbol))
        .stype_out(SType::InstrumentId)
        .build();
    let mut out = Vec::new();
    let mut enc = DbnEncoder::new(&mut out, &metadata).expect("DBN metadata");
    let definition = InstrumentDefMsg {
        hd: RecordHeader::new::<InstrumentDefMsg>(rtype::INSTRUMENT_DEF, 1, INSTR, 1_000),
        ts_recv: 1_001,
        min_price_increment: TICK,
        raw_symbol: str_to_c_chars("6EZ6").expect("symbol"),
        ..InstrumentDefMsg::default()
    };
    enc.encode_record(&definition).expect("definition");
    body(&mut enc);
    out
}

/// The definition, then `records` MBP-10 records of ten levels a side, one tick apart, the
/// touch moving a tick up and down.
fn euro_fx(records: u32) -> Vec<u8> {
    euro_fx_with(|enc| {
        for r in 0..records {
            let ts = 2_000 + u64::from(r);
            let best_bid = MID + i64::from(r % 3) * TICK;
            let level = |k: i64| BidAskPair {
                bid_px: best_bid - k * TICK,
                ask_px: best_bid + (k + 1) * TICK,
                bid_sz: 5 + u32::try_from(k).unwrap(),
                ask_sz: 7 + u32::try_from(k).unwrap(),
                bid_ct: 1,
                ask_ct: 1,
            };
            let mbp = Mbp10Msg {
                hd: RecordHeader::new::<Mbp10Msg>(rtype::MBP_10, 1, INSTR, ts),
                price: best_bid,
                size: 1,
                action: b'A' as c_char,
                side: b'B' as c_char,
                flags: FlagSet::new(F_LAST),
                depth: 0,
                ts_recv: ts + 5,
                ts_in_delta: 0,
                sequence: r,
                levels: std::array::from_fn(|k| level(k as i64)),
            };
            enc.encode_record(&mbp).expect("MBP-10");
        }
    })
}

/// The same market order by order: the definition, then one MBO add at each of ten levels a
/// side, one tick apart.
fn euro_fx_mbo() -> Vec<u8> {
    euro_fx_with(|enc| {
        let mut seq = 0u32;
        for k in 0..10i64 {
            for (side, price) in [(b'B', MID - k * TICK), (b'A', MID + (k + 1) * TICK)] {
                seq += 1;
                let ts = 2_000 + u64::from(seq);
                let add = MboMsg {
                    hd: RecordHeader::new::<MboMsg>(rtype::MBO, 1, INSTR, ts),
                    order_id: u64::from(seq),
                    price,
                    size: 3 + seq,
                    flags: FlagSet::new(F_LAST),
                    channel_id: 0,
                    action: b'A' as c_char,
                    side: side as c_char,
                    ts_recv: ts + 5,
                    ts_in_delta: 0,
                    sequence: seq,
                };
                enc.encode_record(&add).expect("MBO");
            }
        }
    })
}

/// Imports `bytes` (which must import whole); the capture and what the import counted.
fn import(bytes: Vec<u8>) -> (KcapReader, DbnImportReport) {
    let input = DbnBytes {
        bytes,
        compression_error: None,
    };
    let (kcap, report) = write_dbn_bytes(&input, Timestamp(0), Vec::new()).expect("import");
    assert!(report.stopped.is_none(), "{report:?}");
    (
        KcapReader::from_vec(kcap).expect("imported capture"),
        report,
    )
}

/// The instrument without the venue's tick: the US equity rule.
fn us_equity_table() -> InstrumentTable {
    let mut equity = InstrumentTable::new();
    equity
        .add(
            "6EZ6",
            TickRule::UsEquity.tick_size(),
            kestrel_core::Qty::ONE,
            9,
        )
        .unwrap();
    equity
}

/// Small books: four levels a side (the outliers hold four without growing).
fn small_books() -> BookConfig {
    BookConfig {
        levels_per_side: 4,
        ..BookConfig::default()
    }
}

/// Replays the capture through a feed with `table`; returns the feed.
fn replay(reader: &KcapReader, table: InstrumentTable) -> DbnFeed {
    let mut feed = DbnFeed::new(small_books(), table, &[]);
    let mut sink = |_: &VenueEvent, _: &DbnBooks| {};
    for r in reader.records() {
        feed.on_record(&r.expect("record"), &mut sink)
            .expect("a clean record");
    }
    feed
}

#[test]
fn an_mbp_book_is_on_the_tick_of_the_instruments_definition() {
    let (reader, report) = import(euro_fx(50));
    assert_eq!((report.definitions, report.mbp10), (1, 50));

    // The table (what the strategy's signals read) carries the definition's tick.
    let table = header_instruments(reader.header()).expect("instrument table");
    let id = table.id_of("6EZ6").expect("the definition's symbol");
    let tick = Price::from_raw(5_000);
    assert_eq!(table.get(id).unwrap().tick_rule(), TickRule::Fixed(tick));

    // The same capture, the table's tick left out: the book falls back on the US equity rule.
    let on_rule = replay(&reader, us_equity_table());
    let on_tick = replay(&reader, table);

    // Both hold the same ten levels a side.
    let books = (on_tick.books(), on_rule.books());
    assert!(!books.0.is_l3(id));
    for side in [Side::Buy, Side::Sell] {
        let levels: Vec<_> = books.0.l2.levels(id, side).collect();
        assert_eq!(levels, books.1.l2.levels(id, side).collect::<Vec<_>>());
        assert_eq!(levels.len(), 10);
    }
    assert_eq!(books.0.book_hash(id), books.1.book_hash(id));
    assert_eq!(on_tick.stats().book_updates, 50);
    // On the rule's 0.01 grid nine levels a side are off-grid outliers, more than the books
    // were sized for; on the venue's grid every level sits in the window and nothing grows.
    assert!(
        on_rule.stats().l2.level_growths > 0,
        "{:?}",
        on_rule.stats()
    );
    assert_eq!(on_tick.stats().l2.level_growths, 0, "{:?}", on_tick.stats());
}

#[test]
fn an_mbo_book_is_on_the_tick_of_the_instruments_definition() {
    let (reader, report) = import(euro_fx_mbo());
    assert_eq!((report.definitions, report.mbo), (1, 20));
    let table = header_instruments(reader.header()).expect("instrument table");
    let id = table.id_of("6EZ6").expect("the definition's symbol");
    let on_rule = replay(&reader, us_equity_table());
    let on_tick = replay(&reader, table);

    // Both order books hold the same ten levels a side, one order each.
    let books = (on_tick.books(), on_rule.books());
    assert!(books.0.is_l3(id));
    for side in [Side::Buy, Side::Sell] {
        let levels: Vec<_> = books.0.l3.levels(id, side).collect();
        assert_eq!(levels, books.1.l3.levels(id, side).collect::<Vec<_>>());
        assert_eq!(levels.len(), 10);
    }
    assert_eq!(books.0.book_hash(id), books.1.book_hash(id));
    // Off the rule's 0.01 grid, nine levels a side are outliers beyond the books' sizing;
    // on the venue's grid every level sits in the window and nothing grows.
    assert!(
        on_rule.stats().l3.level_growths > 0,
        "{:?}",
        on_rule.stats()
    );
    assert_eq!(on_tick.stats().l3.level_growths, 0, "{:?}", on_tick.stats());
}

#[test]
fn an_instrument_without_a_definition_follows_the_us_equity_rule() {
    // The bundled MBP-1 file: two records, no definition.
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/dbn/test_data.mbp-1.dbn");
    let (kcap, report) = write_dbn_capture(&path, Timestamp(0), Vec::new()).expect("import");
    assert_eq!(report.definitions, 0);
    let reader = KcapReader::from_vec(kcap).expect("imported capture");
    let table = header_instruments(reader.header()).expect("instrument table");
    assert_eq!(table.len(), 1);
    let instrument = table.get(InstrumentId(0)).unwrap();
    assert_eq!(instrument.tick_rule(), TickRule::UsEquity, "{instrument:?}");
}
