//! `kestrel export bbo|trades|depth|lobster F.kcap --out DIR [--symbols ...] [--levels N]
//! [--format csv|parquet]`: research tables from any capture (ITCH, Binance, DBN).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use kestrel_feeds::export::{ExportFormat, ExportOptions, TableKind, export_capture};

/// Which table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Table {
    /// Best bid and offer: a row each time an instrument's top changes after a complete book
    /// update.
    Bbo,
    /// Trades with aggressor (+1 buyer, -1 seller, 0 unknown) and match id.
    Trades,
    /// Top-N levels after each complete book update.
    Depth,
    /// LOBSTER message and orderbook files, one pair per instrument.
    Lobster,
}

/// File format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// CSV with a header (decimal prices).
    Csv,
    /// Parquet (ns timestamps, fixed-point integer prices with their scale).
    Parquet,
}

/// `kestrel export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Table to write.
    pub table: Table,
    /// Capture (.kcap of ITCH, Binance JSON or DBN).
    pub capture: PathBuf,
    /// Output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Symbols to keep (default all), comma-separated or repeated.
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// Levels per side (depth and lobster; 1 to 10).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=10))]
    pub levels: u16,
    /// File format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// LOBSTER price decimals (4 is LOBSTER's own dollars x 10,000).
    #[arg(long, default_value_t = 4)]
    pub lobster_decimals: u32,
}

impl ExportArgs {
    /// Runs the export.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let options = ExportOptions {
            kind: match self.table {
                Table::Bbo => TableKind::Bbo,
                Table::Trades => TableKind::Trades,
                Table::Depth => TableKind::Depth,
                Table::Lobster => TableKind::Lobster,
            },
            out_dir: self.out.clone(),
            symbols: (!self.symbols.is_empty()).then_some(self.symbols),
            levels: usize::from(self.levels),
            format: match self.format {
                Format::Csv => ExportFormat::Csv,
                Format::Parquet => ExportFormat::Parquet,
            },
            lobster_decimals: self.lobster_decimals,
        };
        let report = export_capture(&self.capture, &options)
            .with_context(|| format!("exporting {}", self.capture.display()))?;
        for f in &report.files {
            println!("wrote {}", f.display());
        }
        println!(
            "rows={} records={} anomalies={} skipped_trades={}",
            report.rows, report.records, report.anomalies, report.skipped_trades
        );
        Ok(ExitCode::SUCCESS)
    }
}
