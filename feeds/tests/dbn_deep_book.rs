//! A DBN MBO capture whose book is deeper than the feed's start sizes (`DbnFeed::for_capture`
//! starts at `BookConfig::default()`: 256 levels per side, 65,536 orders): nothing is lost.
//! The book grows past them (an allocation, counted in `DbnStats::l3`'s growth counters and
//! shown by `kestrel replay` as `book_growths=`, `DbnStats::book_growths`), every level and order is kept, and the deep
//! levels trade, cancel and clear like the top ones.

use std::ffi::c_char;

use dbn::encode::{DbnEncoder, EncodeRecord};
use dbn::{FlagSet, MboMsg, Metadata, RecordHeader, SType, Schema, rtype};
use kestrel_core::book::BookConfig;
use kestrel_core::{InstrumentId, Price, Qty, Side, Timestamp};
use kestrel_feeds::dbn::{DbnBooks, DbnBytes, DbnFeed, write_dbn_bytes};
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::venue::VenueEvent;

const INSTR: u32 = 5482;
const F_LAST: u8 = 1 << 7;
const F_SNAPSHOT: u8 = 1 << 5;
/// A 0.25 tick in DBN's 1e-9 units.
const TICK: i64 = 250_000_000;
const MID: i64 = 16_000 * TICK;
/// Levels per side: past the default 256.
const LEVELS: i64 = 600;
/// Orders per level: 2 * 600 * 60 = 72,000 orders, past the default 65,536.
const PER_LEVEL: i64 = 60;

fn mbo(seq: u32, action: u8, side: u8, order_id: u64, price: i64, size: u32, flags: u8) -> MboMsg {
    let ts = 1_000 + u64::from(seq);
    MboMsg {
        hd: RecordHeader::new::<MboMsg>(rtype::MBO, 1, INSTR, ts),
        order_id,
        price,
        size,
        flags: FlagSet::new(flags),
        channel_id: 0,
        action: action as c_char,
        side: side as c_char,
        ts_recv: ts + 5,
        ts_in_delta: 0,
        sequence: seq,
    }
}

/// Order id of order `k` of level `level` (0 = best) on `side`.
fn order_id(side: u8, level: i64, k: i64) -> u64 {
    let side = if side == b'B' { 0 } else { 1 };
    u64::try_from(1 + (side * LEVELS + level) * PER_LEVEL + k).unwrap()
}

fn price(side: u8, level: i64) -> i64 {
    if side == b'B' {
        MID - (1 + level) * TICK
    } else {
        MID + (1 + level) * TICK
    }
}

/// A snapshot (clear, then every order with `F_SNAPSHOT`, the last with `F_LAST`), then two
/// updates: every order of the deepest bid level cancelled (one book update), and an add at a
/// new deepest ask level.
fn deep_capture() -> Vec<u8> {
    let metadata = Metadata::builder()
        .dataset("GLBX.MDP3")
        .schema(Some(Schema::Mbo))
        .start(0)
        .stype_in(Some(SType::RawSymbol))
        .stype_out(SType::InstrumentId)
        .build();
    let mut out = Vec::new();
    {
        let mut enc = DbnEncoder::new(&mut out, &metadata).expect("DBN metadata");
        let mut seq = 0u32;
        let mut put = |enc: &mut DbnEncoder<&mut Vec<u8>>, m: &dyn Fn(u32) -> MboMsg| {
            seq += 1;
            enc.encode_record(&m(seq)).expect("record");
        };
        put(&mut enc, &|s| mbo(s, b'R', b'N', 0, 0, 0, F_SNAPSHOT));
        let total = 2 * LEVELS * PER_LEVEL;
        let mut n = 0;
        for level in 0..LEVELS {
            for side in [b'B', b'A'] {
                for k in 0..PER_LEVEL {
                    n += 1;
                    let flags = F_SNAPSHOT | if n == total { F_LAST } else { 0 };
                    let size = u32::try_from(1 + k % 7).unwrap();
                    put(&mut enc, &|s| {
                        mbo(
                            s,
                            b'A',
                            side,
                            order_id(side, level, k),
                            price(side, level),
                            size,
                            flags,
                        )
                    });
                }
            }
        }
        let deepest = LEVELS - 1;
        for k in 0..PER_LEVEL {
            let size = u32::try_from(1 + k % 7).unwrap();
            let flags = if k + 1 == PER_LEVEL { F_LAST } else { 0 };
            put(&mut enc, &|s| {
                mbo(
                    s,
                    b'C',
                    b'B',
                    order_id(b'B', deepest, k),
                    price(b'B', deepest),
                    size,
                    flags,
                )
            });
        }
        put(&mut enc, &|s| {
            mbo(s, b'A', b'A', 9_999_999, price(b'A', LEVELS), 3, F_LAST)
        });
    }
    out
}

