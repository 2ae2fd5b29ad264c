//! Research tables from any capture (`kestrel export`): BBO changes, trades, top-N depth and
//! LOBSTER message/orderbook files, as CSV or (with the `parquet` feature) Parquet.
//!
//! The capture replays through its own feed (ITCH, Binance or DBN, by the kcap payload kind);
//! a [`TableBuilder`] or [`LobsterExport`] receives the feed's events and writes rows.
//!
//! - [`rows`]: the row types and the [`RowWriter`] trait.
//! - [`tables`]: events -> rows.
//! - [`csv`]: CSV writer.
//! - `parquet`: Parquet writer (arrow/parquet crates), nanosecond timestamps, fixed-point
//!   prices as integers with their scale in the schema.
//! - [`lobster`]: LOBSTER files.
//! - [`itch_events`]: the ITCH handler's events as venue events.

pub mod csv;
pub mod itch_events;
pub mod lobster;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod rows;
pub mod tables;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use kestrel_core::InstrumentTable;

pub use lobster::LobsterExport;
pub use rows::{BboRow, DepthRow, Row, RowWriter, TableKind, TradeRow, known_ns};
pub use tables::TableBuilder;

use crate::binance::BinanceFeed;
use crate::dbn::DbnFeed;
use crate::handler::{FeedHandler, HandlerConfig};
use crate::kcap::{KcapReader, PayloadKind};
use crate::venue::{VenueEvent, VenueSink};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing a file failed.
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
    /// The options do not fit the capture.
    #[error("{0}")]
    Options(String),
    /// A value the output format cannot hold exactly.
    #[error("{0}")]
    Unrepresentable(String),
    /// The Parquet writer failed.
    #[error("parquet: {0}")]
    Parquet(String),
    /// The capture cannot be replayed.
    #[error("capture: {0}")]
    Capture(String),
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// CSV with a header.
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// What to export.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// Which table.
    pub kind: TableKind,
    /// Output directory (created if missing).
    pub out_dir: PathBuf,
    /// Symbols to keep (`None`: all).
    pub symbols: Option<Vec<String>>,
    /// Levels per side (depth and LOBSTER).
    pub levels: usize,
    /// File format (LOBSTER is always CSV).
    pub format: ExportFormat,
    /// LOBSTER price decimals (4: dollars x 10,000).
    pub lobster_decimals: u32,
}

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Rows written (LOBSTER: message rows).
    pub rows: u64,
    /// Capture records read.
    pub records: u64,
    /// Feed anomalies met on the way.
    pub anomalies: u64,
    /// LOBSTER: trades left out for want of an aggressor side.
    pub skipped_trades: u64,
}

fn wanted(
    table: &InstrumentTable,
    symbols: Option<&[String]>,
) -> Result<Option<Vec<bool>>, ExportError> {
    let Some(symbols) = symbols else {
        return Ok(None);
    };
    let mut w = vec![false; table.len()];
    for s in symbols {
        let id = table
            .id_of(s)
            .ok_or_else(|| ExportError::Options(format!("symbol {s} is not in the capture")))?;
        w[id.index()] = true;
    }
    Ok(Some(w))
}

/// The capture's feed, replayed into `sink`; returns (instruments, records, anomalies).
fn replay_into<S>(
    reader: &KcapReader,
    sink: &mut S,
) -> Result<(InstrumentTable, u64, u64), ExportError>
where
    S: VenueSink<kestrel_core::book::L2Books>
        + VenueSink<kestrel_core::book::L3Books>
        + VenueSink<crate::dbn::DbnBooks>,
{
    let header = reader.header();
    match header.payload_kind {
        PayloadKind::BinanceJson => {
            let mut feed = BinanceFeed::for_capture(header)
                .map_err(|e| ExportError::Capture(e.to_string()))?;
            for r in reader.records() {
                match r {
                    Ok(r) => {
                        let _ = feed.on_message(r.recv_ts, r.channel, r.payload, sink);
                    }
                    Err(_) => feed.count_capture_error(),
                }
            }
            let s = feed.stats();
            Ok((feed.instruments().clone(), s.records, s.anomalies()))
        }
        PayloadKind::Dbn => {
            let mut feed =
                DbnFeed::for_capture(header).map_err(|e| ExportError::Capture(e.to_string()))?;
            for r in reader.records() {
                match r {
                    Ok(r) => {
                        let _ = feed.on_record(&r, sink);
                    }
                    Err(_) => feed.count_capture_error(),
                }
            }
            let s = feed.stats();
            Ok((feed.instruments().clone(), s.records, s.anomalies()))
        }
        _ => {
            let mut handler = FeedHandler::for_capture(HandlerConfig::default(), header)
                .map_err(|e| ExportError::Capture(e.to_string()))?;
            let mut adapter = itch_events::ItchEvents { sink };
            handler.replay_kcap(reader, &mut adapter);
            let s = handler.stats();
            Ok((handler.instruments().clone(), s.records, s.anomalies()))
        }
    }
}

