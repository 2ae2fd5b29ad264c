//! Parquet tables through the `arrow` / `parquet` crates: timestamps as
//! `timestamp[ns, tz=UTC]` (null where the time is not known, see [`known_ns`]), prices and quantities as `int64` fixed point with their scale
//! (8 decimals) in the schema metadata (`kestrel.price_scale`, `kestrel.qty_scale`) and in each
//! column's field metadata (`scale`), an empty side as nulls, symbols as strings. Rows are
//! written in batches of [`BATCH_ROWS`].

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{
    Int8Builder, Int64Builder, StringBuilder, TimestampNanosecondBuilder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use kestrel_core::{FIXED_DECIMALS, InstrumentTable, LevelView};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::ExportError;
use super::rows::{Row, RowWriter, TableKind, known_ns};

/// Rows per record batch.
pub const BATCH_ROWS: usize = 65_536;

fn pq(e: impl std::fmt::Display) -> ExportError {
    ExportError::Parquet(e.to_string())
}

fn ts_field(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        true,
    )
}

fn fixed_field(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Int64, nullable).with_metadata(HashMap::from([(
        "scale".to_owned(),
        FIXED_DECIMALS.to_string(),
    )]))
}

/// The schema of a table.
pub fn schema(kind: TableKind, levels: usize) -> SchemaRef {
    let mut fields = vec![
        ts_field("ts_event"),
        ts_field("ts_recv"),
        Field::new("symbol", DataType::Utf8, false),
    ];
    match kind {
        TableKind::Bbo => {
            for name in ["bid_px", "bid_sz", "ask_px", "ask_sz"] {
                fields.push(fixed_field(name, true));
            }
        }
        TableKind::Trades => {
            fields.push(fixed_field("price", false));
            fields.push(fixed_field("qty", false));
            fields.push(Field::new("aggressor", DataType::Int8, false));
            fields.push(Field::new("match_id", DataType::UInt64, false));
        }
        TableKind::Depth | TableKind::Lobster => {
            for side in ["bid", "ask"] {
                for i in 1..=levels {
                    fields.push(fixed_field(&format!("{side}_px_{i}"), true));
                    fields.push(fixed_field(&format!("{side}_sz_{i}"), true));
                }
            }
        }
    }
    let meta = HashMap::from([
        ("kestrel.price_scale".to_owned(), FIXED_DECIMALS.to_string()),
        ("kestrel.qty_scale".to_owned(), FIXED_DECIMALS.to_string()),
        ("kestrel.table".to_owned(), kind.name().to_owned()),
    ]);
    Arc::new(Schema::new_with_metadata(fields, meta))
}

/// Column builders of one batch.
struct Builders {
    ts_event: TimestampNanosecondBuilder,
    ts_recv: TimestampNanosecondBuilder,
    symbol: StringBuilder,
    /// Fixed-point columns in schema order.
    fixed: Vec<Int64Builder>,
    aggressor: Int8Builder,
    match_id: UInt64Builder,
    rows: usize,
}

impl Builders {
    fn new(fixed: usize) -> Self {
        Self {
            ts_event: TimestampNanosecondBuilder::with_capacity(BATCH_ROWS).with_timezone("UTC"),
            ts_recv: TimestampNanosecondBuilder::with_capacity(BATCH_ROWS).with_timezone("UTC"),
            symbol: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 8),
            fixed: (0..fixed)
                .map(|_| Int64Builder::with_capacity(BATCH_ROWS))
                .collect(),
            aggressor: Int8Builder::with_capacity(BATCH_ROWS),
            match_id: UInt64Builder::with_capacity(BATCH_ROWS),
            rows: 0,
        }
    }

    fn level(&mut self, col: usize, l: Option<LevelView>) {
        if let [px, sz] = &mut self.fixed[col..col + 2] {
            px.append_option(l.map(|l| l.price.raw()));
            sz.append_option(l.map(|l| l.qty.raw()));
        }
    }
}

/// Writes one table as Parquet.
pub struct ParquetTable<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    kind: TableKind,
    symbols: Vec<String>,
    builders: Builders,
    rows: u64,
}

