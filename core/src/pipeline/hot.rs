//! What every hot thread (feed, strategy, and any later stage thread) does the same way: its
//! start-up order (pin, pre-fault the stack, allocate its own telemetry there, register with the
//! ops side) and the output wrapper through which a stage records its own latencies.

use std::sync::mpsc::Sender;

use super::{Emit, PipelineConfig};
use crate::cpu::{pin_current_thread, prefault_stack};
use crate::latency::{IntervalReceiver, LatencyRecorder, LatencyTag, TagSet};

/// A hot thread after start-up: whether it is pinned, and its latency recorder (allocated and
/// pre-faulted on this thread, after pinning: first touch on its own core's memory).
#[derive(Debug)]
pub struct HotStart {
    /// Whether the thread is pinned to the requested core.
    pub pinned: bool,
    /// The thread's recorder; its finished intervals go to the ops side.
    pub recorder: LatencyRecorder,
}

/// Starts a hot thread, in this order: pins it to `core` (if any), pre-faults its stack, builds
/// its recorder for `tags` (histograms allocated and written here), and registers the recorder's
/// interval queue with the ops side. Whatever else the thread allocates (its ring) it should
/// allocate after this, on the same thread.
///
/// A registration the ops side can no longer take (it failed to start) is dropped: the thread
/// then records for nothing but runs.
pub fn start_hot_thread(
    core: Option<usize>,
    tags: TagSet,
    config: &PipelineConfig,
    now_ns: u64,
    ops: &Sender<IntervalReceiver>,
) -> HotStart {
    let pinned = core.is_some_and(pin_current_thread);
    prefault_stack();
    let (recorder, rx) =
        LatencyRecorder::new(tags, now_ns, config.interval_ns(), config.snapshot_slots);
    let _ = ops.send(rx);
    HotStart { pinned, recorder }
}

/// A stage's output as the pipeline gives it: events go to `sink`, latencies the stage measures
/// itself go to the thread's recorder.
pub struct Recording<'a, K> {
    /// Where emitted events go.
    pub sink: &'a mut K,
    /// The running thread's recorder.
    pub recorder: &'a mut LatencyRecorder,
}

impl<K> std::fmt::Debug for Recording<'_, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording").finish_non_exhaustive()
    }
}

impl<T, K: Emit<T>> Emit<T> for Recording<'_, K> {
    #[inline]
    fn emit(&mut self, event: T) {
        self.sink.emit(event);
    }

    #[inline]
    fn record(&mut self, tag: LatencyTag, ns: u64) {
        self.recorder.record(tag, ns);
    }
}

/// Raises the abort flag if its thread unwinds, so a thread waiting on another (a producer on a
/// full ring, a recorder on the ops side's spare sets) gives up instead of hanging.
pub(crate) struct AbortOnPanic<'a>(pub(crate) &'a std::sync::atomic::AtomicBool);

impl Drop for AbortOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}
