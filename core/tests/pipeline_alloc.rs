//! The inline hot path allocates nothing: a long run makes exactly as many allocations as a
//! short one (set-up and tear-down only), counted by a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use kestrel_core::clock::TscClock;
use kestrel_core::pipeline::{
    Discard, PipelineConfig, SyntheticSource, UpdateHasher, WaitStrategy, run_inline,
};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // Only the thread running the pipeline counts: the test harness's other threads allocate
    // at their own times and would make the comparison flaky.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTING.with(Cell::get) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_for(records: u64, clock: &TscClock) -> (u64, u64) {
    let config = PipelineConfig {
        ring_size: 1024,
        consumer_wait: WaitStrategy::SpinYield { spins: 10 },
        producer_wait: WaitStrategy::SpinYield { spins: 10 },
        ops_wait: WaitStrategy::Sleep { micros: 100 },
        // One interval for the whole run: interval hand-offs copy histograms (allocation,
        // off the per-event path), so a run with intervals allocates once per interval.
        interval_ms: 0,
        snapshot_slots: 16,
    };
    let source = SyntheticSource::new(5, records, 16, clock.clone());
    COUNTING.with(|c| c.set(true));
    let before = ALLOCS.load(Ordering::Relaxed);
    let out = run_inline(
        source,
        UpdateHasher::default(),
        Discard,
        &config,
        clock,
        None,
    )
    .unwrap();
    let after = ALLOCS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(false));
    (after - before, out.stage.output().events)
}

#[test]
fn long_inline_run_allocates_no_more_than_a_short_one() {
    let clock = TscClock::new();
    let _ = allocations_for(100, &clock); // warm-up (lazy statics, first clock use)
    let (short, short_events) = allocations_for(1_000, &clock);
    let (long, long_events) = allocations_for(2_000_000, &clock);
    assert!(long_events > 1_000_000 && short_events > 100);
    assert_eq!(
        long,
        short,
        "the hot path allocated {} times",
        long.saturating_sub(short)
    );
}
