//! Latency intervals end on time in a paced replay however sparse the flow: the source never
//! blocks the hot loop while it waits for its next record (it reports idle), and an idle hot
//! thread checks the interval clock on every turn. (Before, a paced source waited inside its
//! poll and intervals were checked every 256 polls: a 10 ms interval of a sparse capture
//! lasted seconds.)

use kestrel_core::clock::{Pace, TscClock};
use kestrel_core::latency::{IntervalRecord, LatencyTag};
use kestrel_core::pipeline::{
    Discard, Ops, PipelineConfig, StageCores, UpdateHasher, WaitStrategy, run_inline, run_threaded,
};
use kestrel_feeds::feed_stage::CaptureSource;
use kestrel_feeds::handler::{FeedHandler, HandlerConfig};
use kestrel_tests::replay::aapl_capture;

/// The AAPL sample spans 49 s; at this pace the replay takes about 0.5 s.
const PACE: f64 = 100.0;

fn config() -> PipelineConfig {
    PipelineConfig {
        ring_size: 1024,
        consumer_wait: WaitStrategy::SpinYield { spins: 100 },
        producer_wait: WaitStrategy::SpinYield { spins: 100 },
        ops_wait: WaitStrategy::Sleep { micros: 200 },
        interval_ms: 10,
        snapshot_slots: 4,
    }
}

/// The feed-stage intervals of one paced run: `(start_ns, end_ns)`.
fn feed_intervals(threaded: bool) -> Vec<(u64, u64)> {
    let reader = aapl_capture();
    let clock = TscClock::new();
    let handler = FeedHandler::for_capture(HandlerConfig::default(), reader.header()).unwrap();
    let source = CaptureSource::new(handler, reader.records(), Pace::Factor(PACE), clock.clone());
    let mut kept: Vec<IntervalRecord> = Vec::new();
    let ops = Ops::new().task(&mut kept);
    let cfg = config();
    let out = if threaded {
        run_threaded(
            source,
            UpdateHasher::default(),
            Discard,
            &cfg,
            StageCores::default(),
            &clock,
            ops,
        )
        .unwrap()
    } else {
        run_inline(source, UpdateHasher::default(), Discard, &cfg, &clock, ops).unwrap()
    };
    assert!(out.stage.output().events > 1_000);
    kept.iter()
        .filter(|r| r.tag == LatencyTag::Feed)
        .map(|r| (r.start_ns, r.end_ns))
        .collect()
}

fn check(intervals: &[(u64, u64)]) {
    // ~0.49 s of flow in 10 ms intervals: about 49 of them carry feed events. Checked every
    // 256 polls, the 1,034 messages' ~1,000 records gave at most four.
    assert!(
        intervals.len() >= 20,
        "{} feed intervals: {intervals:?}",
        intervals.len()
    );
    // Most intervals are close to 10 ms (a loaded machine may stretch a few).
    let mut lengths: Vec<u64> = intervals.iter().map(|(s, e)| e - s).collect();
    lengths.sort_unstable();
    let median = lengths[lengths.len() / 2];
    assert!(
        median < 30_000_000,
        "median interval {median} ns, lengths {lengths:?}"
    );
}

#[test]
fn inline_paced_replay_ends_intervals_on_time() {
    check(&feed_intervals(false));
}

#[test]
fn threaded_paced_replay_ends_intervals_on_time() {
    check(&feed_intervals(true));
}
