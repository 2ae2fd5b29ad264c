//! Ring hop latency and throughput: our pipeline ring (disruptor) against `crossbeam_channel`
//! and `std::sync::mpsc`, measured the same way in the same run.
//!
//! Latency is a ping-pong: the main thread stamps a message, sends it, and an echo thread sends
//! it straight back on a second channel of the same kind; the round trip is two hops, so one
//! hop is reported as half of it. Every side busy-polls (no parking), so the comparison is of
//! the queues themselves. Throughput is one producer streaming to one consumer that counts.

use std::sync::mpsc;
use std::thread;

use kestrel_core::clock::TscClock;
use kestrel_core::cpu::pin_current_thread;
use kestrel_core::latency::{Histogram, new_histogram};
use kestrel_core::pipeline::{Received, RingReceiver, RingSender, WaitStrategy, ring};

/// The message every queue carries: a cache line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(64))]
pub struct Msg {
    /// Message number.
    pub seq: u64,
    /// Send time (TSC ns).
    pub sent_ns: u64,
    /// Payload filler to a full cache line.
    pub pad: [u64; 6],
}

/// Which queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queue {
    /// `kestrel_core::pipeline` ring (disruptor, single producer).
    KestrelRing,
    /// `crossbeam_channel::bounded`.
    Crossbeam,
    /// `std::sync::mpsc::sync_channel`.
    StdMpsc,
}

impl Queue {
    /// All three, in report order.
    pub const ALL: [Queue; 3] = [Queue::KestrelRing, Queue::Crossbeam, Queue::StdMpsc];

    /// Report name.
    pub fn name(self) -> &'static str {
        match self {
            Queue::KestrelRing => "kestrel ring",
            Queue::Crossbeam => "crossbeam",
            Queue::StdMpsc => "std mpsc",
        }
    }
}

/// Cores for the two threads (`None`: unpinned).
#[derive(Clone, Copy, Debug, Default)]
pub struct Cores {
    /// Main (sending, timing) thread.
    pub main: Option<usize>,
    /// Echo / consumer thread.
    pub other: Option<usize>,
}

/// The sending half of a queue under test.
pub trait Tx: Send {
    /// Sends, busy-waiting while the queue is full.
    fn put(&mut self, m: Msg);
}

/// What a [`Rx::poll`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// Handled this many messages (at least one).
    Got(usize),
    /// Nothing yet.
    Empty,
    /// The sender is gone and everything was taken.
    Closed,
}

/// The receiving half of a queue under test.
pub trait Rx: Send {
    /// Hands every message available now to `f` (the ring delivers a batch; channels are
    /// drained until empty).
    fn poll(&mut self, f: impl FnMut(&Msg)) -> Poll;
}

impl Tx for RingSender<Msg> {
    #[inline]
    fn put(&mut self, m: Msg) {
        self.send(m);
    }
}

impl Rx for RingReceiver<Msg> {
    #[inline]
    fn poll(&mut self, mut f: impl FnMut(&Msg)) -> Poll {
        match self.poll_batch(|m, _| f(m)) {
            Received::Batch(n) => Poll::Got(n),
            Received::Empty => Poll::Empty,
            Received::Closed => Poll::Closed,
        }
    }
}

macro_rules! channel_impls {
    ($tx:ty, $rx:ty, $full:path, $tx_gone:path, $empty:path, $rx_gone:path) => {
        impl Tx for $tx {
            #[inline]
            fn put(&mut self, m: Msg) {
                let mut m = m;
                loop {
                    match self.try_send(m) {
                        Ok(()) => return,
                        Err($full(back)) => {
                            m = back;
                            std::hint::spin_loop();
                        }
                        Err($tx_gone(_)) => return,
                    }
                }
            }
        }

        impl Rx for $rx {
            #[inline]
            fn poll(&mut self, mut f: impl FnMut(&Msg)) -> Poll {
                let mut n = 0;
                loop {
                    match self.try_recv() {
                        Ok(m) => {
                            f(&m);
                            n += 1;
                        }
                        Err($empty) if n > 0 => return Poll::Got(n),
                        Err($empty) => return Poll::Empty,
                        Err($rx_gone) if n > 0 => return Poll::Got(n),
                        Err($rx_gone) => return Poll::Closed,
                    }
                }
            }
        }
    };
}

channel_impls!(
    crossbeam_channel::Sender<Msg>,
    crossbeam_channel::Receiver<Msg>,
    crossbeam_channel::TrySendError::Full,
    crossbeam_channel::TrySendError::Disconnected,
    crossbeam_channel::TryRecvError::Empty,
    crossbeam_channel::TryRecvError::Disconnected
);
channel_impls!(
    mpsc::SyncSender<Msg>,
    mpsc::Receiver<Msg>,
    mpsc::TrySendError::Full,
    mpsc::TrySendError::Disconnected,
    mpsc::TryRecvError::Empty,
    mpsc::TryRecvError::Disconnected
);

