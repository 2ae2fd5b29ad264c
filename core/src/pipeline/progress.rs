//! Counters a progress display reads from another thread (off the hot path).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Events seen so far and whether the run finished. Updated by the ops side (threaded) or every
/// few hundred inputs (inline) with relaxed stores; read by anything that wants to show progress.
#[derive(Debug, Default)]
pub struct Progress {
    events: AtomicU64,
    finished: AtomicBool,
}

impl Progress {
    /// Zeroed counters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Book updates that have gone through the pipeline so far.
    pub fn events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    /// Whether the run has finished.
    pub fn finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    pub(crate) fn set_events(&self, n: u64) {
        self.events.store(n, Ordering::Relaxed);
    }

    /// Marks the run finished (the runners do this; a caller whose run failed may too).
    pub fn set_finished(&self) {
        self.finished.store(true, Ordering::Release);
    }
}
