//! Threaded mode: one thread per stage, pinned and named, rings between them, and an unpinned
//! ops thread that consumes the same ring (progress, journal counters) and collects latency
//! snapshots.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use super::report::{RunOutput, RunReport, ThreadPlacement};
use super::ring::{Received, RingReceiver, RingSender, ring};
use super::{
    Emit, PipelineConfig, PipelineError, Progress, RunMode, Source, SourceStatus, Stage, Waiter,
};
use crate::clock::{Clock, Stamped, TscClock};
use crate::cpu::pin_current_thread;
use crate::latency::{
    LatencyCollector, LatencyRecorder, LatencyTag, SnapshotDrain, SnapshotReceiver, SnapshotSender,
    snapshot_ring,
};

/// Thread names (and the stage names a `[cpu]` section pins).
pub const FEED: &str = "feed";
/// The consumer stage's thread name.
pub const CONSUMER: &str = "consumer";
/// The ops thread's name.
pub const OPS: &str = "ops";

/// The core each stage thread is pinned to (`None`: left to the scheduler).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StageCores {
    /// Source (feed) stage.
    pub feed: Option<usize>,
    /// Consumer stage.
    pub consumer: Option<usize>,
    /// Ops thread.
    pub ops: Option<usize>,
}

/// The feed thread's output: stamps `published`, records the feed latency and any
/// backpressure wait, and publishes onto the ring.
struct RingEmit<'a, E> {
    tx: RingSender<E>,
    recorder: &'a mut LatencyRecorder,
    clock: &'a TscClock,
    abort: &'a AtomicBool,
}

impl<E: Copy + Stamped> Emit<E> for RingEmit<'_, E> {
    #[inline]
    fn emit(&mut self, mut event: E) {
        let published = self.clock.now();
        let recv = event.stamps().recv;
        event.stamps_mut().published = published;
        self.recorder
            .record(LatencyTag::Feed, published.saturating_since(recv));
        match self.tx.send_unless(event, self.abort) {
            Some(0) => {}
            Some(waited) => self.recorder.record(LatencyTag::Backpressure, waited),
            // A consumer died: the run is failing; the event goes nowhere.
            None => {}
        }
    }
}

/// Raises the abort flag if its thread unwinds, so a producer waiting on a full ring the
/// thread will never drain gives up instead of hanging.
struct AbortOnPanic<'a>(&'a AtomicBool);

impl Drop for AbortOnPanic<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

fn pin(core: Option<usize>) -> bool {
    core.is_some_and(pin_current_thread)
}

/// Hands the recorder's last interval to its snapshot ring, waiting for room (the ops thread
/// is draining it).
/// Gives up if `abort` is raised (the ops thread died and will never drain the ring).
fn final_hand_off(
    recorder: &mut LatencyRecorder,
    tx: &mut SnapshotSender,
    now: u64,
    abort: &AtomicBool,
) {
    let mut waiter = super::WaitStrategy::SpinYield { spins: 100 }.waiter();
    while !recorder.hand_off(now, tx) {
        if abort.load(Ordering::Relaxed) {
            return;
        }
        waiter.idle();
    }
}

/// What every stage thread is given besides its stage and ring ends.
#[derive(Clone, Copy)]
struct ThreadCtx<'a> {
    config: &'a PipelineConfig,
    clock: &'a TscClock,
    core: Option<usize>,
    abort: &'a AtomicBool,
}

struct FeedDone<S> {
    source: S,
    published: u64,
    full_waits: u64,
    full_wait_ns: u64,
    deferred: u64,
    pinned: bool,
}

struct ConsumerDone<C, K> {
    stage: C,
    sink: K,
    consumed: u64,
    deferred: u64,
    pinned: bool,
}

struct OpsDone {
    collector: LatencyCollector,
    seen: u64,
    pinned: bool,
}

