//! The hot thread's side of a latency histogram: HdrHistogram's counts array and bucket
//! index, nothing else.
//!
//! `Histogram::saturating_record` is a generic out-of-line call that, per value, finds the
//! bucket, adds to the count, adds to the total and tracks the minimum and maximum: about 65
//! instructions. A hot thread needs only the count: [`HotCounts::record`] computes the same
//! index as the crate (the same arithmetic, for the project's fixed range and precision) and
//! adds one to the same counts array, inlined (about a dozen instructions). The ops side folds
//! the counts into a real `Histogram` ([`HotCounts::drain_into`]) before anything reads it:
//! every count lands in the bucket it would have landed in, so the interval's histogram (its
//! counts, total, minimum and maximum as the crate reports them, its `.hlog` encoding) is the
//! one direct recording gives (`tests`: proptest against `saturating_record`).

use hdrhistogram::Histogram;

use super::{MAX_LATENCY_NS, SIGFIG};

/// log2 of the sub-bucket count for [`SIGFIG`] = 3: the smallest power of two holding
/// `2 * 10^3` (2,048), as `Histogram::new_with_bounds` computes it.
const SUB_BUCKET_COUNT_MAGNITUDE: u32 = 11;
/// Half a bucket's sub-buckets (1,024) as a power of two.
const SUB_BUCKET_HALF_COUNT_MAGNITUDE: u32 = SUB_BUCKET_COUNT_MAGNITUDE - 1;
const SUB_BUCKET_HALF_COUNT: u64 = 1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE;
/// Values below this fit bucket 0 (lowest discernible value 1: unit magnitude 0).
const SUB_BUCKET_MASK: u64 = (1 << SUB_BUCKET_COUNT_MAGNITUDE) - 1;
/// 64 less the unit magnitude (0) less the sub-bucket count magnitude.
const LEADING_ZERO_COUNT_BASE: u32 = 64 - SUB_BUCKET_COUNT_MAGNITUDE;

// The constants above hold for the project's histograms only.
const _: () = assert!(
    SIGFIG == 3,
    "the sub-bucket constants are derived for SIGFIG = 3"
);

