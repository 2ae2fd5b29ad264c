//! The ring as the pipeline configures it, beside `crossbeam_channel` doing the same job.
//!
//! [`crate::hop`] measures a 64-byte message with one consumer. The threaded pipeline sends a
//! [`BookUpdate`] (the real payload, its size asserted in `core`) through a ring of
//! [`PipelineConfig::ring_size`] slots to **two** consumers: the consumer stage and the ops
//! thread, which counts the events and sleeps between polls ([`PipelineConfig::ops_wait`]). So
//! here:
//!
//! - Kestrel: `kestrel_core::pipeline::ring(ring_size, .., 2 consumers, producer_wait, ..)`,
//!   the consumer side polling with `consumer_wait`, the ops side with `ops_wait`, exactly the
//!   threaded pipeline's configuration (defaults: 16,384 slots, spin-then-yield waits, ops
//!   sleeping 200 us);
//! - crossbeam: the same payload through two `bounded(ring_size)` channels, one per consumer
//!   (a channel hands each message to one receiver, so the producer sends every update to both),
//!   the waits the same.
//!
//! Latency is a ping-pong as in [`crate::hop`]: the main thread stamps an update and publishes
//! it; the consumer thread sends it back on a return queue of the same kind (one consumer); one
//! hop is half the round trip. Throughput is the producer streaming updates while both
//! consumers take them all (a slow ops consumer makes the producer wait, as in the pipeline).

use std::thread;
use std::time::Duration;

use kestrel_core::clock::TscClock;
use kestrel_core::cpu::pin_current_thread;
use kestrel_core::latency::{Histogram, new_histogram};
use kestrel_core::pipeline::{
    PipelineConfig, Received, RingReceiver, RingSender, WaitStrategy, Waiter, ring,
};
use kestrel_core::{BookUpdate, InstrumentId, Timestamp};

use crate::hop::Cores;

/// Which queue carries the pipeline's updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipeQueue {
    /// The pipeline's ring (disruptor, one producer, two consumers).
    KestrelRing,
    /// Two `crossbeam_channel::bounded` channels, one per consumer.
    Crossbeam,
}

impl PipeQueue {
    /// Both, in report order.
    pub const ALL: [PipeQueue; 2] = [PipeQueue::KestrelRing, PipeQueue::Crossbeam];

