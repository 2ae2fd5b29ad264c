//! The Binance and DBN decode + apply paths allocate nothing per message after warm-up: the
//! pipeline source over each venue's records (decode, precision check, synchronisation or MBO
//! semantics, books, top of book, `BookUpdate` out) is driven on this thread, and the workspace's
//! counting allocator (`kestrel-test-support`) sees every allocation and reallocation of it.
//!
//! - Binance: the bundled spot and USD-M captures; the first records (snapshot, the diffs
//!   buffered before it, the bridge) are the warm-up, the remaining ~35,000 records are counted.
//!   A second run drops one diff in the counted stretch: the gap, the invalidated book and the
//!   buffering of every diff after it allocate nothing either.
//! - DBN: a seeded synthetic stream of MBO (adds, partial and full cancels, modifies that keep
//!   or lose priority, trades, fills, grouped by `F_LAST`, a snapshot first) and MBP-10 records,
//!   encoded by the `dbn` crate, imported to `.kcap` and replayed from it.

use std::cell::Cell;
use std::convert::Infallible;
use std::ffi::c_char;

use dbn::encode::{DbnEncoder, EncodeRecord};
use dbn::{BidAskPair, FlagSet, MboMsg, Mbp10Msg, Metadata, RecordHeader, SType, rtype};
use kestrel_core::clock::{Pace, TscClock};
use kestrel_core::pipeline::{Source, SourceStatus};
use kestrel_core::{BookUpdate, InstrumentId, Timestamp};
use kestrel_feeds::binance::capture::{
    ImportOptions, capture_lines, plan_capture, read_capture_file,
};
use kestrel_feeds::binance::{BinanceConfig, BinanceFeed, BinanceStats};
use kestrel_feeds::dbn::{DbnBytes, DbnFeed, write_dbn_bytes};
use kestrel_feeds::kcap::{KcapReader, Record};
use kestrel_feeds::venue_source::VenueSource;
use kestrel_test_support::{CountingAllocator, count_allocations};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

/// Polls `source` `n` times (or to its end), returning how many polls it took.
fn poll<S: Source<Out = BookUpdate>>(source: &mut S, out: &mut Vec<BookUpdate>, n: usize) -> usize {
    for i in 0..n {
        if source.poll(out) == SourceStatus::Done {
            return i;
        }
    }
    n
}

/// Warms `source` up on its first `warm` records, then drives it to the end; returns (records
/// counted, book updates emitted while counted, allocations while counted).
fn counted_run<S: Source<Out = BookUpdate>>(source: &mut S, warm: usize) -> (usize, usize, u64) {
    // Room for every update: a Vec with spare capacity does not allocate on push.
    let mut out: Vec<BookUpdate> = Vec::with_capacity(200_000);
    assert_eq!(
        poll(source, &mut out, warm),
        warm,
        "the warm-up ran out of records"
    );
    let warm_updates = out.len();
    // The counter counts: this allocation must show.
    let (_, probe) = count_allocations(|| std::hint::black_box(Vec::<u8>::with_capacity(64)));
    assert_eq!(probe.caller(), 1, "the counting allocator does not count");
    // This thread is the feed thread: it decodes, applies and publishes every record.
    let (records, counts) = count_allocations(|| poll(source, &mut out, usize::MAX));
    (records, out.len() - warm_updates, counts.caller())
}

const BINANCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/binance/");

/// A Binance capture's lines as capture records (snapshots on their instrument's channel),
/// without the line at `drop` (to make a gap).
fn binance_records(bytes: &[u8], drop: Option<usize>) -> (BinanceFeed, Vec<Record<'_>>) {
    let plan = plan_capture(bytes, &ImportOptions::default()).expect("built-in BTCUSDT spec");
    let records = capture_lines(bytes)
        .map(|l| l.expect("well-formed capture line"))
        .enumerate()
        .filter(|(i, _)| Some(*i) != drop)
        .map(|(i, l)| Record {
            recv_ts: l.recv_ts,
            seq: i as u64,
            channel: plan.channel_of(l.json),
            payload: l.json,
        })
        .collect();
    (
        BinanceFeed::new(BinanceConfig::new(plan.market), plan.table),
        records,
    )
}

/// Records the Binance warm-up covers: the snapshot and the diffs around it are in the first
/// few hundred lines of both captures.
const BINANCE_WARM: usize = 5_000;

fn binance_run(file: &str, drop: Option<usize>) -> (usize, usize, u64, BinanceStats, bool) {
    let bytes = read_capture_file(std::path::Path::new(&format!("{BINANCE}{file}")))
        .expect("bundled Binance capture");
    let (feed, records) = binance_records(&bytes, drop);
    let mut source = VenueSource::new(
        feed,
        records.iter().map(|r| Ok::<_, Infallible>(*r)),
        Pace::Max,
        TscClock::new(),
    );
    let (counted, updates, allocated) = counted_run(&mut source, BINANCE_WARM);
    let feed = source.into_feed();
    let shown = feed.is_shown(InstrumentId(0));
    (counted, updates, allocated, feed.stats(), shown)
}

