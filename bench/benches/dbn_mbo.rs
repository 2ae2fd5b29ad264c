//! DBN MBO decode + L3 book, records per second, beside the `dbn` crate's own decode loop in
//! the same run.
//!
//! The input is a synthetic MBO day in DBN v3 (the bundled MBO files hold two records): a
//! seeded mix of adds (55%), cancels (25%), modifies (15%) and trades (5%) over 200 price levels
//! around a mid, every record carrying `F_LAST`, encoded with the `dbn` crate's encoder.
//!
//! - `dbn_mbo/dbn_decode_loop`: `DbnDecoder::decode_record_ref` over the whole stream, reading
//!   each record's header (the crate's own loop: the floor for any consumer).
//! - `dbn_mbo/kestrel_decode_book`: the same records through `DbnFeed` (decode with the `dbn`
//!   crate's record decoder, price conversion, MBO semantics, L3 book, publish).

use std::ffi::c_char;
use std::hint::black_box;

use criterion::{Criterion, Throughput};
use dbn::decode::{DbnDecoder, DecodeRecordRef};
use dbn::encode::{DbnEncoder, EncodeRecord};
use dbn::{FlagSet, MboMsg, Metadata, RecordHeader, RecordRef, SType, Schema, rtype};
use kestrel_core::book::BookConfig;
use kestrel_core::{InstrumentTable, Price, Qty, Timestamp};
use kestrel_feeds::dbn::{DbnBooks, DbnFeed};
use kestrel_feeds::venue::VenueEvent;

const RECORDS: usize = 200_000;

fn synthetic() -> Vec<MboMsg> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut live: Vec<(u64, u8, i64, u32)> = Vec::new();
    let mut out = Vec::with_capacity(RECORDS);
    let mut id = 1u64;
    for seq in 0..RECORDS as u32 {
        let r = next() % 100;
        let mk = |action: u8, side: u8, order_id: u64, px: i64, size: u32| MboMsg {
            hd: RecordHeader::new::<MboMsg>(rtype::MBO, 1, 7, 1_000 + u64::from(seq)),
            order_id,
            price: px,
            size,
            flags: FlagSet::new(1 << 7),
            channel_id: 0,
            action: action as c_char,
            side: side as c_char,
            ts_recv: 2_000 + u64::from(seq),
            ts_in_delta: 0,
            sequence: seq,
        };
        if r < 55 || live.len() < 100 {
            let buy = next() % 2 == 0;
            let off = (next() % 100) as i64 + 1;
            let px = (1_000_000 + if buy { -off } else { off }) * 250_000_000;
            let size = (next() % 50) as u32 + 1;
            let side = if buy { b'B' } else { b'A' };
            live.push((id, side, px, size));
            out.push(mk(b'A', side, id, px, size));
            id += 1;
        } else if r < 80 {
            let i = (next() as usize) % live.len();
            let (oid, side, px, size) = live.swap_remove(i);
            out.push(mk(b'C', side, oid, px, size));
        } else if r < 95 {
            let i = (next() as usize) % live.len();
            let (oid, side, px, size) = live[i];
            let new = size.saturating_sub(1).max(1);
            live[i].3 = new;
            out.push(mk(b'M', side, oid, px, new));
        } else {
            let (_, side, px, _) = live[(next() as usize) % live.len()];
            out.push(mk(b'T', if side == b'B' { b'A' } else { b'B' }, 0, px, 1));
        }
    }
    out
}

fn encode(records: &[MboMsg]) -> Vec<u8> {
    let metadata = Metadata::builder()
        .dataset("GLBX.MDP3")
        .schema(Some(Schema::Mbo))
        .start(0)
        .stype_in(Some(SType::RawSymbol))
        .stype_out(SType::InstrumentId)
        .build();
    let mut out = Vec::new();
    {
        let mut enc = DbnEncoder::new(&mut out, &metadata).unwrap();
        for r in records {
            enc.encode_record(r).unwrap();
        }
    }
    out
}

fn feed() -> DbnFeed {
    let mut table = InstrumentTable::new();
    table
        .add("SYN", Price::from_raw(25_000_000), Qty::ONE, 2)
        .unwrap();
    DbnFeed::new(
        BookConfig {
            order_capacity: 1 << 18,
            ..BookConfig::default()
        },
        table,
        &[7],
    )
}

fn main() {
    let records = synthetic();
    let stream = encode(&records);
    let raw: Vec<Vec<u8>> = records
        .iter()
        .map(|r| AsRef::<[u8]>::as_ref(&RecordRef::from(r)).to_vec())
        .collect();
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(std::time::Duration::from_secs(3));
    let mut group = c.benchmark_group("dbn_mbo");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("dbn_decode_loop", |b| {
        b.iter(|| {
            let mut d = DbnDecoder::new(&stream[..]).unwrap();
            let mut sum = 0u64;
            while let Ok(Some(r)) = d.decode_record_ref() {
                sum = sum.wrapping_add(r.header().ts_event);
            }
            black_box(sum)
        });
    });
    group.bench_function("kestrel_decode_book", |b| {
        b.iter_batched_ref(
            feed,
            |f| {
                let mut sink = |_: &VenueEvent, _: &DbnBooks| {};
                for r in &raw {
                    let _ = f.on_dbn_record(Timestamp(1), r, &mut sink);
                }
                black_box(f.stats().book_updates)
            },
            criterion::BatchSize::LargeInput,
        );
    });
    group.finish();
    let mut f = feed();
    let mut sink = |_: &VenueEvent, _: &DbnBooks| {};
    for r in &raw {
        let _ = f.on_dbn_record(Timestamp(1), r, &mut sink);
    }
    eprintln!("one pass: {:?}", f.stats());
    c.final_summary();
}
