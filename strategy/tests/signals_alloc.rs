//! SignalSet and AlphaSet allocate nothing per update after construction: proven with a
//! counting global allocator over the whole LOBSTER sample, replayed several times.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use kestrel_core::InstrumentId;
use kestrel_strategy::alpha::{AlphaConfig, AlphaSet, PairConfig};
use kestrel_strategy::research::lobster::read_lobster;
use kestrel_strategy::signals::{SignalConfig, SignalSet};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call unchanged to the system allocator and only counts them.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn no_allocation_per_update() {
    let (ups, errors) = read_lobster(
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
        )),
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
        )),
        InstrumentId(0),
    );
    assert!(errors.is_empty());
    // Instrument 1 replays the same book so the pairs model runs too.
    let alpha_cfg = AlphaConfig {
        pairs: vec![PairConfig {
            leg_a: InstrumentId(0),
            leg_b: InstrumentId(1),
            halflife: 50.0,
            horizon: 10.0,
            z_full: 2.0,
            confidence: 0.5,
            warmup: 20,
        }],
        ..AlphaConfig::default()
    };
    let mut signals = SignalSet::new(2, &SignalConfig::default());
    let mut alphas = AlphaSet::new(2, &alpha_cfg);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut sink = 0.0;
    for _ in 0..5 {
        for u in &ups {
            for inst in [0u32, 1] {
                let mut u = *u;
                u.instrument = InstrumentId(inst);
                if let Some(v) = signals.update(&u) {
                    let edges = alphas.evaluate(&u, &v);
                    sink += edges[0].edge_bps + v.ofi_events;
                }
            }
        }
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert!(sink.is_finite());
    assert_eq!(after - before, 0, "allocations during replay");
}
