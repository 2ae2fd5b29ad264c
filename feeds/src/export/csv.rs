//! CSV tables: a header line, prices and quantities as decimal numbers (trailing zeros
//! trimmed), an empty side as empty fields, timestamps as integer nanoseconds since the epoch.

use std::io::Write;

use kestrel_core::{InstrumentTable, LevelView};

use super::ExportError;
use super::rows::{Row, RowWriter, TableKind};

/// Writes one table as CSV.
#[derive(Debug)]
pub struct CsvTable<W: Write> {
    out: W,
    symbols: Vec<String>,
    rows: u64,
}

/// The header line of a table (`levels` is the depth table's level count).
pub fn csv_header(kind: TableKind, levels: usize) -> String {
    match kind {
        TableKind::Bbo => "ts_event,ts_recv,symbol,bid_px,bid_sz,ask_px,ask_sz".to_owned(),
        TableKind::Trades => "ts_event,ts_recv,symbol,price,qty,aggressor,match_id".to_owned(),
        TableKind::Depth | TableKind::Lobster => {
            let mut h = String::from("ts_event,ts_recv,symbol");
            for side in ["bid", "ask"] {
                for i in 1..=levels {
                    h.push_str(&format!(",{side}_px_{i},{side}_sz_{i}"));
                }
            }
            h
        }
    }
}

impl<W: Write> CsvTable<W> {
    /// A table of `kind` written to `out`, its header first.
    pub fn new(
        mut out: W,
        kind: TableKind,
        levels: usize,
        instruments: &InstrumentTable,
    ) -> Result<Self, ExportError> {
        writeln!(out, "{}", csv_header(kind, levels))?;
        Ok(Self {
            out,
            symbols: instruments.iter().map(|i| i.symbol.clone()).collect(),
            rows: 0,
        })
    }
}

fn level(out: &mut impl Write, l: Option<LevelView>) -> std::io::Result<()> {
    match l {
        Some(l) => write!(out, ",{},{}", l.price, l.qty),
        None => out.write_all(b",,"),
    }
}

impl<W: Write> RowWriter for CsvTable<W> {
    fn write(&mut self, row: &Row<'_>) -> Result<(), ExportError> {
        self.rows += 1;
        let Self { out, symbols, .. } = self;
        let sym = |i: kestrel_core::InstrumentId| symbols.get(i.index()).map_or("", String::as_str);
        match row {
            Row::Bbo(r) => {
                write!(
                    out,
                    "{},{},{}",
                    r.ts_event.0,
                    r.ts_recv.0,
                    sym(r.instrument)
                )?;
                level(out, r.bid)?;
                level(out, r.ask)?;
            }
            Row::Trade(r) => {
                write!(
                    out,
                    "{},{},{},{},{},{},{}",
                    r.ts_event.0,
                    r.ts_recv.0,
                    sym(r.instrument),
                    r.print.price,
                    r.print.qty,
                    r.print.aggressor,
                    r.match_id
                )?;
            }
            Row::Depth(r) => {
                write!(
                    out,
                    "{},{},{}",
                    r.ts_event.0,
                    r.ts_recv.0,
                    sym(r.instrument)
                )?;
                for l in r.bids.iter().chain(r.asks) {
                    level(out, *l)?;
                }
            }
        }
        out.write_all(b"\n")?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<u64, ExportError> {
        self.out.flush()?;
        Ok(self.rows)
    }
}
