//! `kestrel verify lobster`: import in memory, replay through the real wire path, compare
//! every visible level with the LOBSTER book rows.
//! `kestrel verify binance`: replay a raw Binance capture and compare the book with every
//! `bookTicker` whose update id is the last applied diff's.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use kestrel_feeds::lobster::{BookLevel, plan_import, verify_plan};

use super::import::{print_import_report, read_lobster_rows};

/// What to verify.
#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// LOBSTER import: the replayed book must equal every book row.
    Lobster(LobsterArgs),
    /// Binance capture: the reconstructed top of book must equal each matching bookTicker.
    Binance(super::verify_binance::BinanceVerifyArgs),
}

/// `kestrel verify lobster`.
#[derive(Debug, Args)]
pub struct LobsterArgs {
    /// LOBSTER message file (CSV, or gzip-compressed `.csv.gz`).
    #[arg(long)]
    pub messages: PathBuf,
    /// LOBSTER orderbook file (CSV, or gzip-compressed `.csv.gz`).
    #[arg(long)]
    pub orderbook: PathBuf,
    /// Symbol (default: the message file name up to its first `_`, e.g. `AAPL`).
    #[arg(long)]
    pub symbol: Option<String>,
    /// How many mismatches to print before the summary line.
    #[arg(long, default_value_t = 10)]
    pub show: usize,
}

/// The symbol LOBSTER puts first in its file names (`AAPL_2012-06-21_...`).
fn symbol_from_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let symbol = name.split('_').next()?;
    (!symbol.is_empty() && symbol.len() <= 8 && symbol.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| symbol.to_owned())
}

fn level(l: Option<BookLevel>) -> String {
    l.map_or_else(|| "empty".to_owned(), |l| format!("{}x{}", l.price, l.size))
}

impl VerifyCommand {
    /// Runs the verification; exit status 0 only when nothing mismatched.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            Self::Lobster(a) => a.run(),
            Self::Binance(a) => a.run(),
        }
    }
}

impl LobsterArgs {
    fn run(self) -> anyhow::Result<ExitCode> {
        let symbol = match self.symbol.clone() {
            Some(s) => s,
            None => symbol_from_name(&self.messages).unwrap_or_else(|| "LOBSTER".to_owned()),
        };
        let (messages, orderbook) = read_lobster_rows(&self.messages, &self.orderbook)?;
        let (plan, _, report) = verify_plan(plan_import(messages, orderbook), &symbol)
            .with_context(|| format!("verifying {}", self.messages.display()))?;
        if plan.events.is_empty() {
            bail!("{}: no message rows", self.messages.display());
        }
        if plan.report.book_rows != plan.report.messages {
            bail!(
                "{} has {} rows but {} has {} messages: they must pair line by line",
                self.orderbook.display(),
                plan.report.book_rows,
                self.messages.display(),
                plan.report.messages
            );
        }
        print_import_report(&plan.report);
        let h = report.handler;
        println!(
            "replay: itch_messages={} events={} anomalies={} decode_errors={} unknown_orders={}",
            h.itch_messages,
            h.events,
            h.anomalies(),
            h.decode_errors,
            h.book.unknown_orders
        );
        for m in report.mismatches.iter().take(self.show) {
            println!(
                "mismatch row={} side={:?} level={} expected={} got={}",
                m.line,
                m.side,
                m.level,
                level(m.expected),
                level(m.got)
            );
        }
        println!(
            "checks={} mismatched={} learned={} reanchored={}",
            report.checks, report.mismatched, report.learned, report.reanchored
        );
        Ok(if report.mismatched == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    }
}
