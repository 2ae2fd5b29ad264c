//! A LOBSTER message / order-book pair as the [`BookUpdate`]s the strategy consumes, read the
//! way every capture is read: the import to ITCH (crosses as `Q`, halts as `H`, times rounded to
//! the nanosecond, unreadable rows re-anchored), the `.kcap` of MoldUDP64 packets, then the feed
//! stage (ITCH decode, the L3 book, the publish policy). This is the one LOBSTER reader of the
//! research path and of the strategy's tests, so they exercise the ITCH path too.

use kestrel_core::{BookUpdate, InstrumentTable, Timestamp};

use super::capture::{CaptureWriteError, write_lobster_capture};
use super::files::{parse_messages, parse_orderbook};
use super::import::{ImportPlan, ImportReport, plan_import};
use crate::feed_stage::PublishPolicy;
use crate::handler::{HandlerStats, ReplayError};
use crate::kcap::{KcapError, KcapReader};
use crate::updates::capture_updates;

/// What a LOBSTER pair gave the strategy, with the import's and the feed's reports.
#[derive(Debug, Clone)]
pub struct LobsterUpdates {
    /// Every published update, in order (latency stamps cleared; see
    /// [`CaptureUpdates`](crate::updates::CaptureUpdates)).
    pub updates: Vec<BookUpdate>,
    /// The feed's instrument table: the symbol is instrument 0.
    pub instruments: InstrumentTable,
    /// The feed handler's counters.
    pub stats: HandlerStats,
    /// The importer's report: rows read, malformed rows (with their line), re-anchorings,
    /// crosses, halts, unapplied events.
    pub report: ImportReport,
}

/// Why a LOBSTER pair could not be read through the feed.
#[derive(Debug, thiserror::Error)]
pub enum LobsterReplayError {
    /// The import could not be written as a capture.
    #[error("import: {0}")]
    Write(#[from] CaptureWriteError),
    /// The written capture could not be read back.
    #[error("reading the imported capture: {0}")]
    Read(#[from] KcapError),
    /// The capture is not replayable.
    #[error("replay: {0}")]
    Replay(#[from] ReplayError),
}

/// The updates of the LOBSTER pair `messages` / `orderbook` (file contents) for `symbol`,
/// published per `policy`. Malformed rows do not stop the read: they are in the report.
pub fn lobster_updates(
    messages: &str,
    orderbook: &str,
    symbol: &str,
    policy: PublishPolicy,
) -> Result<LobsterUpdates, LobsterReplayError> {
    plan_updates(
        plan_import(parse_messages(messages), parse_orderbook(orderbook)),
        symbol,
        policy,
    )
}

/// The updates of an already planned import (see [`lobster_updates`]).
pub fn plan_updates(
    plan: ImportPlan,
    symbol: &str,
    policy: PublishPolicy,
) -> Result<LobsterUpdates, LobsterReplayError> {
    // A fixed creation time: the same pair gives the same capture bytes.
    let bytes = write_lobster_capture(&plan, symbol, Timestamp::ZERO, Vec::new())?;
    let reader = KcapReader::from_vec(bytes)?;
    let read = capture_updates(&reader, policy)?;
    Ok(LobsterUpdates {
        updates: read.updates,
        instruments: read.instruments,
        stats: read.stats,
        report: plan.report,
    })
}
