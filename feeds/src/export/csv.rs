//! CSV tables: a header line, prices and quantities as decimal numbers (trailing zeros
//! trimmed), an empty side as empty fields, timestamps as integer nanoseconds since the epoch
//! (an empty field where the time is not known, see [`known_ns`]).

use std::io::Write;

use kestrel_core::{FIXED_TEXT_MAX, InstrumentTable, LevelView};

use super::ExportError;
use super::rows::{Row, RowWriter, TableKind, known_ns};

/// Writes one table as CSV.
#[derive(Debug)]
pub struct CsvTable<W: Write> {
    out: W,
    symbols: Vec<String>,
    rows: u64,
    /// The row being formatted, written to `out` whole.
    line: Vec<u8>,
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
            line: Vec::with_capacity(256),
        })
    }
}

/// `,price,qty` of a level, or `,,` for none: the values' text straight into the line, as
/// `Display` writes it, without going through `fmt` (a 10-level depth row has 40 of them).
fn level(line: &mut Vec<u8>, l: Option<LevelView>) {
    let mut buf = [0; FIXED_TEXT_MAX];
    match l {
        Some(l) => {
            line.push(b',');
            line.extend_from_slice(l.price.ascii(&mut buf));
            line.push(b',');
            line.extend_from_slice(l.qty.ascii(&mut buf));
        }
        None => line.extend_from_slice(b",,"),
    }
}

/// The two time fields, `ts_event,ts_recv` (empty where not known).
fn times(
    out: &mut impl Write,
    event: kestrel_core::Timestamp,
    recv: kestrel_core::Timestamp,
) -> std::io::Result<()> {
    match known_ns(event) {
        Some(ns) => write!(out, "{ns},")?,
        None => out.write_all(b",")?,
    }
    match known_ns(recv) {
        Some(ns) => write!(out, "{ns}"),
        None => Ok(()),
    }
}

impl<W: Write> RowWriter for CsvTable<W> {
    fn write(&mut self, row: &Row<'_>) -> Result<(), ExportError> {
        self.rows += 1;
        let Self {
            out, symbols, line, ..
        } = self;
        line.clear();
        let sym = |i: kestrel_core::InstrumentId| symbols.get(i.index()).map_or("", String::as_str);
        match row {
            Row::Bbo(r) => {
                times(line, r.ts_event, r.ts_recv)?;
                line.push(b',');
                line.extend_from_slice(sym(r.instrument).as_bytes());
                level(line, r.bid);
                level(line, r.ask);
            }
            Row::Trade(r) => {
                times(line, r.ts_event, r.ts_recv)?;
                write!(
                    line,
                    ",{},{},{},{},{}",
                    sym(r.instrument),
                    r.print.price,
                    r.print.qty,
                    r.print.aggressor,
                    r.match_id
                )?;
            }
            Row::Depth(r) => {
                times(line, r.ts_event, r.ts_recv)?;
                line.push(b',');
                line.extend_from_slice(sym(r.instrument).as_bytes());
                for l in r.bids.iter().chain(r.asks) {
                    level(line, *l);
                }
            }
        }
        line.push(b'\n');
        out.write_all(line)?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<u64, ExportError> {
        self.out.flush()?;
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use kestrel_core::{InstrumentId, Price, Qty, Timestamp, TradeKind, TradePrint};

    use super::*;
    use crate::export::rows::{BboRow, TradeRow, es_table as table};

    /// DBN's undefined time (`u64::MAX`) and any time past what a signed nanosecond timestamp
    /// holds are written as empty fields, not as a number no reader can turn into a date.
    #[test]
    fn unknown_times_are_empty_fields() {
        let mut w = CsvTable::new(Vec::new(), TableKind::Trades, 0, &table()).unwrap();
        let print = TradePrint {
            price: Price::from_raw(600_025_000_000),
            qty: Qty::from_raw(300_000_000),
            match_number: 7,
            aggressor: 1,
            kind: TradeKind::Execution,
        };
        let row = |ts_event: u64, ts_recv: u64| {
            Row::Trade(TradeRow {
                ts_event: Timestamp(ts_event),
                ts_recv: Timestamp(ts_recv),
                instrument: InstrumentId(0),
                print,
                match_id: 7,
            })
        };
        w.write(&row(1_700_000_000_000_000_001, u64::MAX)).unwrap();
        w.write(&row(u64::MAX, 1_700_000_000_000_000_002)).unwrap();
        w.write(&row(i64::MAX as u64 + 1, i64::MAX as u64)).unwrap();
        let mut bbo = CsvTable::new(Vec::new(), TableKind::Bbo, 0, &table()).unwrap();
        bbo.write(&Row::Bbo(BboRow {
            ts_event: Timestamp(u64::MAX),
            ts_recv: Timestamp(u64::MAX),
            instrument: InstrumentId(0),
            bid: None,
            ask: None,
        }))
        .unwrap();
        let text = String::from_utf8(w.out).unwrap();
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(
            lines,
            [
                "1700000000000000001,,ESZ4,6000.25,3,1,7",
                ",1700000000000000002,ESZ4,6000.25,3,1,7",
                ",9223372036854775807,ESZ4,6000.25,3,1,7",
            ]
        );
        let text = String::from_utf8(bbo.out).unwrap();
        assert_eq!(text.lines().nth(1), Some(",,ESZ4,,,,"));
    }
}
