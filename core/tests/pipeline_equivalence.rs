//! Inline and threaded runs of the same input produce identical outputs, and every event is
//! accounted for at shutdown.

use std::time::Duration;

use kestrel_core::clock::TscClock;
use kestrel_core::latency::LatencyTag;
use kestrel_core::pipeline::{
    Discard, Ops, PipelineConfig, Progress, StageCores, SyntheticSource, UpdateHasher,
    WaitStrategy, run_inline, run_threaded,
};

fn test_config(ring_size: usize) -> PipelineConfig {
    PipelineConfig {
        ring_size,
        // Two vCPUs shared with other work: never busy-spin in tests.
        consumer_wait: WaitStrategy::SpinYield { spins: 50 },
        producer_wait: WaitStrategy::SpinYield { spins: 50 },
        ops_wait: WaitStrategy::Sleep { micros: 100 },
        interval_ms: 5,
        snapshot_slots: 4,
    }
}

/// Runs `f` on a thread and fails the test if it has not finished within `limit`.
fn with_timeout<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(_) => panic!("pipeline run did not finish within {limit:?}"),
    }
}

#[test]
fn inline_and_threaded_give_the_same_output_hash() {
    with_timeout(Duration::from_secs(120), || {
        let clock = TscClock::new();
        let records = 200_000;
        let inline = run_inline(
            SyntheticSource::new(42, records, 8, clock.clone()),
            UpdateHasher::default(),
            Discard,
            &test_config(1024),
            &clock,
            Ops::new(),
        )
        .unwrap();
        let progress = Progress::new();
        let threaded = run_threaded(
            SyntheticSource::new(42, records, 8, clock.clone()),
            UpdateHasher::default(),
            Discard,
            &test_config(1024),
            StageCores::default(),
            &clock,
            Ops::new().progress(&progress),
        )
        .unwrap();
        let a = inline.stage.output();
        let b = threaded.stage.output();
        assert!(a.events > records / 2, "{a:?}");
        assert_eq!(a, b);
        assert!(inline.report.balanced(), "{:?}", inline.report);
        assert!(threaded.report.balanced(), "{:?}", threaded.report);
        assert_eq!(threaded.report.published, a.events);
        assert!(progress.finished());
        assert_eq!(progress.events(), a.events);
        // A different input gives a different hash (the comparison can fail).
        let other = run_inline(
            SyntheticSource::new(43, records, 8, clock.clone()),
            UpdateHasher::default(),
            Discard,
            &test_config(1024),
            &clock,
            Ops::new(),
        )
        .unwrap();
        assert_ne!(other.stage.output(), a);
        // Every event's end-to-end latency was recorded, in both modes.
        assert_eq!(inline.latency.total(LatencyTag::EndToEnd).len(), a.events);
        assert_eq!(threaded.latency.total(LatencyTag::EndToEnd).len(), a.events);
        assert_eq!(threaded.latency.total(LatencyTag::Hop).len(), a.events);
        assert_eq!(threaded.latency.total(LatencyTag::Feed).len(), a.events);
    });
}

#[test]
fn shutdown_accounts_for_every_event_across_ring_sizes() {
    with_timeout(Duration::from_secs(120), || {
        let clock = TscClock::new();
        for (ring_size, records) in [(2, 3_000), (8, 10_000), (4096, 50_000), (16, 0), (16, 1)] {
            let out = run_threaded(
                SyntheticSource::new(7, records, 3, clock.clone()),
                UpdateHasher::default(),
                Vec::new(),
                &test_config(ring_size),
                StageCores::default(),
                &clock,
                Ops::new(),
            )
            .unwrap();
            let r = &out.report;
            assert!(r.balanced(), "ring {ring_size}: {r:?}");
            assert_eq!(r.consumed, out.stage.output().events, "ring {ring_size}");
            assert!(out.stage.batches() <= r.consumed, "ring {ring_size}");
            assert!(
                (r.consumed == 0) == (out.stage.batches() == 0),
                "ring {ring_size}: {} batches",
                out.stage.batches()
            );
            assert_eq!(r.threads.len(), 3);
        }
    });
}

#[test]
fn invalid_ring_size_is_refused_before_any_thread_starts() {
    let clock = TscClock::new();
    let err = run_threaded(
        SyntheticSource::new(1, 10, 1, clock.clone()),
        UpdateHasher::default(),
        Discard,
        &test_config(1000),
        StageCores::default(),
        &clock,
        Ops::new(),
    );
    assert!(err.is_err());
}

/// A consumer stage that panics on its `n`th event.
struct PanicsAt(u64);

impl kestrel_core::pipeline::Stage for PanicsAt {
    type In = kestrel_core::BookUpdate;
    type Out = ();

    fn on_event<E: kestrel_core::pipeline::Emit<()>>(
        &mut self,
        _event: &kestrel_core::BookUpdate,
        _out: &mut E,
    ) {
        self.0 -= 1;
        assert!(self.0 > 0, "planted stage failure");
    }
}

#[test]
fn a_panicking_stage_fails_the_run_instead_of_hanging_it() {
    let result = with_timeout(Duration::from_secs(60), || {
        let clock = TscClock::new();
        run_threaded(
            SyntheticSource::new(11, 100_000, 2, clock.clone()),
            PanicsAt(100),
            Discard,
            &test_config(16),
            StageCores::default(),
            &clock,
            Ops::new(),
        )
        .map(|out| out.report)
    });
    match result {
        Err(kestrel_core::pipeline::PipelineError::Panicked { stage }) => {
            assert_eq!(stage, "consumer")
        }
        other => panic!("expected a consumer panic, got {other:?}"),
    }
}

/// `run_inline_on` pins the calling thread to the `feed` core and the ops thread to `ops`, says
/// so in the report, and gives the same output as an unpinned run (inline ignored `[cpu]`
/// before: both threads were left to the scheduler and reported unpinned).
#[test]
fn inline_run_pins_its_thread_and_ops_to_the_configured_cores() {
    with_timeout(Duration::from_secs(60), || {
        let allowed = kestrel_core::cpu::allowed_cores().expect("this OS reports an affinity mask");
        let (hot, ops) = (allowed[allowed.len() - 1], allowed[0]);
        let cores = StageCores {
            feed: Some(hot),
            consumer: None,
            ops: Some(ops),
        };
        let clock = TscClock::new();
        let pinned = kestrel_core::pipeline::run_inline_on(
            SyntheticSource::new(7, 20_000, 4, clock.clone()),
            UpdateHasher::default(),
            Discard,
            &test_config(1024),
            &clock,
            Ops::new(),
            cores,
        )
        .unwrap();
        let places: Vec<_> = pinned
            .report
            .threads
            .iter()
            .map(|t| (t.stage.as_str(), t.core, t.pinned))
            .collect();
        assert_eq!(
            places,
            vec![("inline", Some(hot), true), ("ops", Some(ops), true)]
        );
        // This (the calling) thread now runs on the hot core only.
        assert_eq!(kestrel_core::cpu::allowed_cores(), Some(vec![hot]));
        let free = run_inline(
            SyntheticSource::new(7, 20_000, 4, clock.clone()),
            UpdateHasher::default(),
            Discard,
            &test_config(1024),
            &clock,
            Ops::new(),
        )
        .unwrap();
        assert_eq!(pinned.stage.output(), free.stage.output());
        assert!(
            free.report
                .threads
                .iter()
                .all(|t| !t.pinned && t.core.is_none())
        );
    });
}
