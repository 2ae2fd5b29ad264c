//! Inline mode: every stage called in sequence on the calling thread, with the ops side on a
//! thread of its own beside it (latency intervals, progress, the ops task), exactly as in a
//! threaded run. The calling thread never does the ops side's work.

use std::sync::atomic::AtomicBool;
use std::thread;

use super::hot::{AbortOnPanic, OpsRegistry, Recording, start_hot_thread};
use super::ops::{HotCounter, Ops, ops_loop};
use super::report::{RunOutput, RunReport, ThreadPlacement};
use super::threaded::{OPS, StageCores};
use super::{Emit, PipelineConfig, PipelineError, RunMode, Source, SourceStatus, Stage};
use crate::clock::{Clock, Stamped, TscClock};
use crate::cpu::pin_current_thread;
use crate::latency::{LatencyRecorder, LatencyTag, TagSet};

/// Polls between interval checks and counter updates (keeps clock reads off the per-event path).
const CHECK_EVERY: u32 = 256;

/// The tags the inline thread records itself (the stages add theirs): `feed` (receive to
/// published) and `e2e` (receive to the consumer stage done). No `consumer` tag: inline, it
/// would be published to done, the consumer stage's own time, which the stage records under its
/// own tag (the strategy's `strategy`), so a third record per update would repeat it. No `hop`:
/// there is no ring.
pub const INLINE_TAGS: TagSet = TagSet::of(&[LatencyTag::Feed, LatencyTag::EndToEnd]);

/// The source's output handed straight to the consumer stage, with the same stamps a ring hop
/// would make and two latency records (`feed`, `e2e`; see [`INLINE_TAGS`]).
struct InlineHop<'a, C, K> {
    stage: &'a mut C,
    sink: &'a mut K,
    recorder: &'a mut LatencyRecorder,
    clock: &'a TscClock,
    events: u64,
    since_batch_end: u64,
}

impl<C, K> Emit<C::In> for InlineHop<'_, C, K>
where
    C: Stage,
    C::In: Stamped,
    K: Emit<C::Out>,
{
    // Always inlined into the source's publish call: the event is then built in place instead
    // of being copied into the call's argument (a 424-byte `BookUpdate` per update).
    #[inline(always)]
    fn emit(&mut self, mut event: C::In) {
        self.emit_from(&mut event);
    }

    /// The event read where it lies (a held update in the feed stage's packet slot): stamped
    /// there and handed to the stage by reference, no copy. Out of line: the source calls it
    /// from more than one place (a packet's held updates, its flush), and one copy of the
    /// stamps, records and stage call serves them all (docs/BENCHMARKS.md, "the hot loop's
    /// code").
    #[inline(never)]
    fn emit_from(&mut self, event: &mut C::In) {
        let published = self.clock.now();
        let recv = event.stamps().recv;
        event.stamps_mut().published = published;
        self.recorder
            .record(LatencyTag::Feed, published.saturating_since(recv));
        self.stage.on_event(
            event,
            &mut Recording {
                sink: self.sink,
                recorder: self.recorder,
            },
        );
        let done = self.clock.now();
        self.recorder
            .record(LatencyTag::EndToEnd, done.saturating_since(recv));
        self.events += 1;
        self.since_batch_end += 1;
    }

    #[inline]
    fn record(&mut self, tag: LatencyTag, ns: u64) {
        self.recorder.record(tag, ns);
    }
}

/// Runs `source` into `stage` (whose output goes to `sink`) on this thread until the source is
/// done, with the ops side (`ops`) on its own thread. Each source poll is one batch: the stage's
/// `on_end_of_batch` follows every poll that emitted events. Latency intervals are handed off
/// between polls every `interval_ms`.
pub fn run_inline<S, C, K>(
    source: S,
    stage: C,
    sink: K,
    config: &PipelineConfig,
    clock: &TscClock,
    ops: Ops<'_>,
) -> Result<RunOutput<S, C, K>, PipelineError>
where
    S: Source,
    C: Stage<In = S::Out>,
    S::Out: Stamped,
    K: Emit<C::Out>,
{
    run_inline_on(
        source,
        stage,
        sink,
        config,
        clock,
        ops,
        StageCores::default(),
    )
}

