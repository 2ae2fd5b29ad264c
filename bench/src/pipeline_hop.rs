//! The ring as the pipeline configures it, beside `crossbeam_channel` doing the same job.
//!
//! [`crate::hop`] measures a 64-byte message through a 1,024-slot ring. The threaded pipeline
//! sends a [`BookUpdate`] (the real payload, its size asserted in `core`) through a ring of
//! [`PipelineConfig::ring_size`] slots to the consumer stage, built by the feed thread exactly
//! as here (`kestrel_core::pipeline::ring(ring_size, .., 1 consumer, producer_wait, ..)`), the
//! consumer polling with [`PipelineConfig::consumer_wait`] (defaults: 16,384 slots,
//! spin-then-yield waits). The ops thread is not a consumer of the data ring (it never gates
//! the feed), so it is not modelled. Beside it: the same payload through a
//! `crossbeam_channel::bounded(ring_size)` channel, the waits the same.
//!
//! Latency is a ping-pong as in [`crate::hop`]: the main thread stamps an update and publishes
//! it; the consumer thread sends it back on a return queue of the same kind; one hop is half the
//! round trip. Throughput is the producer streaming updates while the consumer takes them all.

use std::thread;

use kestrel_core::clock::TscClock;
use kestrel_core::cpu::pin_current_thread;
use kestrel_core::latency::{Histogram, new_histogram};
use kestrel_core::pipeline::{PipelineConfig, Received, RingReceiver, RingSender, Waiter, ring};
use kestrel_core::{BookUpdate, InstrumentId, Timestamp};

use crate::hop::Cores;

/// Which queue carries the pipeline's updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipeQueue {
    /// The pipeline's ring (disruptor, one producer, one consumer).
    KestrelRing,
    /// A `crossbeam_channel::bounded` channel.
    Crossbeam,
}

impl PipeQueue {
    /// Both, in report order.
    pub const ALL: [PipeQueue; 2] = [PipeQueue::KestrelRing, PipeQueue::Crossbeam];

    /// Report name.
    pub fn name(self) -> &'static str {
        match self {
            PipeQueue::KestrelRing => "kestrel ring",
            PipeQueue::Crossbeam => "crossbeam",
        }
    }
}

/// A book update numbered `seq`, stamped `sent_ns` (the payload the pipeline carries).
fn update(seq: u64, sent_ns: u64) -> BookUpdate {
    let mut u = BookUpdate {
        instrument: InstrumentId(0),
        seq,
        exch_ts: Timestamp(seq),
        ..BookUpdate::default()
    };
    u.stamps.published = Timestamp(sent_ns);
    u
}

/// The producer end: publishes, waiting while full.
trait Publish: Send {
    fn publish(&mut self, u: BookUpdate);
}

/// One consumer end.
trait Take: Send {
    /// Every update available now to `f`; `None` once closed and drained.
    fn take(&mut self, f: &mut dyn FnMut(&BookUpdate)) -> Option<usize>;
}

impl Publish for RingSender<BookUpdate> {
    #[inline]
    fn publish(&mut self, u: BookUpdate) {
        self.send(u);
    }
}

impl Take for RingReceiver<BookUpdate> {
    #[inline]
    fn take(&mut self, f: &mut dyn FnMut(&BookUpdate)) -> Option<usize> {
        match self.poll_batch(|u, _| f(u)) {
            Received::Batch(n) => Some(n),
            Received::Empty => Some(0),
            Received::Closed => None,
        }
    }
}

impl Take for crossbeam_channel::Receiver<BookUpdate> {
    #[inline]
    fn take(&mut self, f: &mut dyn FnMut(&BookUpdate)) -> Option<usize> {
        let mut n = 0;
        loop {
            match self.try_recv() {
                Ok(u) => {
                    f(&u);
                    n += 1;
                }
                Err(crossbeam_channel::TryRecvError::Empty) => return Some(n),
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    return if n > 0 { Some(n) } else { None };
                }
            }
        }
    }
}

/// One queue (producer -> consumer) as the pipeline configures it.
fn queue(
    q: PipeQueue,
    config: &PipelineConfig,
    clock: &TscClock,
) -> (Box<dyn Publish>, Box<dyn Take>) {
    match q {
        PipeQueue::KestrelRing => {
            let built = ring(
                config.ring_size,
                BookUpdate::default,
                1,
                config.producer_wait,
                clock.clone(),
            );
            let Ok((tx, mut rxs)) = built else {
                unreachable!("a validated ring size")
            };
            let Some(rx) = rxs.pop() else {
                unreachable!("one consumer requested")
            };
            (Box::new(tx), Box::new(rx))
        }
        PipeQueue::Crossbeam => {
            let (tx, rx) = crossbeam_channel::bounded(config.ring_size);
            (
                Box::new(CrossbeamSingle {
                    tx,
                    waiter: config.producer_wait.waiter(),
                }),
                Box::new(rx),
            )
        }
    }
}

