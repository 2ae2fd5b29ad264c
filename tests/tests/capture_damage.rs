//! Damaged captures still replay to the end, with the damage counted as anomalies.

use kestrel_core::Timestamp;
use kestrel_core::book::L3Books;
use kestrel_feeds::handler::{
    FeedEvent, FeedHandler, HandlerConfig, HandlerStats, write_itch_capture,
};
use kestrel_feeds::kcap::KcapReader;

const ITCH_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/itch/ex20101224.TEST_ITCH_50"
);

fn packed() -> Vec<u8> {
    let raw = std::fs::read(ITCH_FILE).expect("bundled ITCH file");
    write_itch_capture(&raw, Timestamp(0), Vec::new())
        .expect("pack")
        .0
}

fn replay(bytes: Vec<u8>) -> HandlerStats {
    let reader = KcapReader::from_vec(bytes).expect("header intact");
    let mut handler =
        FeedHandler::for_capture(HandlerConfig::default(), reader.header()).expect("ITCH capture");
    let mut seen = 0u64;
    handler.replay_kcap(&reader, &mut |_: &FeedEvent, _: &L3Books| seen += 1);
    let stats = handler.stats();
    assert_eq!(stats.events, seen);
    stats
}

#[test]
fn a_corrupted_block_is_skipped_counted_and_the_rest_replays() {
    let clean = replay(packed());
    let mut bytes = packed();
    // One flipped byte in the middle of the file lands inside some block: that block fails
    // its CRC and is skipped; the blocks after it still replay.
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    let damaged = replay(bytes);
    assert!(damaged.capture_errors >= 1, "{damaged:?}");
    assert!(damaged.mold.gaps_lost >= 1, "{damaged:?}");
    assert!(damaged.mold.messages_lost > 0);
    assert!(damaged.itch_messages < clean.itch_messages);
    // Messages after the damaged block were delivered.
    assert!(
        damaged.itch_messages > clean.itch_messages / 2 + 1000,
        "{damaged:?}"
    );
    assert_eq!(
        damaged.itch_messages + damaged.mold.messages_lost,
        clean.itch_messages
    );
    // The damage is part of the anomaly total (next to the file's own unknown orders).
    assert_eq!(clean.anomalies(), clean.book_errors);
    assert!(
        damaged.anomalies()
            >= damaged.capture_errors + damaged.mold.gaps_lost + damaged.book_errors
    );
}

#[test]
fn a_capture_truncated_mid_record_replays_what_is_there() {
    let clean = replay(packed());
    let mut bytes = packed();
    // Cut 100 bytes before the end: inside the last block's records.
    bytes.truncate(bytes.len() - 100);
    let cut = replay(bytes);
    assert!(cut.capture_errors >= 1, "{cut:?}");
    assert!(cut.itch_messages > 0);
    assert!(cut.itch_messages < clean.itch_messages);
    assert!(cut.anomalies() >= cut.capture_errors + cut.book_errors);
}
