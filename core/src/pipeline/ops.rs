//! The ops side: one unpinned (or separately pinned) thread beside the hot threads, in both run
//! modes. It never consumes a data ring, so however late it runs it cannot hold the feed back.
//! It takes finished latency intervals from every hot thread, keeps the whole-run totals,
//! streams each interval to its [`OpsTask`] (`latency.hlog`), reads the hot threads' event
//! counters for progress, and runs the task's periodic work (parameter hot reload, metrics).
//! Anything that does file I/O, parsing or formatting during a run belongs here.

use std::sync::atomic::{AtomicU64, Ordering};

use hdrhistogram::Histogram;

use super::{OpsRegistry, Progress, Waiter};
use crate::clock::{Clock, TscClock};
use crate::latency::{
    HlogError, HlogWriter, IntervalDrain, IntervalReceiver, IntervalRecord, LatencyCollector,
    LatencyTag,
};

/// Work the ops thread does for a run, besides collecting latency totals. Every method runs on
/// the ops thread, never on a hot thread.
pub trait OpsTask {
    /// Periodic work, called on every turn of the ops loop (every `ops_wait`) with the pipeline
    /// clock. Returns whether it did anything (the loop then polls again at once).
    fn poll(&mut self, _now_ns: u64) -> bool {
        false
    }

    /// One tag's finished interval `[start_ns, end_ns)`, as soon as the ops thread has it.
    /// Intervals of one tag arrive in order.
    fn on_interval(&mut self, _tag: LatencyTag, _start_ns: u64, _end_ns: u64, _h: &Histogram<u64>) {
    }

    /// The run is over: every hot thread has finished and every interval was delivered.
    fn on_finish(&mut self, _now_ns: u64) {}
}

impl OpsTask for () {}

impl<T: OpsTask + ?Sized> OpsTask for &mut T {
    fn poll(&mut self, now_ns: u64) -> bool {
        (**self).poll(now_ns)
    }
    fn on_interval(&mut self, tag: LatencyTag, start_ns: u64, end_ns: u64, h: &Histogram<u64>) {
        (**self).on_interval(tag, start_ns, end_ns, h);
    }
    fn on_finish(&mut self, now_ns: u64) {
        (**self).on_finish(now_ns);
    }
}

impl<T: OpsTask> OpsTask for Option<T> {
    fn poll(&mut self, now_ns: u64) -> bool {
        self.as_mut().is_some_and(|t| t.poll(now_ns))
    }
    fn on_interval(&mut self, tag: LatencyTag, start_ns: u64, end_ns: u64, h: &Histogram<u64>) {
        if let Some(t) = self {
            t.on_interval(tag, start_ns, end_ns, h);
        }
    }
    fn on_finish(&mut self, now_ns: u64) {
        if let Some(t) = self {
            t.on_finish(now_ns);
        }
    }
}

impl<A: OpsTask, B: OpsTask> OpsTask for (A, B) {
    fn poll(&mut self, now_ns: u64) -> bool {
        let a = self.0.poll(now_ns);
        let b = self.1.poll(now_ns);
        a || b
    }
    fn on_interval(&mut self, tag: LatencyTag, start_ns: u64, end_ns: u64, h: &Histogram<u64>) {
        self.0.on_interval(tag, start_ns, end_ns, h);
        self.1.on_interval(tag, start_ns, end_ns, h);
    }
    fn on_finish(&mut self, now_ns: u64) {
        self.0.on_finish(now_ns);
        self.1.on_finish(now_ns);
    }
}

/// Keeps every interval in memory (tests and short tools; a session streams instead).
impl OpsTask for Vec<IntervalRecord> {
    fn on_interval(&mut self, tag: LatencyTag, start_ns: u64, end_ns: u64, h: &Histogram<u64>) {
        self.push(IntervalRecord {
            tag,
            start_ns,
            end_ns,
            hist: h.clone(),
        });
    }
}

/// Streams every interval to an interval log as it arrives (`latency.hlog`). The first write
/// error is kept (later intervals are then skipped) for the caller to report after the run.
#[derive(Debug)]
pub struct HlogStream<W: std::io::Write> {
    writer: HlogWriter<W>,
    error: Option<HlogError>,
}

