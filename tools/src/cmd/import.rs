//! `kestrel import lobster|itch|binance|dbn`: convert LOBSTER CSV or a raw NASDAQ ITCH file into
//! a MoldUDP64 / ITCH 5.0 `.kcap`; Binance and DBN live in their own files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use kestrel_feeds::handler::write_itch_capture;
use kestrel_feeds::lobster::{
    BookRow, ImportReport, LobsterError, LobsterMessage, open_lobster, plan_import, read_messages,
    read_orderbook, write_lobster_capture,
};

use super::now_ns;

/// What to import.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// LOBSTER message + orderbook CSV -> ITCH in MoldUDP64 in a .kcap.
    Lobster(LobsterArgs),
    /// A raw NASDAQ ITCH 5.0 file (either framing) -> MoldUDP64 packets in a .kcap.
    Itch(ItchArgs),
    /// A raw Binance `<local ns> <json>` capture (plain or gzip) -> a Binance JSON .kcap.
    Binance(super::import_binance::BinanceImportArgs),
    /// A Databento DBN file (v1-v3, plain or zstd) -> a DBN .kcap.
    Dbn(super::import_dbn::DbnImportArgs),
}

/// `kestrel import lobster`.
#[derive(Debug, Args)]
pub struct LobsterArgs {
    /// LOBSTER message file (CSV, or gzip-compressed `.csv.gz`).
    #[arg(long)]
    pub messages: PathBuf,
    /// LOBSTER orderbook file (CSV or `.csv.gz`), one row per message.
    #[arg(long)]
    pub orderbook: PathBuf,
    /// Symbol to publish the events under (1 to 8 ASCII characters).
    #[arg(long)]
    pub symbol: String,
    /// Output capture.
    #[arg(long)]
    pub out: PathBuf,
}

/// `kestrel import itch`.
#[derive(Debug, Args)]
pub struct ItchArgs {
    /// Raw ITCH 5.0 file.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// Output capture.
    #[arg(long)]
    pub out: PathBuf,
}

impl ImportCommand {
    /// Runs the import.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            Self::Lobster(a) => a.run(),
            Self::Itch(a) => a.run(),
            Self::Binance(a) => a.run(),
            Self::Dbn(a) => a.run(),
        }
    }
}

/// Parsed rows of a LOBSTER message file and its orderbook file.
pub type LobsterRows = (
    Vec<Result<LobsterMessage, LobsterError>>,
    Vec<Result<BookRow, LobsterError>>,
);

/// Reads and parses a LOBSTER message file and its orderbook file (plain or gzip, streamed).
pub fn read_lobster_rows(messages: &Path, orderbook: &Path) -> anyhow::Result<LobsterRows> {
    let read =
        |path: &Path| open_lobster(path).with_context(|| format!("opening {}", path.display()));
    let m = read_messages(read(messages)?)
        .with_context(|| format!("reading {}", messages.display()))?;
    let b = read_orderbook(read(orderbook)?)
        .with_context(|| format!("reading {}", orderbook.display()))?;
    Ok((m, b))
}

/// Prints the import's row errors and counts (shared with `verify`).
pub fn print_import_report(r: &ImportReport) {
    if r.book_rows != r.messages {
        println!(
            "warning: {} message rows but {} book rows: rows pair by line, unpaired messages are not checked",
            r.messages, r.book_rows
        );
    }
    for e in r.message_errors.iter().take(10) {
        println!("message file: {e}");
    }
    for e in r.book_errors.iter().take(10) {
        println!("orderbook file: {e}");
    }
    for u in r.unapplied.iter().take(10) {
        println!("line {}: event not applicable: {}", u.line, u.error);
    }
    println!(
        "rows={} bad_messages={} bad_book_rows={} unapplied={} initial_levels={} learned={} vanished={} adjusted={} reattributed_events={} reanchored={} crosses={} cross_executions={} halts={}",
        r.messages,
        r.message_errors.len(),
        r.book_errors.len(),
        r.unapplied.len(),
        r.initial_levels,
        r.learned,
        r.vanished,
        r.adjusted,
        r.reattributed_events,
        r.reanchored,
        r.crosses,
        r.cross_executions,
        r.halts
    );
}

pub(crate) fn create(path: &PathBuf) -> anyhow::Result<BufWriter<File>> {
    Ok(BufWriter::new(
        File::create(path).with_context(|| format!("creating {}", path.display()))?,
    ))
}

impl LobsterArgs {
    fn run(self) -> anyhow::Result<ExitCode> {
        let (messages, orderbook) = read_lobster_rows(&self.messages, &self.orderbook)?;
        let plan = plan_import(messages, orderbook);
        if plan.events.is_empty() {
            bail!("{}: no message rows", self.messages.display());
        }
        if plan.depth == 0 {
            bail!("{}: no well-formed book rows", self.orderbook.display());
        }
        let out = create(&self.out)?;
        let mut out = write_lobster_capture(&plan, &self.symbol, now_ns(), out)
            .with_context(|| format!("writing {}", self.out.display()))?;
        out.flush()
            .with_context(|| format!("writing {}", self.out.display()))?;
        print_import_report(&plan.report);
        println!(
            "wrote {}: {} events, {} ITCH messages, checks={} mismatched={} learned={}",
            self.out.display(),
            plan.events.len(),
            plan.ops.len() + 2,
            plan.report.checks,
            plan.report.mismatched,
            plan.report.learned
        );
        Ok(ExitCode::SUCCESS)
    }
}

impl ItchArgs {
    fn run(self) -> anyhow::Result<ExitCode> {
        let data = std::fs::read(&self.input)
            .with_context(|| format!("reading {}", self.input.display()))?;
        let out = create(&self.out)?;
        let (mut out, report) = write_itch_capture(&data, now_ns(), out)
            .with_context(|| format!("writing {}", self.out.display()))?;
        out.flush()
            .with_context(|| format!("writing {}", self.out.display()))?;
        if report.messages == 0 {
            bail!(
                "{}: no ITCH messages found ({} framing errors): not an ITCH 5.0 file?",
                self.input.display(),
                report.framing_errors
            );
        }
        println!(
            "wrote {}: messages={} packets={} instruments={} framing_errors={}",
            self.out.display(),
            report.messages,
            report.packets,
            report.instruments,
            report.framing_errors
        );
        Ok(ExitCode::SUCCESS)
    }
}