/// [`run_inline`] with its threads placed: the calling thread, which runs every stage, is
/// pinned to `cores.feed` (and stays pinned after the run), the ops thread to `cores.ops`
/// (`cores.consumer` has no thread of its own inline and is ignored). A core that cannot be
/// had leaves that thread to the scheduler; the report says which were pinned.
pub fn run_inline_on<S, C, K>(
    mut source: S,
    mut stage: C,
    mut sink: K,
    config: &PipelineConfig,
    clock: &TscClock,
    ops: Ops<'_>,
    cores: StageCores,
) -> Result<RunOutput<S, C, K>, PipelineError>
where
    S: Source,
    C: Stage<In = S::Out>,
    S::Out: Stamped,
    K: Emit<C::Out>,
{
    config.validate()?;
    let start = clock.now().nanos();
    let abort = AtomicBool::new(false);
    let events_counter = HotCounter::default();
    let progress = ops.progress;
    let registry = OpsRegistry::new(1);
    let tags = INLINE_TAGS
        .union(source.latency_tags())
        .union(stage.latency_tags());
    let (events, deferred, ops_done, hot_pinned) = thread::scope(|s| {
        let events_counter = &events_counter;
        let abort = &abort;
        let registry = &registry;
        let ops_thread = thread::Builder::new()
            .name(OPS.to_owned())
            .spawn_scoped(s, move || {
                let _guard = AbortOnPanic(abort);
                let pinned = cores.ops.is_some_and(pin_current_thread);
                let done = ops_loop(
                    registry,
                    events_counter,
                    ops,
                    config.ops_wait.waiter(),
                    clock,
                );
                (done, pinned)
            })
            .map_err(|source| PipelineError::Spawn { stage: OPS, source })?;
        let hot = start_hot_thread(cores.feed, tags, config, start, registry.ticket());
        let (mut recorder, hot_pinned) = (hot.recorder, hot.pinned);
        let mut waiter = config.producer_wait.waiter();
        let mut hop = InlineHop {
            stage: &mut stage,
            sink: &mut sink,
            recorder: &mut recorder,
            clock,
            events: 0,
            since_batch_end: 0,
        };
        let mut polls: u32 = 0;
        loop {
            let status = source.poll(&mut hop);
            if hop.since_batch_end > 0 {
                hop.since_batch_end = 0;
                hop.stage.on_end_of_batch(&mut Recording {
                    sink: hop.sink,
                    recorder: hop.recorder,
                });
            }
            let idle = match status {
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
            polls = polls.wrapping_add(1);
            // Busy: the clock every CHECK_EVERY polls (off the per-event path). Idle (a paced
            // source waiting for its next record, a live feed with nothing to read): every
            // time, so that intervals end on time however sparse the flow.
            if idle || polls.is_multiple_of(CHECK_EVERY) {
                events_counter.publish(hop.events);
                let now = clock.now().nanos();
                if hop.recorder.interval_due(now) {
                    hop.recorder.hand_off(now);
                }
            }
        }
        let events = hop.events;
        events_counter.publish(events);
        let deferred = recorder.finish(clock.now().nanos(), abort);
        let ops_done = ops_thread
            .join()
            .map_err(|_| PipelineError::Panicked { stage: OPS })?;
        Ok::<_, PipelineError>((events, deferred, ops_done, hot_pinned))
    })?;
    let (ops_done, ops_pinned) = ops_done;
    let end = clock.now().nanos();
    if let Some(p) = progress {
        p.set_finished();
    }
    let report = RunReport {
        mode: RunMode::Inline,
        published: events,
        consumed: events,
        ops_seen: ops_done.seen,
        backpressure_waits: 0,
        backpressure_ns: 0,
        snapshots_deferred: deferred,
        elapsed_ns: end.saturating_sub(start),
        threads: vec![
            ThreadPlacement {
                stage: "inline".to_owned(),
                core: cores.feed,
                pinned: hot_pinned,
            },
            ThreadPlacement {
                stage: OPS.to_owned(),
                core: cores.ops,
                pinned: ops_pinned,
            },
        ],
    };
    Ok(RunOutput {
        source,
        stage,
        sink,
        report,
        latency: ops_done.collector,
    })
}
