//! Replays the committed decoder corpora (`feeds/tests/corpus/{binance,dbn}`): every input,
//! valid or hostile, goes through the decoder and the feed without a panic, and each failure is
//! a typed error with its position. New crashers found by fuzzing are added as files here.

use std::path::PathBuf;

use kestrel_core::Timestamp;
use kestrel_core::book::L2Books;
use kestrel_feeds::binance::{
    BinanceConfig, BinanceDecoder, BinanceFeed, Market, builtin_spec, spec_table,
};
use kestrel_feeds::dbn::{DbnBooks, DbnFeed, read_dbn_file, write_dbn_bytes};
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::venue::VenueEvent;

fn corpus(dir: &str) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

#[test]
fn binance_corpus_replays() {
    let table = spec_table(&[builtin_spec(Market::Spot, "BTCUSDT").unwrap()]).unwrap();
    let mut feed = BinanceFeed::new(BinanceConfig::new(Market::Spot), table);
    let mut decoder = BinanceDecoder::new(64);
    let mut ok = 0;
    let files = corpus("binance");
    for (i, path) in files.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        let decoded = decoder.decode(&bytes);
        let mut sink = |_: &VenueEvent, _: &L2Books| {};
        match feed.on_message(Timestamp(1), 1, &bytes, &mut sink) {
            Ok(()) => ok += 1,
            Err(e) => {
                assert_eq!(e.record, i as u64 + 1, "{}", path.display());
                assert!(!e.to_string().is_empty());
            }
        }
        // The decoder alone agrees with the feed on what is JSON-valid.
        if decoded.is_err() {
            assert!(feed.stats().anomalies() > 0, "{}", path.display());
        }
    }
    // The valid seeds decode.
    assert!(ok >= 5, "{ok} of {} corpus files accepted", files.len());
}

#[test]
fn dbn_corpus_replays() {
    for path in corpus("dbn") {
        let input = read_dbn_file(&path).unwrap();
        let Ok((kcap, report)) = write_dbn_bytes(&input, Timestamp(1), Vec::new()) else {
            continue;
        };
        let reader = KcapReader::from_bytes(&kcap).unwrap();
        let mut feed = DbnFeed::for_capture(reader.header()).unwrap();
        let mut sink = |_: &VenueEvent, _: &DbnBooks| {};
        for r in reader.records() {
            let _ = feed.on_record(&r.unwrap(), &mut sink);
        }
        assert_eq!(feed.stats().records, report.records, "{}", path.display());
        if path.ends_with("definition_cut.dbn") {
            assert!(report.stopped.is_some(), "a cut file is reported");
        }
    }
}