impl<W: Write + Send> std::fmt::Debug for ParquetTable<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetTable")
            .field("kind", &self.kind)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send> ParquetTable<W> {
    /// A table of `kind` written to `out` (zstd-compressed pages).
    pub fn new(
        out: W,
        kind: TableKind,
        levels: usize,
        instruments: &InstrumentTable,
    ) -> Result<Self, ExportError> {
        let schema = schema(kind, levels);
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let writer = ArrowWriter::try_new(out, schema.clone(), Some(props)).map_err(pq)?;
        let fixed = match kind {
            TableKind::Bbo => 4,
            TableKind::Trades => 2,
            TableKind::Depth | TableKind::Lobster => 4 * levels,
        };
        Ok(Self {
            writer,
            schema,
            kind,
            symbols: instruments.iter().map(|i| i.symbol.clone()).collect(),
            builders: Builders::new(fixed),
            rows: 0,
        })
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        if self.builders.rows == 0 {
            return Ok(());
        }
        let b = &mut self.builders;
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(b.ts_event.finish()),
            Arc::new(b.ts_recv.finish()),
            Arc::new(b.symbol.finish()),
        ];
        for f in &mut b.fixed {
            columns.push(Arc::new(f.finish()));
        }
        if self.kind == TableKind::Trades {
            columns.push(Arc::new(b.aggressor.finish()));
            columns.push(Arc::new(b.match_id.finish()));
        }
        b.rows = 0;
        let batch = RecordBatch::try_new(self.schema.clone(), columns).map_err(pq)?;
        self.writer.write(&batch).map_err(pq)
    }
}

impl<W: Write + Send> RowWriter for ParquetTable<W> {
    fn write(&mut self, row: &Row<'_>) -> Result<(), ExportError> {
        let symbols = &self.symbols;
        let b = &mut self.builders;
        let sym = |i: kestrel_core::InstrumentId| symbols.get(i.index()).map_or("", String::as_str);
        match row {
            Row::Bbo(r) => {
                b.ts_event.append_option(known_ns(r.ts_event));
                b.ts_recv.append_option(known_ns(r.ts_recv));
                b.symbol.append_value(sym(r.instrument));
                b.level(0, r.bid);
                b.level(2, r.ask);
            }
            Row::Trade(r) => {
                b.ts_event.append_option(known_ns(r.ts_event));
                b.ts_recv.append_option(known_ns(r.ts_recv));
                b.symbol.append_value(sym(r.instrument));
                b.fixed[0].append_value(r.print.price.raw());
                b.fixed[1].append_value(r.print.qty.raw());
                b.aggressor.append_value(r.print.aggressor);
                b.match_id.append_value(r.match_id);
            }
            Row::Depth(r) => {
                b.ts_event.append_option(known_ns(r.ts_event));
                b.ts_recv.append_option(known_ns(r.ts_recv));
                b.symbol.append_value(sym(r.instrument));
                for (i, l) in r.bids.iter().chain(r.asks).enumerate() {
                    b.level(2 * i, *l);
                }
            }
        }
        b.rows += 1;
        self.rows += 1;
        if b.rows >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<u64, ExportError> {
        self.flush()?;
        let rows = self.rows;
        let mut out = self.writer.into_inner().map_err(pq)?;
        out.flush()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{Array, TimestampNanosecondArray};
    use kestrel_core::{InstrumentId, Timestamp};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;
    use crate::export::rows::{BboRow, es_table};

    /// DBN's undefined time (`u64::MAX`) and a time past 2262 are nulls in the nullable
    /// `timestamp[ns, UTC]` columns, not `i64::MAX` (which readers show as 2262-04-11).
    #[test]
    fn unknown_times_are_nulls() {
        let t = es_table();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bbo.parquet");
        let file = std::fs::File::create(&path).unwrap();
        let mut w = Box::new(ParquetTable::new(file, TableKind::Bbo, 0, &t).unwrap());
        let times = [
            (1_700_000_000_000_000_001, u64::MAX),
            (u64::MAX, 1_700_000_000_000_000_002),
            (i64::MAX as u64 + 1, i64::MAX as u64),
        ];
        for (event, recv) in times {
            w.write(&Row::Bbo(BboRow {
                ts_event: Timestamp(event),
                ts_recv: Timestamp(recv),
                instrument: InstrumentId(0),
                bid: None,
                ask: None,
            }))
            .unwrap();
        }
        assert_eq!(w.finish().unwrap(), 3);
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let mut got = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            let col = |i: usize| {
                batch
                    .column(i)
                    .as_any()
                    .downcast_ref::<TimestampNanosecondArray>()
                    .unwrap()
                    .clone()
            };
            let (event, recv) = (col(0), col(1));
            for r in 0..batch.num_rows() {
                let v = |a: &TimestampNanosecondArray| a.is_valid(r).then(|| a.value(r));
                got.push((v(&event), v(&recv)));
            }
        }
        assert_eq!(
            got,
            [
                (Some(1_700_000_000_000_000_001), None),
                (None, Some(1_700_000_000_000_000_002)),
                (None, Some(i64::MAX)),
            ]
        );
    }
}
