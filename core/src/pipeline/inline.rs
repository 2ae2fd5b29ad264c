//! Inline mode: every stage called in sequence on the calling thread.

use super::report::{RunOutput, RunReport, ThreadPlacement};
use super::{Emit, PipelineConfig, PipelineError, Progress, RunMode, Source, SourceStatus, Stage};
use crate::clock::{Clock, Stamped, TscClock};
use crate::latency::{LatencyCollector, LatencyRecorder, LatencyTag};

/// Polls between interval checks and progress updates (keeps clock reads off the per-event path).
const CHECK_EVERY: u32 = 256;

/// The source's output handed straight to the consumer stage, with the same stamps and latency
/// records a ring hop would make.
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
    #[inline]
    fn emit(&mut self, mut event: C::In) {
        let published = self.clock.now();
        let recv = event.stamps().recv;
        event.stamps_mut().published = published;
        self.recorder
            .record(LatencyTag::Feed, published.saturating_since(recv));
        self.stage.on_event(&event, self.sink);
        let done = self.clock.now();
        self.recorder
            .record(LatencyTag::Consumer, done.saturating_since(published));
        self.recorder
            .record(LatencyTag::EndToEnd, done.saturating_since(recv));
        self.events += 1;
        self.since_batch_end += 1;
    }
}

/// Runs `source` into `stage` (whose output goes to `sink`) on this thread until the source is
/// done. Each source poll is one batch: the stage's `on_end_of_batch` follows every poll that
/// emitted events. Latency intervals are collected between polls every `interval_ms`.
pub fn run_inline<S, C, K>(
    mut source: S,
    mut stage: C,
    mut sink: K,
    config: &PipelineConfig,
    clock: &TscClock,
    progress: Option<&Progress>,
) -> Result<RunOutput<S, C, K>, PipelineError>
where
    S: Source,
    C: Stage<In = S::Out>,
    S::Out: Stamped,
    K: Emit<C::Out>,
{
    config.validate()?;
    let start = clock.now().nanos();
    let mut collector = LatencyCollector::new();
    let mut recorder = LatencyRecorder::new(start, config.interval_ns());
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
            hop.stage.on_end_of_batch(hop.sink);
        }
        match status {
            SourceStatus::Busy => waiter.reset(),
            SourceStatus::Idle => waiter.idle(),
            SourceStatus::Done => break,
        }
        polls = polls.wrapping_add(1);
        if polls.is_multiple_of(CHECK_EVERY) {
            let now = clock.now().nanos();
            if hop.recorder.interval_due(now) {
                hop.recorder.hand_off(now, &mut collector);
            }
            if let Some(p) = progress {
                p.set_events(hop.events);
            }
        }
    }
    let events = hop.events;
    let end = clock.now().nanos();
    recorder.hand_off(end, &mut collector);
    if let Some(p) = progress {
        p.set_events(events);
        p.set_finished();
    }
    let report = RunReport {
        mode: RunMode::Inline,
        published: events,
        consumed: events,
        ops_seen: events,
        backpressure_waits: 0,
        backpressure_ns: 0,
        snapshots_deferred: recorder.deferred(),
        elapsed_ns: end.saturating_sub(start),
        threads: vec![ThreadPlacement {
            stage: "inline".to_owned(),
            core: None,
            pinned: false,
        }],
    };
    Ok(RunOutput {
        source,
        stage,
        sink,
        report,
        latency: collector,
    })
}
