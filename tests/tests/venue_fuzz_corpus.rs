//! Replays the committed seed corpus of the Binance and DBN fuzz targets
//! (`kestrel_tests::venue_fuzz`, `fuzz/corpus/{binance_json,dbn,dbn_records}/`) through them:
//! every input must pass (the targets assert the feeds' contracts, not only "no panic"), and
//! the seeds must reach the books (not only the error paths).

use std::path::{Path, PathBuf};

use kestrel_tests::venue_fuzz::{binance_json, dbn, dbn_records};

fn corpus(name: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

fn replay(name: &str, target: fn(&[u8])) -> usize {
    let files = corpus(name);
    assert!(
        files.len() >= 2,
        "fuzz/corpus/{name} has {} inputs",
        files.len()
    );
    for f in &files {
        let data = std::fs::read(f).expect("seed");
        target(&data);
    }
    files.len()
}

#[test]
fn binance_json_corpus_passes() {
    assert!(replay("binance_json", binance_json) >= 10);
}

#[test]
fn dbn_corpus_passes() {
    assert!(replay("dbn", dbn) >= 5);
}

#[test]
fn dbn_records_corpus_passes() {
    assert!(replay("dbn_records", dbn_records) >= 5);
}

#[test]
fn seeds_reach_the_books() {
    // The seeds are worth fuzzing from: a real capture stretch synchronises a book and the DBN
    // files import records (a seed set that only hits error paths would show here).
    use kestrel_feeds::binance::capture::{capture_lines, is_snapshot};
    use kestrel_feeds::binance::{
        BinanceConfig, BinanceFeed, Market, SNAPSHOT_CHANNEL_BASE, builtin_spec, spec_table,
    };
    let data = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/binance_json/spot_sync.txt"),
    )
    .expect("spot seed");
    let table = spec_table(&[builtin_spec(Market::Spot, "BTCUSDT").unwrap()]).unwrap();
    let mut f = BinanceFeed::new(BinanceConfig::new(Market::Spot), table);
    let mut shown = 0;
    let mut sink = |e: &kestrel_feeds::venue::VenueEvent, _: &kestrel_core::book::L2Books| {
        if let kestrel_feeds::venue::VenueEvent::Book { shown: true, .. } = e {
            shown += 1;
        }
    };
    for l in capture_lines(&data).flatten() {
        let channel = if is_snapshot(l.json) {
            SNAPSHOT_CHANNEL_BASE
        } else {
            0
        };
        let _ = f.on_message(l.recv_ts, channel, l.json, &mut sink);
    }
    assert_eq!(f.stats().snapshots_applied, 1, "{:?}", f.stats());
    // The snapshot, the diff that bridges it and the diffs after it.
    assert!(shown >= 3, "only {shown} shown book updates");
}