fn side_qty(levels: &[(Price, Qty)]) -> i64 {
    levels.iter().map(|(_, q)| q.raw()).sum()
}

#[test]
fn a_book_deeper_than_the_start_sizes_loses_nothing_and_counts_its_growth() {
    let input = DbnBytes {
        bytes: deep_capture(),
        compression_error: None,
    };
    let (kcap, report) = write_dbn_bytes(&input, Timestamp(0), Vec::new()).expect("import");
    assert!(report.stopped.is_none(), "{report:?}");
    let reader = KcapReader::from_vec(kcap).expect("imported capture");
    let mut feed = DbnFeed::for_capture(reader.header()).expect("a DBN capture");
    // The capture is deeper than the start sizes (the point of this test).
    let start = BookConfig::default();
    assert!(LEVELS as usize > start.levels_per_side);
    assert!((2 * LEVELS * PER_LEVEL) as usize > start.order_capacity);

    let mut shown = Vec::new();
    for r in reader.records() {
        let r = r.expect("record");
        let mut sink = |e: &VenueEvent, _: &DbnBooks| {
            if let VenueEvent::Book { shown: s, .. } = e {
                shown.push(*s);
            }
        };
        feed.on_record(&r, &mut sink).expect("every record applies");
    }
    // Three complete updates (snapshot, the deepest bid level cancelled, the new ask level),
    // all shown.
    assert_eq!(shown, [true, true, true]);

    let s = feed.stats();
    assert_eq!(s.anomalies(), 0, "{s:?}");
    assert_eq!((s.l3.capacity_exhausted, s.l3.unknown_orders), (0, 0));
    // The growth past the start sizes is counted, not hidden.
    assert!(s.l3.level_growths > 0, "{:?}", s.l3);
    assert!(s.book_growths() >= s.l3.level_growths + s.l3.order_pool_growths);

    let id = InstrumentId(0);
    let l3 = &feed.books().l3;
    // The orders past the order map's window (the start capacity rounded up: 65,536 records)
    // meet live ones at their window nodes and are held in the table, their records in the
    // pool's overflow (room for the start capacity more before it grows).
    let (in_window, in_table) = l3.order_map_split();
    assert_eq!(in_window + in_table, l3.live_orders());
    assert!(
        in_table > 0 && in_window <= 1 << 16,
        "{in_window} {in_table}"
    );
    let bids: Vec<(Price, Qty)> = l3.levels(id, Side::Buy).map(|l| (l.price, l.qty)).collect();
    let asks: Vec<(Price, Qty)> = l3
        .levels(id, Side::Sell)
        .map(|l| (l.price, l.qty))
        .collect();
    // Every level is there: 600 bids less the cancelled deepest one, 600 asks plus the new one.
    assert_eq!(bids.len(), LEVELS as usize - 1);
    assert_eq!(asks.len(), LEVELS as usize + 1);
    let level_qty: i64 = (0..PER_LEVEL).map(|k| 1 + k % 7).sum();
    assert_eq!(side_qty(&bids), (LEVELS - 1) * level_qty * Qty::ONE.raw());
    assert_eq!(side_qty(&asks), (LEVELS * level_qty + 3) * Qty::ONE.raw());
    // Best first, deepest last, at the prices the capture put them.
    let px = |nanos: i64| Price::from_raw(nanos / 10);
    assert_eq!(bids[0].0, px(price(b'B', 0)));
    assert_eq!(bids[bids.len() - 1].0, px(price(b'B', LEVELS - 2)));
    assert_eq!(
        asks[asks.len() - 1],
        (px(price(b'A', LEVELS)), Qty::from_raw(3 * Qty::ONE.raw()))
    );
    // Every order of the snapshot but the cancelled level's, plus the new one.
    assert_eq!(
        l3.live_orders(),
        usize::try_from(2 * LEVELS * PER_LEVEL - PER_LEVEL + 1).unwrap()
    );
    // An order deep in the book keeps its place in its queue.
    let queue: Vec<u64> = l3
        .level_orders(id, Side::Sell, px(price(b'A', LEVELS - 1)))
        .map(|o| o.0.0)
        .collect();
    let expected: Vec<u64> = (0..PER_LEVEL)
        .map(|k| order_id(b'A', LEVELS - 1, k))
        .collect();
    assert_eq!(queue, expected);
}
