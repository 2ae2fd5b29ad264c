//! The ring between two stages: a preallocated, power-of-two, single-producer `disruptor`
//! ring buffer with one or more batch-aware consumers.

use disruptor::{
    BusySpin, EventPoller, MultiConsumerBarrier, Polling, Producer, SingleProducer,
    SingleProducerBarrier,
};

use std::sync::atomic::{AtomicBool, Ordering};

use super::{ConfigError, WaitStrategy, Waiter};
use crate::clock::TscClock;

/// The producer's end. [`RingSender::send`] waits on a full ring, never drops, and says how long
/// it waited.
pub struct RingSender<E> {
    producer: SingleProducer<E, MultiConsumerBarrier>,
    waiter: Waiter,
    clock: TscClock,
    published: u64,
    full_waits: u64,
    full_wait_ns: u64,
}

impl<E> std::fmt::Debug for RingSender<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingSender")
            .field("published", &self.published)
            .field("full_waits", &self.full_waits)
            .field("full_wait_ns", &self.full_wait_ns)
            .finish_non_exhaustive()
    }
}

/// One consumer's end. Consumers see every event, in order, in batches.
pub struct RingReceiver<E> {
    poller: EventPoller<E, SingleProducerBarrier>,
    consumed: u64,
}

impl<E> std::fmt::Debug for RingReceiver<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingReceiver")
            .field("consumed", &self.consumed)
            .finish_non_exhaustive()
    }
}

/// What a [`RingReceiver::poll_batch`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// Handled this many events (at least one).
    Batch(usize),
    /// Nothing published yet.
    Empty,
    /// The sender is gone and every event it published has been handled.
    Closed,
}

/// Builds a ring of `size` slots (a power of two) filled by `factory`, with `consumers`
/// independent consumers (each sees every event); the producer waits per `producer_wait`.
pub fn ring<E, F>(
    size: usize,
    factory: F,
    consumers: usize,
    producer_wait: WaitStrategy,
    clock: TscClock,
) -> Result<(RingSender<E>, Vec<RingReceiver<E>>), ConfigError>
where
    E: 'static + Send + Sync,
    F: FnMut() -> E,
{
    if size < 2 || !size.is_power_of_two() {
        return Err(ConfigError::RingSize(size));
    }
    let mut builder =
        disruptor::build_single_producer(size, factory, BusySpin).with_multi_consumer();
    let mut receivers = Vec::with_capacity(consumers);
    for _ in 0..consumers {
        let (poller, next) = builder.new_event_poller();
        receivers.push(RingReceiver {
            poller,
            consumed: 0,
        });
        builder = next;
    }
    let producer = builder.build();
    Ok((
        RingSender {
            producer,
            waiter: producer_wait.waiter(),
            clock,
            published: 0,
            full_waits: 0,
            full_wait_ns: 0,
        },
        receivers,
    ))
}

impl<E: Copy> RingSender<E> {
    /// Publishes `event`, waiting while the ring is full. Returns the nanoseconds spent waiting
    /// (0 when there was room at once).
    #[inline]
    pub fn send(&mut self, event: E) -> u64 {
        let never = AtomicBool::new(false);
        self.send_unless(event, &never).unwrap_or(0)
    }

    /// Publishes `event` if there is room now; `false` (nothing published) when the ring is
    /// full. For a producer that must not wait: one whose consumer runs on the same thread.
    #[inline]
    pub fn try_send(&mut self, event: E) -> bool {
        if self.producer.try_publish(|slot| *slot = event).is_ok() {
            self.published += 1;
            true
        } else {
            false
        }
    }

    /// Like [`send`](Self::send), but gives up (returning `None`, the event unpublished) if
    /// `abort` becomes true while the ring is full: a consumer that died will never make room.
    #[inline]
    pub fn send_unless(&mut self, event: E, abort: &AtomicBool) -> Option<u64> {
        if self.producer.try_publish(|slot| *slot = event).is_ok() {
            self.published += 1;
            return Some(0);
        }
        let start = self.clock.elapsed_ns();
        self.waiter.reset();
        while self.producer.try_publish(|slot| *slot = event).is_err() {
            if abort.load(Ordering::Relaxed) {
                return None;
            }
            self.waiter.idle();
        }
        self.published += 1;
        let waited = self.clock.elapsed_ns().saturating_sub(start).max(1);
        self.full_waits += 1;
        self.full_wait_ns = self.full_wait_ns.saturating_add(waited);
        Some(waited)
    }
}

impl<E: Copy> super::Emit<E> for RingSender<E> {
    /// Publishes, waiting while the ring is full (the wait is counted in
    /// [`RingSender::full_waits`]).
    #[inline]
    fn emit(&mut self, event: E) {
        self.send(event);
    }
}

impl<E> RingSender<E> {
    /// Events published so far.
    pub fn published(&self) -> u64 {
        self.published
    }

    /// Times the producer found the ring full.
    pub fn full_waits(&self) -> u64 {
        self.full_waits
    }

    /// Total nanoseconds the producer waited on a full ring.
    pub fn full_wait_ns(&self) -> u64 {
        self.full_wait_ns
    }
}

impl<E> RingReceiver<E> {
    /// Handles every event available now: `f(event, end_of_batch)`.
    #[inline]
    pub fn poll_batch(&mut self, mut f: impl FnMut(&E, bool)) -> Received {
        match self.poller.poll() {
            Ok(mut guard) => {
                #[allow(clippy::unnecessary_mut_passed)]
                // `len` is only implemented for `&mut EventGuard`.
                let n = ExactSizeIterator::len(&&mut guard);
                for (i, event) in (&mut guard).enumerate() {
                    f(event, i + 1 == n);
                }
                self.consumed += n as u64;
                Received::Batch(n)
            }
            Err(Polling::NoEvents) => Received::Empty,
            Err(Polling::Shutdown) => Received::Closed,
        }
    }

    /// Events handled so far.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_sizes_that_are_not_powers_of_two() {
        let r = ring(100, || 0u64, 1, WaitStrategy::default(), TscClock::new());
        assert!(matches!(r, Err(ConfigError::RingSize(100))));
    }

    #[test]
    fn every_consumer_sees_every_event_in_order() {
        let (mut tx, mut rxs) =
            ring(8, || 0u64, 2, WaitStrategy::default(), TscClock::new()).unwrap();
        for i in 1..=5u64 {
            assert_eq!(tx.send(i), 0);
        }
        drop(tx);
        for rx in &mut rxs {
            let mut seen = Vec::new();
            let mut ends = 0;
            while let Received::Batch(_) = rx.poll_batch(|e, end| {
                seen.push(*e);
                ends += usize::from(end);
            }) {}
            assert_eq!(seen, vec![1, 2, 3, 4, 5]);
            assert_eq!(ends, 1);
            assert_eq!(rx.consumed(), 5);
            assert_eq!(rx.poll_batch(|_, _| {}), Received::Closed);
        }
    }
}
