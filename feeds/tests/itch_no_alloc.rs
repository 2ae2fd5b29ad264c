//! The ITCH hot path allocates nothing per message: after one warm-up pass over the bundled
//! file (which registers its instruments), a second pass of framing, decoding and normalising
//! all 12,012 messages performs zero heap allocations, counted by a wrapping global allocator.

use kestrel_feeds::itch::{ItchFramer, ItchNormalizer, decode};
use kestrel_test_support::thread_allocations;

/// The workspace's one counting allocator (`kestrel-test-support`): `thread_allocations()` is
/// this thread's running total.
#[global_allocator]
static ALLOC: kestrel_test_support::CountingAllocator = kestrel_test_support::CountingAllocator;

const ITCH_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/itch/ex20101224.TEST_ITCH_50"
);

fn pass(data: &[u8], norm: &mut ItchNormalizer) -> u64 {
    let mut events = 0;
    for frame in ItchFramer::new(data).flatten() {
        if let Ok(msg) = decode(frame.message)
            && norm.normalize(&msg).is_some()
        {
            events += 1;
        }
    }
    events
}

#[test]
fn second_pass_allocates_nothing() {
    let data = std::fs::read(ITCH_FILE).expect("bundled ITCH test file");
    let mut norm = ItchNormalizer::new();
    let start = thread_allocations();
    assert_eq!(pass(&data, &mut norm), 12_003);
    // The counter works: the warm-up pass registered three instruments (names, table entries).
    assert!(thread_allocations() > start);
    let before = thread_allocations();
    assert_eq!(pass(&data, &mut norm), 12_003);
    let after = thread_allocations();
    assert_eq!(after - before, 0, "allocations during the warm pass");
    assert_eq!(norm.stats().messages, 2 * 12_012);
}
