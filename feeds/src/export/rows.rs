//! The rows of the research tables, independent of the file format.

use kestrel_core::{InstrumentId, LevelView, Timestamp, TradePrint};

/// Which table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TableKind {
    /// Best bid and offer, a row each time an instrument's top changes after a complete book
    /// update.
    Bbo,
    /// Trades with aggressor and match number.
    Trades,
    /// Top-N levels after each complete book update.
    Depth,
    /// LOBSTER message and orderbook files.
    Lobster,
}

impl TableKind {
    /// The table's file stem.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Bbo => "bbo",
            Self::Trades => "trades",
            Self::Depth => "depth",
            Self::Lobster => "lobster",
        }
    }
}

/// A time as signed nanoseconds since the epoch, or `None` when it is not known: DBN writes
/// `UNDEF_TIMESTAMP` (`u64::MAX`) for a time the venue did not give, and no time after
/// 2262-04-11 fits a signed 64-bit nanosecond timestamp. Both formats write `None` the same
/// way: an empty CSV field, a Parquet null.
pub fn known_ns(t: Timestamp) -> Option<i64> {
    i64::try_from(t.0).ok()
}

/// One BBO row (an empty side is `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BboRow {
    /// Venue time.
    pub ts_event: Timestamp,
    /// Local receive time.
    pub ts_recv: Timestamp,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Best bid.
    pub bid: Option<LevelView>,
    /// Best ask.
    pub ask: Option<LevelView>,
}

/// One trade row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeRow {
    /// Venue time.
    pub ts_event: Timestamp,
    /// Local receive time.
    pub ts_recv: Timestamp,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Price, quantity and aggressor (+1 buyer, -1 seller, 0 unknown).
    pub print: TradePrint,
    /// The venue's trade / match id (0 when none).
    pub match_id: u64,
}

/// One depth row: `levels` levels per side, best first (`None` beyond the book).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthRow<'a> {
    /// Venue time.
    pub ts_event: Timestamp,
    /// Local receive time.
    pub ts_recv: Timestamp,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Bid levels (exactly the table's level count).
    pub bids: &'a [Option<LevelView>],
    /// Ask levels (exactly the table's level count).
    pub asks: &'a [Option<LevelView>],
}

/// A table row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Row<'a> {
    /// BBO.
    Bbo(BboRow),
    /// Trade.
    Trade(TradeRow),
    /// Depth.
    Depth(DepthRow<'a>),
}

/// Where rows go (CSV or Parquet).
pub trait RowWriter {
    /// Writes one row.
    fn write(&mut self, row: &Row<'_>) -> Result<(), super::ExportError>;
    /// Flushes and closes the file; returns the rows written.
    fn finish(self: Box<Self>) -> Result<u64, super::ExportError>;
}

/// One instrument (ESZ4, tick 0.25, lot 1) for the writers' unit tests.
#[cfg(test)]
pub(crate) fn es_table() -> kestrel_core::InstrumentTable {
    let mut t = kestrel_core::InstrumentTable::new();
    t.add(
        "ESZ4",
        kestrel_core::Price::from_raw(25_000_000),
        kestrel_core::Qty::from_raw(100_000_000),
        2,
    )
    .unwrap();
    t
}