/// Busy-polls until one message arrives; `None` when the sender is gone.
#[inline]
fn take_one<R: Rx>(rx: &mut R) -> Option<Msg> {
    let mut got = None;
    loop {
        match rx.poll(|m| got = Some(*m)) {
            Poll::Got(_) => return got,
            Poll::Empty => std::hint::spin_loop(),
            Poll::Closed => return None,
        }
    }
}

fn kestrel_ring(capacity: usize, clock: &TscClock) -> (RingSender<Msg>, RingReceiver<Msg>) {
    let size = capacity.next_power_of_two().max(2);
    let built = ring(size, Msg::default, 1, WaitStrategy::BusySpin, clock.clone());
    match built {
        Ok((tx, mut rxs)) => match rxs.pop() {
            Some(rx) => (tx, rx),
            None => unreachable!("one consumer requested"),
        },
        Err(e) => unreachable!("power-of-two size {size}: {e}"),
    }
}

/// Runs `$body` with `$make` bound to a constructor of the queue `$q` (capacity -> (tx, rx)).
macro_rules! with_queue {
    ($q:expr, $clock:expr, |$make:ident| $body:expr) => {
        match $q {
            Queue::KestrelRing => {
                let $make = |cap: usize| kestrel_ring(cap, $clock);
                $body
            }
            Queue::Crossbeam => {
                let $make = |cap: usize| crossbeam_channel::bounded::<Msg>(cap);
                $body
            }
            Queue::StdMpsc => {
                let $make = |cap: usize| mpsc::sync_channel::<Msg>(cap);
                $body
            }
        }
    };
}

fn ping_pong_with<T: Tx, R: Rx>(
    (mut ping_tx, mut ping_rx): (T, R),
    (mut pong_tx, mut pong_rx): (T, R),
    iters: u64,
    warmup: u64,
    cores: Cores,
    clock: &TscClock,
) -> Histogram<u64> {
    let mut rtt = new_histogram();
    thread::scope(|s| {
        s.spawn(move || {
            if let Some(c) = cores.other {
                pin_current_thread(c);
            }
            while let Some(m) = take_one(&mut ping_rx) {
                pong_tx.put(m);
            }
        });
        if let Some(c) = cores.main {
            pin_current_thread(c);
        }
        for i in 0..warmup + iters {
            let t0 = clock.elapsed_ns();
            ping_tx.put(Msg {
                seq: i,
                sent_ns: t0,
                pad: [0; 6],
            });
            let Some(back) = take_one(&mut pong_rx) else {
                break;
            };
            let t1 = clock.elapsed_ns();
            if i >= warmup && back.seq == i {
                rtt.saturating_record(t1.saturating_sub(back.sent_ns).max(1));
            }
        }
        drop(ping_tx);
    });
    rtt
}

/// Round-trip times (ns) of `iters` ping-pongs after `warmup` unrecorded ones; one hop is half.
pub fn ping_pong(q: Queue, iters: u64, warmup: u64, cores: Cores) -> Histogram<u64> {
    let clock = TscClock::new();
    with_queue!(q, &clock, |make| ping_pong_with(
        make(1024),
        make(1024),
        iters,
        warmup,
        cores,
        &clock
    ))
}

fn throughput_with<T: Tx, R: Rx>(
    (mut tx, mut rx): (T, R),
    n: u64,
    cores: Cores,
    clock: &TscClock,
) -> f64 {
    let start = clock.elapsed_ns();
    let (count, _sum) = thread::scope(|s| {
        let consumer = s.spawn(move || {
            if let Some(c) = cores.other {
                pin_current_thread(c);
            }
            let (mut count, mut sum) = (0u64, 0u64);
            loop {
                match rx.poll(|m| {
                    count += 1;
                    sum = sum.wrapping_add(m.seq);
                }) {
                    Poll::Got(_) => {}
                    Poll::Empty => std::hint::spin_loop(),
                    Poll::Closed => break,
                }
            }
            (count, sum)
        });
        if let Some(c) = cores.main {
            pin_current_thread(c);
        }
        for i in 0..n {
            tx.put(Msg {
                seq: i,
                sent_ns: 0,
                pad: [0; 6],
            });
        }
        drop(tx);
        consumer.join().unwrap_or((0, 0))
    });
    let elapsed = clock.elapsed_ns().saturating_sub(start).max(1);
    if count != n {
        return 0.0;
    }
    n as f64 * 1e9 / elapsed as f64
}

/// Messages per second streaming `n` messages through a queue of `capacity` (0.0 if any
/// message went missing).
pub fn throughput(q: Queue, n: u64, capacity: usize, cores: Cores) -> f64 {
    let clock = TscClock::new();
    with_queue!(q, &clock, |make| throughput_with(
        make(capacity),
        n,
        cores,
        &clock
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_queue_round_trips_and_streams_everything() {
        for q in Queue::ALL {
            let h = ping_pong(q, 200, 10, Cores::default());
            assert_eq!(h.len(), 200, "{}", q.name());
            assert!(
                throughput(q, 20_000, 64, Cores::default()) > 0.0,
                "{}",
                q.name()
            );
        }
    }
}