/// HdrHistogram's count index of `value` (lowest discernible value 1, [`SIGFIG`] digits):
/// `Histogram::index_for`, the same arithmetic.
#[inline(always)]
const fn index_for(value: u64) -> usize {
    let bucket = LEADING_ZERO_COUNT_BASE - (value | SUB_BUCKET_MASK).leading_zeros();
    let sub_bucket = value >> bucket;
    // `(bucket + 1) * half + sub_bucket - half`: never negative (bucket 0's sub-buckets start
    // at 0, the others' at `half`).
    (((bucket as u64) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + sub_bucket) as usize
}

/// The lowest value counted at `index` (`Histogram`'s `value_for`).
const fn value_for(index: usize) -> u64 {
    let index = index as u64;
    let bucket = index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE;
    let offset = index & (SUB_BUCKET_HALF_COUNT - 1);
    if bucket == 0 {
        offset
    } else {
        (offset + SUB_BUCKET_HALF_COUNT) << (bucket - 1)
    }
}

/// One latency tag's counts on its hot thread: the counts array of a [`super::new_histogram`],
/// indexed as the crate indexes it.
#[derive(Clone, Debug)]
pub struct HotCounts {
    counts: Box<[u64]>,
    /// Where a value beyond the array goes: the index of the highest trackable value (the
    /// crate's clamp in `saturating_record`).
    clamp: usize,
}

impl HotCounts {
    /// Counts for `hist`'s range (a [`super::new_histogram`]), every page written now (first
    /// touch on the calling thread, which should be the recording thread).
    pub fn for_histogram(hist: &Histogram<u64>) -> Self {
        debug_assert!(
            hist.low() == 1 && hist.sigfig() == SIGFIG && hist.high() >= MAX_LATENCY_NS,
            "hot counts support the project's histograms only"
        );
        let len = hist.distinct_values();
        let mut counts = vec![0u64; len].into_boxed_slice();
        // A fresh zeroed allocation may be untouched pages: write every count (once the
        // compiler can no longer assume the contents are zero, so the writes stay) so the pages
        // are faulted in here, not on the first record.
        std::hint::black_box(&mut counts);
        counts.fill(0);
        let clamp = index_for(hist.high()).min(len.saturating_sub(1));
        Self { counts, clamp }
    }

    /// Counts one value (clamped to the histogram's range as `saturating_record` clamps).
    #[inline(always)]
    pub fn record(&mut self, value: u64) {
        let i = index_for(value);
        let i = if i < self.counts.len() { i } else { self.clamp };
        if let Some(c) = self.counts.get_mut(i) {
            *c = c.saturating_add(1);
        }
    }

    /// Whether nothing is counted.
    pub fn is_empty(&self) -> bool {
        self.counts.iter().all(|&c| c == 0)
    }

    /// Adds every count to `hist` (a histogram of the same range) and zeroes them (ops side).
    pub fn drain_into(&mut self, hist: &mut Histogram<u64>) {
        for (i, c) in self.counts.iter_mut().enumerate() {
            if *c != 0 {
                hist.saturating_record_n(value_for(i), *c);
                *c = 0;
            }
        }
    }

    /// Zeroes every count.
    pub fn clear(&mut self) {
        self.counts.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::new_histogram;
    use hdrhistogram::serialization::Serializer;
    use proptest::prelude::*;

    /// The histogram's public face: what `.hlog`, `.hgrm` and the summary read (serialized
    /// bytes; count, max, min, p99; every recorded value with its count).
    type Face = (Vec<u8>, [u64; 4], Vec<(u64, u64)>);

    fn face(h: &Histogram<u64>) -> Face {
        let mut bytes = Vec::new();
        hdrhistogram::serialization::V2Serializer::new()
            .serialize(h, &mut bytes)
            .unwrap();
        let recorded = h
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect();
        (
            bytes,
            [h.len(), h.max(), h.min_nz(), h.value_at_quantile(0.99)],
            recorded,
        )
    }

    fn value() -> impl Strategy<Value = u64> {
        prop_oneof![
            0u64..4_096,
            0u64..10_000_000,
            0u64..=u64::MAX,
            (0u32..64).prop_map(|k| 1u64 << k),
            (1u32..64).prop_map(|k| (1u64 << k) - 1),
            (MAX_LATENCY_NS - 5_000_000..MAX_LATENCY_NS * 3),
        ]
    }

    proptest! {
        /// Counting on the hot side then draining gives the histogram direct recording gives
        /// (counts, total, min, max, quantiles, the serialized bytes), values beyond the range
        /// (clamped) and below it (zero) included; draining leaves the counts empty.
        #[test]
        fn hot_counts_drained_equal_direct_recording(
            values in proptest::collection::vec(value(), 0..300),
        ) {
            let mut direct = new_histogram();
            let mut hot = HotCounts::for_histogram(&direct);
            for &v in &values {
                direct.saturating_record(v);
                hot.record(v);
            }
            prop_assert_eq!(hot.is_empty(), values.is_empty());
            let mut drained = new_histogram();
            hot.drain_into(&mut drained);
            prop_assert!(hot.is_empty());
            prop_assert_eq!(face(&drained), face(&direct));
            prop_assert_eq!(drained.mean().to_bits(), direct.mean().to_bits());
            prop_assert_eq!(drained.stdev().to_bits(), direct.stdev().to_bits());
        }
    }

    /// Every index the array has maps back to itself (the bucket boundaries included).
    #[test]
    fn index_and_value_round_trip() {
        let h = new_histogram();
        for i in 0..h.distinct_values() {
            assert_eq!(index_for(value_for(i)), i, "index {i}");
            assert_eq!(h.lowest_equivalent(value_for(i)), value_for(i), "index {i}");
        }
        assert_eq!(index_for(0), 0);
        assert_eq!(index_for(2047), 2047);
        assert_eq!(index_for(2048), 2048);
        assert_eq!(index_for(4095), 3071);
    }
}
