//! Interval snapshots, and the ring that carries them from a hot thread to the ops thread.

use disruptor::{
    BusySpin, EventPoller, MultiConsumerBarrier, Polling, Producer, SingleProducer,
    SingleProducerBarrier,
};
use hdrhistogram::Histogram;

use super::{LatencyTag, new_histogram};

/// One tag's histogram for one interval `[start_ns, end_ns)`. Ring slots preallocate the
/// histogram; a hand-off copies counts into it (same bounds: no allocation).
#[derive(Debug)]
pub struct Snapshot {
    /// Which latency.
    pub tag: LatencyTag,
    /// Interval start (pipeline clock ns).
    pub start_ns: u64,
    /// Interval end (pipeline clock ns).
    pub end_ns: u64,
    /// The interval's counts.
    pub hist: Histogram<u64>,
}

impl Snapshot {
    fn empty() -> Self {
        Self {
            tag: LatencyTag::Feed,
            start_ns: 0,
            end_ns: 0,
            hist: new_histogram(),
        }
    }
}

/// Where a [`super::LatencyRecorder`] hands its interval histograms.
pub trait SnapshotSink {
    /// Takes the non-empty histograms of `hists` (indexed by [`LatencyTag::index`]) for the
    /// interval `[start_ns, end_ns)`. Returns `false`, taking nothing, when there is no room.
    fn offer(
        &mut self,
        hists: &[Histogram<u64>; LatencyTag::COUNT],
        start_ns: u64,
        end_ns: u64,
    ) -> bool;
}

/// The hot thread's end of a snapshot ring. Never blocks: a full ring refuses the offer.
pub struct SnapshotSender {
    producer: SingleProducer<Snapshot, MultiConsumerBarrier>,
}

impl std::fmt::Debug for SnapshotSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotSender").finish_non_exhaustive()
    }
}

/// The ops thread's end of a snapshot ring.
pub struct SnapshotReceiver {
    poller: EventPoller<Snapshot, SingleProducerBarrier>,
}

impl std::fmt::Debug for SnapshotReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotReceiver").finish_non_exhaustive()
    }
}

/// What a [`SnapshotReceiver::drain`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotDrain {
    /// Took this many snapshots (maybe zero); the sender is still alive.
    Open(usize),
    /// The sender is gone and everything it sent has been taken.
    Closed,
}

/// A snapshot ring with `slots` preallocated slots (rounded up to a power of two, at least
/// [`LatencyTag::COUNT`]).
pub fn snapshot_ring(slots: usize) -> (SnapshotSender, SnapshotReceiver) {
    let size = slots.max(LatencyTag::COUNT).next_power_of_two();
    let (poller, builder) = disruptor::build_single_producer(size, Snapshot::empty, BusySpin)
        .with_multi_consumer()
        .new_event_poller();
    let producer = builder.build();
    (SnapshotSender { producer }, SnapshotReceiver { poller })
}

impl SnapshotSink for SnapshotSender {
    fn offer(
        &mut self,
        hists: &[Histogram<u64>; LatencyTag::COUNT],
        start_ns: u64,
        end_ns: u64,
    ) -> bool {
        let n = hists.iter().filter(|h| !h.is_empty()).count();
        if n == 0 {
            return true;
        }
        self.producer
            .try_batch_publish(n, |slots| {
                let filled = LatencyTag::ALL
                    .into_iter()
                    .zip(hists.iter())
                    .filter(|(_, h)| !h.is_empty());
                for (slot, (tag, h)) in slots.zip(filled) {
                    slot.tag = tag;
                    slot.start_ns = start_ns;
                    slot.end_ns = end_ns;
                    slot.hist.reset();
                    // Same bounds on both sides: `add` cannot fail or allocate.
                    let _ = slot.hist.add(h);
                }
            })
            .is_ok()
    }
}

impl SnapshotReceiver {
    /// Passes every snapshot available now to `f`.
    pub fn drain(&mut self, mut f: impl FnMut(&Snapshot)) -> SnapshotDrain {
        match self.poller.poll() {
            Ok(mut guard) => {
                let mut n = 0;
                for snap in &mut guard {
                    f(snap);
                    n += 1;
                }
                SnapshotDrain::Open(n)
            }
            Err(Polling::NoEvents) => SnapshotDrain::Open(0),
            Err(Polling::Shutdown) => SnapshotDrain::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::LatencyRecorder;

    #[test]
    fn snapshots_cross_the_ring_and_a_full_ring_defers() {
        let (mut tx, mut rx) = snapshot_ring(8);
        let mut rec = LatencyRecorder::new(0, 10);
        rec.record(LatencyTag::Hop, 100);
        rec.record(LatencyTag::Hop, 200);
        rec.record(LatencyTag::EndToEnd, 1_000);
        assert!(rec.hand_off(10, &mut tx));
        let mut got = Vec::new();
        assert_eq!(
            rx.drain(|s| got.push((s.tag, s.start_ns, s.end_ns, s.hist.len()))),
            SnapshotDrain::Open(2)
        );
        assert_eq!(
            got,
            vec![
                (LatencyTag::Hop, 0, 10, 2),
                (LatencyTag::EndToEnd, 0, 10, 1)
            ]
        );
        // Fill the ring (8 slots, 2 per hand-off) without draining: the fifth hand-off is refused
        // and its counts stay in the recorder.
        for i in 0..4 {
            rec.record(LatencyTag::Feed, 5);
            rec.record(LatencyTag::Consumer, 5);
            assert!(rec.hand_off(20 + i, &mut tx));
        }
        rec.record(LatencyTag::Feed, 7);
        rec.record(LatencyTag::Consumer, 7);
        assert!(!rec.hand_off(30, &mut tx));
        assert_eq!(rec.deferred(), 1);
        assert_eq!(rec.histogram(LatencyTag::Feed).map(|h| h.len()), Some(1));
        drop(tx);
        let mut total = 0;
        while let SnapshotDrain::Open(_) = rx.drain(|s| total += s.hist.len()) {}
        assert_eq!(total, 8);
    }
}
