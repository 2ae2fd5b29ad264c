//! The ITCH hot path allocates nothing per message: after one warm-up pass over the bundled
//! file (which registers its instruments), a second pass of framing, decoding and normalising
//! all 12,012 messages performs zero heap allocations, counted by a wrapping global allocator.
#![allow(unsafe_code)] // A global allocator can only be written with `unsafe impl`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use kestrel_feeds::itch::{ItchFramer, ItchNormalizer, decode};

/// Counts allocations and reallocations, then defers to the system allocator.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is the system allocator's; the counter is a relaxed atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with this layout; the caller upholds `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
    let start = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(pass(&data, &mut norm), 12_003);
    // The counter works: the warm-up pass registered three instruments (names, table entries).
    assert!(ALLOCATIONS.load(Ordering::Relaxed) > start);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(pass(&data, &mut norm), 12_003);
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(after - before, 0, "allocations during the warm pass");
    assert_eq!(norm.stats().messages, 2 * 12_012);
}