impl<W: std::io::Write> HlogStream<W> {
    /// Streams into `writer`.
    pub fn new(writer: HlogWriter<W>) -> Self {
        Self {
            writer,
            error: None,
        }
    }

    /// Interval lines written.
    pub fn written(&self) -> u64 {
        self.writer.written()
    }

    /// The writer (flushed), or the first error met.
    pub fn finish(self) -> Result<W, HlogError> {
        match self.error {
            Some(e) => Err(e),
            None => self.writer.into_inner(),
        }
    }
}

impl<W: std::io::Write> OpsTask for HlogStream<W> {
    fn on_interval(&mut self, tag: LatencyTag, start_ns: u64, end_ns: u64, h: &Histogram<u64>) {
        if self.error.is_none()
            && let Err(e) = self.writer.write(tag, start_ns, end_ns, h)
        {
            self.error = Some(e);
        }
    }

    fn on_finish(&mut self, _now_ns: u64) {
        if self.error.is_none()
            && let Err(e) = self.writer.flush()
        {
            self.error = Some(e);
        }
    }
}

/// What a run's ops side serves: an optional progress display and an optional task. Both are
/// borrowed for the run and read back by the caller afterwards.
#[derive(Default)]
pub struct Ops<'a> {
    pub(crate) progress: Option<&'a Progress>,
    pub(crate) task: Option<&'a mut (dyn OpsTask + Send)>,
}

impl std::fmt::Debug for Ops<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ops")
            .field("progress", &self.progress)
            .field("task", &self.task.is_some())
            .finish()
    }
}

impl<'a> Ops<'a> {
    /// Latency totals only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `progress` up to date (events through the pipeline, finished flag).
    #[must_use]
    pub fn progress(mut self, progress: &'a Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Runs `task` on the ops thread.
    #[must_use]
    pub fn task(mut self, task: &'a mut (dyn OpsTask + Send)) -> Self {
        self.task = Some(task);
        self
    }
}

/// A counter one hot thread publishes for the ops side (relaxed stores of a running total, on
/// its own cache line so the hot thread never shares a line with a reader).
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct HotCounter(AtomicU64);

impl HotCounter {
    #[inline]
    pub(crate) fn publish(&self, n: u64) {
        self.0.store(n, Ordering::Relaxed);
    }

    pub(crate) fn read(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What the ops loop leaves behind.
#[derive(Debug)]
pub(crate) struct OpsDone {
    pub(crate) collector: LatencyCollector,
    /// The last-stage event count the ops side read once every hot thread had finished.
    pub(crate) seen: u64,
}

/// Runs the ops side until every hot thread has registered (or given up) and closed its
/// interval queue.
pub(crate) fn ops_loop(
    registry: &OpsRegistry,
    events: &HotCounter,
    ops: Ops<'_>,
    mut waiter: Waiter,
    clock: &TscClock,
) -> OpsDone {
    let Ops { progress, mut task } = ops;
    let mut collector = LatencyCollector::new();
    let mut queues: Vec<(IntervalReceiver, bool)> = Vec::with_capacity(8);
    loop {
        let mut work = false;
        // Read before taking: a thread counted as registered has its queue in the registry.
        let registering = registry.pending() > 0;
        registry.take_into(&mut queues);
        for (rx, open) in &mut queues {
            if !*open {
                continue;
            }
            let drained = rx.drain(|set| {
                collector.absorb(set);
                if let Some(t) = task.as_mut() {
                    for (tag, h) in set.non_empty() {
                        t.on_interval(tag, set.start_ns(), set.end_ns(), h);
                    }
                }
            });
            match drained {
                IntervalDrain::Open(n) => work |= n > 0,
                IntervalDrain::Closed => *open = false,
            }
        }
        if let Some(t) = task.as_mut() {
            work |= t.poll(clock.now().nanos());
        }
        if let Some(p) = progress {
            p.set_events(events.read());
        }
        if !registering && queues.iter().all(|(_, open)| !*open) {
            break;
        }
        if work {
            waiter.reset();
        } else {
            waiter.idle();
        }
    }
    if let Some(t) = task.as_mut() {
        t.on_finish(clock.now().nanos());
    }
    let seen = events.read();
    if let Some(p) = progress {
        p.set_events(seen);
    }
    OpsDone { collector, seen }
}
