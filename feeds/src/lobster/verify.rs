//! Verification of an import through the real wire path: the capture's bytes go through the
//! kcap reader, MoldUDP64, the ITCH decoder, the normaliser and `L3Books`, and after the ITCH
//! messages of each LOBSTER event every visible level of both sides is compared with the
//! event's book row.

use kestrel_core::book::L3Books;
use kestrel_core::{InstrumentId, LevelView, Side, Timestamp};

use super::capture::{CaptureWriteError, op_sequence, write_lobster_capture};
use super::files::{parse_messages, parse_orderbook};
use super::import::{ImportPlan, ImportReport, LevelMismatch, MISMATCH_DETAIL_LIMIT, plan_import};
use super::orderbook::{BookLevel, BookRow};
use crate::handler::{FeedEvent, FeedHandler, HandlerConfig, HandlerStats, ReplayError};
use crate::kcap::{KcapError, KcapReader};

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Side checks made through the wire path (two per checked event).
    pub checks: u64,
    /// Side checks where the replayed book differed from the row.
    pub mismatched: u64,
    /// Levels the importer learned from the rows (see [`ImportReport::learned`]).
    pub learned: u64,
    /// Book rows that re-anchored the book after a row that could not be read (see
    /// [`ImportReport::reanchored`]).
    pub reanchored: u64,
    /// The first [`MISMATCH_DETAIL_LIMIT`] level mismatches of the replayed book.
    pub mismatches: Vec<LevelMismatch>,
    /// Feed handler counters of the replay.
    pub handler: HandlerStats,
    /// The importer's own report (its model-side checks, errors, unapplied events).
    pub import: ImportReport,
}

/// Why a verification could not run.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The import could not be written.
    #[error("import: {0}")]
    Write(#[from] CaptureWriteError),
    /// The written capture could not be read back.
    #[error("reading the capture back: {0}")]
    Read(#[from] KcapError),
    /// The capture is not replayable.
    #[error("replay: {0}")]
    Replay(#[from] ReplayError),
    /// The capture does not declare the symbol.
    #[error("symbol {0:?} is not in the capture")]
    UnknownSymbol(String),
}

/// A replayed level in the row's units, for reporting.
fn as_book_level(l: LevelView) -> BookLevel {
    BookLevel {
        price: l.price.to_scaled(4).unwrap_or(i64::MIN),
        size: l
            .qty
            .to_scaled(0)
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(u64::MAX),
    }
}

/// Compares one side of `instrument`'s book with `row`; records mismatches.
fn check_side(
    books: &L3Books,
    instrument: InstrumentId,
    row: &BookRow,
    side: Side,
    out: &mut Vec<LevelMismatch>,
) -> bool {
    let mut got = books.levels(instrument, side).map(as_book_level);
    let mut matched = true;
    for level in 0..row.depth {
        let expected = row.side(side).get(level).copied();
        let g = got.next();
        if expected != g {
            matched = false;
            if out.len() < MISMATCH_DETAIL_LIMIT {
                out.push(LevelMismatch {
                    line: row.line,
                    side,
                    level: level + 1,
                    expected,
                    got: g,
                });
            }
        }
    }
    matched
}

/// Replays `capture` (written from `plan` for `symbol`) and checks every checked event's row.
pub fn verify_capture(
    plan: &ImportPlan,
    symbol: &str,
    capture: &KcapReader,
) -> Result<VerifyReport, VerifyError> {
    let mut handler = FeedHandler::for_capture(HandlerConfig::default(), capture.header())?;
    let instrument = handler
        .instruments()
        .id_of(symbol)
        .ok_or_else(|| VerifyError::UnknownSymbol(symbol.to_owned()))?;
    // (sequence after which to check, event index), in sequence order. An event without ITCH
    // messages is checked right after the messages before it.
    let checkpoints: Vec<(u64, usize)> = plan
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.checked && e.end > 0)
        .map(|(i, e)| (op_sequence(e.end - 1), i))
        .collect();
    let mut next = 0usize;
    let (mut checks, mut mismatched) = (0u64, 0u64);
    let mut mismatches = Vec::new();
    let mut check_through = |seq: u64, books: &L3Books| {
        while let Some(&(at, event)) = checkpoints.get(next) {
            if at > seq {
                break;
            }
            next += 1;
            let Some(row) = plan.rows.get(event).and_then(Option::as_ref) else {
                continue;
            };
            for side in [Side::Buy, Side::Sell] {
                checks += 1;
                if !check_side(books, instrument, row, side, &mut mismatches) {
                    mismatched += 1;
                }
            }
        }
    };
    handler.replay_kcap(capture, &mut |ev: &FeedEvent, books: &L3Books| {
        check_through(ev.seq, books);
    });
    // Checkpoints never reached (lost messages) are checked against the final book.
    check_through(u64::MAX, handler.books());
    Ok(VerifyReport {
        checks,
        mismatched,
        learned: plan.report.learned,
        reanchored: plan.report.reanchored,
        mismatches,
        handler: handler.stats(),
        import: plan.report.clone(),
    })
}

/// Imports LOBSTER text in memory and verifies the result through the wire path; returns the
/// plan, the capture bytes and the report.
pub fn verify_lobster(
    messages: &str,
    orderbook: &str,
    symbol: &str,
) -> Result<(ImportPlan, Vec<u8>, VerifyReport), VerifyError> {
    verify_plan(
        plan_import(parse_messages(messages), parse_orderbook(orderbook)),
        symbol,
    )
}

/// Writes `plan` as a capture in memory and verifies it through the wire path (for rows read
/// with [`read_messages`](super::read_messages) / [`read_orderbook`](super::read_orderbook));
/// returns the plan, the capture bytes and the report.
pub fn verify_plan(
    plan: ImportPlan,
    symbol: &str,
) -> Result<(ImportPlan, Vec<u8>, VerifyReport), VerifyError> {
    let bytes = write_lobster_capture(&plan, symbol, Timestamp::ZERO, Vec::new())?;
    let reader = KcapReader::from_bytes(&bytes)?;
    let report = verify_capture(&plan, symbol, &reader)?;
    Ok((plan, bytes, report))
}