/// The instruments of a capture header.
fn header_table(reader: &KcapReader) -> Result<InstrumentTable, ExportError> {
    crate::handler::header_instruments(reader.header())
        .map_err(|e| ExportError::Capture(e.to_string()))
}

/// Opens the output file of a table.
fn table_writer(
    options: &ExportOptions,
    table: &InstrumentTable,
) -> Result<(Box<dyn RowWriter>, PathBuf), ExportError> {
    let ext = match options.format {
        ExportFormat::Csv => "csv",
        ExportFormat::Parquet => "parquet",
    };
    let path = options
        .out_dir
        .join(format!("{}.{ext}", options.kind.name()));
    let file = BufWriter::new(File::create(&path)?);
    let writer: Box<dyn RowWriter> = match options.format {
        ExportFormat::Csv => Box::new(csv::CsvTable::new(
            file,
            options.kind,
            options.levels,
            table,
        )?),
        #[cfg(feature = "parquet")]
        ExportFormat::Parquet => Box::new(parquet::ParquetTable::new(
            file,
            options.kind,
            options.levels,
            table,
        )?),
        #[cfg(not(feature = "parquet"))]
        ExportFormat::Parquet => {
            return Err(ExportError::Options(
                "this build has no Parquet support (feature `parquet`)".into(),
            ));
        }
    };
    Ok((writer, path))
}

/// A sink that forwards to a table builder or a LOBSTER export.
enum Target {
    Table(TableBuilder),
    Lobster(LobsterExport),
}

impl<B: crate::venue::TopOfBook + ?Sized> VenueSink<B> for Target {
    fn on_venue(&mut self, event: &VenueEvent, books: &B) {
        match self {
            Self::Table(t) => t.on_venue(event, books),
            Self::Lobster(l) => l.on_venue(event, books),
        }
    }

    fn want_details(&self) -> bool {
        matches!(self, Self::Lobster(_))
    }
}

/// Exports one table of the capture at `path`.
pub fn export_capture(path: &Path, options: &ExportOptions) -> Result<ExportReport, ExportError> {
    let reader = KcapReader::open(path).map_err(|e| ExportError::Capture(e.to_string()))?;
    let table = header_table(&reader)?;
    std::fs::create_dir_all(&options.out_dir)?;
    let wanted = wanted(&table, options.symbols.as_deref())?;
    let mut report = ExportReport::default();
    let (mut target, path) = if options.kind == TableKind::Lobster {
        if options.format == ExportFormat::Parquet {
            return Err(ExportError::Options(
                "LOBSTER files are CSV by definition: use --format csv".into(),
            ));
        }
        let l = LobsterExport::new(
            &options.out_dir,
            options.levels,
            options.lobster_decimals,
            &table,
            wanted,
        )?;
        (Target::Lobster(l), None)
    } else {
        let (writer, path) = table_writer(options, &table)?;
        (
            Target::Table(TableBuilder::new(
                options.kind,
                options.levels,
                table.len(),
                wanted,
                writer,
            )),
            Some(path),
        )
    };
    let (_, records, anomalies) = replay_into(&reader, &mut target)?;
    report.records = records;
    report.anomalies = anomalies;
    match target {
        Target::Table(t) => {
            report.rows = t.finish()?;
            report.files.extend(path);
        }
        Target::Lobster(l) => {
            let (_, rows, skipped) = l.finish()?;
            report.rows = rows;
            report.skipped_trades = skipped;
            let mut names: Vec<PathBuf> = std::fs::read_dir(&options.out_dir)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.contains("_message_") || n.contains("_orderbook_"))
                })
                .collect();
            names.sort();
            report.files = names;
        }
    }
    Ok(report)
}