#[test]
fn binance_spot_and_futures_decode_apply_allocate_nothing_after_warm_up() {
    for file in ["spot_btcusdt_20240808.gz", "usdm_btcusdt_20240808.gz"] {
        let (counted, updates, allocated, stats, shown) = binance_run(file, None);
        assert!(counted > 30_000, "{file}: only {counted} records counted");
        assert!(updates > 10_000, "{file}: only {updates} book updates");
        assert_eq!(stats.snapshots_applied, 1, "{file}");
        assert_eq!(stats.anomalies(), 0, "{file}: {stats:?}");
        assert!(shown, "{file}: the book ends synchronised");
        assert_eq!(
            allocated, 0,
            "{file}: {allocated} allocations over {counted} records ({updates} updates)"
        );
    }
}

#[test]
fn binance_gap_and_buffering_allocate_nothing() {
    let file = "spot_btcusdt_20240808.gz";
    let bytes = read_capture_file(std::path::Path::new(&format!("{BINANCE}{file}"))).unwrap();
    // The first depth diff after line 20,000: dropping it breaks the U/u chain.
    let lines: Vec<_> = capture_lines(&bytes).map(Result::unwrap).collect();
    let dropped = (20_000..lines.len())
        .find(|&i| lines[i].json.windows(11).any(|w| w == b"depthUpdate"))
        .expect("a diff after line 20,000");
    drop(lines);
    let (counted, _, allocated, stats, shown) = binance_run(file, Some(dropped));
    assert!(counted > 30_000);
    assert_eq!(stats.gaps, 1, "{stats:?}");
    // Every diff after the gap waits for a snapshot that never comes.
    assert!(stats.diffs_buffered > 1_000, "{stats:?}");
    assert!(!shown, "the book stays invalid after the gap");
    assert_eq!(
        allocated, 0,
        "{allocated} allocations over {counted} records"
    );
}

/// DBN instrument ids of the synthetic stream.
const MBO_ID: u32 = 7;
const MBP_ID: u32 = 9;
const F_LAST: u8 = 1 << 7;
const F_SNAPSHOT: u8 = 1 << 5;

