//! A slow consumer makes the producer wait; nothing is dropped, and the wait is recorded.

use std::time::{Duration, Instant};

use kestrel_core::BookUpdate;
use kestrel_core::clock::TscClock;
use kestrel_core::latency::LatencyTag;
use kestrel_core::pipeline::{
    Discard, Emit, Ops, OutputHash, PipelineConfig, Stage, StageCores, SyntheticSource,
    WaitStrategy, run_inline, run_threaded,
};

/// Hashes like the real consumer but spends `delay` on every event.
#[derive(Default)]
struct SlowHasher {
    delay: Duration,
    out: OutputHash,
}

impl Stage for SlowHasher {
    type In = BookUpdate;
    type Out = ();

    fn on_event<E: Emit<()>>(&mut self, event: &BookUpdate, _out: &mut E) {
        let start = Instant::now();
        while start.elapsed() < self.delay {
            std::hint::spin_loop();
        }
        self.out.add(event);
    }
}

#[test]
fn slow_consumer_loses_nothing_and_backpressure_is_measured() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let clock = TscClock::new();
        let config = PipelineConfig {
            ring_size: 8,
            consumer_wait: WaitStrategy::SpinYield { spins: 10 },
            producer_wait: WaitStrategy::SpinYield { spins: 10 },
            ops_wait: WaitStrategy::Sleep { micros: 50 },
            interval_ms: 0,
            snapshot_slots: 4,
        };
        let records = 3_000;
        let slow = SlowHasher {
            delay: Duration::from_micros(20),
            ..SlowHasher::default()
        };
        let threaded = run_threaded(
            SyntheticSource::new(9, records, 2, clock.clone()),
            slow,
            Discard,
            &config,
            StageCores::default(),
            &clock,
            Ops::new(),
        )
        .unwrap();
        let reference = run_inline(
            SyntheticSource::new(9, records, 2, clock.clone()),
            SlowHasher::default(),
            Discard,
            &config,
            &clock,
            Ops::new(),
        )
        .unwrap();
        let _ = tx.send((threaded, reference));
    });
    let (threaded, reference) = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("run did not finish");
    let r = &threaded.report;
    assert!(r.balanced(), "{r:?}");
    assert_eq!(threaded.stage.out, reference.stage.out);
    assert!(r.backpressure_waits > 0, "{r:?}");
    assert!(r.backpressure_ns > 0, "{r:?}");
    let bp = threaded.latency.total(LatencyTag::Backpressure);
    assert_eq!(bp.len(), r.backpressure_waits);
}
