//! Counters of one DBN feed run.

use kestrel_core::book::BookStats;

use super::error::DbnErrorKind;

/// Counters of a [`DbnFeed`](super::DbnFeed). `Copy`: a snapshot costs nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DbnStats {
    /// DBN records handed to the feed.
    pub records: u64,
    /// Damaged capture stretches reported by the capture reader.
    pub capture_errors: u64,
    /// MBO records.
    pub mbo: u64,
    /// MBP-1 / TBBO records.
    pub mbp1: u64,
    /// MBP-10 records.
    pub mbp10: u64,
    /// Trade records.
    pub trades: u64,
    /// Instrument definitions.
    pub definitions: u64,
    /// Other known records (status, statistics, OHLCV, ...).
    pub other: u64,
    /// MBO records carrying `F_SNAPSHOT`.
    pub snapshot_records: u64,
    /// MBO records without `F_LAST` (grouped into the update their `F_LAST` record closes).
    pub grouped: u64,
    /// MBO clears (`R`).
    pub clears: u64,
    /// MBO fills (`F`: the book changes with the cancel that follows).
    pub fills: u64,
    /// Modifies of orders the stream never added (entered as adds).
    pub modify_unknown: u64,
    /// Trade prints (MBO `T`, MBP records whose action is `T`, trade records).
    pub trade_prints: u64,
    /// Complete book updates published (not crossed).
    pub book_updates: u64,
    /// Complete updates that left a book crossed (withheld).
    pub crossed: u64,
    /// Records the `dbn` crate could not decode.
    pub decode_errors: u64,
    /// Records cut short.
    pub truncated: u64,
    /// Records of an unknown type (skipped).
    pub unknown_record_types: u64,
    /// Prices finer than 8 decimals.
    pub too_precise: u64,
    /// Sides that are neither bid nor ask where one is needed.
    pub bad_sides: u64,
    /// Unknown MBO actions.
    pub bad_actions: u64,
    /// Records for instrument ids outside the capture's map.
    pub unknown_instruments: u64,
    /// Events the book refused.
    pub book_errors: u64,
    /// L3 book counters (MBO).
    pub l3: BookStats,
    /// L2 book counters (MBP).
    pub l2: BookStats,
}

impl DbnStats {
    pub(crate) fn count_error(&mut self, kind: &DbnErrorKind) {
        match kind {
            DbnErrorKind::Decode(_)
            | DbnErrorKind::InstrumentMap(_)
            | DbnErrorKind::ShortRecord { .. }
            | DbnErrorKind::LengthMismatch { .. } => self.decode_errors += 1,
            DbnErrorKind::Truncated => self.truncated += 1,
            DbnErrorKind::UnknownRecordType(_) => self.unknown_record_types += 1,
            DbnErrorKind::TooPrecise(_) => self.too_precise += 1,
            DbnErrorKind::BadSide(_) => self.bad_sides += 1,
            DbnErrorKind::BadAction(_) => self.bad_actions += 1,
            DbnErrorKind::UnknownInstrument(_) => self.unknown_instruments += 1,
            DbnErrorKind::Book(_) => self.book_errors += 1,
        }
    }

    /// Times a book grew past its start sizes (levels per side, orders, the order map,
    /// instruments): each is an allocation on the feed thread, not a loss (a book deeper than
    /// `BookConfig` holds keeps every level and order).
    pub fn book_growths(&self) -> u64 {
        let growths = |b: &kestrel_core::book::BookStats| {
            b.level_growths + b.order_pool_growths + b.order_map_growths + b.instrument_growths
        };
        growths(&self.l3) + growths(&self.l2)
    }

    /// Every anomaly, each incident once.
    pub fn anomalies(&self) -> u64 {
        self.capture_errors
            + self.decode_errors
            + self.truncated
            + self.unknown_record_types
            + self.too_precise
            + self.bad_sides
            + self.bad_actions
            + self.unknown_instruments
            + self.book_errors
            + self.crossed
    }
}
