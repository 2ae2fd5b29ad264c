//! Export rows per second: Parquet beside CSV in the same run, on the BBO and depth rows of the
//! bundled Binance spot capture (replayed once up front; the bench times the writers only).

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use kestrel_core::book::L2Books;
use kestrel_core::{BookTop, InstrumentTable, LevelView, Side, Timestamp};
use kestrel_feeds::binance::capture::{
    ImportOptions, capture_lines, plan_capture, read_capture_file,
};
use kestrel_feeds::binance::{BinanceConfig, BinanceFeed};
use kestrel_feeds::export::csv::CsvTable;
use kestrel_feeds::export::parquet::ParquetTable;
use kestrel_feeds::export::{BboRow, DepthRow, Row, RowWriter, TableKind};
use kestrel_feeds::venue::VenueEvent;

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/binance/spot_btcusdt_20240808.gz"
);
const LEVELS: usize = 10;

/// (time, top of book) after every shown book update of the capture.
fn tops() -> (InstrumentTable, Vec<(Timestamp, BookTop)>) {
    let bytes = read_capture_file(std::path::Path::new(FILE)).unwrap();
    let plan = plan_capture(&bytes, &ImportOptions::default()).unwrap();
    let mut feed = BinanceFeed::new(BinanceConfig::new(plan.market), plan.table.clone());
    let mut out = Vec::new();
    for l in capture_lines(&bytes).flatten() {
        let channel = plan.channel_of(l.json);
        let mut sink = |e: &VenueEvent, books: &L2Books| {
            if let VenueEvent::Book {
                instrument,
                exch_ts,
                shown: true,
                ..
            } = e
            {
                let mut top = BookTop::default();
                books.fill_top(*instrument, &mut top);
                out.push((*exch_ts, top));
            }
        };
        let _ = feed.on_message(l.recv_ts, channel, l.json, &mut sink);
    }
    (plan.table, out)
}

fn write_all(w: &mut dyn RowWriter, kind: TableKind, tops: &[(Timestamp, BookTop)]) {
    let mut bids = [None; LEVELS];
    let mut asks = [None; LEVELS];
    for (ts, top) in tops {
        let row = match kind {
            TableKind::Bbo => Row::Bbo(BboRow {
                ts_event: *ts,
                ts_recv: *ts,
                instrument: kestrel_core::InstrumentId(0),
                bid: top.best_bid(),
                ask: top.best_ask(),
            }),
            _ => {
                let get = |s: &[LevelView], i: usize| s.get(i).copied();
                for i in 0..LEVELS {
                    bids[i] = get(top.side(Side::Buy), i);
                    asks[i] = get(top.side(Side::Sell), i);
                }
                Row::Depth(DepthRow {
                    ts_event: *ts,
                    ts_recv: *ts,
                    instrument: kestrel_core::InstrumentId(0),
                    bids: &bids,
                    asks: &asks,
                })
            }
        };
        w.write(&row).unwrap();
    }
}

fn main() {
    let (table, tops) = tops();
    // Repeat to a few hundred thousand rows.
    let tops: Vec<_> = std::iter::repeat_n(tops.iter().copied(), 60)
        .flatten()
        .collect();
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(std::time::Duration::from_secs(5));
    let mut group = c.benchmark_group("export_rows");
    group.throughput(Throughput::Elements(tops.len() as u64));
    for kind in [TableKind::Bbo, TableKind::Depth] {
        group.bench_function(format!("csv/{}", kind.name()), |b| {
            b.iter(|| {
                let mut w: Box<dyn RowWriter> = Box::new(
                    CsvTable::new(Vec::with_capacity(64 << 20), kind, LEVELS, &table).unwrap(),
                );
                write_all(w.as_mut(), kind, &tops);
                black_box(w.finish().unwrap())
            });
        });
        group.bench_function(format!("parquet/{}", kind.name()), |b| {
            b.iter(|| {
                let mut w: Box<dyn RowWriter> = Box::new(
                    ParquetTable::new(Vec::with_capacity(16 << 20), kind, LEVELS, &table).unwrap(),
                );
                write_all(w.as_mut(), kind, &tops);
                black_box(w.finish().unwrap())
            });
        });
    }
    group.finish();
    c.final_summary();
}
