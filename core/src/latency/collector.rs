//! The ops side: totals per tag and the list of intervals, built from recorder snapshots.

use hdrhistogram::Histogram;

use super::snapshot::{Snapshot, SnapshotSink};
use super::{LatencyTag, new_histogram};

/// One interval histogram for one tag, as it will appear in `latency.hlog`.
#[derive(Clone, Debug)]
pub struct IntervalRecord {
    /// Which latency.
    pub tag: LatencyTag,
    /// Interval start (pipeline clock ns).
    pub start_ns: u64,
    /// Interval end (pipeline clock ns).
    pub end_ns: u64,
    /// The interval's counts.
    pub hist: Histogram<u64>,
}

/// Accumulates snapshots from every thread: whole-run totals per tag and every interval in
/// arrival order. Lives on the ops thread (or, inline, on the only thread between events).
#[derive(Debug)]
pub struct LatencyCollector {
    totals: [Histogram<u64>; LatencyTag::COUNT],
    intervals: Vec<IntervalRecord>,
}

impl Default for LatencyCollector {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyCollector {
    /// An empty collector.
    pub fn new() -> Self {
        Self {
            totals: std::array::from_fn(|_| new_histogram()),
            intervals: Vec::new(),
        }
    }

    /// Adds one interval histogram.
    pub fn absorb_histogram(
        &mut self,
        tag: LatencyTag,
        start_ns: u64,
        end_ns: u64,
        hist: &Histogram<u64>,
    ) {
        if hist.is_empty() {
            return;
        }
        if let Some(total) = self.totals.get_mut(tag.index()) {
            // Same bounds (both from `new_histogram`): cannot fail.
            let _ = total.add(hist);
        }
        self.intervals.push(IntervalRecord {
            tag,
            start_ns,
            end_ns,
            hist: hist.clone(),
        });
    }

    /// Adds one snapshot taken off a ring.
    pub fn absorb(&mut self, snap: &Snapshot) {
        self.absorb_histogram(snap.tag, snap.start_ns, snap.end_ns, &snap.hist);
    }

    /// The whole run's histogram for `tag`.
    pub fn total(&self, tag: LatencyTag) -> &Histogram<u64> {
        // `tag.index()` < COUNT by construction; `totals` has COUNT entries.
        &self.totals[tag.index()]
    }

    /// Every interval, sorted by start time then tag (the order an interval log wants).
    pub fn intervals_sorted(&self) -> Vec<&IntervalRecord> {
        let mut v: Vec<&IntervalRecord> = self.intervals.iter().collect();
        v.sort_by_key(|r| (r.start_ns, r.tag));
        v
    }

    /// Earliest interval start, if anything was recorded.
    pub fn first_start_ns(&self) -> Option<u64> {
        self.intervals.iter().map(|r| r.start_ns).min()
    }

    /// Folds another collector (another thread's, or a merged run) into this one.
    pub fn merge(&mut self, other: LatencyCollector) {
        for r in other.intervals {
            self.absorb_histogram(r.tag, r.start_ns, r.end_ns, &r.hist);
        }
    }
}

impl SnapshotSink for LatencyCollector {
    fn offer(
        &mut self,
        hists: &[Histogram<u64>; LatencyTag::COUNT],
        start_ns: u64,
        end_ns: u64,
    ) -> bool {
        for (tag, h) in LatencyTag::ALL.into_iter().zip(hists.iter()) {
            self.absorb_histogram(tag, start_ns, end_ns, h);
        }
        true
    }
}
