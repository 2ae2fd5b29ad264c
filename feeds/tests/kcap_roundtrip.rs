//! `.kcap` writer/reader round trips, on files (memory-mapped) and in memory.

use kestrel_core::{InstrumentId, InstrumentTable, Price, Qty, Timestamp};
use kestrel_feeds::kcap::{
    KcapError, KcapHeader, KcapInstrument, KcapReader, KcapWriter, PayloadKind, Record,
    capture_info,
};
use proptest::prelude::*;

fn header() -> KcapHeader {
    let mut table = InstrumentTable::new();
    table
        .add("AAPL", Price::from_raw(1_000_000), Qty::ONE, 4)
        .unwrap();
    table
        .add("MSFT", Price::from_raw(1_000_000), Qty::ONE, 4)
        .unwrap();
    let mut h = KcapHeader::new(
        PayloadKind::MoldUdp64Itch50,
        "NASDAQ TotalView",
        Timestamp(1_763_700_000_000_000_000),
    );
    h.instruments = table.iter().map(KcapInstrument::from).collect();
    h
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Owned {
    ts: u64,
    seq: u64,
    channel: u16,
    payload: Vec<u8>,
}

impl Owned {
    fn record(&self) -> Record<'_> {
        Record {
            recv_ts: Timestamp(self.ts),
            seq: self.seq,
            channel: self.channel,
            payload: &self.payload,
        }
    }
}

fn sample(n: usize) -> Vec<Owned> {
    (0..n)
        .map(|i| Owned {
            ts: 1_000 + 10 * i as u64,
            seq: i as u64,
            channel: 26400 + (i % 3) as u16,
            payload: (0..(i * 7 % 50) as u8).collect(),
        })
        .collect()
}

fn write(records: &[Owned], block_bytes: usize) -> Vec<u8> {
    let mut w = KcapWriter::with_block_bytes(Vec::new(), &header(), block_bytes).unwrap();
    for r in records {
        w.write_record(&r.record()).unwrap();
    }
    w.finish().unwrap()
}

fn read_all(reader: &KcapReader) -> Vec<Owned> {
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Owned {
                ts: r.recv_ts.nanos(),
                seq: r.seq,
                channel: r.channel,
                payload: r.payload.to_vec(),
            }
        })
        .collect()
}

#[test]
fn in_memory_round_trip_across_blocks() {
    let records = sample(200);
    let bytes = write(&records, 300);
    let reader = KcapReader::from_bytes(&bytes).unwrap();
    assert_eq!(reader.header(), &header());
    assert_eq!(read_all(&reader), records);
    let mut it = reader.records();
    it.by_ref().for_each(drop);
    let stats = it.stats();
    assert!(stats.blocks > 10, "{stats:?}");
    assert_eq!(stats.records, 200);
    assert_eq!(stats.damaged_blocks, 0);
}

#[test]
fn file_round_trip_and_capture_info() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.kcap");
    let records = sample(5_000);
    let mut w = KcapWriter::create(&path, &header()).unwrap();
    for r in &records {
        w.write_record(&r.record()).unwrap();
    }
    let blocks_before_finish = w.blocks();
    w.finish().unwrap();
    let reader = KcapReader::open(&path).unwrap();
    assert_eq!(read_all(&reader), records);

    let info = capture_info(&path).unwrap();
    assert_eq!(info.records, 5_000);
    assert_eq!(info.version, 1);
    assert_eq!(info.venue, "NASDAQ TotalView");
    assert_eq!(info.payload_kind, PayloadKind::MoldUdp64Itch50);
    assert_eq!(info.instruments.len(), 2);
    assert_eq!(info.instruments[1].id, InstrumentId(1));
    assert_eq!(info.blocks, blocks_before_finish + 1);
    assert_eq!(info.corrupt_blocks, 0);
    assert_eq!(info.bytes, std::fs::metadata(&path).unwrap().len());
    assert_eq!(info.first_recv, Some(Timestamp(1_000)));
    assert_eq!(info.last_recv, Some(Timestamp(1_000 + 10 * 4_999)));
    assert_eq!(info.channels.len(), 3);
    assert_eq!(info.channels[&26400], 1_667);
    let payload: u64 = records.iter().map(|r| r.payload.len() as u64).sum();
    assert_eq!(info.payload_bytes, payload);
    let text = info.to_string();
    assert!(text.contains("MoldUDP64 / ITCH 5.0"), "{text}");
    assert!(
        text.contains("AAPL         tick 0.01 lot 1 decimals 4"),
        "{text}"
    );
    assert!(text.contains("26401: 1667 records"), "{text}");
}

#[test]
fn empty_capture_and_oversized_record() {
    let bytes = write(&[], 64);
    let reader = KcapReader::from_bytes(&bytes).unwrap();
    assert_eq!(reader.records().count(), 0);

    let big = Owned {
        ts: 1,
        seq: 2,
        channel: 3,
        payload: vec![7; 10_000],
    };
    let small = sample(3);
    let mut all = small.clone();
    all.insert(1, big);
    let bytes = write(&all, 128);
    let reader = KcapReader::from_bytes(&bytes).unwrap();
    assert_eq!(read_all(&reader), all);
}

#[test]
fn dropped_writer_still_writes_its_open_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dropped.kcap");
    let records = sample(10);
    {
        let mut w = KcapWriter::create(&path, &header()).unwrap();
        for r in &records {
            w.write_record(&r.record()).unwrap();
        }
        // No finish: e.g. the receiver returned early on an error.
    }
    let reader = KcapReader::open(&path).unwrap();
    assert_eq!(read_all(&reader), records);
}

#[test]
fn missing_file_and_empty_file_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.kcap");
    assert!(matches!(
        KcapReader::open(&missing),
        Err(KcapError::File { .. })
    ));
    let empty = dir.path().join("empty.kcap");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        KcapReader::open(&empty),
        Err(KcapError::HeaderTooShort { len: 0 })
    ));
    let text = dir.path().join("text.kcap");
    std::fs::write(&text, b"time,price,size\n1,2,3\n4,5,6\n").unwrap();
    let err = KcapReader::open(&text).unwrap_err();
    assert!(matches!(err, KcapError::BadMagic { .. }), "{err}");
    assert!(err.to_string().contains("not a kcap file"));
}

#[test]
fn writer_rejects_unencodable_header() {
    let mut h = header();
    h.instruments[0].symbol = "X".repeat(300);
    assert!(matches!(
        KcapWriter::new(Vec::new(), &h),
        Err(KcapError::TooLarge { what: "symbol", .. })
    ));
}

fn owned() -> impl Strategy<Value = Owned> {
    (
        any::<u64>(),
        any::<u64>(),
        any::<u16>(),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(ts, seq, channel, payload)| Owned {
            ts,
            seq,
            channel,
            payload,
        })
}

proptest! {
    #[test]
    fn round_trip_any_records(
        records in prop::collection::vec(owned(), 0..60),
        block_bytes in 1usize..2_000,
        venue in "[a-zA-Z ]{0,20}",
    ) {
        let mut h = header();
        h.venue = venue;
        let mut w = KcapWriter::with_block_bytes(Vec::new(), &h, block_bytes).unwrap();
        for r in &records {
            w.write_record(&r.record()).unwrap();
        }
        let bytes = w.finish().unwrap();
        let reader = KcapReader::from_vec(bytes).unwrap();
        prop_assert_eq!(reader.header(), &h);
        prop_assert_eq!(read_all(&reader), records);
    }
}
