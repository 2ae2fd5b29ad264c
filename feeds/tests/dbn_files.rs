//! Every bundled DBN file (v1 zstd, v3 plain; MBO, MBP-1, MBP-10, TBBO, trades, definitions)
//! imports into a `.kcap` and replays through the DBN feed into books and events; truncated,
//! corrupt and unknown records are typed errors with their position, and the stream goes on.

use std::path::{Path, PathBuf};

use kestrel_core::{InstrumentId, Timestamp};
use kestrel_feeds::dbn::{DbnBooks, DbnErrorKind, DbnFeed, DbnImportReport, write_dbn_capture};
use kestrel_feeds::kcap::{KcapReader, PayloadKind};
use kestrel_feeds::venue::VenueEvent;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data/dbn")
        .join(name)
}

/// Imports and replays one file; returns the import report, the feed and the events.
fn import_replay(path: &Path) -> (DbnImportReport, DbnFeed, Vec<VenueEvent>, Vec<String>) {
    let (kcap, report) = write_dbn_capture(path, Timestamp(1), Vec::new()).unwrap();
    let reader = KcapReader::from_bytes(&kcap).unwrap();
    assert_eq!(reader.header().payload_kind, PayloadKind::Dbn);
    let mut feed = DbnFeed::for_capture(reader.header()).unwrap();
    let mut events = Vec::new();
    let mut errors = Vec::new();
    for r in reader.records() {
        let r = r.unwrap();
        let mut sink = |e: &VenueEvent, _: &DbnBooks| events.push(*e);
        if let Err(e) = feed.on_record(&r, &mut sink) {
            errors.push(e.to_string());
        }
    }
    (report, feed, events, errors)
}

const ALL: [&str; 8] = [
    "test_data.definition.dbn",
    "test_data.mbo.dbn",
    "test_data.mbo.v1.dbn.zst",
    "test_data.mbo.v3.dbn",
    "test_data.mbp-1.dbn",
    "test_data.mbp-10.dbn",
    "test_data.tbbo.dbn",
    "test_data.trades.dbn",
];

#[test]
fn every_bundled_file_imports_and_replays() {
    for name in ALL {
        let (report, feed, events, errors) = import_replay(&data(name));
        eprintln!(
            "{name}: {report:?}\n  stats {:?}\n  errors {errors:?}\n  events {events:?}",
            feed.stats()
        );
        assert!(report.stopped.is_none(), "{name}: {:?}", report.stopped);
        assert!(report.records >= 2, "{name}");
        assert_eq!(feed.stats().records, report.records, "{name}");
        assert_eq!(report.unknown, 0, "{name}");
        assert!(!feed.instruments().is_empty(), "{name}");
        if name.contains("mbo") {
            // The excerpts cancel orders placed before them: counted, not fatal.
            assert_eq!(errors.len(), 2, "{name}");
            assert!(
                errors[0].contains("cancel of unknown order 647784973705"),
                "{errors:?}"
            );
            assert_eq!(feed.stats().book_updates, 2);
        } else {
            assert!(errors.is_empty(), "{name}: {errors:?}");
        }
    }
}

#[test]
fn mbo_v1_zstd_and_v3_plain_give_the_same_books() {
    let (_, v1, e1, _) = import_replay(&data("test_data.mbo.v1.dbn.zst"));
    let (_, v3, e3, _) = import_replay(&data("test_data.mbo.v3.dbn"));
    assert_eq!(e1, e3);
    let id = InstrumentId(0);
    assert!(v1.books().is_l3(id));
    assert_eq!(v1.books().book_hash(id), v3.books().book_hash(id));
    assert_eq!(
        v1.instruments().get(id).map(|i| i.symbol.clone()),
        v3.instruments().get(id).map(|i| i.symbol.clone())
    );
    assert_eq!(v1.stats().mbo, 2);
}

#[test]
fn mbp_files_build_level_books() {
    for name in [
        "test_data.mbp-1.dbn",
        "test_data.mbp-10.dbn",
        "test_data.tbbo.dbn",
    ] {
        let (_, feed, events, errors) = import_replay(&data(name));
        assert!(errors.is_empty(), "{name}: {errors:?}");
        let id = InstrumentId(0);
        assert!(!feed.books().is_l3(id));
        let bid = feed.books().best_bid(id).unwrap();
        let ask = feed.books().best_ask(id).unwrap();
        assert!(bid.price < ask.price, "{name}: {bid:?} {ask:?}");
        assert!(
            events
                .iter()
                .any(|e| matches!(e, VenueEvent::Book { shown: true, .. })),
            "{name}"
        );
    }
    let (_, feed, _, _) = import_replay(&data("test_data.mbp-10.dbn"));
    let mut top = kestrel_core::BookTop::default();
    kestrel_feeds::venue::TopOfBook::fill_top(feed.books(), InstrumentId(0), &mut top);
    assert_eq!(top.bid_levels, 10);
    assert_eq!(top.ask_levels, 10);
}

