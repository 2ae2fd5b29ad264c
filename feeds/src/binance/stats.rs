//! Counters of one Binance feed run.

use kestrel_core::book::BookStats;

use super::error::BinanceErrorKind;

/// Counters of a [`BinanceFeed`](super::BinanceFeed). `Copy`: a snapshot costs nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BinanceStats {
    /// Messages handed to the feed.
    pub records: u64,
    /// Damaged capture stretches reported by the capture reader.
    pub capture_errors: u64,
    /// Depth diffs decoded.
    pub depth_diffs: u64,
    /// Diffs applied to a book.
    pub diffs_applied: u64,
    /// Diffs buffered while waiting for a snapshot.
    pub diffs_buffered: u64,
    /// Diffs dropped as already covered (by the snapshot, or duplicates / out of order).
    pub stale_diffs: u64,
    /// Breaks in the diff chain: the book was invalid until the next snapshot.
    pub gaps: u64,
    /// Depth snapshots decoded.
    pub snapshots: u64,
    /// Snapshots applied.
    pub snapshots_applied: u64,
    /// Snapshots ignored as no newer than a synchronised book.
    pub stale_snapshots: u64,
    /// Snapshots older than the buffered diffs (refused).
    pub snapshots_too_old: u64,
    /// Times a diff buffer overflowed and was emptied.
    pub buffer_overflows: u64,
    /// `bookTicker` messages decoded.
    pub book_tickers: u64,
    /// Trades decoded.
    pub trades: u64,
    /// Book updates published (synchronised, not crossed).
    pub book_updates: u64,
    /// Times a complete update left the book crossed (withheld until it uncrossed).
    pub crossed_withheld: u64,
    /// Malformed JSON, wrong value types.
    pub json_errors: u64,
    /// Messages without a field their type requires.
    pub missing_fields: u64,
    /// Unknown event types and shapes.
    pub unknown_messages: u64,
    /// Numbers that are not exact decimals, negative, or off the instrument's tick/lot grid.
    pub number_errors: u64,
    /// Messages for symbols outside the instrument table (and snapshots for unknown ids).
    pub unknown_symbols: u64,
    /// Book counters.
    pub book: BookStats,
}

impl BinanceStats {
    pub(crate) fn count_error(&mut self, kind: &BinanceErrorKind) {
        match kind {
            BinanceErrorKind::Json { .. } => self.json_errors += 1,
            BinanceErrorKind::MissingField { .. } => self.missing_fields += 1,
            BinanceErrorKind::UnknownEvent(_) | BinanceErrorKind::UnknownShape => {
                self.unknown_messages += 1;
            }
            BinanceErrorKind::Number { .. }
            | BinanceErrorKind::OffGrid { .. }
            | BinanceErrorKind::Negative { .. }
            | BinanceErrorKind::TooManyLevels(_) => self.number_errors += 1,
            BinanceErrorKind::UnknownSymbol(_) | BinanceErrorKind::SnapshotInstrument(_) => {
                self.unknown_symbols += 1;
            }
            // Counted where they happen.
            BinanceErrorKind::Gap { .. } | BinanceErrorKind::SnapshotTooOld { .. } => {}
        }
    }

    /// Every anomaly, each incident once: capture damage, bad messages, gaps, refused
    /// snapshots, buffer overflows and crossed books.
    pub fn anomalies(&self) -> u64 {
        self.capture_errors
            + self.json_errors
            + self.missing_fields
            + self.unknown_messages
            + self.number_errors
            + self.unknown_symbols
            + self.gaps
            + self.snapshots_too_old
            + self.buffer_overflows
            + self.crossed_withheld
    }
}
