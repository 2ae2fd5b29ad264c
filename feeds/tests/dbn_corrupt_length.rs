//! Regression tests for the AFL++ campaign of the `dbn` fuzz target (2026-11-29): a DBN stream
//! whose record length byte is corrupt (off the 8-byte grid, or shorter than the header) made
//! the importer hand `dbn` a record that lies unaligned in its buffer, which panics in `dbn`
//! 0.73 ("unaligned buffer passed to `RecordRef::new`"). The importer now walks the record
//! headers first (`kestrel_feeds::dbn::framing`), keeps the records before the corrupt one,
//! stops there with an error naming its record and offset, and the capture replays. The inputs
//! AFL found are in `fuzz/crashes/dbn/` (also replayed through the fuzz target by
//! `tests/tests/fuzz_corpus.rs`). The campaign's other finding (an old-version record shorter
//! than the struct `dbn`'s upgrade to v3 reads) is the importer's `records_extent` check.

use std::ffi::c_char;
use std::path::Path;

use dbn::encode::{DbnEncoder, EncodeRecord};
use dbn::{FlagSet, MboMsg, Metadata, RecordHeader, SType, Schema, rtype};
use kestrel_core::Timestamp;
use kestrel_feeds::dbn::{DbnBooks, DbnBytes, DbnErrorKind, DbnFeed, write_dbn_bytes};
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::venue::VenueEvent;

const RECORD: usize = std::mem::size_of::<MboMsg>();

/// Five MBO adds (with `F_LAST`), DBN v3; returns the stream and where its records start.
fn stream() -> (Vec<u8>, usize) {
    let metadata = Metadata::builder()
        .dataset("GLBX.MDP3")
        .schema(Some(Schema::Mbo))
        .start(0)
        .stype_in(Some(SType::RawSymbol))
        .stype_out(SType::InstrumentId)
        .build();
    let mut out = Vec::new();
    {
        let mut enc = DbnEncoder::new(&mut out, &metadata).expect("metadata");
        for i in 0..5u32 {
            let m = MboMsg {
                hd: RecordHeader::new::<MboMsg>(rtype::MBO, 1, 7, 1_000 + u64::from(i)),
                order_id: u64::from(i) + 1,
                price: (4_000 - i64::from(i)) * 1_000_000_000,
                size: 1,
                flags: FlagSet::new(1 << 7),
                channel_id: 0,
                action: b'A' as c_char,
                side: b'B' as c_char,
                ts_recv: 2_000 + u64::from(i),
                ts_in_delta: 0,
                sequence: i,
            };
            enc.encode_record(&m).expect("record");
        }
    }
    let start = out.len() - 5 * RECORD;
    (out, start)
}

/// Imports `bytes` (it must not panic) and replays the capture it wrote.
fn import_and_replay(bytes: Vec<u8>) -> kestrel_feeds::dbn::DbnImportReport {
    let input = DbnBytes {
        bytes,
        compression_error: None,
    };
    let (kcap, report) = write_dbn_bytes(&input, Timestamp(0), Vec::new()).expect("metadata");
    let reader = KcapReader::from_vec(kcap).expect("the capture reads back");
    let mut feed = DbnFeed::for_capture(reader.header()).expect("a DBN capture");
    let mut sink = |_: &VenueEvent, _: &DbnBooks| {};
    for r in reader.records() {
        let _ = feed.on_record(&r.expect("record"), &mut sink);
    }
    assert_eq!(feed.stats().records, report.records);
    report
}

#[test]
fn a_record_length_off_the_8_byte_grid_stops_the_import_there_with_its_position() {
    let (mut bytes, start) = stream();
    // The third record's length byte says 60 bytes (15 units) instead of 56 (14).
    let third = start + 2 * RECORD;
    assert_eq!(bytes[third], 14);
    bytes[third] = 15;
    let report = import_and_replay(bytes);
    assert_eq!(
        report.records, 2,
        "the records before the corrupt one are kept"
    );
    let e = report.stopped.expect("the import says where it stopped");
    assert_eq!((e.record, e.offset), (2, 2 * RECORD as u64));
    assert!(
        matches!(&e.kind, DbnErrorKind::Decode(m) if m.contains("multiple of 8")),
        "{e:?}"
    );
}

#[test]
fn a_record_length_shorter_than_the_header_stops_the_import_there() {
    let (mut bytes, start) = stream();
    let fourth = start + 3 * RECORD;
    bytes[fourth] = 2; // 8 bytes: less than the 16-byte header
    let report = import_and_replay(bytes);
    assert_eq!(report.records, 3);
    let e = report.stopped.expect("stopped");
    assert_eq!((e.record, e.offset), (3, 3 * RECORD as u64));
}

#[test]
fn the_inputs_afl_found_import_without_a_panic_and_say_where_they_stop() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/crashes/dbn");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{} crash inputs", files.len());
    for f in files {
        let bytes = std::fs::read(&f).expect("crash input");
        let input = DbnBytes {
            bytes,
            compression_error: None,
        };
        // Metadata that does not parse is refused whole (an error, not a panic).
        if let Ok((kcap, report)) = write_dbn_bytes(&input, Timestamp(0), Vec::new()) {
            let e = report
                .stopped
                .unwrap_or_else(|| panic!("{}: a corrupt input imported whole", f.display()));
            assert!(
                e.offset <= input.bytes.len() as u64,
                "{}: {e:?}",
                f.display()
            );
            assert!(KcapReader::from_vec(kcap).is_ok(), "{}", f.display());
        }
    }
}