/// A seeded MBO + MBP-10 stream (see the module docs), DBN-encoded.
fn synthetic_dbn(events: u32) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // A 0.25 tick in DBN's 1e-9 units, around 4,000.00.
    let tick = 250_000_000i64;
    let mid = 16_000 * tick;
    // Event time, shared by the MBO and MBP-10 records.
    let ts = Cell::new(1_000u64);
    let mut seq = 0u32;
    let mut mbo = |action: u8, side: u8, order_id: u64, price: i64, size: u32, flags: u8| {
        ts.set(ts.get() + 1);
        let ts = ts.get();
        seq += 1;
        MboMsg {
            hd: RecordHeader::new::<MboMsg>(rtype::MBO, 1, MBO_ID, ts),
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
    };
    let metadata = Metadata::builder()
        .dataset("GLBX.MDP3")
        .schema(None)
        .start(0)
        .stype_in(Some(SType::RawSymbol))
        .stype_out(SType::InstrumentId)
        .build();
    let mut out = Vec::new();
    let mut enc = DbnEncoder::new(&mut out, &metadata).expect("DBN metadata");
    // The snapshot: a clear, then resting orders on both sides, the last with F_LAST.
    enc.encode_record(&mbo(b'R', b'N', 0, 0, 0, F_SNAPSHOT))
        .unwrap();
    let mut live: Vec<(u64, u8, i64, u32)> = Vec::new();
    let mut order_id = 1u64;
    for i in 0..200i64 {
        let (side, price) = if i % 2 == 0 {
            (b'B', mid - (1 + i / 2 % 50) * tick)
        } else {
            (b'A', mid + (1 + i / 2 % 50) * tick)
        };
        let flags = F_SNAPSHOT | if i == 199 { F_LAST } else { 0 };
        enc.encode_record(&mbo(b'A', side, order_id, price, 10, flags))
            .unwrap();
        live.push((order_id, side, price, 10));
        order_id += 1;
    }
    for e in 0..events {
        // One event: 1 to 3 records, F_LAST on its last one.
        let records = 1 + (next() % 3) as usize;
        for r in 0..records {
            let flags = if r + 1 == records { F_LAST } else { 0 };
            let roll = next() % 100;
            let pick = (next() as usize) % live.len();
            let rec = if roll < 40 || live.len() < 50 {
                let buy = next() % 2 == 0;
                let off = 1 + (next() % 50) as i64;
                let (side, price) = if buy {
                    (b'B', mid - off * tick)
                } else {
                    (b'A', mid + off * tick)
                };
                let size = 1 + (next() % 20) as u32;
                live.push((order_id, side, price, size));
                order_id += 1;
                mbo(b'A', side, order_id - 1, price, size, flags)
            } else if roll < 60 {
                let (id, side, price, size) = live.swap_remove(pick);
                mbo(b'C', side, id, price, size, flags)
            } else if roll < 70 {
                // A partial cancel (the order stays), or a full one of a one-lot order.
                let (id, side, price, size) = live[pick];
                if size > 1 {
                    live[pick].3 = size - 1;
                } else {
                    live.swap_remove(pick);
                }
                mbo(b'C', side, id, price, 1, flags)
            } else if roll < 85 {
                // Modify: a size decrease keeps priority, an increase or a new price loses it.
                let (id, side, price, size) = live[pick];
                let (new_price, new_size) = match next() % 3 {
                    0 => (price, size.saturating_sub(1).max(1)),
                    1 => (price, size + 3),
                    _ => {
                        let away = if side == b'B' { -tick } else { tick };
                        let p = price + away;
                        let inside = (p - mid).abs() <= 50 * tick;
                        (if inside { p } else { price }, size)
                    }
                };
                live[pick] = (id, side, new_price, new_size);
                mbo(b'M', side, id, new_price, new_size, flags)
            } else if roll < 95 {
                // A trade print, then the fill that the cancel after it books.
                let (id, side, price, _) = live[pick];
                let aggressor = if side == b'B' { b'A' } else { b'B' };
                let trade = mbo(b'T', aggressor, 0, price, 1, 0);
                enc.encode_record(&trade).unwrap();
                mbo(b'F', side, id, price, 1, flags)
            } else {
                mbo(b'N', b'N', 0, 0, 0, flags)
            };
            enc.encode_record(&rec).unwrap();
        }
        // Every tenth event, an MBP-10 record of the other instrument.
        if e % 10 == 0 {
            let mut level = |k: i64| BidAskPair {
                bid_px: mid - k * tick,
                ask_px: mid + k * tick,
                bid_sz: 5 + (next() % 10) as u32,
                ask_sz: 5 + (next() % 10) as u32,
                bid_ct: 1,
                ask_ct: 1,
            };
            ts.set(ts.get() + 1);
            let ts = ts.get();
            let mbp = Mbp10Msg {
                hd: RecordHeader::new::<Mbp10Msg>(rtype::MBP_10, 1, MBP_ID, ts),
                price: mid - tick,
                size: 1,
                action: b'T' as c_char,
                side: b'A' as c_char,
                flags: FlagSet::new(F_LAST),
                depth: 0,
                ts_recv: ts + 5,
                ts_in_delta: 0,
                sequence: e,
                levels: std::array::from_fn(|k| level(k as i64 + 1)),
            };
            enc.encode_record(&mbp).unwrap();
        }
    }
    out
}

#[test]
fn dbn_mbo_and_mbp_decode_apply_allocate_nothing_after_warm_up() {
    let dbn = DbnBytes {
        bytes: synthetic_dbn(30_000),
        compression_error: None,
    };
    let (kcap, report) = write_dbn_bytes(&dbn, Timestamp(0), Vec::new()).expect("import");
    assert!(report.stopped.is_none(), "{report:?}");
    assert_eq!(report.instruments, 2);
    let reader = KcapReader::from_vec(kcap).expect("imported capture");
    let feed = DbnFeed::for_capture(reader.header()).expect("a DBN capture");
    let mut source = VenueSource::new(feed, reader.records(), Pace::Max, TscClock::new());
    // The warm-up: the instrument map, the snapshot and a first stretch of the stream.
    let (counted, updates, allocated) = counted_run(&mut source, 5_000);
    let feed = source.into_feed();
    let stats = feed.stats();
    assert!(counted > 50_000, "only {counted} records counted");
    assert!(updates > 30_000, "only {updates} updates");
    // Every path ran: grouped records, partial cancels, both kinds of modify, trades, fills.
    assert!(stats.grouped > 10_000 && stats.fills > 1_000 && stats.trade_prints > 2_000);
    assert!(stats.mbp10 > 2_000 && stats.clears == 1 && stats.snapshot_records > 200);
    assert_eq!(
        stats.decode_errors + stats.book_errors + stats.unknown_instruments + stats.too_precise,
        0,
        "{stats:?}"
    );
    assert_eq!(
        allocated, 0,
        "{allocated} allocations over {counted} records ({updates} updates)"
    );
}
