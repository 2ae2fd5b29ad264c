//! One interval's histograms: the unit a hot thread records into and hands to the ops side whole.

use hdrhistogram::Histogram;

use super::hot::HotCounts;
use super::{LatencyTag, new_histogram};

/// The tags one thread records (a bit per [`LatencyTag`]). Only these get a histogram, so a
/// thread's interval sets hold no memory for latencies it never measures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TagSet(u32);

impl TagSet {
    /// No tag.
    pub const EMPTY: TagSet = TagSet(0);
    /// Every tag.
    pub const ALL: TagSet = TagSet::of(&LatencyTag::ALL);

    /// The set of `tags`.
    pub const fn of(tags: &[LatencyTag]) -> TagSet {
        let mut bits = 0u32;
        let mut i = 0;
        while i < tags.len() {
            bits |= 1 << tags[i] as u32;
            i += 1;
        }
        TagSet(bits)
    }

    /// Both sets' tags.
    #[must_use]
    pub const fn union(self, other: TagSet) -> TagSet {
        TagSet(self.0 | other.0)
    }

    /// Whether `tag` is in the set.
    #[inline]
    pub const fn contains(self, tag: LatencyTag) -> bool {
        self.0 & (1 << tag as u32) != 0
    }

    /// The tags in the set, in index order.
    pub fn iter(self) -> impl Iterator<Item = LatencyTag> {
        LatencyTag::ALL
            .into_iter()
            .filter(move |t| self.contains(*t))
    }

    /// Number of tags in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// One tag's histogram of an interval: the counts the hot thread records into, and the
/// `Histogram` the ops side folds them into before anything reads it.
#[derive(Debug)]
struct TagHistogram {
    hot: HotCounts,
    hist: Histogram<u64>,
}

/// The histograms of one interval `[start_ns, end_ns)` for one thread's [`TagSet`].
///
/// Allocated (and pre-faulted) once, on the thread that records into it; after that it only
/// changes hands: the recorder swaps a full set for an empty one at an interval boundary, and the
/// ops side resets the full one off the hot path and gives it back.
///
/// [`record`](Self::record) only counts ([`HotCounts`]: HdrHistogram's bucket index and counts
/// array, no totals or extremes); the histograms that [`get`](Self::get) and
/// [`non_empty`](Self::non_empty) show hold what was recorded once the ops side has called
/// [`settle`](Self::settle) (the interval queue's `drain` does, before handing a set on), and
/// equal what recording straight into them would have given.
#[derive(Debug)]
pub struct IntervalHistograms {
    hists: [Option<TagHistogram>; LatencyTag::COUNT],
    start_ns: u64,
    end_ns: u64,
    /// Values recorded under a tag outside the set (a wiring mistake; counted, never stored).
    stray: u64,
}

impl IntervalHistograms {
    /// A set with one histogram per tag of `tags`, every page of the counts the hot thread
    /// records into written once now (first touch on the calling thread: no page fault when a
    /// new bucket is first hit).
    pub fn new(tags: TagSet) -> Self {
        let hists = std::array::from_fn(|i| {
            LatencyTag::ALL
                .get(i)
                .filter(|t| tags.contains(**t))
                .map(|_| {
                    // The histogram is only written by the ops side (`settle`): its pages are
                    // faulted in there. The counts the hot thread writes are written here.
                    let hist = new_histogram();
                    let hot = HotCounts::for_histogram(&hist);
                    TagHistogram { hot, hist }
                })
        });
        Self {
            hists,
            start_ns: 0,
            end_ns: 0,
            stray: 0,
        }
    }

    /// Records one latency in nanoseconds (clamped to the histogram's range; zero counts as
    /// one).
    #[inline]
    pub fn record(&mut self, tag: LatencyTag, ns: u64) {
        match self.hists.get_mut(tag.index()) {
            Some(Some(h)) => h.hot.record(ns.max(1)),
            _ => self.stray += 1,
        }
    }