struct CrossbeamSingle {
    tx: crossbeam_channel::Sender<BookUpdate>,
    waiter: Waiter,
}

impl Publish for CrossbeamSingle {
    #[inline]
    fn publish(&mut self, u: BookUpdate) {
        self.waiter.reset();
        let mut m = u;
        while let Err(crossbeam_channel::TrySendError::Full(back)) = self.tx.try_send(m) {
            m = back;
            self.waiter.idle();
        }
    }
}

/// One update from `rx`, waiting per `waiter`; `None` when closed.
fn take_one(rx: &mut dyn Take, waiter: &mut Waiter) -> Option<BookUpdate> {
    waiter.reset();
    loop {
        let mut got = None;
        match rx.take(&mut |u| got = Some(*u)) {
            Some(0) => waiter.idle(),
            Some(_) => return got,
            None => return None,
        }
    }
}

/// Round-trip times (ns) of `iters` ping-pongs after `warmup`; one hop is half.
pub fn ping_pong(
    q: PipeQueue,
    iters: u64,
    warmup: u64,
    cores: Cores,
    config: &PipelineConfig,
) -> Histogram<u64> {
    let clock = TscClock::new();
    let (mut tx, mut consumer) = queue(q, config, &clock);
    let (mut back_tx, mut back_rx) = queue(q, config, &clock);
    let mut rtt = new_histogram();
    let consumer_wait = config.consumer_wait;
    thread::scope(|s| {
        s.spawn(move || {
            if let Some(c) = cores.other {
                pin_current_thread(c);
            }
            let mut waiter = consumer_wait.waiter();
            while let Some(u) = take_one(consumer.as_mut(), &mut waiter) {
                back_tx.publish(u);
            }
        });
        if let Some(c) = cores.main {
            pin_current_thread(c);
        }
        let mut waiter = consumer_wait.waiter();
        for i in 0..warmup + iters {
            let t0 = clock.elapsed_ns();
            tx.publish(update(i, t0));
            let Some(u) = take_one(back_rx.as_mut(), &mut waiter) else {
                break;
            };
            let t1 = clock.elapsed_ns();
            if i >= warmup && u.seq == i {
                rtt.saturating_record(t1.saturating_sub(u.stamps.published.nanos()).max(1));
            }
        }
        drop(tx);
    });
    rtt
}

/// Updates per second streaming `n` updates to the consumer (0.0 if it missed one).
pub fn throughput(q: PipeQueue, n: u64, cores: Cores, config: &PipelineConfig) -> f64 {
    let clock = TscClock::new();
    let (mut tx, mut consumer) = queue(q, config, &clock);
    let consumer_wait = config.consumer_wait;
    let start = clock.elapsed_ns();
    let taken = thread::scope(|s| {
        let c = s.spawn(move || {
            if let Some(c) = cores.other {
                pin_current_thread(c);
            }
            let mut waiter = consumer_wait.waiter();
            let (mut count, mut sum) = (0u64, 0u64);
            while let Some(k) = consumer.take(&mut |u| {
                count += 1;
                sum = sum.wrapping_add(u.seq);
            }) {
                if k == 0 {
                    waiter.idle();
                } else {
                    waiter.reset();
                }
            }
            std::hint::black_box(sum);
            count
        });
        if let Some(core) = cores.main {
            pin_current_thread(core);
        }
        for i in 0..n {
            tx.publish(update(i, 0));
        }
        drop(tx);
        c.join().unwrap_or(0)
    });
    let elapsed = clock.elapsed_ns().saturating_sub(start).max(1);
    if taken != n {
        return 0.0;
    }
    n as f64 * 1e9 / elapsed as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_queues_deliver_every_update_in_order() {
        let config = PipelineConfig {
            ring_size: 64,
            ..PipelineConfig::default()
        };
        for q in PipeQueue::ALL {
            // Every ping comes back as itself (a lost or reordered update is not recorded).
            let h = ping_pong(q, 300, 20, Cores::default(), &config);
            assert_eq!(h.len(), 300, "{}", q.name());
            assert!(
                throughput(q, 20_000, Cores::default(), &config) > 0.0,
                "{}",
                q.name()
            );
        }
    }
}
