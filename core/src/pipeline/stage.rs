//! The stage traits: the only things a stage implements. The pipeline connects them.

use crate::latency::{LatencyTag, TagSet};

/// Where a stage puts its output events: the next ring (threaded), the next stage called
/// directly (inline), or a test's collector.
pub trait Emit<T> {
    /// Hands one event on. Never drops it: a full ring waits.
    fn emit(&mut self, event: T);

    /// Hands on the event held in `event` (a slot the caller owns and no longer needs: the
    /// emitter may write into it, e.g. its stamps). Default: a copy through [`Self::emit`];
    /// an emitter that reads the event in place (the inline hop) overrides it, so a held
    /// event is not copied out of its slot first.
    #[inline(always)]
    fn emit_from(&mut self, event: &mut T)
    where
        T: Copy,
    {
        self.emit(*event);
    }

    /// Records a latency the stage measured itself (its own decision time, say) in the
    /// recorder of the thread it runs on. The stage must list `tag` in its
    /// [`Stage::latency_tags`] / [`Source::latency_tags`]. The pipeline's emitters record;
    /// plain sinks (a test's `Vec`, [`Discard`]) ignore it.
    #[inline]
    fn record(&mut self, _tag: LatencyTag, _ns: u64) {}

    /// Whether every event emitted here goes nowhere (a terminal stage's [`Discard`]): a
    /// stage may then skip building its output. Wrappers forward it. Default: no.
    #[inline]
    fn discards(&self) -> bool {
        false
    }
}

/// A stage in the middle or at the end of the pipeline: takes events one at a time (in
/// batches, when the ring delivers several at once) and may emit events to its output.
pub trait Stage {
    /// What the stage consumes.
    type In: Copy;
    /// What the stage emits.
    type Out: Copy;

    /// Handles one event.
    fn on_event<E: Emit<Self::Out>>(&mut self, event: &Self::In, out: &mut E);

    /// Called after the last event of a batch (the ring's `end_of_batch`): a place to flush
    /// work that batches well. Default: nothing.
    fn on_end_of_batch<E: Emit<Self::Out>>(&mut self, _out: &mut E) {}

    /// The latency tags the stage records through [`Emit::record`] (the thread that runs it
    /// preallocates a histogram for each). Default: none.
    fn latency_tags(&self) -> TagSet {
        TagSet::EMPTY
    }
}

/// What a [`Source::poll`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceStatus {
    /// Produced input (maybe emitted events); poll again at once.
    Busy,
    /// Nothing available now (a live socket with no packet); poll again after a wait.
    Idle,
    /// The input is exhausted; the pipeline drains and stops.
    Done,
}

/// The first stage: reads its own input (a capture, a socket) and emits events.
pub trait Source {
    /// What the source emits.
    type Out: Copy;

    /// Processes some input (one record, or a small batch), emitting any events it yields.
    fn poll<E: Emit<Self::Out>>(&mut self, out: &mut E) -> SourceStatus;

    /// The latency tags the source records through [`Emit::record`]. Default: none.
    fn latency_tags(&self) -> TagSet {
        TagSet::EMPTY
    }
}

/// An [`Emit`] that throws events away (the output of a terminal stage).
#[derive(Clone, Copy, Debug, Default)]
pub struct Discard;

impl<T> Emit<T> for Discard {
    #[inline]
    fn emit(&mut self, _event: T) {}

    #[inline]
    fn discards(&self) -> bool {
        true
    }
}

impl<T> Emit<T> for Vec<T> {
    #[inline]
    fn emit(&mut self, event: T) {
        self.push(event);
    }
}
