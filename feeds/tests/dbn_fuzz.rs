//! Arbitrary and mutated DBN input: whole files into the importer and single records into the
//! feed never panic; errors carry their position and the feed keeps going.

use kestrel_core::Timestamp;
use kestrel_feeds::dbn::{DbnBooks, DbnBytes, DbnFeed, write_dbn_bytes};
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::venue::VenueEvent;
use proptest::prelude::*;

const FILES: [&str; 4] = [
    "test_data.mbo.v3.dbn",
    "test_data.mbp-10.dbn",
    "test_data.tbbo.dbn",
    "test_data.definition.dbn",
];

fn file(i: usize) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../data/dbn/{}",
        env!("CARGO_MANIFEST_DIR"),
        FILES[i]
    ))
    .unwrap()
}

/// Imports `bytes` and replays the capture; neither may panic.
fn import_replay(bytes: Vec<u8>) -> Result<(), TestCaseError> {
    let input = DbnBytes {
        bytes,
        compression_error: None,
    };
    let Ok((kcap, report)) = write_dbn_bytes(&input, Timestamp(1), Vec::new()) else {
        return Ok(());
    };
    if let Some(e) = &report.stopped {
        prop_assert!(e.offset <= input.bytes.len() as u64);
    }
    let reader = KcapReader::from_bytes(&kcap).unwrap();
    let mut feed = DbnFeed::for_capture(reader.header()).unwrap();
    let mut sink = |_: &VenueEvent, _: &DbnBooks| {};
    let mut n = 0;
    for r in reader.records() {
        let r = r.unwrap();
        let _ = feed.on_record(&r, &mut sink);
        n += 1;
    }
    prop_assert_eq!(n, report.records + 1);
    Ok(())
}

proptest! {
    #[test]
    fn mutated_files_never_panic(
        which in 0..FILES.len(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = file(which);
        // Leave the prelude alone half the time so the record section gets exercised.
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let keep = cut.index(bytes.len() + 1);
        import_replay(bytes[..keep].to_vec())?;
        import_replay(bytes)?;
    }

    #[test]
    fn arbitrary_records_never_panic(records in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..120), 1..6)) {
        let mut table = kestrel_core::InstrumentTable::new();
        table.add("X", kestrel_core::Price::from_raw(1), kestrel_core::Qty::ONE, 2).unwrap();
        let mut feed = DbnFeed::new(kestrel_core::book::BookConfig::default(), table, &[5482]);
        let mut sink = |_: &VenueEvent, _: &DbnBooks| {};
        for (i, r) in records.iter().enumerate() {
            if let Err(e) = feed.on_dbn_record(Timestamp(1), r, &mut sink) {
                prop_assert_eq!(e.record, i as u64);
            }
        }
        prop_assert_eq!(feed.stats().records, records.len() as u64);
    }
}

/// Found by `arbitrary_records_never_panic`: a header whose length (16 bytes) is shorter than
/// its type's layout (rtype 0x00, a 48-byte trade). The `dbn` crate's typed view would read
/// past the record; the feed refuses it with a clear error, counts it, and keeps going.
#[test]
fn a_record_shorter_than_its_type_is_refused_and_the_feed_continues() {
    use kestrel_feeds::dbn::DbnErrorKind;
    let mut table = kestrel_core::InstrumentTable::new();
    table
        .add(
            "X",
            kestrel_core::Price::from_raw(1),
            kestrel_core::Qty::ONE,
            2,
        )
        .unwrap();
    let mut feed = DbnFeed::new(kestrel_core::book::BookConfig::default(), table, &[5482]);
    let mut sink = |_: &VenueEvent, _: &DbnBooks| {};
    let mut short = [0u8; 16];
    short[0] = 4;
    let e = feed
        .on_dbn_record(Timestamp(1), &short, &mut sink)
        .unwrap_err();
    assert_eq!(e.record, 0);
    assert_eq!(
        e.kind,
        DbnErrorKind::ShortRecord {
            rtype: 0,
            len: 16,
            need: 48
        }
    );
    assert!(
        e.to_string().contains("shorter than its 48-byte layout"),
        "{e}"
    );
    assert_eq!(feed.stats().decode_errors, 1);
    // The next, whole, record is decoded.
    let mbo = file(0);
    let meta = 8 + u32::from_le_bytes(mbo[4..8].try_into().unwrap()) as usize;
    let first = &mbo[meta..meta + mbo[meta] as usize * 4];
    // (The test file's first MBO record may touch an order this feed never saw: a book error
    // is fine, a decode error is not.)
    let next = feed.on_dbn_record(Timestamp(2), first, &mut sink);
    assert!(
        !matches!(
            &next,
            Err(e) if matches!(
                e.kind,
                DbnErrorKind::ShortRecord { .. } | DbnErrorKind::Decode(_) | DbnErrorKind::Truncated
            )
        ),
        "{next:?}"
    );
    assert_eq!(feed.stats().records, 2);
    assert_eq!(feed.stats().decode_errors, 1);
}

