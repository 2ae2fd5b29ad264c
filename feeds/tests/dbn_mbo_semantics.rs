//! MBO into the L3 book: snapshot (clear then `F_SNAPSHOT` adds), `F_LAST` grouping records
//! into one book update, modify (priority kept on a size decrease, lost on a price change or a
//! size increase), partial and full cancels, trades and fills that leave the book alone, and
//! the export view of it (one BBO row per complete update).

use std::ffi::c_char;

use dbn::{FlagSet, MboMsg, RecordHeader, RecordRef, rtype};
use kestrel_core::book::BookConfig;
use kestrel_core::{InstrumentId, InstrumentTable, Price, Qty, Side, Timestamp};
use kestrel_feeds::dbn::{DbnBooks, DbnFeed};
use kestrel_feeds::venue::VenueEvent;

const INSTR: u32 = 5482;
const LAST: u8 = 1 << 7;
const SNAP: u8 = 1 << 5;

fn mbo(seq: u32, action: u8, side: u8, order: u64, price: &str, size: u32, flags: u8) -> MboMsg {
    let px: Price = price.parse().unwrap();
    MboMsg {
        hd: RecordHeader::new::<MboMsg>(rtype::MBO, 1, INSTR, 1_000 + u64::from(seq)),
        order_id: order,
        price: px.raw() * 10,
        size,
        flags: FlagSet::new(flags),
        channel_id: 0,
        action: action as c_char,
        side: side as c_char,
        ts_recv: 2_000 + u64::from(seq),
        ts_in_delta: 0,
        sequence: seq,
    }
}

fn feed() -> DbnFeed {
    let mut table = InstrumentTable::new();
    table
        .add("ESH1", Price::from_raw(25_000_000), Qty::ONE, 2)
        .unwrap();
    DbnFeed::new(BookConfig::default(), table, &[INSTR])
}

/// Applies records; returns the book events (update id, shown) seen.
fn apply(f: &mut DbnFeed, msgs: &[MboMsg]) -> Vec<(u64, bool)> {
    let mut books = Vec::new();
    for m in msgs {
        let r = RecordRef::from(m);
        let bytes: &[u8] = r.as_ref();
        let mut sink = |e: &VenueEvent, _: &DbnBooks| {
            if let VenueEvent::Book {
                update_id, shown, ..
            } = e
            {
                books.push((*update_id, *shown));
            }
        };
        f.on_dbn_record(Timestamp(1), bytes, &mut sink).unwrap();
    }
    books
}

fn level(f: &DbnFeed, side: Side) -> Option<(String, String)> {
    let id = InstrumentId(0);
    let l = match side {
        Side::Buy => f.books().best_bid(id),
        Side::Sell => f.books().best_ask(id),
    }?;
    Some((l.price.to_string(), l.qty.to_string()))
}

#[test]
fn snapshot_then_updates_grouped_by_f_last() {
    let mut f = feed();
    let updates = apply(
        &mut f,
        &[
            mbo(1, b'R', b'N', 0, "0", 0, SNAP),
            mbo(2, b'A', b'B', 11, "3720.00", 5, SNAP),
            mbo(3, b'A', b'B', 12, "3720.00", 3, SNAP),
            mbo(4, b'A', b'A', 21, "3720.25", 4, SNAP | LAST),
        ],
    );
    // Four records, one complete book update (the snapshot ends at F_LAST).
    assert_eq!(updates, [(4, true)]);
    assert_eq!(level(&f, Side::Buy), Some(("3720".into(), "8".into())));
    assert_eq!(level(&f, Side::Sell), Some(("3720.25".into(), "4".into())));
    let s = f.stats();
    assert_eq!(
        (s.snapshot_records, s.clears, s.grouped, s.book_updates),
        (4, 1, 3, 1)
    );

    // A size decrease keeps priority; a size increase loses it (back of the queue).
    apply(&mut f, &[mbo(5, b'M', b'B', 11, "3720.00", 2, LAST)]);
    let queue: Vec<u64> = f
        .books()
        .l3
        .level_orders(InstrumentId(0), Side::Buy, "3720".parse().unwrap())
        .map(|o| o.0.0)
        .collect();
    assert_eq!(queue, [11, 12]);
    apply(&mut f, &[mbo(6, b'M', b'B', 11, "3720.00", 6, LAST)]);
    let queue: Vec<u64> = f
        .books()
        .l3
        .level_orders(InstrumentId(0), Side::Buy, "3720".parse().unwrap())
        .map(|o| o.0.0)
        .collect();
    assert_eq!(queue, [12, 11]);
    assert_eq!(level(&f, Side::Buy), Some(("3720".into(), "9".into())));
    // A price change moves the order.
    apply(&mut f, &[mbo(7, b'M', b'B', 12, "3719.75", 3, LAST)]);
    assert_eq!(level(&f, Side::Buy), Some(("3720".into(), "6".into())));

    // A trade and a fill leave the book alone; the cancels that follow change it. Grouped:
    // one update at F_LAST.
    let updates = apply(
        &mut f,
        &[
            mbo(8, b'T', b'B', 0, "3720.25", 1, 0),
            mbo(9, b'F', b'A', 21, "3720.25", 1, 0),
            mbo(10, b'C', b'A', 21, "3720.25", 1, LAST),
        ],
    );
    assert_eq!(updates, [(10, true)]);
    assert_eq!(level(&f, Side::Sell), Some(("3720.25".into(), "3".into())));
    // A full cancel removes the order and the level.
    apply(&mut f, &[mbo(11, b'C', b'A', 21, "3720.25", 3, LAST)]);
    assert_eq!(level(&f, Side::Sell), None);
    assert_eq!(f.stats().trade_prints, 1);
    assert_eq!(f.stats().fills, 1);
    // A clear empties the book.
    apply(&mut f, &[mbo(12, b'R', b'N', 0, "0", 0, LAST)]);
    assert_eq!((level(&f, Side::Buy), level(&f, Side::Sell)), (None, None));
    assert_eq!(f.stats().anomalies(), 0);
}

#[test]
fn bad_mbo_records_are_errors_and_the_stream_goes_on() {
    let mut f = feed();
    let mut sink = |_: &VenueEvent, _: &DbnBooks| {};
    let mut run = |m: MboMsg| {
        let r = RecordRef::from(&m);
        let bytes: &[u8] = r.as_ref();
        f.on_dbn_record(Timestamp(1), bytes, &mut sink)
            .map_err(|e| e.to_string())
    };
    assert!(
        run(mbo(1, b'A', b'N', 1, "1.00", 1, LAST))
            .unwrap_err()
            .contains("side 'N'")
    );
    assert!(
        run(mbo(2, b'X', b'B', 1, "1.00", 1, LAST))
            .unwrap_err()
            .contains("unknown MBO action 'X'")
    );
    let mut fine = mbo(3, b'A', b'B', 1, "1.00", 1, LAST);
    fine.price += 3; // a ninth decimal
    assert!(run(fine).unwrap_err().contains("finer than 8 decimals"));
    assert!(run(mbo(4, b'A', b'B', 1, "1.00", 1, LAST)).is_ok());
    assert!(
        run(mbo(5, b'A', b'B', 1, "1.00", 1, LAST))
            .unwrap_err()
            .contains("book")
    );
    let s = f.stats();
    assert_eq!(
        (s.bad_sides, s.bad_actions, s.too_precise, s.book_errors),
        (1, 1, 1, 1)
    );
    assert_eq!(s.anomalies(), 4);
}
