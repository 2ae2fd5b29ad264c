//! Threaded mode: one thread per stage, pinned and named, a ring between them, and the ops
//! thread beside them.
//!
//! - Each hot thread starts the same way ([`start_hot_thread`]): pin, pre-fault its stack, build
//!   its latency recorder, register it with ops. The data ring is then built on the feed thread
//!   (the producer, which writes every slot: first touch on its core's memory) and its consumer
//!   end handed to the consumer thread before either runs.
//! - The ring has one consumer, the strategy stage. The ops thread is not a consumer of it: it
//!   reads the hot threads' event counters and takes latency intervals from their recorders, so
//!   an ops thread that is descheduled for any length of time never fills the ring.
//!
//! A further stage thread (the gateway) follows the consumer's pattern: start with
//! [`start_hot_thread`], take its input ring's receiver built by its producer, emit through a
//! [`RingEmit`]-like sender, close its recorder with `finish` at the end.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use super::hot::{
    AbortOnPanic, CloseOnDrop, OpsRegistry, Recording, Registration, StartSlot, start_hot_thread,
};
use super::ops::{HotCounter, Ops, OpsDone, ops_loop};
use super::report::{RunOutput, RunReport, ThreadPlacement};
use super::ring::{Received, RingReceiver, RingSender, ring};
use super::{Emit, PipelineConfig, PipelineError, RunMode, Source, SourceStatus, Stage};
use crate::clock::{Clock, Stamped, TscClock};
use crate::cpu::pin_current_thread;
use crate::latency::{LatencyRecorder, LatencyTag, TagSet};

/// Thread names (and the stage names a `[cpu]` section pins).
pub const FEED: &str = "feed";
/// The consumer stage's thread name.
pub const CONSUMER: &str = "consumer";
/// The ops thread's name.
pub const OPS: &str = "ops";

/// The tags the feed thread records itself (the source adds its own).
pub const FEED_TAGS: TagSet = TagSet::of(&[LatencyTag::Feed, LatencyTag::Backpressure]);
/// The tags the consumer thread records itself (the stage adds its own).
pub const CONSUMER_TAGS: TagSet =
    TagSet::of(&[LatencyTag::Hop, LatencyTag::Consumer, LatencyTag::EndToEnd]);

/// Feed-thread polls between interval checks (keeps clock reads off the per-event path).
const FEED_CHECK_EVERY: u32 = 256;

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

/// A producer thread's output: stamps `published`, records the feed latency and any
/// backpressure wait, and publishes onto the ring. Latencies the source records go to the same
/// recorder.
pub struct RingEmit<'a, E> {
    /// The ring's producer end.
    pub tx: RingSender<E>,
    /// The producing thread's recorder.
    pub recorder: &'a mut LatencyRecorder,
    /// The pipeline clock.
    pub clock: &'a TscClock,
    /// Raised when the run is failing: a full ring is then given up on.
    pub abort: &'a AtomicBool,
}

impl<E> std::fmt::Debug for RingEmit<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingEmit")
            .field("tx", &self.tx)
            .finish_non_exhaustive()
    }
}

