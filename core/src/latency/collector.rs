//! The ops side's whole-run totals: one histogram per tag, whatever the session's length.
//! Intervals themselves are not kept here: they are streamed as they arrive (to `latency.hlog`
//! through [`super::HlogWriter`], or to any [`crate::pipeline::OpsTask`]).

use hdrhistogram::Histogram;

use super::{IntervalHistograms, LatencyTag, new_histogram};

/// One interval histogram for one tag, as it appears in `latency.hlog` (what
/// [`super::read_interval_log`] returns and [`super::write_interval_log`] writes).
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

/// Whole-run totals per tag, built from the intervals every thread handed off. Fixed size: one
/// histogram per tag, allocated at start.
#[derive(Debug)]
pub struct LatencyCollector {
    totals: [Histogram<u64>; LatencyTag::COUNT],
    intervals: [u64; LatencyTag::COUNT],
    stray: u64,
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
            intervals: [0; LatencyTag::COUNT],
            stray: 0,
        }
    }

    /// Adds one tag's interval histogram (empty ones are not counted as intervals).
    pub fn absorb_histogram(&mut self, tag: LatencyTag, hist: &Histogram<u64>) {
        if hist.is_empty() {
            return;
        }
        if let Some(total) = self.totals.get_mut(tag.index()) {
            // Same bounds (both from `new_histogram`): cannot fail.
            let _ = total.add(hist);
        }
        if let Some(n) = self.intervals.get_mut(tag.index()) {
            *n += 1;
        }
    }

    /// Adds every non-empty histogram of one finished interval set.
    pub fn absorb(&mut self, set: &IntervalHistograms) {
        for (tag, h) in set.non_empty() {
            self.absorb_histogram(tag, h);
        }
        self.stray += set.stray();
    }

    /// The whole run's histogram for `tag`.
    pub fn total(&self, tag: LatencyTag) -> &Histogram<u64> {
        // `tag.index()` < COUNT by construction; `totals` has COUNT entries.
        &self.totals[tag.index()]
    }

    /// Non-empty intervals absorbed for `tag`.
    pub fn intervals(&self, tag: LatencyTag) -> u64 {
        self.intervals.get(tag.index()).copied().unwrap_or(0)
    }

    /// Non-empty intervals absorbed over every tag (the lines of `latency.hlog`).
    pub fn interval_count(&self) -> u64 {
        self.intervals.iter().sum()
    }

    /// Values recorded under a tag the recording thread did not declare (a wiring mistake).
    pub fn stray(&self) -> u64 {
        self.stray
    }

    /// Folds another collector's totals into this one.
    pub fn merge(&mut self, other: &LatencyCollector) {
        for (tag, h) in LatencyTag::ALL.into_iter().zip(other.totals.iter()) {
            if let Some(total) = self.totals.get_mut(tag.index()) {
                let _ = total.add(h);
            }
        }
        for (a, b) in self.intervals.iter_mut().zip(other.intervals) {
            *a += b;
        }
        self.stray += other.stray;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::TagSet;

    #[test]
    fn totals_add_intervals_and_count_them() {
        let mut c = LatencyCollector::new();
        let mut set = IntervalHistograms::new(TagSet::of(&[LatencyTag::Hop, LatencyTag::Feed]));
        set.record(LatencyTag::Hop, 10);
        set.record(LatencyTag::Hop, 20);
        set.settle();
        c.absorb(&set);
        c.absorb(&set);
        assert_eq!(c.total(LatencyTag::Hop).len(), 4);
        assert_eq!(c.intervals(LatencyTag::Hop), 2);
        // Feed was empty both times: no interval counted.
        assert_eq!(c.intervals(LatencyTag::Feed), 0);
        assert_eq!(c.interval_count(), 2);
        let mut d = LatencyCollector::new();
        d.merge(&c);
        assert_eq!(d.total(LatencyTag::Hop).len(), 4);
        assert_eq!(d.interval_count(), 2);
    }
}
