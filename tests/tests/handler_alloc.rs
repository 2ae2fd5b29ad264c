//! The feed handler allocates nothing per message: a whole capture replay (records, MoldUDP64,
//! sequencer, ITCH decode, normaliser, L3 books, sink) with books sized at start and the
//! capture's instruments preloaded; with the packet-batched prefetch as configured by default
//! (off below 16,384 live orders) and always on.

use kestrel_core::Timestamp;
use kestrel_core::book::{BookConfig, L3Books};
use kestrel_feeds::handler::{
    BatchPrefetch, FeedEvent, FeedHandler, HandlerConfig, write_itch_capture,
};
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::lobster::verify_lobster;
use kestrel_test_support::thread_allocations;

/// The workspace's one counting allocator (`kestrel-test-support`): `thread_allocations()` is
/// this thread's running total.
#[global_allocator]
static ALLOC: kestrel_test_support::CountingAllocator = kestrel_test_support::CountingAllocator;

const ITCH_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/itch/ex20101224.TEST_ITCH_50"
);
const MESSAGES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
);
const ORDERBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
);

/// Replays `capture`, returning (events, allocations during the replay).
fn measured_replay(capture: Vec<u8>, prefetch: BatchPrefetch) -> (u64, u64) {
    let reader = KcapReader::from_vec(capture).expect("capture");
    let config = HandlerConfig {
        books: BookConfig {
            instruments: 8,
            order_capacity: 1 << 16,
            levels_per_side: 1024,
        },
        ..HandlerConfig::default()
    };
    let mut handler = FeedHandler::for_capture(config, reader.header())
        .expect("ITCH capture")
        .with_batch_prefetch(prefetch);
    let mut events = 0u64;
    let mut sink = |_: &FeedEvent, _: &L3Books| events += 1;
    let before = thread_allocations();
    handler.replay_kcap(&reader, &mut sink);
    let allocated = thread_allocations() - before;
    assert_eq!(handler.stats().decode_errors, 0);
    (events, allocated)
}

#[test]
fn replay_allocates_nothing_per_message() {
    let raw = std::fs::read(ITCH_FILE).expect("bundled ITCH file");
    let (itch, _) = write_itch_capture(&raw, Timestamp(0), Vec::new()).expect("pack");
    let messages = std::fs::read_to_string(MESSAGES).unwrap();
    let orderbook = std::fs::read_to_string(ORDERBOOK).unwrap();
    let (_, lobster, _) = verify_lobster(&messages, &orderbook, "AAPL").expect("import");
    for prefetch in [BatchPrefetch::DEFAULT, BatchPrefetch::Always] {
        let (events, allocated) = measured_replay(itch.clone(), prefetch);
        assert!(events > 12_000);
        assert_eq!(
            allocated, 0,
            "{prefetch:?}: {allocated} allocations over {events} events"
        );
        let (events, allocated) = measured_replay(lobster.clone(), prefetch);
        assert!(events > 1_000);
        assert_eq!(
            allocated, 0,
            "{prefetch:?}: {allocated} allocations over {events} events"
        );
    }
}