fn feed_loop<S>(
    mut source: S,
    tx: RingSender<S::Out>,
    mut snap_tx: SnapshotSender,
    ctx: ThreadCtx<'_>,
) -> FeedDone<S>
where
    S: Source,
    S::Out: Stamped,
{
    let ThreadCtx {
        config,
        clock,
        core,
        abort,
    } = ctx;
    let pinned = pin(core);
    let mut recorder = LatencyRecorder::new(clock.now().nanos(), config.interval_ns());
    let mut out = RingEmit {
        tx,
        recorder: &mut recorder,
        clock,
        abort,
    };
    let mut waiter = config.producer_wait.waiter();
    let mut polls: u32 = 0;
    loop {
        match source.poll(&mut out) {
            SourceStatus::Busy => waiter.reset(),
            SourceStatus::Idle => waiter.idle(),
            SourceStatus::Done => break,
        }
        if abort.load(Ordering::Relaxed) {
            break;
        }
        polls = polls.wrapping_add(1);
        if polls.is_multiple_of(256) {
            let now = clock.now().nanos();
            if out.recorder.interval_due(now) {
                out.recorder.hand_off(now, &mut snap_tx);
            }
        }
    }
    let RingEmit { tx, .. } = out;
    let (published, full_waits, full_wait_ns) =
        (tx.published(), tx.full_waits(), tx.full_wait_ns());
    // Dropping the sender closes the ring: consumers drain what is left, then stop.
    drop(tx);
    final_hand_off(&mut recorder, &mut snap_tx, clock.now().nanos(), abort);
    FeedDone {
        source,
        published,
        full_waits,
        full_wait_ns,
        deferred: recorder.deferred(),
        pinned,
    }
}

fn consumer_loop<C, K>(
    mut stage: C,
    mut sink: K,
    mut rx: RingReceiver<C::In>,
    mut snap_tx: SnapshotSender,
    ctx: ThreadCtx<'_>,
) -> ConsumerDone<C, K>
where
    C: Stage,
    C::In: Stamped,
    K: Emit<C::Out>,
{
    let ThreadCtx {
        config,
        clock,
        core,
        abort,
    } = ctx;
    let pinned = pin(core);
    let mut recorder = LatencyRecorder::new(clock.now().nanos(), config.interval_ns());
    let mut waiter = config.consumer_wait.waiter();
    loop {
        let got = rx.poll_batch(|event, end_of_batch| {
            let taken = clock.now();
            let stamps = event.stamps();
            recorder.record(LatencyTag::Hop, taken.saturating_since(stamps.published));
            stage.on_event(event, &mut sink);
            let done = clock.now();
            recorder.record(LatencyTag::Consumer, done.saturating_since(taken));
            recorder.record(LatencyTag::EndToEnd, done.saturating_since(stamps.recv));
            if end_of_batch {
                stage.on_end_of_batch(&mut sink);
            }
        });
        match got {
            Received::Batch(_) => {
                waiter.reset();
                let now = clock.now().nanos();
                if recorder.interval_due(now) {
                    recorder.hand_off(now, &mut snap_tx);
                }
            }
            Received::Empty => waiter.idle(),
            Received::Closed => break,
        }
    }
    final_hand_off(&mut recorder, &mut snap_tx, clock.now().nanos(), abort);
    ConsumerDone {
        stage,
        sink,
        consumed: rx.consumed(),
        deferred: recorder.deferred(),
        pinned,
    }
}

fn ops_loop<E>(
    mut rx: RingReceiver<E>,
    mut snaps: [SnapshotReceiver; 2],
    mut waiter: Waiter,
    progress: Option<&Progress>,
    core: Option<usize>,
) -> OpsDone {
    let pinned = pin(core);
    let mut collector = LatencyCollector::new();
    let mut ring_open = true;
    let mut snaps_open = [true; 2];
    while ring_open || snaps_open.iter().any(|o| *o) {
        let mut work = false;
        if ring_open {
            match rx.poll_batch(|_, _| {}) {
                Received::Batch(_) => {
                    work = true;
                    if let Some(p) = progress {
                        p.set_events(rx.consumed());
                    }
                }
                Received::Empty => {}
                Received::Closed => ring_open = false,
            }
        }
        for (snap, open) in snaps.iter_mut().zip(snaps_open.iter_mut()) {
            if *open {
                match snap.drain(|s| collector.absorb(s)) {
                    SnapshotDrain::Open(n) => work |= n > 0,
                    SnapshotDrain::Closed => *open = false,
                }
            }
        }
        if work {
            waiter.reset();
        } else {
            waiter.idle();
        }
    }
    if let Some(p) = progress {
        p.set_events(rx.consumed());
    }
    OpsDone {
        collector,
        seen: rx.consumed(),
        pinned,
    }
}

fn join_stage<T>(
    handle: thread::ScopedJoinHandle<'_, T>,
    stage: &'static str,
) -> Result<T, PipelineError> {
    handle.join().map_err(|_| PipelineError::Panicked { stage })
}

fn spawn_error<'a>(
    stage: &'static str,
    abort: &'a AtomicBool,
) -> impl FnOnce(std::io::Error) -> PipelineError + 'a {
    move |source| {
        abort.store(true, Ordering::Relaxed);
        PipelineError::Spawn { stage, source }
    }
}

