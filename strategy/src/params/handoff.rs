//! Single-slot, lock-free handoff of parameter sets from the ops thread to the strategy thread.
//!
//! Built on a bounded(1) `crossbeam-channel` (a preallocated slot; `try_send`/`try_recv` are
//! lock-free and never allocate). The publisher keeps a receiver of its own so that a newer set
//! replaces one the strategy thread has not picked up yet: the strategy thread always gets the
//! latest set, and checking for one costs a couple of atomic loads.

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use super::StrategyParams;

/// A parameter set with its version.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamsUpdate {
    /// Publisher-assigned version, 1, 2, ... (strictly increasing).
    pub version: u64,
    /// The validated parameters.
    pub params: StrategyParams,
}

/// Ops side of the handoff.
#[derive(Debug)]
pub struct ParamsPublisher {
    tx: Sender<ParamsUpdate>,
    evict: Receiver<ParamsUpdate>,
    version: u64,
}

/// Strategy side of the handoff.
#[derive(Debug)]
pub struct ParamsReceiver {
    rx: Receiver<ParamsUpdate>,
}

/// A connected publisher/receiver pair. `start_version` is the version of the set already in
/// force (the first published set gets `start_version + 1`).
pub fn params_handoff(start_version: u64) -> (ParamsPublisher, ParamsReceiver) {
    let (tx, rx) = bounded(1);
    (
        ParamsPublisher {
            tx,
            evict: rx.clone(),
            version: start_version,
        },
        ParamsReceiver { rx },
    )
}

impl ParamsPublisher {
    /// Publishes `params` as the next version, replacing any set not yet taken. Returns the
    /// version it was given.
    pub fn publish(&mut self, params: StrategyParams) -> u64 {
        let update = ParamsUpdate {
            version: self.version + 1,
            params,
        };
        let mut pending = update;
        loop {
            match self.tx.try_send(pending) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) => {
                    // Drop the stale set the strategy thread has not taken; it may take it
                    // between our two calls, which is just as good.
                    let _ = self.evict.try_recv();
                    pending = back;
                }
                // The publisher holds a receiver itself, so the channel cannot disconnect.
                Err(TrySendError::Disconnected(_)) => break,
            }
        }
        self.version = update.version;
        update.version
    }

    /// Version of the last published set.
    pub fn version(&self) -> u64 {
        self.version
    }
}

impl ParamsReceiver {
    /// The newest unseen parameter set, if one arrived. Lock-free, no allocation.
    #[inline]
    pub fn try_take(&self) -> Option<ParamsUpdate> {
        // Checked first with two plain loads: `try_recv` on an empty channel issues a full
        // memory fence, which would be paid on every book update. A set published while this
        // runs is taken at the next update, as it would be one instant later anyway.
        if self.rx.is_empty() {
            return None;
        }
        // Empty or (publisher gone) disconnected: nothing new either way.
        self.rx.try_recv().ok()
    }
}
