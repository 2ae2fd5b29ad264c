//! What every hot thread (feed, strategy, and any later stage thread) does the same way: its
//! start-up order (pin, pre-fault the stack, allocate its own telemetry there, register with the
//! ops side) and the output wrapper through which a stage records its own latencies.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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
/// Start-up allocates the same on every run (no channel that allocates lazily, no blocking
/// wait that builds a waker), so allocation tests can compare runs exactly.
pub fn start_hot_thread(
    core: Option<usize>,
    tags: TagSet,
    config: &PipelineConfig,
    now_ns: u64,
    ops: Registration<'_>,
) -> HotStart {
    let pinned = core.is_some_and(pin_current_thread);
    prefault_stack();
    let (recorder, rx) =
        LatencyRecorder::new(tags, now_ns, config.interval_ns(), config.snapshot_slots);
    ops.register(rx);
    HotStart { pinned, recorder }
}

/// Where hot threads register their recorders' interval queues with the ops side. Sized for a
/// known number of hot threads at start (registering allocates nothing); the ops side knows
/// every thread has registered, or died trying, once [`OpsRegistry::pending`] is zero.
#[derive(Debug)]
pub struct OpsRegistry {
    queues: Mutex<Vec<IntervalReceiver>>,
    pending: AtomicUsize,
}

impl OpsRegistry {
    /// A registry for `threads` hot threads.
    pub fn new(threads: usize) -> Self {
        Self {
            queues: Mutex::new(Vec::with_capacity(threads)),
            pending: AtomicUsize::new(threads),
        }
    }

    /// One hot thread's registration ticket: registering, or dropping it unused (the thread
    /// failed), counts the thread as done.
    pub fn ticket(&self) -> Registration<'_> {
        Registration {
            registry: self,
            used: false,
        }
    }

    /// Threads that have neither registered nor given up yet.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Moves the queues registered since the last call into `out` (ops side).
    pub(crate) fn take_into(&self, out: &mut Vec<(IntervalReceiver, bool)>) {
        let mut q = self
            .queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.extend(q.drain(..).map(|rx| (rx, true)));
    }
}

/// A hot thread's right to register once (see [`OpsRegistry::ticket`]).
#[derive(Debug)]
pub struct Registration<'a> {
    registry: &'a OpsRegistry,
    used: bool,
}

impl Registration<'_> {
    /// Registers `rx` with the ops side.
    pub fn register(mut self, rx: IntervalReceiver) {
        let mut q = self
            .registry
            .queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        debug_assert!(
            q.len() < q.capacity(),
            "more hot threads than the registry was sized for"
        );
        q.push(rx);
        drop(q);
        self.used = true;
        self.registry.pending.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        if !self.used {
            self.registry.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// One value handed from one thread to another at start-up (a ring's consumer end, built by
/// its producer thread). The receiver waits by spinning and yielding (no allocation); dropping
/// the sender unsent wakes it with nothing.
#[derive(Debug)]
pub struct StartSlot<T> {
    value: Mutex<Option<T>>,
    closed: AtomicBool,
}

impl<T> Default for StartSlot<T> {
    fn default() -> Self {
        Self {
            value: Mutex::new(None),
            closed: AtomicBool::new(false),
        }
    }
}

impl<T> StartSlot<T> {
    /// Puts the value (once) and closes the slot.
    pub fn put(&self, v: T) {
        *self
            .value
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(v);
        self.close();
    }

    /// Closes the slot without a value (the producer failed).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Waits for the value; `None` if the slot closed without one or `abort` was raised.
    pub fn take(&self, abort: &AtomicBool) -> Option<T> {
        let mut spins = 0u32;
        loop {
            let closed = self.closed.load(Ordering::Acquire);
            let v = self
                .value
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            if v.is_some() || closed || abort.load(Ordering::Relaxed) {
                return v;
            }
            spins = spins.saturating_add(1);
            if spins < 100 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// Closes a [`StartSlot`] when dropped (the producer thread unwound before putting).
pub(crate) struct CloseOnDrop<'a, T>(pub(crate) &'a StartSlot<T>);

impl<T> Drop for CloseOnDrop<'_, T> {
    fn drop(&mut self) {
        self.0.close();
    }
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

    #[inline]
    fn discards(&self) -> bool {
        self.sink.discards()
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