/// Found by `arbitrary_records_never_panic`: a refused record whose length is not a multiple of
/// 8 left the decoder's buffer at an unaligned offset, and the next record panicked inside
/// `dbn` ("unaligned buffer passed to `RecordRef::new`"). Every record now starts aligned.
#[test]
fn a_record_of_odd_length_does_not_misalign_the_next() {
    let mut table = kestrel_core::InstrumentTable::new();
    table
        .add(
            "X",
            kestrel_core::Price::from_raw(1),
            kestrel_core::Qty::ONE,
            2,
        )
        .unwrap();
    let mut feed = DbnFeed::new(kestrel_core::book::BookConfig::default(), table, &[5482]);
    let mut sink = |_: &VenueEvent, _: &DbnBooks| {};
    // 20 bytes: length 5 (x4), rtype 0 (a trade needs 48 bytes): refused as short.
    let mut odd = vec![0u8; 20];
    odd[0] = 5;
    // 16 bytes: a bare header, length 4, an rtype with no layout this feed reads.
    let mut next = vec![0u8; 16];
    next[0] = 4;
    next[1] = 0x17;
    for round in 0..4u64 {
        assert!(feed.on_dbn_record(Timestamp(1), &odd, &mut sink).is_err());
        let _ = feed.on_dbn_record(Timestamp(1), &next, &mut sink);
        assert_eq!(feed.stats().records, (round + 1) * 2);
    }
}

/// Found by `mutated_files_never_panic` in CI: a v2 definition file whose metadata says every
/// record carries a `ts_out` trailer (one flipped byte) made `dbn`'s upgrade to v3 read 408
/// bytes out of a 400-byte record, and panic. The import now stops at that record with its
/// position and why.
#[test]
fn an_old_record_too_short_for_its_upgrade_stops_the_import_with_its_position() {
    let mut bytes = file(3); // test_data.definition.dbn: DBN v2, 400-byte definitions
    assert_eq!(bytes[3], 2, "a version-2 file");
    // Metadata v2: prelude (8), dataset (16), schema (2), start, end, limit (8 each),
    // stype_in, stype_out (1 each), then ts_out.
    assert_eq!(bytes[52], 0, "ts_out is off in the original");
    bytes[52] = 1;
    let input = DbnBytes {
        bytes,
        compression_error: None,
    };
    let (_, report) = write_dbn_bytes(&input, Timestamp(1), Vec::new()).unwrap();
    let stopped = report.stopped.expect("the import says where it stopped");
    assert_eq!(stopped.record, 0);
    assert_eq!(stopped.offset, 0);
    assert_eq!(
        stopped.kind,
        kestrel_feeds::dbn::DbnErrorKind::ShortRecord {
            rtype: 0x13,
            len: 400,
            need: 408
        }
    );
    assert_eq!(report.records, 0);
}
