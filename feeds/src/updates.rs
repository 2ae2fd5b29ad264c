//! A whole capture as the [`BookUpdate`]s the strategy consumes, collected in memory: the feed
//! stage ([`CaptureSource`]: MoldUDP64 sequencing, ITCH decode, the L3 books, the publish
//! policy) run to the end of the capture. For research and tests, off the hot path; a LOBSTER
//! pair goes through the same code after its import to ITCH
//! ([`lobster_updates`](crate::lobster::lobster_updates)).

use kestrel_core::clock::{Pace, Stamps, TscClock};
use kestrel_core::pipeline::{Source, SourceStatus};
use kestrel_core::{BookUpdate, InstrumentTable};

use crate::feed_stage::{CaptureSource, PublishPolicy};
use crate::handler::{FeedHandler, HandlerConfig, HandlerStats, ReplayError};
use crate::kcap::KcapReader;

/// What a capture gave the strategy, and what the feed made of it.
#[derive(Debug, Clone)]
pub struct CaptureUpdates {
    /// Every published update, in order. The latency stamps are cleared (they would time this
    /// process, not a pipeline), so two reads of one capture give equal updates.
    pub updates: Vec<BookUpdate>,
    /// The feed's instrument table at the end (the capture's, plus any learned on the way).
    pub instruments: InstrumentTable,
    /// The handler's counters (records, anomalies, gaps, ...).
    pub stats: HandlerStats,
    /// Accepted events whose change went out in a later update of the same packet
    /// ([`PublishPolicy::Packet`]).
    pub merged: u64,
}

/// Replays `reader` (a MoldUDP64 / ITCH `.kcap`) through the feed stage as fast as it goes and
/// keeps every update `policy` publishes.
pub fn capture_updates(
    reader: &KcapReader,
    policy: PublishPolicy,
) -> Result<CaptureUpdates, ReplayError> {
    let handler = FeedHandler::for_capture(HandlerConfig::default(), reader.header())?;
    let mut source = CaptureSource::new(handler, reader.records(), Pace::Max, TscClock::new())
        .with_policy(policy);
    let mut updates = Vec::new();
    while source.poll(&mut updates) != SourceStatus::Done {}
    for u in &mut updates {
        u.stamps = Stamps::default();
    }
    let merged = source.merged();
    let handler = source.into_handler();
    Ok(CaptureUpdates {
        updates,
        instruments: handler.instruments().clone(),
        stats: handler.stats(),
        merged,
    })
}