/// Runs `source` into `stage` (whose output goes to `sink`) with one thread per stage: the
/// feed thread polls the source and publishes onto a ring of `config.ring_size` slots, the
/// consumer thread runs the stage, the ops thread counts events and collects latency. Returns
/// when the source is done and every ring has drained.
pub fn run_threaded<S, C, K>(
    source: S,
    stage: C,
    sink: K,
    config: &PipelineConfig,
    cores: StageCores,
    clock: &TscClock,
    progress: Option<&Progress>,
) -> Result<RunOutput<S, C, K>, PipelineError>
where
    S: Source + Send,
    C: Stage<In = S::Out> + Send,
    K: Emit<C::Out> + Send,
    S::Out: Stamped + Default + Send + Sync + 'static,
{
    config.validate()?;
    let (tx, mut rxs) = ring(
        config.ring_size,
        S::Out::default,
        2,
        config.producer_wait,
        clock.clone(),
    )?;
    let (ops_rx, consumer_rx) = match (rxs.pop(), rxs.pop()) {
        (Some(a), Some(b)) => (a, b),
        _ => unreachable_receivers(),
    };
    let (feed_snap_tx, feed_snap_rx) = snapshot_ring(config.snapshot_slots);
    let (cons_snap_tx, cons_snap_rx) = snapshot_ring(config.snapshot_slots);
    let start = clock.now().nanos();

    let abort = AtomicBool::new(false);
    let abort = &abort;
    let (feed, consumer, ops) = thread::scope(|s| {
        let ops = thread::Builder::new()
            .name(OPS.to_owned())
            .spawn_scoped(s, move || {
                let _guard = AbortOnPanic(abort);
                ops_loop(
                    ops_rx,
                    [feed_snap_rx, cons_snap_rx],
                    config.ops_wait.waiter(),
                    progress,
                    cores.ops,
                )
            })
            .map_err(spawn_error(OPS, abort));
        let consumer = thread::Builder::new()
            .name(CONSUMER.to_owned())
            .spawn_scoped(s, move || {
                let _guard = AbortOnPanic(abort);
                consumer_loop(
                    stage,
                    sink,
                    consumer_rx,
                    cons_snap_tx,
                    ThreadCtx {
                        config,
                        clock,
                        core: cores.consumer,
                        abort,
                    },
                )
            })
            .map_err(spawn_error(CONSUMER, abort));
        let feed = thread::Builder::new()
            .name(FEED.to_owned())
            .spawn_scoped(s, move || {
                let _guard = AbortOnPanic(abort);
                feed_loop(
                    source,
                    tx,
                    feed_snap_tx,
                    ThreadCtx {
                        config,
                        clock,
                        core: cores.feed,
                        abort,
                    },
                )
            })
            .map_err(spawn_error(FEED, abort));
        // A failed spawn or a panic raises `abort`: the feed stops publishing (a dead consumer
        // never frees ring slots) and drops its sender, which closes the ring for the others,
        // so every thread that did start still ends.
        (
            feed.and_then(|h| join_stage(h, FEED)),
            consumer.and_then(|h| join_stage(h, CONSUMER)),
            ops.and_then(|h| join_stage(h, OPS)),
        )
    });
    let (feed, consumer, ops) = (feed?, consumer?, ops?);
    let end = clock.now().nanos();
    if let Some(p) = progress {
        p.set_finished();
    }
    let report = RunReport {
        mode: RunMode::Threaded,
        published: feed.published,
        consumed: consumer.consumed,
        ops_seen: ops.seen,
        backpressure_waits: feed.full_waits,
        backpressure_ns: feed.full_wait_ns,
        snapshots_deferred: feed.deferred + consumer.deferred,
        elapsed_ns: end.saturating_sub(start),
        threads: vec![
            ThreadPlacement {
                stage: FEED.to_owned(),
                core: cores.feed,
                pinned: feed.pinned,
            },
            ThreadPlacement {
                stage: CONSUMER.to_owned(),
                core: cores.consumer,
                pinned: consumer.pinned,
            },
            ThreadPlacement {
                stage: OPS.to_owned(),
                core: cores.ops,
                pinned: ops.pinned,
            },
        ],
    };
    Ok(RunOutput {
        source: feed.source,
        stage: consumer.stage,
        sink: consumer.sink,
        report,
        latency: ops.collector,
    })
}

/// `ring(.., 2, ..)` returns exactly two receivers.
#[cold]
fn unreachable_receivers() -> ! {
    unreachable!("ring() built with two consumers returns two receivers")
}
