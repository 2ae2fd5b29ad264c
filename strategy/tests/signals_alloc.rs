//! SignalSet and AlphaSet allocate nothing per update after construction: proven with a
//! counting global allocator over the whole LOBSTER sample, replayed several times.

mod lobster_sample;

use kestrel_core::InstrumentId;
use kestrel_strategy::alpha::{AlphaConfig, AlphaSet, PairConfig};
use kestrel_strategy::signals::{SignalConfig, SignalSet};
use kestrel_test_support::thread_allocations;

/// The workspace's one counting allocator (`kestrel-test-support`): `thread_allocations()` is
/// this thread's running total.
#[global_allocator]
static ALLOC: kestrel_test_support::CountingAllocator = kestrel_test_support::CountingAllocator;

#[test]
fn no_allocation_per_update() {
    let ups = lobster_sample::aapl_updates();
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
    let before = thread_allocations();
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
    let after = thread_allocations();
    assert!(sink.is_finite());
    assert_eq!(after - before, 0, "allocations during replay");
}
