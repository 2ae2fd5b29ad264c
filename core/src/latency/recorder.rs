//! The per-thread recorder: records into a preallocated interval set without locks or
//! allocation, and at each interval boundary swaps the full set for an empty one.

use std::sync::atomic::{AtomicBool, Ordering};

use super::exchange::{IntervalReceiver, IntervalSender, interval_exchange};
use super::{IntervalHistograms, LatencyTag, TagSet};

/// Interval sets per recorder when a caller does not say (one recording, the rest in flight to
/// or back from the ops side).
pub const DEFAULT_INTERVAL_SETS: usize = 4;

/// One thread's latency histograms for the current interval.
///
/// Owned by exactly one thread; [`record`](Self::record) is a plain array write. At each
/// interval boundary [`hand_off`](Self::hand_off) swaps the current set for an empty one from
/// the pool (a pointer move: no copy, no reset, no allocation on this thread) and the full one
/// goes to the ops side through the [`IntervalReceiver`] made with the recorder. If the ops side
/// has not returned an empty set yet, the interval simply grows until the next attempt, so
/// nothing is lost.
#[derive(Debug)]
pub struct LatencyRecorder {
    active: Box<IntervalHistograms>,
    tx: IntervalSender,
    interval_start_ns: u64,
    interval_ns: u64,
    deferred: u64,
}

impl LatencyRecorder {
    /// A recorder of `tags` whose first interval starts at `start_ns` and whose intervals last
    /// `interval_ns` (0: only the final hand-off), with a pool of `sets` interval sets (at least
    /// two). Allocates and pre-faults every histogram now, on the calling thread, which should
    /// be the thread that records. Returns the ops side's end too.
    pub fn new(
        tags: TagSet,
        start_ns: u64,
        interval_ns: u64,
        sets: usize,
    ) -> (Self, IntervalReceiver) {
        let (active, tx, rx) = interval_exchange(tags, sets);
        let mut rec = Self {
            active,
            tx,
            interval_start_ns: start_ns,
            interval_ns,
            deferred: 0,
        };
        rec.active.set_span(start_ns, start_ns);
        (rec, rx)
    }

    /// Records one latency in nanoseconds (clamped to the histogram's range).
    #[inline]
    pub fn record(&mut self, tag: LatencyTag, ns: u64) {
        self.active.record(tag, ns);
    }

    /// The current interval's set.
    pub fn current(&self) -> &IntervalHistograms {
        &self.active
    }

    /// Whether the current interval has run its length at `now_ns`.
    #[inline]
    pub fn interval_due(&self, now_ns: u64) -> bool {
        self.interval_ns > 0 && now_ns.saturating_sub(self.interval_start_ns) >= self.interval_ns
    }

    /// Ends the current interval `[start, now_ns)`: swaps it for an empty set and sends it to
    /// the ops side. Returns `false` (and keeps accumulating) when no empty set is back yet.
    #[inline]
    pub fn hand_off(&mut self, now_ns: u64) -> bool {
        let swapped = self.try_swap(now_ns);
        if !swapped {
            self.deferred += 1;
        }
        swapped
    }

    #[inline]
    fn try_swap(&mut self, now_ns: u64) -> bool {
        let end = now_ns.max(self.interval_start_ns);
        self.active.set_span(self.interval_start_ns, end);
        if self.tx.swap(&mut self.active) {
            self.interval_start_ns = end;
            self.active.set_span(end, end);
            true
        } else {
            false
        }
    }

    /// Hands off the last interval, waiting for an empty set (the ops side is draining), then
    /// closes the recorder (the ops side sees it closed once it has taken everything). Gives up
    /// if `abort` is raised (the ops side died and will never return a set). Returns the number
    /// of deferred hand-offs of the run.
    pub fn finish(mut self, now_ns: u64, abort: &AtomicBool) -> u64 {
        let mut spins = 0u32;
        while !self.try_swap(now_ns) {
            if abort.load(Ordering::Relaxed) {
                break;
            }
            spins = spins.saturating_add(1);
            if spins < 100 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        self.deferred
    }

    /// Hand-offs that found no empty set (their data went into the next interval).
    pub fn deferred(&self) -> u64 {
        self.deferred
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::IntervalDrain;

    #[test]
    fn hand_off_swaps_sets_and_a_drained_pool_defers() {
        let tags = TagSet::of(&[LatencyTag::Hop, LatencyTag::EndToEnd, LatencyTag::Feed]);
        let (mut rec, mut rx) = LatencyRecorder::new(tags, 0, 10, 3);
        rec.record(LatencyTag::Hop, 100);
        rec.record(LatencyTag::Hop, 200);
        rec.record(LatencyTag::EndToEnd, 1_000);
        assert!(!rec.interval_due(9));
        assert!(rec.interval_due(10));
        assert!(rec.hand_off(10));
        assert!(rec.current().is_empty());
        let mut got = Vec::new();
        let drained = rx.drain(|set| {
            for (tag, h) in set.non_empty() {
                got.push((tag, set.start_ns(), set.end_ns(), h.len()));
            }
        });
        assert_eq!(drained, IntervalDrain::Open(1));
        assert_eq!(
            got,
            vec![
                (LatencyTag::Hop, 0, 10, 2),
                (LatencyTag::EndToEnd, 0, 10, 1)
            ]
        );
        // Pool of three: the active set and two spares. Without draining, two hand-offs
        // succeed and the third is refused; its counts stay in the recorder.
        for i in 0..2 {
            rec.record(LatencyTag::Feed, 5);
            assert!(rec.hand_off(20 + i));
        }
        rec.record(LatencyTag::Feed, 7);
        assert!(!rec.hand_off(30));
        assert_eq!(rec.deferred(), 1);
        // Counted on the hot side, not settled into the histogram (the ops side does that).
        assert!(!rec.current().is_empty());
        assert_eq!(
            rec.current().get(LatencyTag::Feed).map(|h| h.len()),
            Some(0)
        );
        // Draining returns the sets; the next hand-off carries the deferred interval from 21.
        let mut spans = Vec::new();
        assert_eq!(
            rx.drain(|s| spans.push((s.start_ns(), s.end_ns()))),
            IntervalDrain::Open(2)
        );
        assert_eq!(spans, vec![(10, 20), (20, 21)]);
        rec.record(LatencyTag::Feed, 9);
        let abort = AtomicBool::new(false);
        assert_eq!(rec.finish(40, &abort), 1);
        let mut last = Vec::new();
        assert_eq!(
            rx.drain(|s| last.push((
                s.start_ns(),
                s.end_ns(),
                s.get(LatencyTag::Feed).map(|h| h.len())
            ))),
            IntervalDrain::Open(1)
        );
        assert_eq!(last, vec![(21, 40, Some(2))]);
        assert_eq!(rx.drain(|_| {}), IntervalDrain::Closed);
    }

    #[test]
    fn the_hot_side_moves_sets_and_never_resets_them() {
        // Whatever the ops side gives back is what the recorder records into next: a set the
        // ops side did not reset would show its old counts. `drain` resets, so the next
        // interval starts empty.
        let (mut rec, mut rx) = LatencyRecorder::new(TagSet::of(&[LatencyTag::Hop]), 0, 1, 2);
        for round in 0..10u64 {
            rec.record(LatencyTag::Hop, 1 + round);
            assert!(rec.hand_off(round + 1));
            let mut lens = Vec::new();
            rx.drain(|s| lens.push(s.get(LatencyTag::Hop).map(|h| h.len())));
            assert_eq!(lens, vec![Some(1)]);
        }
    }
}