impl<E: Copy + Stamped> Emit<E> for RingEmit<'_, E> {
    #[inline]
    fn emit(&mut self, mut event: E) {
        self.emit_from(&mut event);
    }

    /// Stamped where it lies (a held update in its packet slot), then copied once, into the
    /// ring's slot.
    #[inline]
    fn emit_from(&mut self, event: &mut E) {
        let published = self.clock.now();
        let recv = event.stamps().recv;
        event.stamps_mut().published = published;
        self.recorder
            .record(LatencyTag::Feed, published.saturating_since(recv));
        match self.tx.send_unless(*event, self.abort) {
            Some(0) => {}
            Some(waited) => self.recorder.record(LatencyTag::Backpressure, waited),
            // A consumer died: the run is failing; the event goes nowhere.
            None => {}
        }
    }

    #[inline]
    fn record(&mut self, tag: LatencyTag, ns: u64) {
        self.recorder.record(tag, ns);
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

fn feed_loop<S>(
    mut source: S,
    consumer_end: &StartSlot<RingReceiver<S::Out>>,
    ops: Registration<'_>,
    ctx: ThreadCtx<'_>,
) -> FeedDone<S>
where
    S: Source,
    S::Out: Stamped + Default + Send + Sync + 'static,
{
    let ThreadCtx {
        config,
        clock,
        core,
        abort,
    } = ctx;
    let tags = FEED_TAGS.union(source.latency_tags());
    let _closer = CloseOnDrop(consumer_end);
    let start = start_hot_thread(core, tags, config, clock.now().nanos(), ops);
    let mut recorder = start.recorder;
    // Built here, after pinning: the factory writes every slot, so the ring's pages are first
    // touched by the thread that writes them for the whole run. The size was validated before
    // any thread started.
    let built = ring(
        config.ring_size,
        S::Out::default,
        1,
        config.producer_wait,
        clock.clone(),
    );
    let tx = match built {
        Ok((tx, mut rxs)) => rxs.pop().map(|rx| {
            consumer_end.put(rx);
            tx
        }),
        Err(_) => None,
    };
    consumer_end.close();
    let Some(tx) = tx else {
        abort.store(true, Ordering::Relaxed);
        let deferred = recorder.finish(clock.now().nanos(), abort);
        return FeedDone {
            source,
            published: 0,
            full_waits: 0,
            full_wait_ns: 0,
            deferred,
            pinned: start.pinned,
        };
    };
    let mut out = RingEmit {
        tx,
        recorder: &mut recorder,
        clock,
        abort,
    };
    let mut waiter = config.producer_wait.waiter();
    let mut polls: u32 = 0;
    loop {
        let idle = match source.poll(&mut out) {
            SourceStatus::Busy => {
                waiter.reset();
                false
            }
            SourceStatus::Idle => {
                waiter.idle();
                true
            }
            SourceStatus::Done => break,
        };
        if abort.load(Ordering::Relaxed) {
            break;
        }
        polls = polls.wrapping_add(1);
        // Idle polls check the clock every time (intervals end on time in a sparse flow);
        // busy ones every FEED_CHECK_EVERY.
        if idle || polls.is_multiple_of(FEED_CHECK_EVERY) {
            let now = clock.now().nanos();
            if out.recorder.interval_due(now) {
                out.recorder.hand_off(now);
            }
        }
    }
    let RingEmit { tx, .. } = out;
    let (published, full_waits, full_wait_ns) =
        (tx.published(), tx.full_waits(), tx.full_wait_ns());
    // Dropping the sender closes the ring: the consumer drains what is left, then stops.
    drop(tx);
    let deferred = recorder.finish(clock.now().nanos(), abort);
    FeedDone {
        source,
        published,
        full_waits,
        full_wait_ns,
        deferred,
        pinned: start.pinned,
    }
}

fn consumer_loop<C, K>(
    mut stage: C,
    mut sink: K,
    input: &StartSlot<RingReceiver<C::In>>,
    ops: Registration<'_>,
    consumed_counter: &HotCounter,
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
    let tags = CONSUMER_TAGS.union(stage.latency_tags());
    let start = start_hot_thread(core, tags, config, clock.now().nanos(), ops);
    let mut recorder = start.recorder;
    // The feed thread builds the ring and hands this end over before it publishes anything; if
    // it died first (or the run aborted), there is nothing to consume.
    let Some(mut rx) = input.take(abort) else {
        let deferred = recorder.finish(clock.now().nanos(), abort);
        return ConsumerDone {
            stage,
            sink,
            consumed: 0,
            deferred,
            pinned: start.pinned,
        };
    };
    let mut waiter = config.consumer_wait.waiter();
    loop {
        let got = rx.poll_batch(|event, end_of_batch| {
            let taken = clock.now();
            let stamps = event.stamps();
            recorder.record(LatencyTag::Hop, taken.saturating_since(stamps.published));
            stage.on_event(
                event,
                &mut Recording {
                    sink: &mut sink,
                    recorder: &mut recorder,
                },
            );
            let done = clock.now();
            recorder.record(LatencyTag::Consumer, done.saturating_since(taken));
            recorder.record(LatencyTag::EndToEnd, done.saturating_since(stamps.recv));
            if end_of_batch {
                stage.on_end_of_batch(&mut Recording {
                    sink: &mut sink,
                    recorder: &mut recorder,
                });
            }
        });
        match got {
            Received::Batch(_) => {
                waiter.reset();
                consumed_counter.publish(rx.consumed());
                let now = clock.now().nanos();
                if recorder.interval_due(now) {
                    recorder.hand_off(now);
                }
            }
            Received::Empty => {
                waiter.idle();
                // Nothing to do: end the interval on time even when no event comes.
                let now = clock.now().nanos();
                if recorder.interval_due(now) {
                    recorder.hand_off(now);
                }
            }
            Received::Closed => break,
        }
    }
    consumed_counter.publish(rx.consumed());
    let deferred = recorder.finish(clock.now().nanos(), abort);
    ConsumerDone {
        stage,
        sink,
        consumed: rx.consumed(),
        deferred,
        pinned: start.pinned,
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
/// consumer thread runs the stage, the ops thread collects latency and serves `ops`. Returns
/// when the source is done and the ring has drained.
pub fn run_threaded<S, C, K>(
    source: S,
    stage: C,
    sink: K,
    config: &PipelineConfig,
    cores: StageCores,
    clock: &TscClock,
    ops: Ops<'_>,
) -> Result<RunOutput<S, C, K>, PipelineError>
where
    S: Source + Send,
    C: Stage<In = S::Out> + Send,
    K: Emit<C::Out> + Send,
    S::Out: Stamped + Default + Send + Sync + 'static,
{
    config.validate()?;
    let start = clock.now().nanos();
    let progress = ops.progress;
    let consumed_counter = HotCounter::default();
    // Two hot threads register with ops: feed and consumer.
    let registry = OpsRegistry::new(2);
    let consumer_end = StartSlot::<RingReceiver<S::Out>>::default();

    let abort = AtomicBool::new(false);
    let abort = &abort;
    let consumed_counter = &consumed_counter;
    let registry = &registry;
    let consumer_end = &consumer_end;
    let (feed, consumer, ops_done) = thread::scope(|s| {
        let ops = thread::Builder::new()
            .name(OPS.to_owned())
            .spawn_scoped(s, move || {
                let _guard = AbortOnPanic(abort);
                let _pinned = cores.ops.is_some_and(pin_current_thread);
                let done: OpsDone = ops_loop(
                    registry,
                    consumed_counter,
                    ops,
                    config.ops_wait.waiter(),
                    clock,
                );
                (done, _pinned)
            })
            .map_err(spawn_error(OPS, abort));
        let (consumer_ticket, feed_ticket) = (registry.ticket(), registry.ticket());
        let consumer = thread::Builder::new()
            .name(CONSUMER.to_owned())
            .spawn_scoped(s, move || {
                let _guard = AbortOnPanic(abort);
                consumer_loop(
                    stage,
                    sink,
                    consumer_end,
                    consumer_ticket,
                    consumed_counter,
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
                    consumer_end,
                    feed_ticket,
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
        // never frees ring slots) and drops its sender, which closes the ring for the consumer;
        // a dead ops thread makes the recorders give up their final hand-off. Every thread that
        // did start still ends.
        (
            feed.and_then(|h| join_stage(h, FEED)),
            consumer.and_then(|h| join_stage(h, CONSUMER)),
            ops.and_then(|h| join_stage(h, OPS)),
        )
    });
    let (feed, consumer, (ops_done, ops_pinned)) = (feed?, consumer?, ops_done?);
    let end = clock.now().nanos();
    if let Some(p) = progress {
        p.set_finished();
    }
    let report = RunReport {
        mode: RunMode::Threaded,
        published: feed.published,
        consumed: consumer.consumed,
        ops_seen: ops_done.seen,
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
                pinned: ops_pinned,
            },
        ],
    };
    Ok(RunOutput {
        source: feed.source,
        stage: consumer.stage,
        sink: consumer.sink,
        report,
        latency: ops_done.collector,
    })
}
