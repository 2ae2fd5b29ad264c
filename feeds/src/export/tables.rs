//! Turning a feed's events into table rows: the [`TableBuilder`] is a [`VenueSink`] for any
//! book kind, so the ITCH, Binance and DBN handlers all feed it.

use kestrel_core::{BookTop, InstrumentId, LevelView, TOP_LEVELS};

use super::ExportError;
use super::rows::{BboRow, DepthRow, Row, RowWriter, TableKind, TradeRow};
use crate::venue::{TopOfBook, VenueEvent, VenueSink};

/// Builds one table's rows from venue events. Rows go to a [`RowWriter`]; the first write error
/// is kept (and stops further writes) for the caller to report.
pub struct TableBuilder {
    kind: TableKind,
    levels: usize,
    writer: Box<dyn RowWriter>,
    /// Instruments to export (`None`: all).
    wanted: Option<Vec<bool>>,
    /// Last BBO written per instrument (`None` entry: none yet).
    last_bbo: Vec<Option<(Option<LevelView>, Option<LevelView>)>>,
    scratch: [Vec<Option<LevelView>>; 2],
    error: Option<ExportError>,
    events: u64,
}

impl std::fmt::Debug for TableBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableBuilder")
            .field("kind", &self.kind)
            .field("levels", &self.levels)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl TableBuilder {
    /// A builder of `kind` rows (`levels` per side for depth, at most [`TOP_LEVELS`]) for
    /// `instruments` instruments, keeping only `wanted` ones when given.
    pub fn new(
        kind: TableKind,
        levels: usize,
        instruments: usize,
        wanted: Option<Vec<bool>>,
        writer: Box<dyn RowWriter>,
    ) -> Self {
        let levels = levels.clamp(1, TOP_LEVELS);
        Self {
            kind,
            levels,
            writer,
            wanted,
            last_bbo: vec![None; instruments],
            scratch: [vec![None; levels], vec![None; levels]],
            error: None,
            events: 0,
        }
    }

    fn wanted(&self, id: InstrumentId) -> bool {
        self.wanted
            .as_ref()
            .is_none_or(|w| w.get(id.index()).copied().unwrap_or(false))
    }

    fn write(&mut self, row: &Row<'_>) {
        if self.error.is_none()
            && let Err(e) = self.writer.write(row)
        {
            self.error = Some(e);
        }
    }

    /// Closes the table; returns the rows written, or the first write error.
    pub fn finish(self) -> Result<u64, ExportError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.writer.finish()
    }

    fn on_book<B: TopOfBook + ?Sized>(
        &mut self,
        books: &B,
        instrument: InstrumentId,
        ts_event: kestrel_core::Timestamp,
        ts_recv: kestrel_core::Timestamp,
        shown: bool,
    ) {
        let mut top = BookTop::default();
        if shown {
            books.fill_top(instrument, &mut top);
        }
        match self.kind {
            TableKind::Bbo => {
                let now = (top.best_bid(), top.best_ask());
                let Some(slot) = self.last_bbo.get_mut(instrument.index()) else {
                    return;
                };
                // An invalid book is written once as empty, then nothing until it is shown.
                if *slot == Some(now) || (slot.is_none() && !shown) {
                    return;
                }
                *slot = Some(now);
                self.write(&Row::Bbo(BboRow {
                    ts_event,
                    ts_recv,
                    instrument,
                    bid: now.0,
                    ask: now.1,
                }));
            }
            TableKind::Depth => {
                if !shown {
                    return;
                }
                let [mut bids, mut asks] = std::mem::take(&mut self.scratch);
                for (i, slot) in bids.iter_mut().enumerate() {
                    *slot = top.side(kestrel_core::Side::Buy).get(i).copied();
                }
                for (i, slot) in asks.iter_mut().enumerate() {
                    *slot = top.side(kestrel_core::Side::Sell).get(i).copied();
                }
                self.write(&Row::Depth(DepthRow {
                    ts_event,
                    ts_recv,
                    instrument,
                    bids: &bids,
                    asks: &asks,
                }));
                self.scratch = [bids, asks];
            }
            TableKind::Trades | TableKind::Lobster => {}
        }
    }
}

impl<B: TopOfBook + ?Sized> VenueSink<B> for TableBuilder {
    fn on_venue(&mut self, event: &VenueEvent, books: &B) {
        self.events += 1;
        if !self.wanted(event.instrument()) {
            return;
        }
        match *event {
            VenueEvent::Book {
                instrument,
                exch_ts,
                recv_ts,
                shown,
                ..
            } => self.on_book(books, instrument, exch_ts, recv_ts, shown),
            VenueEvent::Trade {
                instrument,
                exch_ts,
                recv_ts,
                print,
                match_id,
            } if self.kind == TableKind::Trades => {
                self.write(&Row::Trade(TradeRow {
                    ts_event: exch_ts,
                    ts_recv: recv_ts,
                    instrument,
                    print,
                    match_id,
                }));
            }
            _ => {}
        }
    }
}