    /// Folds what was recorded since the last call into the histograms (ops side: every
    /// bucket of the counts array is read).
    pub fn settle(&mut self) {
        for h in self.hists.iter_mut().flatten() {
            h.hot.drain_into(&mut h.hist);
        }
    }

    /// The histogram of `tag` (`None` when the set does not hold that tag), as of the last
    /// [`settle`](Self::settle).
    pub fn get(&self, tag: LatencyTag) -> Option<&Histogram<u64>> {
        self.hists
            .get(tag.index())
            .and_then(Option::as_ref)
            .map(|h| &h.hist)
    }

    /// Every non-empty histogram with its tag, in tag order, as of the last
    /// [`settle`](Self::settle).
    pub fn non_empty(&self) -> impl Iterator<Item = (LatencyTag, &Histogram<u64>)> {
        LatencyTag::ALL
            .into_iter()
            .zip(self.hists.iter())
            .filter_map(|(t, h)| {
                h.as_ref()
                    .map(|h| &h.hist)
                    .filter(|h| !h.is_empty())
                    .map(|h| (t, h))
            })
    }

    /// The tags this set holds.
    pub fn tags(&self) -> TagSet {
        let mut set = TagSet::EMPTY;
        for (t, h) in LatencyTag::ALL.into_iter().zip(self.hists.iter()) {
            if h.is_some() {
                set = set.union(TagSet::of(&[t]));
            }
        }
        set
    }

    /// Interval start (pipeline clock ns).
    pub fn start_ns(&self) -> u64 {
        self.start_ns
    }

    /// Interval end (pipeline clock ns).
    pub fn end_ns(&self) -> u64 {
        self.end_ns
    }

    /// Values recorded under a tag the set does not hold.
    pub fn stray(&self) -> u64 {
        self.stray
    }

    /// Whether nothing was recorded (settled or not).
    pub fn is_empty(&self) -> bool {
        self.non_empty().next().is_none()
            && self.stray == 0
            && self.hists.iter().flatten().all(|h| h.hot.is_empty())
    }

    pub(crate) fn set_span(&mut self, start_ns: u64, end_ns: u64) {
        self.start_ns = start_ns;
        self.end_ns = end_ns;
    }

    /// Empties every histogram (the ops side does this before giving a set back).
    pub(crate) fn clear(&mut self) {
        for h in self.hists.iter_mut().flatten() {
            h.hist.reset();
            h.hot.clear();
        }
        self.stray = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_sets() {
        let s = TagSet::of(&[LatencyTag::Feed, LatencyTag::Strategy]);
        assert!(s.contains(LatencyTag::Feed) && s.contains(LatencyTag::Strategy));
        assert!(!s.contains(LatencyTag::Hop));
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![LatencyTag::Feed, LatencyTag::Strategy]
        );
        assert_eq!(TagSet::ALL.len(), LatencyTag::COUNT);
        assert!(TagSet::EMPTY.is_empty());
        assert_eq!(s.union(TagSet::of(&[LatencyTag::Hop])).len(), 3);
    }

    #[test]
    fn records_only_into_its_tags() {
        let mut set = IntervalHistograms::new(TagSet::of(&[LatencyTag::Hop]));
        assert!(set.is_empty());
        set.record(LatencyTag::Hop, 10);
        set.record(LatencyTag::Hop, 0);
        set.record(LatencyTag::Feed, 10);
        assert!(!set.is_empty());
        assert_eq!(set.get(LatencyTag::Hop).map(Histogram::len), Some(0));
        set.settle();
        assert_eq!(set.get(LatencyTag::Hop).map(Histogram::len), Some(2));
        assert!(set.get(LatencyTag::Feed).is_none());
        assert_eq!(set.stray(), 1);
        assert_eq!(set.non_empty().count(), 1);
        assert_eq!(set.tags(), TagSet::of(&[LatencyTag::Hop]));
        set.clear();
        assert!(set.is_empty());
    }
}
