//! Latency recording: per-thread HdrHistogram recorders on the hot path, finished intervals
//! handed to the ops thread by swapping preallocated interval sets (HdrHistogram's recorder
//! pattern), whole-run totals, and the standard file formats (interval log `.hlog`, streamed;
//! percentile distribution `.hgrm`).
//!
//! Hot-path rule: a recorder only ever writes into counts it owns and that were allocated (and
//! pre-faulted) on its own thread at start ([`HotCounts`]: the counts array of a
//! [`new_histogram`], whose range is fixed; auto-resize is off). At an interval boundary it moves
//! a pointer: no copy, no reset, no allocation, no lock. The ops side folds the counts into the
//! interval's histograms, resets the set off the hot path and returns it.

mod collector;
mod exchange;
mod hgrm;
mod hlog;
mod hot;
mod interval;
mod recorder;
mod summary;
mod tag;

pub use collector::{IntervalRecord, LatencyCollector};
pub use exchange::{IntervalDrain, IntervalReceiver, IntervalSender};
pub use hgrm::write_percentile_distribution;
pub use hlog::{HlogError, HlogWriter, MAX_VALUE_DIVISOR, read_interval_log, write_interval_log};
pub use hot::HotCounts;
pub use interval::{IntervalHistograms, TagSet};
pub use recorder::{DEFAULT_INTERVAL_SETS, LatencyRecorder};
pub use summary::{PERCENTILES, StageSummary, summarize};
pub use tag::{LatencyTag, UnknownTag};

pub use hdrhistogram::Histogram;

/// Largest value a latency histogram holds: 60 s in nanoseconds. Larger values are clamped.
pub const MAX_LATENCY_NS: u64 = 60_000_000_000;
/// Significant decimal digits kept by every latency histogram.
pub const SIGFIG: u8 = 3;

/// A latency histogram in nanoseconds with the project-wide range and precision. Allocates once;
/// recording never allocates (auto-resize stays off).
pub fn new_histogram() -> Histogram<u64> {
    // Constant bounds within the crate's preconditions (low >= 1, high >= 2 * low,
    // sigfig <= 5): creation cannot fail, which `histogram_bounds_are_valid` checks.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, SIGFIG)
        .expect("constant histogram bounds are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bounds_are_valid() {
        let mut h = new_histogram();
        assert!(!h.is_auto_resize());
        h.saturating_record(MAX_LATENCY_NS * 10);
        assert_eq!(h.len(), 1);
        assert!(h.max() >= MAX_LATENCY_NS);
    }
}
