//! The per-thread recorder: owned histograms, recorded into without locks or allocation.

use hdrhistogram::Histogram;

use super::snapshot::SnapshotSink;
use super::{LatencyTag, new_histogram};

/// One thread's latency histograms (one per [`LatencyTag`]), for the current interval.
///
/// Owned by exactly one thread; `record` is a plain array write. At each interval the thread
/// hands the non-empty histograms to a [`SnapshotSink`] (the ops ring) and starts afresh; if the
/// sink has no room, the interval simply grows until the next attempt, so nothing is lost.
#[derive(Debug)]
pub struct LatencyRecorder {
    hists: [Histogram<u64>; LatencyTag::COUNT],
    interval_start_ns: u64,
    interval_ns: u64,
    deferred: u64,
}

impl LatencyRecorder {
    /// A recorder whose first interval starts at `start_ns` and whose intervals last
    /// `interval_ns` (0: only a final hand-off). Allocates all histograms now.
    pub fn new(start_ns: u64, interval_ns: u64) -> Self {
        Self {
            hists: std::array::from_fn(|_| new_histogram()),
            interval_start_ns: start_ns,
            interval_ns,
            deferred: 0,
        }
    }

    /// Records one latency in nanoseconds (clamped to the histogram's range).
    #[inline]
    pub fn record(&mut self, tag: LatencyTag, ns: u64) {
        if let Some(h) = self.hists.get_mut(tag.index()) {
            h.saturating_record(ns.max(1));
        }
    }

    /// The current interval's histogram for `tag`.
    pub fn histogram(&self, tag: LatencyTag) -> Option<&Histogram<u64>> {
        self.hists.get(tag.index())
    }

    /// Whether the current interval has run its length at `now_ns`.
    #[inline]
    pub fn interval_due(&self, now_ns: u64) -> bool {
        self.interval_ns > 0 && now_ns.saturating_sub(self.interval_start_ns) >= self.interval_ns
    }

    /// Hands the current interval `[start, now_ns)` to `sink` and starts a new one. Returns
    /// `false` (and keeps accumulating) when the sink has no room.
    pub fn hand_off<S: SnapshotSink>(&mut self, now_ns: u64, sink: &mut S) -> bool {
        let start = self.interval_start_ns;
        let end = now_ns.max(start);
        if sink.offer(&self.hists, start, end) {
            for h in &mut self.hists {
                h.reset();
            }
            self.interval_start_ns = end;
            true
        } else {
            self.deferred += 1;
            false
        }
    }

    /// Hand-offs that found the sink full (their data went into the next interval).
    pub fn deferred(&self) -> u64 {
        self.deferred
    }
}
