//! The hand-off of finished intervals from a hot thread to the ops thread: HdrHistogram's
//! recorder pattern. A fixed pool of [`IntervalHistograms`] circulates between two lock-free
//! queues: the hot thread swaps its full set for an empty one (a pointer move, no copy, no
//! reset, no allocation), the ops thread reads the full one, resets it and returns it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_queue::ArrayQueue;

use super::{IntervalHistograms, TagSet};

/// The queues one recorder and the ops side share.
#[derive(Debug)]
struct Shared {
    /// Finished intervals, oldest first (hot -> ops).
    full: ArrayQueue<Box<IntervalHistograms>>,
    /// Emptied sets ready for reuse (ops -> hot).
    spare: ArrayQueue<Box<IntervalHistograms>>,
    /// The hot side is gone: nothing more will arrive.
    closed: AtomicBool,
}

/// The hot thread's end. Dropping it tells the ops side that nothing more will arrive.
#[derive(Debug)]
pub struct IntervalSender {
    shared: Arc<Shared>,
}

/// The ops thread's end.
#[derive(Debug)]
pub struct IntervalReceiver {
    shared: Arc<Shared>,
}

/// What an [`IntervalReceiver::drain`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntervalDrain {
    /// Took this many intervals (maybe zero); the sender is still alive.
    Open(usize),
    /// The sender is gone and every interval it sent has been taken.
    Closed,
}

/// A pool of `sets` interval sets (at least two) for the tags of `tags`, allocated and
/// pre-faulted on the calling thread. Returns the set to record into first and both ends.
pub(crate) fn interval_exchange(
    tags: TagSet,
    sets: usize,
) -> (Box<IntervalHistograms>, IntervalSender, IntervalReceiver) {
    let sets = sets.max(2);
    let shared = Arc::new(Shared {
        full: ArrayQueue::new(sets),
        spare: ArrayQueue::new(sets),
        closed: AtomicBool::new(false),
    });
    for _ in 1..sets {
        // `sets - 1` pushes into a queue of capacity `sets`: always room.
        let _ = shared.spare.push(Box::new(IntervalHistograms::new(tags)));
    }
    let first = Box::new(IntervalHistograms::new(tags));
    (
        first,
        IntervalSender {
            shared: Arc::clone(&shared),
        },
        IntervalReceiver { shared },
    )
}

impl IntervalSender {
    /// Swaps `active` (the finished interval) for an empty set, sending the finished one to the
    /// ops side. Returns `false`, changing nothing, when no empty set is back yet.
    #[inline]
    pub(crate) fn swap(&self, active: &mut Box<IntervalHistograms>) -> bool {
        let Some(mut spare) = self.shared.spare.pop() else {
            return false;
        };
        std::mem::swap(active, &mut spare);
        // At most `sets` boxes exist and `full` holds `sets`: the push always finds room.
        let pushed = self.shared.full.push(spare);
        debug_assert!(pushed.is_ok(), "interval queue overflow");
        true
    }
}

impl Drop for IntervalSender {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
    }
}

impl IntervalReceiver {
    /// Passes every finished interval available now to `f`, oldest first (settled: its
    /// histograms hold what the hot thread recorded), then resets it and gives it back to the
    /// hot thread.
    pub fn drain(&mut self, mut f: impl FnMut(&IntervalHistograms)) -> IntervalDrain {
        // Read `closed` before draining: an interval pushed before the sender closed is then
        // always seen by this drain.
        let closed = self.shared.closed.load(Ordering::Acquire);
        let mut n = 0;
        while let Some(mut set) = self.shared.full.pop() {
            // The hot side only counted: fold the counts into the histograms here.
            set.settle();
            f(&set);
            set.clear();
            let _ = self.shared.spare.push(set);
            n += 1;
        }
        if closed && n == 0 {
            IntervalDrain::Closed
        } else {
            IntervalDrain::Open(n)
        }
    }
}