#[test]
fn trades_become_trade_events() {
    let (_, feed, events, errors) = import_replay(&data("test_data.trades.dbn"));
    assert!(errors.is_empty(), "{errors:?}");
    let trades: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            VenueEvent::Trade { print, .. } => Some(*print),
            _ => None,
        })
        .collect();
    assert_eq!(trades.len(), 2);
    assert!(
        trades
            .iter()
            .all(|t| t.qty.is_positive() && t.price.is_positive())
    );
    assert_eq!(feed.stats().trade_prints, 2);
}

#[test]
fn truncated_and_corrupt_files_are_reported_with_their_position() {
    let whole = std::fs::read(data("test_data.mbo.v3.dbn")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Cut inside the last record.
    let cut = dir.path().join("cut.dbn");
    std::fs::write(&cut, &whole[..whole.len() - 7]).unwrap();
    let (_, report) = write_dbn_capture(&cut, Timestamp(1), Vec::new()).unwrap();
    assert_eq!(report.records, 1);
    let stopped = report.stopped.expect("a truncated file is reported");
    assert_eq!((stopped.record, stopped.offset), (1, 56));
    assert_eq!(stopped.kind, DbnErrorKind::Truncated);
    // A truncated zstd file keeps what decompressed.
    let zst = std::fs::read(data("test_data.mbo.v1.dbn.zst")).unwrap();
    let zcut = dir.path().join("cut.dbn.zst");
    std::fs::write(&zcut, &zst[..zst.len() - 20]).unwrap();
    match write_dbn_capture(&zcut, Timestamp(1), Vec::new()) {
        Ok((_, report)) => assert!(report.stopped.is_some(), "{report:?}"),
        Err(e) => assert!(e.to_string().contains("DBN metadata"), "{e}"),
    }
    // Corrupt metadata is a clear error, not a panic.
    let bad = dir.path().join("bad.dbn");
    let mut b = whole.clone();
    b[0] = b'X';
    std::fs::write(&bad, &b).unwrap();
    assert!(write_dbn_capture(&bad, Timestamp(1), Vec::new()).is_err());
}

#[test]
fn bad_records_in_a_capture_are_counted_and_the_stream_goes_on() {
    let (kcap, _) =
        write_dbn_capture(&data("test_data.mbp-1.dbn"), Timestamp(1), Vec::new()).unwrap();
    let reader = KcapReader::from_bytes(&kcap).unwrap();
    let mut feed = DbnFeed::for_capture(reader.header()).unwrap();
    let records: Vec<_> = reader.records().map(Result::unwrap).collect();
    let mut sink = |_: &VenueEvent, _: &DbnBooks| {};
    feed.on_record(&records[0], &mut sink).unwrap();
    let good = records[1].payload.to_vec();
    // Truncated record.
    let e = feed
        .on_dbn_record(Timestamp(1), &good[..good.len() / 2], &mut sink)
        .unwrap_err();
    assert_eq!(e.kind, DbnErrorKind::Truncated);
    assert_eq!(e.record, 0);
    // Unknown record type (rtype is byte 1 of the header).
    let mut unknown = good.clone();
    unknown[1] = 0xEE;
    let e = feed
        .on_dbn_record(Timestamp(1), &unknown, &mut sink)
        .unwrap_err();
    assert_eq!(e.kind, DbnErrorKind::UnknownRecordType(0xEE));
    assert_eq!(e.record, 1);
    assert_eq!(e.offset, (good.len() / 2) as u64);
    // Unknown instrument.
    let mut other = good.clone();
    other[4..8].copy_from_slice(&999_999u32.to_le_bytes());
    let e = feed
        .on_dbn_record(Timestamp(1), &other, &mut sink)
        .unwrap_err();
    assert_eq!(e.kind, DbnErrorKind::UnknownInstrument(999_999));
    // Garbage shorter than a record header.
    let e = feed
        .on_dbn_record(Timestamp(1), &[0xFF; 3], &mut sink)
        .unwrap_err();
    assert_eq!(e.kind, DbnErrorKind::Truncated);
    // The good records still apply.
    for r in &records[1..] {
        feed.on_record(r, &mut sink).unwrap();
    }
    let s = feed.stats();
    assert_eq!(
        (s.truncated, s.unknown_record_types, s.unknown_instruments),
        (2, 1, 1)
    );
    assert_eq!(s.anomalies(), 4);
    // MBP-1 records decoded: the two good ones and the one for an unknown instrument.
    assert_eq!(s.mbp1, 3);
    assert!(feed.books().best_bid(InstrumentId(0)).is_some());
}