    /// Report name.
    pub fn name(self) -> &'static str {
        match self {
            PipeQueue::KestrelRing => "kestrel ring",
            PipeQueue::Crossbeam => "crossbeam x2",
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

/// The producer end: publishes to every consumer, waiting while full.
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

/// The producer's two channels (consumer, ops) and its wait between full-channel retries.
struct CrossbeamFanOut {
    to: [crossbeam_channel::Sender<BookUpdate>; 2],
    waiter: Waiter,
}

impl Publish for CrossbeamFanOut {
    #[inline]
    fn publish(&mut self, u: BookUpdate) {
        for tx in &self.to {
            self.waiter.reset();
            let mut m = u;
            loop {
                match tx.try_send(m) {
                    Ok(()) => break,
                    Err(crossbeam_channel::TrySendError::Full(back)) => {
                        m = back;
                        self.waiter.idle();
                    }
                    Err(crossbeam_channel::TrySendError::Disconnected(_)) => break,
                }
            }
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

/// Forward queue (producer -> consumer and ops) as configured.
fn forward(
    q: PipeQueue,
    config: &PipelineConfig,
    clock: &TscClock,
) -> (Box<dyn Publish>, Box<dyn Take>, Box<dyn Take>) {
    match q {
        PipeQueue::KestrelRing => {
            let built = ring(
                config.ring_size,
                BookUpdate::default,
                2,
                config.producer_wait,
                clock.clone(),
            );
            let Ok((tx, mut rxs)) = built else {
                unreachable!("a validated ring size")
            };
            let (Some(ops), Some(consumer)) = (rxs.pop(), rxs.pop()) else {
                unreachable!("two consumers requested")
            };
            (Box::new(tx), Box::new(consumer), Box::new(ops))
        }
        PipeQueue::Crossbeam => {
            let (a_tx, a_rx) = crossbeam_channel::bounded(config.ring_size);
            let (b_tx, b_rx) = crossbeam_channel::bounded(config.ring_size);
            (
                Box::new(CrossbeamFanOut {
                    to: [a_tx, b_tx],
                    waiter: config.producer_wait.waiter(),
                }),
                Box::new(a_rx),
                Box::new(b_rx),
            )
        }
    }
}

/// Return queue (consumer -> producer), one consumer.
fn back(
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

/// The ops thread's loop: take everything, wait per `ops_wait` when idle; returns the count.
fn ops_loop(mut rx: Box<dyn Take>, wait: WaitStrategy) -> u64 {
    let mut waiter = wait.waiter();
    let mut seen = 0u64;
    while let Some(n) = rx.take(&mut |_| {}) {
        seen += n as u64;
        if n == 0 {
            waiter.idle();
        } else {
            waiter.reset();
        }
    }
    seen
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

/// Round-trip times (ns) of `iters` ping-pongs after `warmup`; one hop is half. Also returns
/// how many updates the ops consumer saw (every one sent).
pub fn ping_pong(
    q: PipeQueue,
    iters: u64,
    warmup: u64,
    cores: Cores,
    config: &PipelineConfig,
) -> (Histogram<u64>, u64) {
    let clock = TscClock::new();
    let (mut tx, mut consumer, ops) = forward(q, config, &clock);
    let (mut back_tx, mut back_rx) = back(q, config, &clock);
    let mut rtt = new_histogram();
    let ops_wait = config.ops_wait;
    let consumer_wait = config.consumer_wait;
    let ops_seen = thread::scope(|s| {
        let ops = s.spawn(move || ops_loop(ops, ops_wait));
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
        ops.join().unwrap_or(0)
    });
    (rtt, ops_seen)
}

/// Updates per second streaming `n` updates to both consumers (0.0 if either missed one).
pub fn throughput(q: PipeQueue, n: u64, cores: Cores, config: &PipelineConfig) -> f64 {
    let clock = TscClock::new();
    let (mut tx, mut consumer, ops) = forward(q, config, &clock);
    let ops_wait = config.ops_wait;
    let consumer_wait = config.consumer_wait;
    let start = clock.elapsed_ns();
    let (taken, seen) = thread::scope(|s| {
        let ops = s.spawn(move || ops_loop(ops, ops_wait));
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
        (c.join().unwrap_or(0), ops.join().unwrap_or(0))
    });
    let elapsed = clock.elapsed_ns().saturating_sub(start).max(1);
    if taken != n || seen != n {
        return 0.0;
    }
    n as f64 * 1e9 / elapsed as f64
}

/// The pipeline's default configuration with the ops thread waking every `ops_sleep`.
pub fn pipeline_config(ops_sleep: Duration) -> PipelineConfig {
    PipelineConfig {
        ops_wait: WaitStrategy::Sleep {
            micros: u64::try_from(ops_sleep.as_micros()).unwrap_or(u64::MAX),
        },
        ..PipelineConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_queues_deliver_every_update_to_both_consumers() {
        let config = PipelineConfig {
            ring_size: 64,
            ..pipeline_config(Duration::from_micros(50))
        };
        for q in PipeQueue::ALL {
            let (h, seen) = ping_pong(q, 300, 20, Cores::default(), &config);
            assert_eq!(h.len(), 300, "{}", q.name());
            assert_eq!(
                seen,
                320,
                "{}: the ops consumer sees every update",
                q.name()
            );
            assert!(
                throughput(q, 20_000, Cores::default(), &config) > 0.0,
                "{}",
                q.name()
            );
        }
    }
}
